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
    from .models import AnomalySnapshot, Period
    from .services import matching

    run = matching.rematch()
    # the registry changed: the stored anomaly reports (the latest period's, and any kept) are recomputed
    latest = Period.objects.values_list("pk", flat=True).first()
    for period_id in {latest, *AnomalySnapshot.objects.values_list("period_id", flat=True)} - {None}:
        refresh_anomalies.delay(period_id)
    return run.pk if run else 0


@shared_task(acks_late=True, reject_on_worker_lost=True, name="subsidies.tasks.refresh_anomalies")
def refresh_anomalies(period_id: int) -> int:
    """Recompute a period's stored anomaly report (after a batch or the registry re-match; ids only)."""
    from .models import Period
    from .services import anomaly_results

    period = Period.objects.filter(pk=period_id).first()
    return anomaly_results.refresh(period=period).rows if period else 0
