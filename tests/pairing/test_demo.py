"""The demo seeder: idempotent, full coverage in some counties and gaps in others, all three states."""

import datetime as dt
import io

import pytest
from django.db.models import Count

from pairing import compliance
from pairing.demo import seed_pairing
from pairing.models import Activity, Agreement, AgreementForm, AgreementSchool, SchoolYear
from schools.demo import DEMO_LAST_DAY, DEMO_YEAR_START, seed_places, seed_users
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
    # one coherent year, the report's: 2016–17, signed in its first days, nothing after its last day
    year = SchoolYear.objects.containing(DEMO_YEAR_START).get()
    assert not Agreement.objects.filter(signed_on__lt=DEMO_YEAR_START).exists()
    assert not Activity.objects.filter(held_on__gt=DEMO_LAST_DAY).exists()
    assert not Activity.objects.exclude(school_year=year).exists()
    # judged today the year is over: met and missed; judged on the report's date, inside the first semester:
    # met and not yet (and the ended agreements' missed)
    _, _, totals = compliance.ranking(Agreement.objects.all(), years=[year])
    assert {k for k, v in totals.items() if v} == {compliance.MET, compliance.MISSED}
    _, _, totals = compliance.ranking(Agreement.objects.all(), years=[year], today=dt.date(2016, 9, 26))
    assert totals[compliance.MET] > 0 and totals[compliance.NOT_YET] > 0

    def key_coverage(code):
        key = School.objects.filter(county__code=code, village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])
        paired = key.filter(agreement_links__active=True, agreement_links__agreement__form=AgreementForm.ONE_TO_ONE)
        return paired.count() / key.count()

    assert key_coverage("370830") == 1.0  # 汶上县: every key-village school paired one-to-one
    assert key_coverage("370832") < 0.8  # 梁山县: gaps
    twice = AgreementSchool.objects.filter(active=True).values("school").annotate(n=Count("pk")).filter(n__gt=1)
    assert not twice.exists()
    assert County.objects.count() == 11
