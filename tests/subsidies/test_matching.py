"""Registry re-matching (the weekly beat task) lists newly eligible, no longer eligible and changed pupils."""

import datetime as dt

import pytest
from django.urls import reverse

from subsidies.models import Award, HouseholdStatus, MatchItem
from subsidies.tasks import rematch_registry

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def test_rematch_lists_the_differences_without_touching_awards(places, period, client_for):
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


def test_rematch_lists_awards_whose_household_changed_after_the_decisive_date(places, period, client_for):
    """Lifted out after the decisive date: still eligible for the period (decisive-date logic kept), but listed as changed
    since the award, with today's status; a change already on the decisive date is not listed twice."""
    w = places
    later = household(w.village_a, ("verified", "2016-01-15"))
    before = household(w.village_a, ("verified", "2016-01-15"))
    lifted_later = pupil(w.weak_a, household=later)
    lifted_before = pupil(w.weak_a, household=before)
    run_batch(period)
    HouseholdStatus.objects.create(
        household=later, status="lifted", effective_on=period.decisive_date + dt.timedelta(days=30)
    )
    HouseholdStatus.objects.create(
        household=before, status="lifted", effective_on=period.decisive_date - dt.timedelta(days=30)
    )
    run_id = rematch_registry.delay().get()
    items = MatchItem.objects.filter(run_id=run_id)
    mine = set(items.filter(student=lifted_later).values_list("kind", "scheme__code", "was", "now"))
    assert mine == {("since", code, "verified", "lifted") for code in ("nutrition", "fee_waiver", "textbooks")}
    assert not items.filter(student=lifted_before, kind="since").exists()
    assert items.filter(student=lifted_before, kind__in=["gone", "changed"]).exists()
    from subsidies.models import MatchRun

    assert MatchRun.objects.get(pk=run_id).changed_since_award == 3
    r = client_for(w.officer_a).get(reverse("subsidies:matching"))
    assert 'id="changed-since"' in r.content.decode()
    assert sum(1 for i in r.context["page"] if i.kind == "since") == 3
