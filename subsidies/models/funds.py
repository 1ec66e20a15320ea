"""专项资金: allocations per scheme, county and year."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import County

from .schemes import Scheme


class Allocation(models.Model):
    """The money a county may award under a scheme in a school year; approvals beyond it are refused."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("scheme"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    school_year = models.PositiveSmallIntegerField(_("school year"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["school_year", "scheme", "county"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "county", "school_year"], name="one_allocation_per_scheme_county_year"
            )
        ]

    def __str__(self):
        return f"{self.scheme} {self.county} {self.school_year}: {self.amount}"
