"""The twinning app's headline figure (registered with ``jinpin.figures``): coverage of key poor-village
schools by one-to-one agreements, against the 2017 target of 100%. Defined here once."""

from __future__ import annotations

from django.db.models import Max, Q
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import cache, figures
from schools.models import School

from .models import Agreement, AgreementForm, AgreementSchool, AgreementStatus
from .selectors import KEY_SCHOOL

AREA = "pairing"
SCHOOL_PATHS = {"county": "county_id", "town": "town_id", "school": "pk"}


def in_force(as_of):
    """Agreements in force on ``as_of``: activated, begun by that day and not ended before it."""
    return Agreement.objects.filter(
        status__in=[AgreementStatus.ACTIVE, AgreementStatus.ENDED], starts_on__lte=as_of
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))


def key_schools(as_of):
    """Schools in provincial or municipal key poor villages (they must be paired one-to-one, 重点帮扶)."""
    return School.objects.filter(KEY_SCHOOL)


def key_paired(as_of):
    """Key poor-village schools helped under a one-to-one agreement in force on ``as_of``."""
    helped = AgreementSchool.objects.filter(agreement__in=in_force(as_of).filter(form=AgreementForm.ONE_TO_ONE)).values(
        "school_id"
    )
    return key_schools(as_of).filter(pk__in=helped)


def bump(*args, **kwargs):
    cache.bump(AREA)


def register():
    for model in (Agreement, AgreementSchool, School):
        post_save.connect(bump, sender=model, dispatch_uid=f"pairing-figures-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"pairing-figures-delete-{model.__name__}")
    figures.register(
        figures.Figure(
            key="pairing_key_coverage",
            label=_("Key poor-village schools paired one-to-one"),
            note=_(
                "Schools in provincial or municipal key poor villages helped under a one-to-one agreement that was "
                "in force on the as-of date (activated, begun, not yet ended); the rate is against every school in "
                "those villages, and the 2017 target is 100%."
            ),
            unit="school",
            facts=key_paired,
            paths=SCHOOL_PATHS,
            listing=lambda qs: qs.select_related("county", "village").order_by("county__order", "code"),
            denominator=key_schools,
            target=lambda as_of: 100,
            target_is_rate=True,
            cache_area=AREA,
            order=50,
            columns=[
                (_("School"), lambda s: s.name),
                (_("Village"), lambda s: s.village.name if s.village_id else ""),
                (_("County"), lambda s: s.county.name),
            ],
            latest=lambda: Agreement.objects.filter(status=AgreementStatus.ACTIVE).aggregate(d=Max("starts_on"))["d"],
            list_url=lambda s: reverse("schools:school_detail", args=[s.pk]),
        )
    )
