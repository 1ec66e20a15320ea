from celery import shared_task

from . import jobs


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
