"""Without a broker (``make run`` with nothing set) the batch runs in a thread of the web process:
its job page shows true, growing progress, and it gives exactly the awards real workers give."""

import time

import pytest
from django.urls import reverse

from jinpin import celery_app
from jinpin.models import Job
from subsidies.models import Award, BatchChange, BatchRun, Period
from subsidies.services import batch
from tests.conftest import celery_worker

from .conftest import seed_schemes
from .test_batch_worker import populate, snapshot, wait

pytestmark = [pytest.mark.worker]


def watch(job, client, timeout=120):
    """Poll the job's status URL (what the progress bar reads) until it says finished; the (done, total,
    percent) it answered each time. Each answer is one read of the job: reading the job again beside it could
    find the batch finished after an answer of 95 % and take that answer for the last."""
    seen = []
    deadline = time.monotonic() + timeout
    url = reverse("job_status", args=[job.pk])
    while time.monotonic() < deadline:
        s = client.get(url).json()
        seen.append((s["done"], s["total"], s["percent"]))
        if s["finished"]:
            job.refresh_from_db()
            return seen
    raise AssertionError(f"job still {job.status} after {timeout}s")


def test_in_process_batch_shows_progress_and_matches_real_workers(world, client_for, settings, transactional_db):
    seed_schemes()
    period = Period.objects.get(code="2016-2017")
    populate(world, 3000)
    officer = client_for(world.admin)

    # 1. No broker: the job runs in a thread of this process, as under `make run`.
    settings.JOBS_IN_THREAD = True
    celery_app.conf.task_always_eager = True
    r = officer.post(reverse("subsidies:batch"), {"period": period.pk, "county": ""})
    job = Job.objects.get(pk=r.url.rstrip("/").split("/")[-1])
    assert r.status_code == 302  # the request returned while the batch runs
    seen = watch(job, officer)
    assert job.status == Job.Status.SUCCEEDED, job.message
    run = BatchRun.objects.get(job=job)
    assert run.chunks.count() == batch.MIN_CHUNKS  # no chunk size given: a small city is still cut in 20
    dones = [d for d, total, _p in seen if total]
    assert dones == sorted(dones)  # the bar never goes back
    assert len({d for d in dones if 0 < d < 3000}) >= 2, seen  # and it moved through values between 0 and all
    assert seen[-1][:2] == (3000, 3000) and seen[-1][2] == 100
    in_process = snapshot()
    assert len(in_process) > 3000

    # 2. The same batch, from nothing, on a real Celery worker through Redis.
    BatchChange.objects.all().delete()
    Award.objects.all().delete()
    settings.JOBS_IN_THREAD = False
    with celery_worker():
        job2 = batch.batch_start(period=period, county=None, user=world.admin)
        assert wait(job2, 120).status == Job.Status.SUCCEEDED, job2.message
    assert snapshot() == in_process
