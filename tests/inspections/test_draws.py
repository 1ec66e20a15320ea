"""Draws through jinpin: proposed → shown → confirmed (frozen), verified from the record; drawing again
makes a new record with a reason; department draws fill the assignment."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from inspections import services
from inspections.models import Draw, DrawItem
from jinpin.scope import get_scope
from subsidies.models import HouseholdStatus

PARAMS = {"rate": "0.1069", "minimum": 1, "rounding": "half_up"}


def propose(sv, seed="20161024", reason="", kind="households", params=PARAMS):
    return services.draw_propose(
        group=sv.group,
        kind=kind,
        params=params,
        seed=seed,
        reason=reason,
        acting_user=sv.inspector,
        scope=get_scope(sv.inspector),
    )


@pytest.mark.django_db
def test_household_draw_is_stratified_by_village_over_the_assigned_county(sv):
    d = propose(sv)
    # 23 → 2 (2.46), 9 → 1 (0.96), 2 → 1 (0.21 raised to the minimum); the lifted and county-B households are out
    assert sorted(n for _s, n, _k in d.strata) == [2, 9, 23]
    assert {s: k for s, _n, k in d.strata} == {"370830003001": 2, "370830003002": 1, "370830003003": 1}
    assert d.population_size == 34 and d.sample_size == 4
    ids = {i for _s, i in d.population}
    assert sv.lifted_a.pk not in ids and sv.household_b.pk not in ids
    assert d.seed_source == Draw.SeedSource.TYPED and d.status == Draw.Status.PROPOSED


@pytest.mark.django_db
def test_generated_seed_is_kept_and_the_record_verifies(sv):
    d = propose(sv, seed="")
    assert d.seed_source == Draw.SeedSource.GENERATED and len(d.seed) == 12
    ok, notes = services.draw_verify(draw=d)
    assert ok, notes


@pytest.mark.django_db
def test_confirm_freezes_the_sample_and_later_registry_changes_do_not_move_it(sv):
    d = propose(sv)
    n = services.draw_confirm(draw=d, acting_user=sv.inspector)
    assert n == 4
    item = DrawItem.objects.filter(draw=d).order_by("position").first()
    assert item.snapshot["status"] == "verified" and item.village_id and item.county_id == sv.county_a.pk
    # the household is lifted and renamed afterwards: the card still shows it as drawn
    HouseholdStatus.objects.create(household=item.household, status="lifted", effective_on=dt.date(2016, 10, 22))
    item.household.head_name = "改名"
    item.household.save()
    item.refresh_from_db()
    assert item.snapshot["head_name"] != "改名"
    ok, notes = services.draw_verify(draw=d)
    assert ok, notes
    with pytest.raises(ValidationError):
        services.draw_confirm(draw=d, acting_user=sv.inspector)


@pytest.mark.django_db
def test_tampered_population_in_the_database_fails_verification(sv):
    d = propose(sv)
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    pop = d.population
    pop[0][1] = pop[0][1] + 100000
    Draw.objects.filter(pk=d.pk).update(population_ids=[i for _s, i in pop])  # the stored ids
    d.refresh_from_db()
    ok, notes = services.draw_verify(draw=d)
    assert not ok
    assert any("总体哈希不一致" in str(n) or "population hash differs" in str(n) for n in notes)


@pytest.mark.django_db
def test_tampered_items_fail_verification(sv):
    d = propose(sv)
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    other = next(h for h in sv.households_a if not DrawItem.objects.filter(draw=d, object_id=h.pk).exists())
    DrawItem.objects.filter(draw=d, position=0).update(object_id=other.pk, household=other)
    assert not services.draw_verify(draw=d)[0]


@pytest.mark.django_db
def test_drawing_again_needs_a_reason_and_keeps_both(sv):
    first = propose(sv)
    with pytest.raises(ValidationError):
        propose(sv, seed="1")
    second = propose(sv, seed="1", reason="种子读错，会上重新抽取")
    first.refresh_from_db()
    assert first.status == Draw.Status.SUPERSEDED
    assert second.supersedes == first and second.reason
    assert Draw.objects.filter(group=sv.group, kind="households").count() == 2


@pytest.mark.django_db
def test_department_draw_fills_the_assignment(sv):
    d = propose(sv, kind="departments", params={"count": 5}, seed="0537")
    assert d.population_size == 20 and d.sample_size == 5
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    drawn = {i for _s, i in d.sample}
    assert set(sv.assignment.departments.values_list("pk", flat=True)) == drawn


@pytest.mark.django_db
def test_no_draw_outside_a_running_campaign(sv):
    sv.campaign.status = "closed"
    sv.campaign.save()
    with pytest.raises(ValidationError):
        propose(sv)
