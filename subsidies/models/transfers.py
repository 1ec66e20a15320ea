"""Changes to a pupil's record that need a second party: a change of school (转学) and of payment details.

Both are requests first. Until a second party confirms, nothing of the pupil changes: the receiving school of a
transfer edits nothing, and a payout batch keeps paying the account last confirmed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.models import School, Stage

from .registry import Student


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class PupilTransfer(models.Model):
    """转学: a pupil moving to another school, requested by the receiving side (its principal or county office) and
    confirmed by the sending side's county office -- by the city administrator for a move between counties.

    On confirmation the pupil is enrolled at ``to_school`` for ``school_year``; that enrolment becomes the current
    one, so the record passes to the receiving school. Awards already made keep their period and school."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("pupil"))
    from_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("sending school")
    )
    to_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving school")
    )
    school_year = models.PositiveSmallIntegerField(
        _("from school year"), help_text=_("The year the school year starts, e.g. 2017 for 2017–2018.")
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    grade = models.PositiveSmallIntegerField(_("grade"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("pupil transfer")
        verbose_name_plural = _("pupil transfers")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(status="pending"), name="one_pending_transfer_per_pupil"
            )
        ]
        indexes = [models.Index(fields=["status", "-requested_at"])]

    def __str__(self):
        return f"{self.student_id} {self.from_school_id}→{self.to_school_id} {self.school_year}"

    @property
    def between_counties(self) -> bool:
        return self.from_school.county_id != self.to_school.county_id


class PaymentDetailChange(models.Model):
    """A change of the guardian who receives cash awards (payee) or of their bank account: requested by the side
    that owns the pupil's record, confirmed by a different person (four eyes, 双人复核). Only a confirmed change
    is written to the pupil; a payout batch reads the pupil's details, so it pays the account confirmed before it
    was prepared."""

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        IMPORT = "import", _("Import")

    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="payment_changes", verbose_name=_("pupil")
    )
    old_payee = models.CharField(_("previous payee"), max_length=50, blank=True)
    old_account = models.CharField(_("previous bank account"), max_length=32, blank=True)
    new_payee = models.CharField(_("new payee"), max_length=50)
    new_account = models.CharField(_("new bank account"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.FORM)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed or rejected by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed or rejected at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment detail change")
        verbose_name_plural = _("payment detail changes")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(status="pending"), name="one_pending_payment_change_per_pupil"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=models.F("requested_by")),
                name="payment_change_four_eyes",
            ),
        ]
        indexes = [models.Index(fields=["student", "status", "-confirmed_at"])]

    def __str__(self):
        return f"{self.student_id} {self.status} {self.requested_at:%Y-%m-%d}"
