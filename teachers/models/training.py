"""Training (培训): courses, attendance and the 60-hour rule."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from schools.models import Poverty, Stage

from .people import Post, Teacher


class TrainingLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    CITY = "city", _("City")
    COUNTY = "county", pgettext_lazy("training level", "County")
    SCHOOL = "school", pgettext_lazy("training level", "School")


class TrainingMode(models.TextChoices):
    REMOTE = "remote", _("Remote study (远程研修)")
    CENTRALISED = "centralised", _("Centralised training (集中培训)")
    MIXED = "mixed", _("Mixed")


class TrainingCourse(models.Model):
    """培训项目: a course by a provider, at a level, in a mode, worth some hours."""

    code = models.CharField(_("course code"), max_length=30, unique=True, help_text=_("The provider's course code."))
    name = models.CharField(_("name"), max_length=100)
    provider = models.CharField(_("provider"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=TrainingLevel.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=TrainingMode.choices)
    hours = models.DecimalField(
        _("hours"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    start = models.DateField(_("start date"))
    end = models.DateField(_("end date"))
    county = models.ForeignKey(
        "schools.County",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organised by county"),
        help_text=_("Empty: a course of the city or above, visible to all."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training course")
        verbose_name_plural = _("training courses")
        ordering = ["-start", "code"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="course_end_after_start")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})


class AttendanceSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Imported")


class TrainingAttendance(models.Model):
    """A teacher's completed attendance of a course: hours earned and certificate number."""

    teacher = models.ForeignKey(
        Teacher, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("teacher")
    )
    course = models.ForeignKey(
        TrainingCourse, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("course")
    )
    hours = models.DecimalField(
        _("hours earned"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    completed_on = models.DateField(_("completed on"))
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=AttendanceSource.choices, default=AttendanceSource.MANUAL
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendances")
        ordering = ["-completed_on", "pk"]
        indexes = [models.Index(fields=["teacher", "completed_on"])]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "course"], name="attendance_once_per_course"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="attendance_hours_not_negative"),
        ]

    def __str__(self):
        return f"{self.teacher} · {self.course}"

    def clean(self):
        errors = {}
        if self.course_id and self.hours is not None and self.hours > self.course.hours:
            errors["hours"] = _("More hours than the course offers (%(h)s).") % {"h": self.course.hours}
        if self.course_id and self.completed_on and not (self.course.start <= self.completed_on <= self.course.end):
            errors["completed_on"] = _("The date is outside the course (%(s)s – %(e)s).") % {
                "s": self.course.start,
                "e": self.course.end,
            }
        if errors:
            raise ValidationError(errors)


class TrainingRule(models.Model):
    """The training compliance rule as data: who must reach how many hours of which levels, when.

    Seeded with the report's rule: every kindergarten director, principal and teacher of the
    schools in provincial poor villages, at least 60 hours at city level or above.
    """

    name = models.CharField(_("name"), max_length=100)
    threshold = models.DecimalField(_("minimum hours"), max_digits=6, decimal_places=1, default=Decimal("60"))
    levels = models.JSONField(
        _("qualifying levels"), default=list, help_text=_("Training levels that count towards the hours.")
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to (inclusive)"))
    posts = models.JSONField(_("posts"), default=list, help_text=_("Posts that must comply."))
    poverty = models.JSONField(
        _("poor-village designations"),
        default=list,
        blank=True,
        help_text=_("Schools in these villages; empty: every school."),
    )
    stages = models.JSONField(_("school stages"), default=list, blank=True, help_text=_("Empty: every stage."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("training rule")
        verbose_name_plural = _("training rules")
        ordering = ["-period_start", "pk"]
        constraints = [models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="rule_period_order")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        bad = set(self.levels or []) - set(TrainingLevel.values)
        if bad or not self.levels:
            errors["levels"] = _("Choose at least one training level.")
        if set(self.posts or []) - set(Post.values) or not self.posts:
            errors["posts"] = _("Choose at least one post.")
        if set(self.poverty or []) - set(Poverty.values):
            errors["poverty"] = _("Unknown designation.")
        if set(self.stages or []) - set(Stage.values):
            errors["stages"] = _("Unknown stage.")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("The period cannot end before it starts.")
        if errors:
            raise ValidationError(errors)
