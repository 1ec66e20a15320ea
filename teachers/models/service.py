"""Rotation (交流轮岗) movements and the service history they write."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schools.models import School

from .people import Teacher


class MovementKind(models.TextChoices):
    """交流轮岗 forms."""

    REGULAR_ROTATION = "regular_rotation", _("Regular rotation (定期交流)")
    COMPETITIVE = "competitive", _("Cross-school competitive appointment (跨校竞聘)")
    TEAM_EXCHANGE = "team_exchange", _("Team exchange (团队交流)")
    SUPPORT_TEACHING = "support_teaching", _("Support teaching in a poor village (支教)")
    THREE_REGIONS = "three_regions", _("“Three regions” teacher programme (三区人才支持计划)")
    FAMOUS_TEACHER_VISIT = "famous_teacher_visit", _("Famous-teacher teaching visit (名师送教下乡)")
    SECONDMENT = "secondment", _("Management secondment (挂职交流)")


class MovementStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_POST = "in_post", _("In post")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Movement(models.Model):
    """交流轮岗: a teacher's move from one school to another for a while (or for good).

    Status moves planned → in post → completed, or planned → cancelled; the service layer
    (``services.movement_start`` / ``movement_complete``) keeps the service history in step.
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="movements", verbose_name=_("teacher"))
    kind = models.CharField(_("type"), max_length=24, choices=MovementKind.choices)
    from_school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements_out",
        verbose_name=_("from school"),
    )
    to_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="movements_in", verbose_name=_("to school")
    )
    start = models.DateField(_("start date"))
    end = models.DateField(
        _("planned end date"), null=True, blank=True, help_text=_("Leave empty for a permanent move.")
    )
    full_time = models.BooleanField(
        _("full-time"),
        default=True,
        help_text=_("A full-time post at the receiving school; visits and part-time support are not."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MovementStatus.choices, default=MovementStatus.PLANNED
    )
    started_on = models.DateField(_("took up post on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["status", "start"]), models.Index(fields=["to_school", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="movement_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.teacher} → {self.to_school}"

    def clean(self):
        errors = {}
        if self.end and self.start and self.end < self.start:
            errors["end"] = _("The end date cannot be before the start date.")
        if self.from_school_id and self.from_school_id == self.to_school_id:
            errors["to_school"] = _("The receiving school must differ from the sending school.")
        if errors:
            raise ValidationError(errors)


class ServiceKind(models.TextChoices):
    """How a period of service began."""

    RECORD = "record", _("Earlier service (on record)")
    HIRE = "hire", _("New hire (补充)")
    TRANSFER = "transfer", _("Transfer (调动)")
    MOVEMENT = "movement", _("Rotation / exchange (交流轮岗)")
    SECONDMENT = "secondment", _("Management secondment (挂职交流)")


class ServicePeriodQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None):
        on = on or timezone.localdate()
        return self.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gt=on))

    def overlapping(self, start: dt.date, end: dt.date | None):
        """Periods that share at least one day with ``[start, end)``."""
        qs = self.filter(Q(end__isnull=True) | Q(end__gt=start))
        if end is not None:
            qs = qs.filter(start__lt=end)
        return qs


class ServicePeriod(models.Model):
    """A period in one school (任职经历): ``[start, end)``, full-time or not.

    A teacher never holds two overlapping full-time periods: checked by
    ``services.service_period_open`` and, on PostgreSQL, by an exclusion constraint
    (migration 0003).
    """

    teacher = models.ForeignKey(
        Teacher, on_delete=models.CASCADE, related_name="service_periods", verbose_name=_("teacher")
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="service_periods", verbose_name=_("school")
    )
    start = models.DateField(_("from"))
    end = models.DateField(
        _("until"), null=True, blank=True, help_text=_("The first day no longer in this post; empty while in post.")
    )
    full_time = models.BooleanField(_("full-time"), default=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ServiceKind.choices, default=ServiceKind.RECORD)
    movement = models.ForeignKey(
        Movement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_periods",
        verbose_name=_("movement"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ServicePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        ordering = ["teacher_id", "start", "pk"]
        indexes = [
            models.Index(fields=["teacher", "start"]),
            models.Index(fields=["school", "start"]),
            models.Index(fields=["kind", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="service_period_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.teacher} @ {self.school} {self.start}–{self.end or ''}"

    def clean(self):
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})
