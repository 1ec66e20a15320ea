"""The supervision app's headline figure (registered with ``jinpin.figures``): poor households drawn and
checked by the 督查抽查 groups, and the sampling rate (the report's 1,192 households, 10.69%)."""

from __future__ import annotations

from django.db.models import Max, Sum
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from jinpin import cache, figures

from .models import Campaign, Draw, DrawItem, Finding, HouseholdCheck

AREA = "inspections"


def sampled(as_of):
    """抽查户数: households in the confirmed household draws of campaigns begun by ``as_of``."""
    return DrawItem.objects.filter(
        draw__kind=Draw.Kind.HOUSEHOLDS, draw__status=Draw.Status.CONFIRMED, draw__group__campaign__starts_on__lte=as_of
    )


def populations(as_of):
    """The draws behind ``sampled``: their populations are the rate's denominator."""
    return Draw.objects.filter(
        kind=Draw.Kind.HOUSEHOLDS, status=Draw.Status.CONFIRMED, group__campaign__starts_on__lte=as_of
    )


def bump(*args, **kwargs):
    cache.bump(AREA)


def register():
    for model in (Campaign, Draw, DrawItem, HouseholdCheck, Finding):
        post_save.connect(bump, sender=model, dispatch_uid=f"inspections-figures-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"inspections-figures-delete-{model.__name__}")
    figures.register(
        figures.Figure(
            key="inspections_sampled",
            label=_("Poor households sampled for checking"),
            note=_(
                "Households in the confirmed household draws of supervision campaigns begun by the as-of date "
                "(抽查户数); the rate is against the populations those draws were made from. A county's rate uses "
                "the populations of the draws of groups assigned to it."
            ),
            unit="household",
            facts=sampled,
            paths={"county": "county_id", "town": "village__town_id"},
            listing=lambda qs: qs.select_related("county", "village", "draw__group").order_by(
                "county__order", "village__code", "position"
            ),
            denominator=populations,
            denominator_value=lambda qs: qs.aggregate(n=Sum("population_size"))["n"] or 0,
            denominator_paths={"county": "group__assignment__counties"},
            cache_area=AREA,
            order=70,
            columns=[
                (_("Household"), lambda i: i.snapshot.get("number", "")),
                (_("Village"), lambda i: i.village.name if i.village_id else ""),
                (_("County"), lambda i: i.county.name if i.county_id else ""),
                (_("Group"), lambda i: i.draw.group.name),
            ],
            latest=lambda: Campaign.objects.aggregate(d=Max("starts_on"))["d"],
        )
    )
