"""Jobs that survive the infrastructure, in-process: the outbox send, the reaper, transient database
errors, the heartbeat, "run again", and the batch closed by whichever task finishes its last chunk.
The same paths with a real worker, a real broker going away and a real database restart: tests/chaos/."""

import datetime as dt
import socket
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from jinpin import celery_app, jobs
from jinpin.models import Job

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_broker_pools():
    # kombu keeps one pool per broker address; forget the app's, and the next send takes the new address's
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_down():
    """Tasks are really sent (not eager) to a broker address nobody listens on."""
    old_url, old_eager = celery_app.conf.broker_write_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_write_url = f"redis://127.0.0.1:{free_port()}/0"
    celery_app.conf.task_always_eager = False
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_write_url, celery_app.conf.task_always_eager = old_url, old_eager
        _reset_broker_pools()


calls = []


def _flaky(job, scope, progress):
    """Fails like a database restart on its first call, then succeeds."""
    calls.append(time.monotonic())
    if len(calls) == 1:
        raise OperationalError("server closed the connection unexpectedly")
    return jobs.JobResult(rows=1, summary="ok")


def _slow(job, scope, progress):
    before = Job.objects.get(pk=job.pk).heartbeat_at
    time.sleep(1.2)
    after = Job.objects.get(pk=job.pk).heartbeat_at
    return jobs.JobResult(rows=1, summary=f"{before < after}")


jobs.register("test.flaky", _flaky)
jobs.register("test.slow", _slow)


def export_job(user, **fields):
    return Job.objects.create(
        kind="export", params={"exporter": "schools.schools", "params": {}}, title="t", created_by=user, **fields
    )


def test_broker_down_when_a_job_starts_gives_a_queued_job_not_a_500(
    world, client_for, django_capture_on_commit_callbacks
):
    c = client_for(world.officer_a)
    with broker_down():
        t = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            r = c.post(reverse("schools:school_export"), {})
        assert time.monotonic() - t < 5  # the page does not hang on the broker
        assert r.status_code == 302
        job = Job.objects.get(created_by=world.officer_a)
        assert job.status == Job.Status.QUEUED and job.sent_at is None and job.send_failed_at is not None
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(seconds=30))
        page = c.get(reverse("job_detail", args=[job.pk]))
        assert page.status_code == 200
        assert "任务服务暂时不可用" in page.content.decode()
        status = c.get(reverse("job_status", args=[job.pk])).json()
        assert status["status"] == "queued" and "任务服务暂时不可用" in status["notice"]
        assert jobs.reap_stuck()["sent"] == 0  # still down: nothing lost, nothing sent
    # the broker is back (eager here): the next beat round sends it and it runs
    assert jobs.reap_stuck()["sent"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.sent_at is not None and job.send_attempts == 3


def test_the_job_page_itself_resends_an_unsent_job(world, client_for):
    c = client_for(world.officer_a)
    job = export_job(world.officer_a, send_failed_at=timezone.now() - dt.timedelta(seconds=60))
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(seconds=60))
    page = c.get(reverse("job_detail", args=[job.pk]))
    assert page.status_code == 200
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_a_silent_running_job_is_requeued_and_keeps_its_first_start(world):
    first_start = timezone.now() - dt.timedelta(hours=1)
    job = export_job(
        world.officer_a,
        status=Job.Status.RUNNING,
        started_at=first_start,
        attempts=1,
        worker="elsewhere:1",
        heartbeat_at=timezone.now() - dt.timedelta(minutes=5),
    )
    fresh = export_job(
        world.officer_a, status=Job.Status.RUNNING, started_at=first_start, attempts=1, heartbeat_at=timezone.now()
    )
    assert jobs.reap_stuck()["requeued"] == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert job.started_at == first_start  # the first start, not the retry's
    assert fresh.status == Job.Status.RUNNING  # a live job is left alone


def test_a_job_silent_too_often_fails_with_a_reason_and_offers_run_again(world, client_for, settings):
    settings.JOB_MAX_ATTEMPTS = 3
    job = export_job(
        world.officer_a,
        status=Job.Status.RUNNING,
        started_at=timezone.now() - dt.timedelta(hours=1),
        attempts=3,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert jobs.reap_stuck()["failed"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished_at
    assert "停止响应" in job.message and "3" in job.message
    page = client_for(world.officer_a).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert 'id="job-run-again" >' in page or 'id="job-run-again">' in page
    assert "再次运行" in page or "重新运行" in page


def test_a_stuck_job_can_be_run_again_in_place_by_its_owner(world, client_for):
    first_start = timezone.now() - dt.timedelta(hours=1)
    job = export_job(
        world.officer_a,
        status=Job.Status.RUNNING,
        started_at=first_start,
        attempts=1,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=10),
    )
    c = client_for(world.officer_a)
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "停止响应" in page
    assert client_for(world.officer_b).post(reverse("job_retry", args=[job.pk])).status_code == 404
    r = c.post(reverse("job_retry", args=[job.pk]))
    assert r.url == reverse("job_detail", args=[job.pk])  # the same job, not a second one beside it
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.started_at == first_start
    assert Job.objects.filter(created_by=world.officer_a).count() == 1


def test_a_live_running_job_cannot_be_run_again(world, client_for):
    job = export_job(world.officer_a, status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    assert client_for(world.officer_a).post(reverse("job_retry", args=[job.pk])).status_code == 404


def test_a_duplicate_delivery_leaves_a_live_job_alone(world):
    job = export_job(
        world.officer_a,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        attempts=1,
        worker="otherhost:123",
        heartbeat_at=timezone.now(),
    )
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.attempts == 1


def test_a_redelivery_takes_over_the_job_of_a_dead_process_here(world):
    job = export_job(
        world.officer_a,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        attempts=1,
        worker=f"{socket.gethostname()}:{2**22 + 7}",  # beyond pid_max: no such process
        heartbeat_at=timezone.now(),
    )
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_transient_database_error_is_retried_with_backoff(world):
    calls.clear()
    start = timezone.now()
    job = Job.objects.create(kind="test.flaky", params={}, title="t", created_by=world.officer_a)
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.message == "ok"
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.4  # backed off before trying again
    assert job.attempts == 2 and start <= job.started_at < timezone.now()


@pytest.mark.django_db(transaction=True)
def test_a_database_that_stays_away_fails_the_job_with_a_reason(world, settings):
    settings.JOB_DB_RETRY_SECONDS = 0.1
    calls.clear()
    job = Job.objects.create(kind="test.flaky", params={}, title="t", created_by=world.officer_a)
    with pytest.raises(OperationalError):
        jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "数据库" in job.message


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_refreshed_while_the_handler_works(world, settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.3
    job = Job.objects.create(kind="test.slow", params={}, title="t", created_by=world.officer_a)
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.message == "True"


def test_reaper_is_scheduled_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reap-stuck-jobs"]
    assert entry["task"] == "jinpin.tasks.reap_stuck_jobs" and entry["schedule"] == 60.0
    celery_app.loader.import_default_modules()
    assert "jinpin.tasks.reap_stuck_jobs" in celery_app.tasks


def test_uploads_left_behind_are_purged_with_the_export_files(settings):
    import os
    from pathlib import Path

    folder = Path(settings.PRIVATE_ROOT) / "uploads"
    folder.mkdir(parents=True)
    old, new = folder / "old.xlsx", folder / "new.xlsx"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    past = time.time() - (settings.EXPORT_TTL_HOURS + 1) * 3600
    os.utime(old, (past, past))
    jobs.purge_expired()
    assert not old.exists() and new.exists()
