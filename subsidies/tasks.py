from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, name="subsidies.tasks.batch_work")
def batch_work(run_id: int, job_id: str) -> None:
    """Help a batch run: claim and compute its chunks until none is left (re-entrant; ids only).

    It keeps the job's heartbeat fresh while it works, retries transient database errors like the job
    itself, and the task that finishes the run's last chunk closes the run and the job.
    """
    from jinpin import jobs
    from jinpin.models import Job

    from .services import batch

    def help_once():
        if not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists():
            return
        with jobs.heartbeat(job_id):
            batch.work(run_id, jobs.Progress(job_id))

    jobs.with_db_retry(help_once, what=f"batch run {run_id}")


@shared_task(name="subsidies.tasks.rematch_registry")
def rematch_registry() -> int:
    """Weekly re-match of the poor-household registry against enrolments (Celery beat)."""
    from .services import matching

    run = matching.rematch()
    return run.pk if run else 0
