"""Registry re-matching (the weekly beat task) lists newly eligible, no longer eligible and changed pupils."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from subsidies.models import Award, HouseholdStatus, MatchItem
from subsidies.tasks import rematch_registry

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def test_rematch_lists_the_differences_without_touching_awards(places, period, client_for):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL")
    w = places
    h = household(w.village_a, ("verified", "2016-01-15"))
    gone = pupil(w.weak_a, household=h)
    run_batch(period)
    before = list(Award.objects.values_list("pk", "status", "amount"))
    HouseholdStatus.objects.create(household=h, status="lifted", effective_on=dt.date(2016, 8, 1))
    newcomer = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_id = rematch_registry.delay().get()
    kinds = set(MatchItem.objects.filter(run_id=run_id).values_list("kind", "student_id", "scheme__code"))
    assert ("new", newcomer.pk, "nutrition") in kinds
    assert ("gone", gone.pk, "nutrition") in kinds
    assert ("changed", gone.pk, "fee_waiver") in kinds  # still eligible (poor-village school) but the household changed
    assert list(Award.objects.values_list("pk", "status", "amount")) == before
    r = client_for(w.officer_a).get(reverse("subsidies:matching"))
    assert r.status_code == 200 and len(r.context["page"]) == len(kinds)
    assert len(client_for(w.officer_b).get(reverse("subsidies:matching")).context["page"]) == 0
