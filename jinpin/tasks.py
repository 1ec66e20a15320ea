import logging

from celery import shared_task
from celery.signals import worker_ready

from . import jobs

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, name="jinpin.tasks.run_job")
def run_job(job_id: str) -> None:
    """Run a job by id. Re-delivered if the worker dies; ``jobs.execute`` is re-entrant."""
    jobs.execute(job_id)


@shared_task(name="jinpin.tasks.purge_expired_jobs")
def purge_expired_jobs() -> int:
    return jobs.purge_expired()


@shared_task(name="jinpin.tasks.verify_audit")
def verify_audit() -> bool:
    """Nightly: recompute the audit chain and the registered money checks; the result is stored."""
    from .auditchain import verify

    return verify(source="nightly").ok


@shared_task(name="jinpin.tasks.reap_stuck_jobs", ignore_result=True)
def reap_stuck_jobs() -> dict:
    """Every minute (beat): recover jobs whose worker went silent and send jobs whose task was never sent."""
    return jobs.reap_stuck()


@worker_ready.connect
def _redrive_when_a_worker_starts(**kwargs):
    """A worker that (re)starts sends the jobs left queued while the broker was down: beat may be down too."""
    from django.db import connection

    try:
        n = jobs.redrive()
        if n:
            log.warning("sent %s job(s) left queued while the task service was unavailable", n)
    except Exception as exc:  # the database may be away as well; beat will try again
        log.warning("could not re-send queued jobs at worker start: %s", exc)
    finally:
        connection.close()


@shared_task(name="jinpin.tasks.warm_dashboards", ignore_result=True)
def warm_dashboards() -> int:
    """Recompute into the cache the dashboard figures and charts a write has invalidated (``dashboard.warm``).
    One warmer at a time: a run still computing after a big write makes the next beat skip."""
    from django.core.cache import cache

    from . import dashboard

    if not cache.add("warm-dashboards:running", 1, 600):
        return 0
    try:
        return dashboard.warm()
    finally:
        cache.delete("warm-dashboards:running")
