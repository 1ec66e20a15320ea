from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, name="subsidies.tasks.batch_work")
def batch_work(run_id: int, job_id: str) -> None:
    """Help a batch run: claim and compute its chunks until none is left (re-entrant; ids only)."""
    from jinpin.models import Job

    from .services import batch

    if not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists():
        return
    batch.work(run_id, batch.jobs.Progress(job_id))


@shared_task(name="subsidies.tasks.rematch_registry")
def rematch_registry() -> int:
    """Weekly re-match of the poor-household registry against enrolments (Celery beat)."""
    from .services import matching

    run = matching.rematch()
    return run.pk if run else 0
