"""The subsidies app's headline figures (registered with ``jinpin.figures``): funds allocated to schools
(the report's 48.14 million yuan) and pupils from hardship families in poor villages aided (7,864).
Each is defined here once; pages, the year-end workbook and tests read them through the registry."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import figures
from schools.models import Poverty

from .invalidation import AREA
from .models import Allocation, Award, AwardStatus, HouseholdStatus, Period, Student
from .models.registry import POOR_STATUSES

POOR = [Poverty.PROVINCIAL, Poverty.MUNICIPAL]
AIDED_STATUSES = [AwardStatus.APPROVED, AwardStatus.PAID]


def allocations(as_of):
    """累计下达补助资金: every allocation (scheme × county × school year) of a school year whose first
    subsidy period had begun by ``as_of``."""
    begun = Period.objects.filter(school_year=OuterRef("school_year"), starts_on__lte=as_of)
    return Allocation.objects.filter(Exists(begun))


def aided_awards(as_of, statuses=AIDED_STATUSES):
    """救助: approved or paid awards of periods begun by ``as_of``, to pupils whose household lies in a
    provincial or municipal poor village and was registered poor (verified or returned to poverty) on
    the period's decisive date — a household lifted out before that date does not count, even if an
    award was made."""
    status = HouseholdStatus.objects.filter(
        household=OuterRef("student__household"), effective_on__lte=OuterRef("period__decisive_date")
    ).order_by("-effective_on", "-pk")
    return Award.objects.annotate(decisive_status=Subquery(status.values("status")[:1])).filter(
        status__in=statuses,
        period__starts_on__lte=as_of,
        student__household__village__poverty__in=POOR,
        decisive_status__in=POOR_STATUSES,
    )


def _students(awards):
    return (
        Student.objects.filter(pk__in=awards.values("student_id"))
        .select_related("household__village__county")
        .order_by("household__village__county__order", "household__village__code", "name", "pk")
    )


def _latest_period():
    return Period.objects.filter(awards__status__in=AIDED_STATUSES).aggregate(d=Max("starts_on"))["d"]


def register():
    figures.register(
        figures.Figure(
            key="subsidies_allocated",
            label=_("Subsidy funds allocated"),
            note=_(
                "The sum of the allocations (per scheme, county and school year) of every school year whose first "
                "subsidy period had begun by the as-of date, in yuan. Allocations are made to counties, so the "
                "figure has no town or school breakdown."
            ),
            unit="yuan",
            facts=allocations,
            paths={"county": "county_id"},
            listing=lambda qs: qs.select_related("scheme", "county").order_by("school_year", "county__order", "scheme"),
            sum_field="amount",
            cache_area=AREA,
            order=20,
            columns=[
                (_("School year"), lambda a: a.school_year),
                (_("County"), lambda a: a.county.name),
                (_("Scheme"), lambda a: a.scheme.name),
                (_("Amount"), lambda a: a.amount),
            ],
            latest=_latest_period,
        )
    )
    figures.register(
        figures.Figure(
            key="subsidies_aided",
            label=_("Pupils from hardship families in poor villages aided"),
            note=_(
                "Each pupil once with an approved or paid award in a subsidy period begun by the as-of date, whose "
                "household lives in a provincial or municipal poor village and was registered poor on the period's "
                "decisive date (a household lifted out before it is not counted). Counted where the award was made."
            ),
            unit="person",
            facts=aided_awards,
            paths={"county": "county_id", "town": "school__town_id", "school": "school_id"},
            listing=_students,
            cache_area=AREA,
            order=30,
            columns=[
                (_("Name"), lambda s: s.name),
                (_("Village"), lambda s: s.household.village.name if s.household_id else ""),
                (_("County"), lambda s: s.household.village.county.name if s.household_id else ""),
            ],
            list_url=lambda s: reverse("subsidies:student_detail", args=[s.pk]),
        )
    )
