"""The programme's minimums per agreement, as data an administrator edits (seeded from the 2016 report)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .activities import ActivityKind


class Interval(models.TextChoices):
    """How often a minimum must be met: each semester (学期) or each school year (学年)."""

    SEMESTER = "semester", _("Per semester")
    YEAR = "year", _("Per school year")


class Evidence(models.TextChoices):
    ACTIVITIES = "activities", _("Logged activities of the chosen types")
    SECONDMENT_EACH_WAY = "secondment_each_way", _("Secondments in each direction")
    PROJECTS = "projects", _("Joint research projects running")
    PLAN_AND_CHARTER = "plan_and_charter", _("Development plan and charter adopted by every helped school")


class RequiredMinimum(models.Model):
    """One of the programme's required minimums for every agreement (one compliance rule): at least
    ``required`` pieces of ``evidence`` per ``interval`` (shown as "minimum" in the interface).

    For ``secondment_each_way`` the count is the smaller of the two directions; for
    ``plan_and_charter`` it is 1 when every helped school has adopted both by the period's end.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    evidence = models.CharField(_("evidence"), max_length=24, choices=Evidence.choices)
    activity_kinds = models.JSONField(_("activity types that count"), default=list, blank=True)
    interval = models.CharField(_("period"), max_length=10, choices=Interval.choices)
    required = models.PositiveSmallIntegerField(_("at least"), default=1)
    is_active = models.BooleanField(_("in force"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("minimum")
        verbose_name_plural = _("minimums")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        valid = set(ActivityKind.values)
        if self.evidence == Evidence.ACTIVITIES:
            if not self.activity_kinds:
                raise ValidationError({"activity_kinds": _("Choose the activity types that count.")})
            bad = [k for k in self.activity_kinds if k not in valid]
            if bad:
                raise ValidationError({"activity_kinds": _("Unknown activity types: %(k)s") % {"k": ", ".join(bad)}})
        if self.required < 1:
            raise ValidationError({"required": _("At least 1.")})


class ComplianceStamp(models.Model):
    """A counter bumped after every committed write that can change compliance (one row).

    Cached compliance results are keyed by it, so every web process sees a write at once
    without sharing a cache; it is bumped after commit, so it never holds a lock in the
    writer's transaction.
    """

    generation = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("compliance stamp")
        default_permissions = ()

    def __str__(self):
        return str(self.generation)
