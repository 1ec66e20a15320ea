"""The demo seeder: idempotent, full coverage in some counties and gaps in others, all three states."""

import io

import pytest
from django.db.models import Count

from pairing import compliance
from pairing.demo import seed_pairing
from pairing.models import Agreement, AgreementForm, AgreementSchool
from schools.demo import seed_places, seed_users
from schools.models import County, Poverty, School

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_shows_every_state():
    out = io.StringIO()
    seed_places(out, 0)
    seed_users(out, 0)
    seed_pairing(out, 0)
    n = Agreement.objects.count()
    seed_pairing(out, 0)
    assert Agreement.objects.count() == n > 100
    states = set()
    for year in compliance.years_upto(last=2):
        _, _, totals = compliance.ranking(Agreement.objects.all(), years=[year])
        states |= {k for k, v in totals.items() if v}
    assert states == {compliance.MET, compliance.NOT_YET, compliance.MISSED}

    def key_coverage(code):
        key = School.objects.filter(county__code=code, village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])
        paired = key.filter(agreement_links__active=True, agreement_links__agreement__form=AgreementForm.ONE_TO_ONE)
        return paired.count() / key.count()

    assert key_coverage("370830") == 1.0  # 汶上县: every key-village school paired one-to-one
    assert key_coverage("370832") < 0.8  # 梁山县: gaps
    twice = AgreementSchool.objects.filter(active=True).values("school").annotate(n=Count("pk")).filter(n__gt=1)
    assert not twice.exists()
    assert County.objects.count() == 11
