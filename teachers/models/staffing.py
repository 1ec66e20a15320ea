"""Establishment (编制) and the programme's teacher targets (915 / 3,138)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from schools.models import School


class Establishment(models.Model):
    """编制: a school's approved number of teaching posts ("有编即补、退补相当")."""

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, related_name="establishment", verbose_name=_("school")
    )
    posts = models.PositiveIntegerField(_("approved posts"))
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("establishment")
        verbose_name_plural = _("establishments")

    def __str__(self):
        return f"{self.school}: {self.posts}"


class TargetMetric(models.TextChoices):
    INTO_POOR_VILLAGES = "into_poor_villages", _("Teachers supplemented or exchanged into poor-village schools")
    HIRES = "hires", _("New hires")


class Target(models.Model):
    """A programme target held as data (e.g. 915 into poor-village schools, 2016–2018)."""

    name = models.CharField(_("name"), max_length=100)
    metric = models.CharField(_("what is counted"), max_length=24, choices=TargetMetric.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to (inclusive)"))
    value = models.PositiveIntegerField(_("target"))
    county = models.ForeignKey(
        "schools.County",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("county"),
        help_text=_("Empty: a city-wide target."),
    )
    stages = models.JSONField(
        _("school stages"),
        default=list,
        blank=True,
        help_text=_("Count only schools of these stages; empty: all stages."),
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["start", "name"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="target_end_after_start")]

    def __str__(self):
        return self.name
