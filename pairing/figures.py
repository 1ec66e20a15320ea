"""The twinning app's headline figures (registered with ``jinpin.figures``): coverage of key poor-village
schools by one-to-one agreements, against the 2017 target of 100%, and compliance: agreements that have
met the semester's minimums. Defined here once."""

from __future__ import annotations

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import cache, figures
from schools.models import School, Village

from .models import (
    Activity,
    Agreement,
    AgreementForm,
    AgreementSchool,
    AgreementStatus,
    Evidence,
    Interval,
    RequiredMinimum,
    Semester,
)
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


def semester_of(as_of):
    """The semester containing ``as_of``, or in a holiday the latest one begun by then."""
    return Semester.objects.filter(starts_on__lte=as_of).order_by("-starts_on").first()


def semester_minimums():
    """The active per-semester minimums proved by activities (e.g. one joint teaching-research meeting a
    semester): the same rows, kinds and numbers the compliance engine (``pairing.compliance``) reads."""
    return list(
        RequiredMinimum.objects.filter(is_active=True, interval=Interval.SEMESTER, evidence=Evidence.ACTIVITIES)
    )


def semester_met(as_of):
    """Agreements in force on ``as_of`` that had met every per-semester minimum of its semester by that day:
    for each minimum, at least ``required`` activities of its kinds held in the semester, on or before
    ``as_of`` (one correlated count per minimum, on the activity index by semester, kind, agreement)."""
    semester = semester_of(as_of)
    qs = in_force(as_of)
    if semester is None:
        return qs.none()
    for m in semester_minimums():
        held = (
            Activity.objects.filter(
                agreement=OuterRef("pk"), semester=semester, kind__in=list(m.activity_kinds), held_on__lte=as_of
            )
            .order_by()
            .values("agreement")
            .annotate(n=Count("pk"))
            .values("n")
        )
        qs = qs.annotate(**{f"held_{m.pk}": Coalesce(Subquery(held[:1]), 0)}).filter(
            **{f"held_{m.pk}__gte": m.required}
        )
    return qs


def _latest():
    """The latest day of twinning records: an agreement begun or an activity held (never after today: capped
    by ``jinpin.reference``)."""
    begun = Agreement.objects.filter(status=AgreementStatus.ACTIVE).aggregate(d=Max("starts_on"))["d"]
    held = Activity.objects.aggregate(d=Max("held_on"))["d"]
    return max([d for d in (begun, held) if d], default=None)


def bump(*args, **kwargs):
    cache.bump(AREA)


def register():
    for model in (Agreement, AgreementSchool, School, Village):  # a village's designation makes its schools key
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
            latest=_latest,
            list_url=lambda s: reverse("schools:school_detail", args=[s.pk]),
        )
    )
    figures.register(
        figures.Figure(
            key="pairing_compliance",
            label=_("Agreements meeting this semester's minimums"),
            note=_(
                "Agreements in force on the as-of date (activated, begun, not yet ended) that had met every "
                "per-semester minimum of its semester by that day (at least one joint teaching-research meeting, "
                "lesson preparation, seminar or observation), counting activities held up to the date; in a "
                "holiday, the semester just ended. The rate is against every agreement in force. The school "
                "year's minimums are judged on the compliance page."
            ),
            unit="agreement",
            facts=semester_met,
            paths={"county": "county_id"},
            listing=lambda qs: qs.select_related("county", "helping_school").order_by("county__order", "pk"),
            denominator=in_force,
            cache_area=AREA,
            order=55,
            columns=[
                (_("Agreement"), lambda a: str(a)),
                (_("Helping school"), lambda a: a.helping_school.name),
                (_("County"), lambda a: a.county.name),
            ],
            list_url=lambda a: reverse("pairing:agreement_detail", args=[a.pk]),
        )
    )
