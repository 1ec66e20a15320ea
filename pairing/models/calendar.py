"""The academic calendar as data: school years (学年) and their semesters (学期).

An activity's school year and semester are derived from its date and stored on
the row (so compliance groups by an indexed column); ``services.calendar_reassign``
recomputes them in one UPDATE when an administrator moves a boundary.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CalendarPeriodQuerySet(models.QuerySet):
    def containing(self, day):
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class SchoolYear(models.Model):
    """学年, e.g. 2016–2017: 1 September to 31 August."""

    name = models.CharField(_("name"), max_length=20, unique=True)
    starts_on = models.DateField(_("starts on"), unique=True)
    ends_on = models.DateField(_("ends on"))

    objects = CalendarPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="schoolyear_ends_after_start")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.starts_on and self.ends_on:
            overlap = SchoolYear.objects.filter(starts_on__lte=self.ends_on, ends_on__gte=self.starts_on).exclude(
                pk=self.pk
            )
            if overlap.exists():
                raise ValidationError(_("School years may not overlap."))


class Semester(models.Model):
    """学期: the first (autumn) or second (spring) semester of a school year. Holidays fall between them."""

    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.CASCADE, related_name="semesters", verbose_name=_("school year")
    )
    number = models.PositiveSmallIntegerField(
        _("semester"), choices=[(1, _("First semester")), (2, _("Second semester"))]
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    objects = CalendarPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["school_year", "number"], name="semester_unique_in_year"),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="semester_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.school_year.name} {self.get_number_display()}"

    def clean(self):
        if self.starts_on and self.ends_on and self.school_year_id:
            y = self.school_year
            if self.starts_on < y.starts_on or self.ends_on > y.ends_on:
                raise ValidationError(_("A semester lies inside its school year."))
            overlap = Semester.objects.filter(starts_on__lte=self.ends_on, ends_on__gte=self.starts_on).exclude(
                pk=self.pk
            )
            if overlap.exists():
                raise ValidationError(_("Semesters may not overlap."))


class Calendar:
    """The whole calendar loaded once (a few dozen rows) to place many dates without a query each."""

    def __init__(self):
        self.years = list(SchoolYear.objects.order_by("starts_on"))
        self.semesters = list(Semester.objects.select_related("school_year").order_by("starts_on"))

    def year_of(self, day):
        return next((y for y in self.years if y.starts_on <= day <= y.ends_on), None)

    def semester_of(self, day):
        return next((s for s in self.semesters if s.starts_on <= day <= s.ends_on), None)
