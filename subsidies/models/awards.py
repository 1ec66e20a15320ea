"""Awards (资助名单) and the steps of their process: apply 申报 → review 评审 → approve 审核 → pay 发放."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from schools.models import County, School

from .registry import Student
from .schemes import Period, RateVersion, Scheme


class AwardStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    APPLIED = "applied", _("Applied")
    REVIEWED = "reviewed", _("Reviewed")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")
    DROPPED = "dropped", _("No longer eligible")


#: statuses a batch may still rewrite (nobody has acted on them)
BATCH_WRITABLE = (AwardStatus.CANDIDATE, AwardStatus.DROPPED)


class Award(models.Model):
    """One student's award under one scheme for one period; at most one (a database constraint).

    ``facts`` is a frozen copy of what the batch saw on the decisive date (household
    status, stage, flags, school), so a later registry edit never changes what the
    award was based on. ``school`` and ``county`` are frozen too (scoping, totals).
    """

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="awards", verbose_name=_("student"))
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.PROTECT,
        related_name="awards",
        verbose_name=_("scheme"),
        db_index=False,  # award_scheme_county_id (scheme, county, id) below serves it
    )
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="awards", verbose_name=_("period"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="awards", verbose_name=_("school"))
    county = models.ForeignKey(
        County,
        on_delete=models.PROTECT,
        related_name="awards",
        verbose_name=_("county"),
        db_index=False,  # award_county_id (county, id) below serves it
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    rate_version = models.ForeignKey(
        RateVersion, on_delete=models.PROTECT, related_name="awards", verbose_name=_("rate version")
    )
    facts = models.JSONField(_("facts"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.CANDIDATE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["period", "scheme", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "scheme", "period"], name="one_award_per_student_scheme_period")
        ]
        indexes = [
            models.Index(fields=["period", "student"]),
            # covering (amount): the list's count and total for a county are an index-only scan
            models.Index(fields=["county", "period", "status"], include=["amount"], name="award_county_period_status"),
            models.Index(fields=["school", "period", "status"]),
            models.Index(fields=["status", "period"], name="award_status_period"),
            # a county's list in key order: its first page read in order, not the city's awards walked past
            # until the county's appear (12,661 rows skipped for the first page of one county at scale 10)
            models.Index(fields=["county", "id"], name="award_county_id"),
            # a scheme's awards, and one county's awards of a scheme in key order (the filtered page read in
            # order, not 12,713 of the city's awards walked past for a county's first page at scale 10)
            models.Index(fields=["scheme", "county", "id"], name="award_scheme_county_id"),
        ]

    def __str__(self):
        return f"{self.scheme} · {self.student_id} · {self.period_id}"


class AwardStep(models.Model):
    """One step of an award's process: who did what, when and why (each step its own record)."""

    class Action(models.TextChoices):
        APPLY = "apply", _("Applied (申报)")
        REVIEW = "review", _("Reviewed (评审)")
        APPROVE = "approve", _("Approved (审核)")
        RETURN = "return", _("Returned one step")
        REJECT = "reject", pgettext_lazy("award action", "Rejected")
        PAY = "pay", _("Paid (发放)")
        WITHDRAW = "withdraw", _("Withdrawn (batch difference)")
        ACCEPT = "accept", _("New amount accepted (batch difference)")

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="steps", verbose_name=_("award"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=10, choices=AwardStatus.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=AwardStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("award step")
        verbose_name_plural = _("award steps")
        ordering = ["award", "at", "pk"]
        indexes = [models.Index(fields=["award", "action"])]

    def __str__(self):
        return self.get_action_display()


class BatchRun(models.Model):
    """One run of the batch calculation (one Job) for a period and a county or the whole city."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    job = models.OneToOneField(
        "jinpin.Job", on_delete=models.CASCADE, related_name="subsidy_run", verbose_name=_("job")
    )
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs", verbose_name=_("period"))
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    students = models.PositiveIntegerField(_("students"), default=0)
    created = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("changed"), default=0)
    dropped = models.PositiveIntegerField(_("dropped"), default=0)
    flagged = models.PositiveIntegerField(_("for review"), default=0)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch run")
        verbose_name_plural = _("batch runs")
        ordering = ["-started_at"]

    def __str__(self):
        return _("Batch run %(n)s") % {"n": self.pk}


class BatchChunk(models.Model):
    """A student-id range of a run. Claimed with SELECT … FOR UPDATE SKIP LOCKED and done in one transaction,
    so a killed worker's chunk simply becomes claimable again."""

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="chunks")
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    students = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "lo"]
        constraints = [models.UniqueConstraint(fields=["run", "lo"], name="one_chunk_per_run_start")]


class Resolution(models.TextChoices):
    ACCEPT = "accept", _("New amount accepted")
    WITHDRAW = "withdraw", _("Award withdrawn")
    KEEP = "keep", _("Kept as is")
    SUPERSEDED = "superseded", _("Superseded by a later run")


class BatchChange(models.Model):
    """What a rerun found different from an existing award, for review (never applied to acted-on awards).

    A difference not applied is an open item on the award (核查差异): the award cannot be approved until an
    officer resolves it (accept the new amount, withdraw the award, or keep it as is), saying why.
    """

    Resolution = Resolution

    class Kind(models.TextChoices):
        NEW = "new", _("New")
        CHANGED = "changed", _("Changed")
        DROPPED = "dropped", _("No longer eligible")

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="changes")
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(_("award status"), max_length=10, choices=AwardStatus.choices)
    old_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    new_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    old_facts = models.JSONField(null=True)
    new_facts = models.JSONField(null=True)
    applied = models.BooleanField(_("applied to the award"), default=False)
    # what the rerun computed besides amount and facts, so that accepting the difference can apply it whole
    new_rate_version = models.ForeignKey(RateVersion, on_delete=models.PROTECT, null=True, related_name="+")
    new_school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, related_name="+")
    new_county = models.ForeignKey(County, on_delete=models.PROTECT, null=True, related_name="+")
    # a difference not applied (the award was already in process) is an open item until an officer resolves it
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        ordering = ["run", "award"]
        indexes = [
            models.Index(fields=["run", "kind"]),
            models.Index(
                fields=["award"], condition=models.Q(applied=False, resolution=""), name="batchchange_open_by_award"
            ),
        ]

    @property
    def is_open(self) -> bool:
        return not self.applied and not self.resolution


#: open differences (listed for review, not applied, not resolved)
OPEN_DIFFERENCE = models.Q(applied=False, resolution="")
