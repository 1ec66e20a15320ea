"""监督: the anomaly report as computed rows, so that the page reads them instead of re-running
city-wide eligibility per request. Computed by ``services.anomaly_results.refresh`` after each
batch, after the registry re-match, and on request ("recompute"); the page says when."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import County

from .schemes import Period


class AnomalySnapshot(models.Model):
    """The last computed anomaly report of a period (one row per period)."""

    period = models.OneToOneField(
        Period, on_delete=models.CASCADE, related_name="anomaly_snapshot", verbose_name=_("period")
    )
    computed_at = models.DateTimeField(_("computed at"))
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("anomaly report")
        verbose_name_plural = _("anomaly reports")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.period_id} {self.computed_at:%Y-%m-%d %H:%M}"


class AnomalyRow(models.Model):
    """One anomaly as the checks yielded it, with the full resident ID (masked when shown, per role)."""

    snapshot = models.ForeignKey(AnomalySnapshot, on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveIntegerField()
    county = models.ForeignKey(County, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=200)
    county_name = models.CharField(max_length=50, blank=True)
    school = models.CharField(max_length=200, blank=True)
    student = models.CharField(max_length=50, blank=True)
    id_number = models.CharField(max_length=18, blank=True)
    scheme = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("anomaly")
        verbose_name_plural = _("anomalies")
        default_permissions = ()
        indexes = [models.Index(fields=["snapshot", "county", "seq"], name="anomaly_row_scope_seq")]
