"""Chaos: the database restarted and the broker killed in the middle of a subsidy batch, and the broker
down when an officer starts one. Each runs a real worker (and beat) on a test-owned PostgreSQL cluster and
a test-owned Redis, and checks the job's final state and reason and that the awards are exactly those of a
clean run. Small data (600 pupils, chunks of 5) so that the suite takes a couple of minutes."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jinpin import celery_app
from jinpin.models import Job
from jinpin.scope import Role
from subsidies.models import Award, BatchChange, BatchChunk, BatchRun, Period
from subsidies.services import batch
from tests.factories import CountyFactory, SchoolFactory, TownFactory, VillageFactory, make_user, rural_school
from tests.subsidies.test_batch_worker import populate, snapshot

# one xdist worker runs them all (`make test`: --dist loadgroup): one private cluster migrated for the session
# (``chaos_pg``), and no two tests killing servers under timed recoveries at once
pytestmark = [pytest.mark.worker, pytest.mark.chaos, pytest.mark.xdist_group("chaos")]

PUPILS = 600
CHUNK = 5


class W:
    pass


def small_city():
    w = W()
    w.county_a = CountyFactory(code="370830", name="汶上县")
    w.county_b = CountyFactory(code="370831", name="泗水县")
    w.village_a = VillageFactory(town=TownFactory(county=w.county_a, code="370830003"), code="370830003001")
    w.village_b = VillageFactory(town=TownFactory(county=w.county_b, code="370831003"), code="370831003001")
    SchoolFactory(county=w.county_a, code="0830000001", name="汶上实验小学")
    w.weak_a = rural_school(county=w.county_a, village=w.village_a, code="0830000002", name="汶上李庄小学")
    w.weak_b = rural_school(county=w.county_b, village=w.village_b, code="0831000002", name="泗水王庄小学")
    w.admin = make_user(Role.CITY_ADMIN, username="chaos_admin")
    populate(w, PUPILS)
    w.period = Period.objects.get(code="2016-2017")
    return w


def orm(fn):
    """Run an ORM read, reconnecting while the database is away."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return fn()
        except Exception:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def wait_finished(job_id, celery, timeout=120) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = orm(lambda: Job.objects.get(pk=job_id))
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(
        f"job {job.status} {job.progress_done}/{job.progress_total} {job.message}\n" + celery.log_tail()
    )


def hold_batch_mid_way(job_id, celery):
    """Once some chunks are done, block the rest (a lock on the awards table) so that the batch is caught
    in the middle with chunks claimed and in flight. Returns the connection holding the lock."""
    import psycopg2

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.progress_total and job.progress_done > 0:
            break
        assert not job.is_finished, "the batch finished before it could be interrupted; make it bigger"
        time.sleep(0.005)
    else:
        raise AssertionError("the batch did not start:\n" + celery.log_tail())
    s = connection.settings_dict
    lock = psycopg2.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"])
    with lock.cursor() as cur:
        cur.execute(f"LOCK TABLE {Award._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    job = Job.objects.get(pk=job_id)
    assert not job.is_finished and job.progress_done < job.progress_total, "the batch finished before the lock"
    time.sleep(1.0)  # workers now wait inside their chunks' transactions
    return lock


def clean_run(period) -> list:
    """What one uninterrupted run gives from an empty awards table (in this process, eager)."""
    BatchChange.objects.all().delete()
    Award.objects.all().delete()
    celery_app.conf.task_always_eager = True
    try:
        job = batch.run_now(period=period, user=Job.objects.first().created_by, chunk_size=CHUNK)
    finally:
        celery_app.conf.task_always_eager = False
    assert job.status == Job.Status.SUCCEEDED, job.message
    return snapshot()


def assert_batch_done(job, first_started):
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert f"{PUPILS} 名学生" in job.message or str(PUPILS) in job.message
    assert job.started_at == first_started  # retries keep the first start
    run = BatchRun.objects.get(job=job)
    assert run.status == BatchRun.Status.DONE and run.finished_at
    assert not run.chunks.filter(done=False).exists()


def test_database_restarted_mid_batch(chaos_pg, chaos_db, chaos_celery, redis_factory):
    w = small_city()
    celery = chaos_celery(redis_factory(appendonly=True))
    celery.start_worker()
    celery.start_beat()
    job = batch.batch_start(period=w.period, county=None, user=w.admin, chunk_size=CHUNK)
    lock = hold_batch_mid_way(job.pk, celery)
    first_started = Job.objects.get(pk=job.pk).started_at
    in_flight = BatchChunk.objects.filter(run__job_id=job.pk, done=False).count()
    assert in_flight, "every chunk was done before the restart"
    t0 = time.monotonic()
    cut = timezone.now()
    connection.close()
    chaos_pg.restart_after(3)  # every connection cut, chunks in flight rolled back; down for 3 s
    lock.close()
    job = wait_finished(job.pk, celery)
    recovered = time.monotonic() - t0
    assert_batch_done(job, first_started)
    # the chunks waiting on the lock were cut mid-transaction and done again after the restart, by whichever
    # task met it (the job's own task or a helper: where each was at the cut is timing, so not asserted)
    assert BatchChunk.objects.filter(run__job_id=job.pk, done_at__gt=cut).exists()
    assert not BatchChunk.objects.filter(run__job_id=job.pk, done=False).exists()
    assert recovered < 90
    interrupted = snapshot()
    assert interrupted and clean_run(w.period) == interrupted


@pytest.mark.parametrize("appendonly", [True, False], ids=["persistent", "no-persistence"])
def test_redis_killed_mid_batch(chaos_pg, chaos_db, chaos_celery, redis_factory, appendonly):
    w = small_city()
    redis = redis_factory(appendonly=appendonly)
    celery = chaos_celery(redis)
    celery.start_worker()
    celery.start_beat()
    job = batch.batch_start(period=w.period, county=None, user=w.admin, chunk_size=CHUNK)
    lock = hold_batch_mid_way(job.pk, celery)
    first_started = Job.objects.get(pk=job.pk).started_at
    redis.kill()  # without persistence the queued helper tasks and the unacked messages are gone
    time.sleep(2)
    redis.start()
    lock.close()
    job = wait_finished(job.pk, celery)
    assert_batch_done(job, first_started)
    interrupted = snapshot()
    # the worker reconnected: a new job goes through, finds nothing to add, and changes nothing
    again = batch.batch_start(period=w.period, county=None, user=w.admin, chunk_size=40)
    again = wait_finished(again.pk, celery)
    assert again.status == Job.Status.SUCCEEDED, again.message
    assert BatchRun.objects.get(job=again).created == 0
    assert snapshot() == interrupted
    assert interrupted and clean_run(w.period) == interrupted


def test_redis_down_when_a_batch_is_started(chaos_pg, chaos_db, chaos_celery, redis_factory):
    w = small_city()
    redis = redis_factory(appendonly=True)
    celery = chaos_celery(redis)
    celery.start_worker()
    celery.start_beat()
    redis.kill()
    c = Client()
    c.force_login(w.admin)
    t0 = time.monotonic()
    r = c.post(reverse("subsidies:batch"), {"period": w.period.pk, "county": ""})
    assert r.status_code == 302, r.content[:2000]  # not a 500
    assert time.monotonic() - t0 < 10
    job = Job.objects.get(kind=batch.JOB_KIND)
    assert job.status == Job.Status.QUEUED and job.sent_at is None and job.send_failed_at
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "任务服务暂时不可用" in page and "排队中" in page
    time.sleep(3)  # beat keeps trying; still down, still queued
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    redis.start()
    # nobody looks at the page: beat's reaper re-sends it once Redis is back
    job = wait_finished(job.pk, celery, timeout=90)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.sent_at is not None and job.send_attempts >= 2
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "任务服务暂时不可用" not in page
    got = snapshot()
    assert got and clean_run(w.period) == got


def _children(pid):
    from pathlib import Path

    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


@pytest.mark.parametrize("whole", [False, True], ids=["main-process", "main-and-pool"])
def test_worker_main_process_killed_mid_batch(chaos_pg, chaos_db, chaos_celery, redis_factory, whole):
    """SIGKILL the worker's main process (alone: its pool children are orphaned mid-chunk; or with its pool, as
    when a machine dies) and start a new worker: the run is closed by whichever task finishes its last chunk,
    or, if none is left alive, the silent job is noticed by its heartbeat and re-queued by beat's reaper."""
    import os
    import signal

    w = small_city()
    celery = chaos_celery(redis_factory(appendonly=True))
    old = celery.start_worker()
    celery.start_beat()
    job = batch.batch_start(period=w.period, county=None, user=w.admin, chunk_size=CHUNK)
    lock = hold_batch_mid_way(job.pk, celery)
    first_started = Job.objects.get(pk=job.pk).started_at
    pool = _children(old.pid)
    os.kill(old.pid, signal.SIGKILL)
    if whole:
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
    old.wait()
    t0 = time.monotonic()
    celery.start_worker()
    lock.close()
    job = wait_finished(job.pk, celery, timeout=120)
    recovered = time.monotonic() - t0
    assert_batch_done(job, first_started)
    assert recovered < 60  # heartbeat silent for 10 s, reaper every 2 s here (90 s and 60 s in production)
    got = snapshot()
    assert got and clean_run(w.period) == got


def test_a_job_whose_worker_vanished_is_noticed_and_recovered(chaos_pg, chaos_db, chaos_celery, redis_factory):
    """An export's worker dies whole (main process and pool, as with a lost machine): no task is left to finish
    it and Redis will not re-deliver it for hours. Its heartbeat stops; beat's reaper re-queues it; the new
    worker finishes it, and the job keeps its first start."""
    import os
    import signal

    from schools.models import School

    w = small_city()
    School.objects.bulk_create(
        [
            School(code=f"7{n:09d}", name=f"合成学校{n}", county=w.county_a, stage="primary", location="rural")
            for n in range(30000)
        ]
    )
    celery = chaos_celery(redis_factory(appendonly=True))
    old = celery.start_worker()
    celery.start_beat()
    c = Client()
    c.force_login(w.admin)
    r = c.post(reverse("schools:school_export"), {})
    job_id = r.url.rstrip("/").split("/")[-1]
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job_id).progress_done < 1000:
        assert time.monotonic() < deadline, "export did not start:\n" + celery.log_tail()
        time.sleep(0.02)
    job = Job.objects.get(pk=job_id)
    assert not job.is_finished, "the export finished before the kill; make it bigger"
    first_started = job.started_at
    pool = _children(old.pid)
    os.kill(old.pid, signal.SIGKILL)
    for pid in pool:
        os.kill(pid, signal.SIGKILL)
    old.wait()
    t0 = time.monotonic()
    celery.start_worker()
    job = wait_finished(job_id, celery, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.attempts == 2 and job.started_at == first_started
    assert job.result_rows == School.objects.count()
    assert time.monotonic() - t0 < 60  # silent 10 s + a reaper round (2 s here; 90 s + 60 s in production)
