"""Idempotency and crash safety with the real Celery worker (PostgreSQL + Redis)."""

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest

from jinpin import idcard
from jinpin.models import Job
from subsidies.models import Award, BatchChange, BatchRun, Enrolment, Household, HouseholdStatus, Student
from subsidies.services import batch

from .conftest import run_batch, seed_schemes

pytestmark = [pytest.mark.worker]


def populate(w, n):
    """``n`` pupils in the two weak schools, two thirds from verified poor households (bulk writes)."""
    households = Household.objects.bulk_create(
        [
            Household(number=f"W{i:07d}", head_name=f"户主{i}", village=w.village_a if i % 2 else w.village_b)
            for i in range(n // 3)
        ]
    )
    HouseholdStatus.objects.bulk_create(
        [HouseholdStatus(household=h, status="verified", effective_on=dt.date(2016, 1, 15)) for h in households]
    )
    students = Student.objects.bulk_create(
        [
            Student(
                id_number=idcard.make(
                    "370830", dt.date(2005 + i % 8, 1 + i % 12, 1 + i % 28), i, "M" if i % 2 else "F"
                ),
                name=f"学生{i}",
                birth_date=dt.date(2005 + i % 8, 1 + i % 12, 1 + i % 28),
                sex="M" if i % 2 else "F",
                household=households[i % len(households)] if i % 3 else None,
                is_orphan=i % 17 == 0,
                is_boarder=i % 4 == 0,
                is_special_ed=i % 23 == 0,
                is_dibao=i % 11 == 0,
            )
            for i in range(n)
        ]
    )
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                student=s, school=w.weak_a if i % 2 else w.weak_b, school_year=2016, stage="primary", grade=1 + i % 6
            )
            for i, s in enumerate(students)
        ]
    )


def snapshot():
    return sorted(
        Award.objects.values_list(
            "student_id", "scheme_id", "period_id", "amount", "rate_version_id", "facts", "status"
        ),
        key=str,
    )


def wait(job, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job still {job.status} after {timeout}s")


def clean_result(period):
    """What one uninterrupted run in this process gives, from an empty table."""
    BatchChange.objects.all().delete()
    Award.objects.all().delete()
    run_batch(period)
    return snapshot()


def test_two_batches_at_once_give_one_set_of_awards(celery_worker_process, world):
    seed_schemes()
    from subsidies.models import Period

    period = Period.objects.get(code="2016-2017")
    populate(world, 600)
    one = batch.batch_start(period=period, county=None, user=world.admin, chunk_size=25)
    two = batch.batch_start(period=period, county=None, user=world.admin, chunk_size=40)
    assert wait(one).status == Job.Status.SUCCEEDED, one.message
    assert wait(two).status == Job.Status.SUCCEEDED, two.message
    got = snapshot()
    assert len(got) == len({(s, sc, p) for s, sc, p, *_ in got})
    runs = BatchRun.objects.filter(job__in=[one, two])
    assert sum(r.created for r in runs) == len(got)  # each award inserted by exactly one of them
    assert clean_result(period) == got


def _pool_children(pid):
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_worker_killed_mid_batch_then_rerun(celery_worker_process, world):
    seed_schemes()
    from subsidies.models import Period

    period = Period.objects.get(code="2016-2017")
    populate(world, 2000)
    job = batch.batch_start(period=period, county=None, user=world.admin, chunk_size=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        # any moment well before the end will do: on a quiet machine the batch is fast
        if job.progress_total and 0 < job.progress_done < job.progress_total * 3 // 4:
            break
        assert not job.is_finished, "the batch finished before it could be killed; make it bigger"
        time.sleep(0.01)
    killed = _pool_children(celery_worker_process.pid)
    assert killed
    for pid in killed:  # every pool process, the job's own task and the helpers: SIGKILL, no cleanup
        os.kill(pid, signal.SIGKILL)
    run = BatchRun.objects.get(job=job)
    assert run.chunks.filter(done=False).exists()
    # the tasks are re-delivered (late ack) to the fresh pool processes and the job completes
    assert wait(job, 120).status == Job.Status.SUCCEEDED, job.message
    assert not run.chunks.filter(done=False).exists()
    after_kill = snapshot()
    rerun = batch.batch_start(period=period, county=None, user=world.admin)
    assert wait(rerun).status == Job.Status.SUCCEEDED
    assert snapshot() == after_kill
    assert BatchRun.objects.get(job=rerun).created == 0
    assert clean_result(period) == after_kill
