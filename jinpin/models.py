import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A piece of long work (an export, a batch) run by a Celery worker.

    The row is the single source of truth for its state: the worker claims it
    atomically, reports progress on it, and the page polls it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=80)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("started by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    progress_done = models.BigIntegerField(_("done"), default=0)
    progress_total = models.BigIntegerField(_("total"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    result_file = models.CharField(_("result file"), max_length=300, blank=True)
    result_name = models.CharField(_("file name"), max_length=200, blank=True)
    result_rows = models.BigIntegerField(_("rows"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # Liveness: the process running the job ("host:pid") refreshes heartbeat_at; a beat task
    # notices a running job whose heartbeat stopped (jobs.reap_stuck).
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # Transactional outbox: the row is committed first, the task sent after; sent_at stays empty
    # until the broker accepted the task, and a queued job never sent is sent again (jobs.redrive).
    sent_at = models.DateTimeField(_("sent to the task service at"), null=True, blank=True)
    send_failed_at = models.DateTimeField(_("task service last unavailable at"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(
                fields=["status", "heartbeat_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="job_unfinished",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class AuditChainLink(models.Model):
    """One link of the audit log's hash chain (``jinpin/audit.py`` defines the canonical form).

    Entry ``entry_id`` of ``auditlog_logentry`` is the ``seq``-th entry of the one chain, and ``hash`` is
    SHA-256(previous link's hash + "\\n" + the entry's canonical JSON). Written only by the database trigger
    (migration ``jinpin.0004``), in the inserting transaction; the application may read it, never write it.
    No foreign key: an entry deleted by someone who got round the triggers leaves its link behind as evidence.
    """

    seq = models.BigIntegerField(_("position"), primary_key=True)
    entry_id = models.BigIntegerField(_("audit entry"), unique=True)
    hash = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        db_table = "jinpin_auditchain"
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")
        ordering = ["seq"]


class AuditVerification(models.Model):
    """One run of ``verify_audit``: the chain recomputed end to end, and the registered money checks."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    ok = models.BooleanField(_("intact"))
    checked = models.BigIntegerField(_("entries checked"), default=0)
    head_seq = models.BigIntegerField(_("last position"), null=True, blank=True)
    head_hash = models.CharField(_("last hash"), max_length=64, blank=True)
    first_bad_entry = models.BigIntegerField(_("first entry that does not match"), null=True, blank=True)
    first_bad_seq = models.BigIntegerField(_("its position"), null=True, blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    source = models.CharField(_("run by"), max_length=20)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"

    def problem_texts(self) -> list[str]:
        from .auditchain import describe

        return [describe(p) for p in self.problems]


class JobRowError(models.Model):
    """One problem a job found in its input (an import's row and column), shown on the job page."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=200, blank=True)
    message = models.TextField(_("problem"))

    class Meta:
        ordering = ["job", "id"]
        verbose_name = _("problem found")
        verbose_name_plural = _("problems found")
