"""Rural-service honours (乡村教师荣誉): tiers and certificates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .people import Teacher


class RuralHonourTier(models.Model):
    """乡村教师荣誉 tier: a certificate for N years or more of rural teaching (10, 20, 30)."""

    years = models.PositiveSmallIntegerField(_("years of rural service"), unique=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("rural honour tier")
        verbose_name_plural = _("rural honour tiers")
        ordering = ["years"]

    def __str__(self):
        return self.name


class RuralHonourCertificate(models.Model):
    """A rural-service certificate issued; nobody gets the same tier twice."""

    teacher = models.ForeignKey(
        Teacher, on_delete=models.PROTECT, related_name="rural_certificates", verbose_name=_("teacher")
    )
    tier = models.ForeignKey(
        RuralHonourTier, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("tier")
    )
    year = models.PositiveSmallIntegerField(_("honour year"))
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    rural_years = models.DecimalField(_("rural years at issue"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("rural honour certificate")
        verbose_name_plural = _("rural honour certificates")
        ordering = ["-year", "tier__years", "pk"]
        constraints = [models.UniqueConstraint(fields=["teacher", "tier"], name="rural_honour_tier_once")]

    def __str__(self):
        return f"{self.teacher} · {self.tier}"
