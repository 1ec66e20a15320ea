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
    from .models import AnomalySnapshot, Period
    from .services import matching

    run = matching.rematch()
    # the registry changed: the stored anomaly reports (the latest period's, and any kept) are recomputed
    latest = Period.objects.values_list("pk", flat=True).first()
    for period_id in {latest, *AnomalySnapshot.objects.values_list("period_id", flat=True)} - {None}:
        refresh_anomalies.delay(period_id)
    return run.pk if run else 0


@shared_task(name="subsidies.tasks.students_promote")
def students_promote(user_id: int, student_ids: list[int], from_year: int) -> int:
    """Bulk action: enrol pupils for the next school year. Re-checks the user's scope (still active, still owning
    every pupil: all or nothing) and calls the service; ids and plain data only."""
    import logging

    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from jinpin.scope import scope_for_user_id

    from .services.registry import enrolments_promote

    scope = scope_for_user_id(user_id)
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    try:
        return enrolments_promote(student_ids=student_ids, from_year=from_year, acting_user=user, scope=scope)
    except PermissionDenied:
        logging.getLogger(__name__).warning("students_promote refused for user %s", user_id)
        return 0


@shared_task(acks_late=True, reject_on_worker_lost=True, name="subsidies.tasks.refresh_anomalies")
def refresh_anomalies(period_id: int) -> int:
    """Recompute a period's stored anomaly report (after a batch or the registry re-match; ids only)."""
    from jinpin.stats import refresh_statistics

    from .models import Award, PayoutLine, Period
    from .services import anomaly_results

    period = Period.objects.filter(pk=period_id).first()
    if period is None:
        return 0
    # it follows bulk changes (a batch, a re-match): plan its checks on statistics that have seen them
    refresh_statistics(Award, PayoutLine)
    return anomaly_results.refresh(period=period).rows
