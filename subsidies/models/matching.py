"""Registry re-matching (动态管理): the weekly comparison of the poor-household register with enrolments and awards."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import County, School

from .awards import Award
from .registry import Student
from .schemes import Period, Scheme


class MatchRun(models.Model):
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+", verbose_name=_("period"))
    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True)
    newly_eligible = models.PositiveIntegerField(_("newly eligible"), default=0)
    no_longer_eligible = models.PositiveIntegerField(_("no longer eligible"), default=0)
    status_changed = models.PositiveIntegerField(_("household status changed"), default=0)
    changed_since_award = models.PositiveIntegerField(_("household status changed since the award"), default=0)

    class Meta:
        verbose_name = _("registry match")
        verbose_name_plural = _("registry matches")
        ordering = ["-ran_at"]


class MatchItem(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("Newly eligible")
        GONE = "gone", _("No longer eligible")
        CHANGED = "changed", _("Household status on the decisive date differs from the award")
        # judged on today's status: a household lifted out (or returned) after the decisive date does not change
        # eligibility for the period, but the officers must see it
        SINCE = "since", _("Household status changed since the award (status today)")

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+", verbose_name=_("student"))
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+", verbose_name=_("scheme"))
    award = models.ForeignKey(Award, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("award"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+", verbose_name=_("school"))
    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="+", verbose_name=_("county"))
    was = models.CharField(_("status at the award"), max_length=12, blank=True)
    now = models.CharField(_("status now"), max_length=12, blank=True)

    class Meta:
        ordering = ["run", "kind", "pk"]
        indexes = [models.Index(fields=["run", "county"])]
