"""发放: payout batches and their lines, the bank's results, recoveries of overpayments, student loans."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.models import County

from .awards import Award
from .registry import Student
from .schemes import FundingSource, Period


class PayoutBatch(models.Model):
    """A payout batch of one county, period and funding source: prepared → sent → settled."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared")
        SENT = "sent", _("Sent to the bank")
        SETTLED = "settled", _("Settled")

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="payouts", verbose_name=_("period"))
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREPARED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by")
    )
    created_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # the seal, written when the batch is marked sent (services.payouts.payout_seal): what the bank was given
    seal_lines = models.PositiveIntegerField(_("sealed lines"), null=True, blank=True)
    seal_total_fen = models.BigIntegerField(_("sealed total (fen)"), null=True, blank=True)
    seal_sha256 = models.CharField(_("seal (SHA-256)"), max_length=64, blank=True)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.county} · {self.period} · {self.get_funding_source_display()} #{self.pk}"

    @property
    def is_sealed(self) -> bool:
        return bool(self.seal_sha256)

    @property
    def seal_total(self):
        from decimal import Decimal

        return None if self.seal_total_fen is None else Decimal(self.seal_total_fen) / 100


class PayoutLine(models.Model):
    """One payment to one award. At most one line per award that has not failed: a database constraint,
    so an award is never paid twice; a failed line lets the award be re-issued in a later batch."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines", verbose_name=_("batch"))
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="payout_lines", verbose_name=_("award"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    payee_name = models.CharField(_("payee"), max_length=50)
    bank_account = models.CharField(_("bank account"), max_length=32)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    bank_reference = models.CharField(_("bank reference"), max_length=40, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # written with the batch's seal: SHA-256 of the line as sealed, and of its award's identity and amount, so
    # that verification names the line or the award that changed afterwards
    seal_digest = models.CharField(_("line digest"), max_length=64, blank=True, editable=False)
    award_digest = models.CharField(_("award digest"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["batch", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["award"], condition=~Q(status="failed"), name="award_paid_at_most_once"),
        ]

    def __str__(self):
        from jinpin.display import yuan

        return f"{self.payee_name} · {yuan(self.amount)}"


class Recovery(models.Model):
    """An overpayment found later (household lifted out before the award date, a duplicate): to be recovered."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SETTLED = "settled", _("Recovered")

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="recoveries", verbose_name=_("award"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["-created_at"]

    def __str__(self):
        from jinpin.display import yuan

        return _("%(amount)s yuan to recover: %(reason)s") % {"amount": yuan(self.amount), "reason": self.reason}

    def clean(self):
        if self.amount is not None and self.award_id and not (0 < self.amount <= self.award.amount):
            raise ValidationError({"amount": _("A recovery is more than zero and at most the award's amount.")})


class LoanLevel(models.TextChoices):
    UNDERGRADUATE = "undergraduate", _("Undergraduate (incl. second degree and higher vocational)")
    POSTGRADUATE = "postgraduate", _("Postgraduate")


class LoanApplication(models.Model):
    """生源地信用助学贷款: one application per student and academic year, capped by the loan scheme's rates."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        DISBURSED = "disbursed", _("Disbursed")
        REJECTED = "rejected", _("Rejected")

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="loans", verbose_name=_("student"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county of origin"))
    school_year = models.PositiveSmallIntegerField(_("academic year"))
    level = models.CharField(_("level"), max_length=14, choices=LoanLevel.choices)
    institution = models.CharField(_("university"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPLIED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    disbursed_at = models.DateTimeField(_("disbursed at"), null=True, blank=True)
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("student loan")
        verbose_name_plural = _("student loans")
        ordering = ["-school_year", "pk"]
        constraints = [models.UniqueConstraint(fields=["student", "school_year"], name="one_loan_per_student_year")]

    def __str__(self):
        from jinpin.display import yuan

        return f"{self.institution} · {self.get_level_display()} · {yuan(self.amount)}"

    def cap(self):
        """The cap in force for this level on the academic year's start (the loan scheme's rate data)."""
        import datetime as dt

        from .schemes import Scheme, SchemeKind

        scheme = Scheme.objects.filter(kind=SchemeKind.LOAN, is_active=True).order_by("order").first()
        rate = scheme.rate_on(dt.date(self.school_year, 9, 1)) if scheme else None
        return rate.amount_for(level=self.level) if rate else None

    def clean(self):
        if self.amount is None or not self.level or not self.school_year:
            return
        cap = self.cap()
        if cap is None:
            raise ValidationError(_("No loan rate is in force for this year."))
        if self.amount <= 0 or self.amount > cap:
            raise ValidationError(
                {
                    "amount": _("A %(level)s loan is at most %(cap)s yuan a year.")
                    % {"level": self.get_level_display(), "cap": cap}
                }
            )
