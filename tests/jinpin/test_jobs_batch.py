"""The subsidy batch as a job: closed by whichever task finishes its last chunk, and resumed in place by
"run again" after a failure (its done chunks stay done, no second run listed beside it)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from jinpin.models import Job
from subsidies.models import BatchRun, Period
from subsidies.services import batch
from tests.subsidies.conftest import seed_schemes
from tests.subsidies.test_batch_worker import populate, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(world):
    """A running batch job whose run is planned in 12 chunks, none done yet (its coordinator is gone)."""
    seed_schemes()
    populate(world, 120)
    period = Period.objects.get(code="2016-2017")
    job = Job.objects.create(
        kind=batch.JOB_KIND,
        params={"period": period.pk, "county": None, "chunk_size": 10},
        title="batch",
        created_by=world.admin,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        attempts=1,
    )
    run = BatchRun.objects.create(job=job, period=period)
    batch.plan_chunks(run, 10)
    return job, run


def test_the_task_that_finishes_the_last_chunk_closes_the_run_and_the_job(planned):
    job, run = planned
    from jinpin import jobs

    batch.work(run.pk, jobs.Progress(job.pk))  # a helper task, not the job's own
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == BatchRun.Status.DONE and run.finished_at and run.created == len(snapshot()) > 0
    assert job.status == Job.Status.SUCCEEDED and job.finished_at and "120" in job.message
    assert job.progress_done == job.progress_total == 120
    assert not batch.finalize(run.pk)  # exactly one closes it


def test_a_run_with_chunks_left_is_not_closed(planned):
    job, run = planned
    assert not batch.finalize(run.pk)
    run.refresh_from_db()
    assert run.status == BatchRun.Status.RUNNING


def test_run_again_resumes_a_failed_batch_in_place(planned, client_for, world):
    job, run = planned
    first_start = job.started_at
    for _i in range(5):  # the chunks the failed attempt had done
        batch._work_one(run, batch.schemes_for(run.period))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, finished_at=timezone.now(), message="x")
    assert client_for(world.officer_a).post(reverse("job_retry", args=[job.pk])).status_code == 404
    r = client_for(world.admin).post(reverse("job_retry", args=[job.pk]))
    assert r.url == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.started_at == first_start and job.attempts == 2
    assert BatchRun.objects.filter(period=run.period).count() == 1
    run.refresh_from_db()
    assert run.status == BatchRun.Status.DONE and not run.chunks.filter(done=False).exists()


def test_a_large_runs_last_chunks_are_cut_in_quarters_and_give_the_same_awards(planned):
    job, run = planned  # 120 pupils in 12 chunks of 10
    from jinpin import jobs

    batch.work(run.pk, jobs.Progress(job.pk))
    whole = snapshot()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED

    from subsidies.models import Award, BatchChange

    BatchChange.objects.all().delete()
    Award.objects.all().delete()
    job2 = Job.objects.create(
        kind=batch.JOB_KIND, params=job.params, title="batch", created_by=job.created_by, status=Job.Status.RUNNING
    )
    run2 = BatchRun.objects.create(job=job2, period=run.period)
    assert batch.plan_chunks(run2, 10, tail=2) == 120
    chunks = list(run2.chunks.order_by("lo"))
    # ten whole chunks, then the last two chunks' worth of pupils in eight quarters (48 quarter tiles of
    # 2 or 3 pupils: 120 is not a multiple of 48)
    assert len(chunks) == 18 and sum(c.students for c in chunks) == 120
    assert all(8 <= c.students <= 12 for c in chunks[:10])
    assert all(2 <= c.students <= 3 for c in chunks[10:]) and 16 <= sum(c.students for c in chunks[10:]) <= 24
    assert chunks[0].lo == 0 and chunks[-1].hi == 2**62
    assert all(a.hi == b.lo for a, b in zip(chunks, chunks[1:], strict=False))  # every id in exactly one chunk
    batch.work(run2.pk, jobs.Progress(job2.pk))
    run2.refresh_from_db()
    assert run2.status == BatchRun.Status.DONE and snapshot() == whole


def test_a_small_run_is_not_cut_finer(planned):
    job, run = planned
    run.chunks.all().delete()
    # 12 chunks of 10 are not more than the 20 a small city is cut in anyway: no quarters
    assert batch.plan_chunks(run, 10, min_chunks=20, tail=2) == 120
    assert run.chunks.count() == 20
    run.chunks.all().delete()
    batch.plan_chunks(run, 40, tail=2)  # 3 chunks: not more than twice the tail
    assert run.chunks.count() == 3
