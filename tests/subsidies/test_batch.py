"""The batch: reruns report new / changed / dropped and never touch awards in process (in-process, PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest

from jinpin.models import Job
from subsidies.models import Award, AwardStatus, BatchChange, BatchRun, HouseholdStatus
from subsidies.services import batch

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def snapshot(period):
    return sorted(
        Award.objects.filter(period=period).values_list(
            "student_id", "scheme_id", "amount", "rate_version_id", "status", "school_id"
        )
    )


def test_rerun_is_idempotent_and_chunking_does_not_matter(places, period):
    w = places
    h = household(w.village_a, ("verified", "2016-01-15"))
    for i in range(30):
        pupil(
            w.weak_a if i % 2 else w.junior_a, household=h if i % 3 else None, is_boarder=bool(i % 4), is_orphan=i == 7
        )
    job = run_batch(period, chunk_size=7)
    first = snapshot(period)
    assert first and BatchRun.objects.get(job=job).chunks.count() == 5
    assert job.progress_done == job.progress_total == 30
    run_batch(period, chunk_size=1000)
    assert snapshot(period) == first
    run = BatchRun.objects.latest("started_at")
    assert (run.created, run.updated, run.dropped, run.flagged) == (0, 0, 0, 0)


def test_rerun_after_changes_reports_and_protects_awards_in_process(places, period, world):
    w = places
    h1 = household(w.village_a, ("verified", "2016-01-15"))
    h2 = household(w.village_a, ("verified", "2016-01-15"))
    approved_child = pupil(w.weak_a, household=h1)
    candidate_child = pupil(w.weak_a, household=h2)
    amount_child = pupil(w.weak_a, household=h2)
    run_batch(period)
    approved = Award.objects.get(student=approved_child, scheme__code="nutrition")
    Award.objects.filter(pk=approved.pk).update(status=AwardStatus.APPROVED)
    # registry changes: both households were in fact lifted out before the decisive date; one child is an orphan
    for h in (h1, h2):
        HouseholdStatus.objects.create(household=h, status="lifted", effective_on=dt.date(2016, 8, 1))
    amount_child.is_orphan = True
    amount_child.save(update_fields=["is_orphan"])
    newcomer = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-02-01")))
    job = run_batch(period)
    run = BatchRun.objects.get(job=job)
    approved.refresh_from_db()
    assert approved.status == AwardStatus.APPROVED and approved.amount == Decimal("600.00")
    assert approved.facts["household_status"] == "verified"
    dropped = Award.objects.get(student=candidate_child, scheme__code="nutrition")
    assert dropped.status == AwardStatus.DROPPED
    changed = Award.objects.get(student=amount_child, scheme__code="nutrition")
    assert (changed.status, changed.amount) == (AwardStatus.CANDIDATE, Decimal("3650.00"))
    assert Award.objects.filter(student=newcomer).count() == 3  # fee waiver, textbooks, nutrition
    assert run.created == 3
    kinds = set(
        BatchChange.objects.filter(run=run).values_list("award__student_id", "award__scheme__code", "kind", "applied")
    )
    assert (approved_child.pk, "nutrition", "dropped", False) in kinds
    assert (candidate_child.pk, "nutrition", "dropped", True) in kinds
    assert (amount_child.pk, "nutrition", "changed", True) in kinds
    assert run.flagged == BatchChange.objects.filter(run=run, applied=False).count() >= 1
    assert str(run.flagged) in job.message


def test_county_batch_touches_only_its_county(places, period):
    w = places
    a = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    b = pupil(w.weak_b, household=household(w.village_b, ("verified", "2016-01-15")))
    run_batch(period, county=w.county_a, user=w.officer_a)
    assert Award.objects.filter(student=a).exists()
    assert not Award.objects.filter(student=b).exists()


def test_permission_county_officer_only_own_county(places, period):
    from jinpin.scope import get_scope

    w = places
    assert batch.permission(get_scope(w.officer_a), {"county": w.county_a.pk})
    assert not batch.permission(get_scope(w.officer_a), {"county": w.county_b.pk})
    assert not batch.permission(get_scope(w.officer_a), {"county": None})
    assert batch.permission(get_scope(w.admin), {"county": None})
    assert not batch.permission(get_scope(w.auditor), {"county": None})
    assert not batch.permission(get_scope(w.principal_a), {"county": w.county_a.pk})


def test_job_shows_summary(places, period):
    w = places
    pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    job = run_batch(period)
    assert job.status == Job.Status.SUCCEEDED
    assert BatchRun.objects.get(job=job).created == 3 and "3" in job.message


def test_a_pupil_who_moves_county_is_not_left_dropped(places, period):
    """County runs: the award follows a pupil whose enrolment moved from 汶上 (A) to 泗水 (B)."""
    from subsidies.models import Enrolment

    w = places
    child = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_batch(period, county=w.county_a)
    award = Award.objects.get(student=child, scheme__code="nutrition")
    assert (award.county_id, award.status) == (w.county_a.pk, AwardStatus.CANDIDATE)
    Enrolment.objects.filter(student=child).update(school=w.weak_b)
    run_batch(period, county=w.county_a)  # no longer enrolled in A
    assert Award.objects.get(pk=award.pk).status == AwardStatus.DROPPED
    run_batch(period, county=w.county_b)  # enrolled in B: eligible again, in B
    award.refresh_from_db()
    assert (award.county_id, award.school_id, award.status) == (w.county_b.pk, w.weak_b.pk, AwardStatus.CANDIDATE)
    assert BatchChange.objects.filter(award=award, kind="changed", applied=True).exists()
