"""Rural-service honours (乡村教师荣誉), computed from the service history in the database.

Years of rural teaching are the days of *full-time* service periods at rural schools
(``School.location == rural``) up to and including the honour date (31 December of the
honour year by default), divided by 365.25. A period straddling the honour date counts
only up to it. A teacher is *owed* the highest tier they have reached, unless a
certificate of that tier or a higher one has already been issued; lower tiers are not
issued afterwards.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Case, DateField, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least

from schools.models import Location

from .models import RuralHonourCertificate, RuralHonourTier, ServicePeriod, TeacherStatus

DAYS_PER_YEAR = 365.25


FIRST_YEAR, LAST_YEAR = 1980, 2100


def year_from(value, default) -> int:
    """A year typed into a query string or a form, kept within the years the records can hold; else
    ``default`` (a year, or a function giving it: asked only when no year was typed)."""
    from jinpin.forms import parse_int

    year = parse_int(value, min_value=0, max_value=9999)
    if year is None:
        return default() if callable(default) else default
    return min(max(year, FIRST_YEAR), LAST_YEAR)


def honour_date(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def tier_days(years: int) -> int:
    """Days of service that make ``years`` years (365.25 days a year, rounded up)."""
    return math.ceil(years * DAYS_PER_YEAR)


def annotate_rural_days(teachers, on: dt.date):
    """Add ``rural_days`` (whole days): full-time rural service up to and including ``on``."""
    until = on + dt.timedelta(days=1)  # periods are half-open: [start, end)
    until_v = Value(until, output_field=DateField())
    days = (
        ServicePeriod.objects.filter(
            teacher_id=OuterRef("pk"), full_time=True, school__location=Location.RURAL, start__lt=until
        )
        .order_by()
        .values("teacher_id")
        .annotate(total=Sum(DaysBetween(Least(Coalesce(F("end"), until_v), until_v), F("start"))))
        .values("total")
    )
    return teachers.annotate(rural_days=Coalesce(Subquery(days, output_field=IntegerField()), Value(0)))


def owed(teachers, year: int, *, tiers=None):
    """Who is owed which certificate for ``year``: rows ``{teacher_id, tier_years, rural_day_count}``.

    One grouped query over the service periods of ``teachers`` (a scoped queryset):
    rural full-time days summed per teacher up to the honour date (an aggregate PostgreSQL
    computes once, however often the tier CASE repeats it), the highest tier reached, and
    the highest tier already certified (a subquery per teacher). Ordered highest tier first,
    then by school and name; ``.count()`` and slicing work, so it paginates.
    ``tiers`` defaults to every ``RuralHonourTier`` (a small table).
    """
    tiers = sorted(tiers if tiers is not None else RuralHonourTier.objects.all(), key=lambda t: -t.years)
    if not tiers:
        return ServicePeriod.objects.none().values("teacher_id")
    on = honour_date(year)
    until = on + dt.timedelta(days=1)  # periods are half-open: [start, end)
    until_v = Value(until, output_field=DateField())
    days = Sum(DaysBetween(Least(Coalesce(F("end"), until_v), until_v), F("start")))
    tier = Case(
        *[When(rural_day_count__gte=tier_days(t.years), then=Value(t.years)) for t in tiers],
        default=Value(0),
        output_field=IntegerField(),
    )
    # Owed: in the band of tier t (reached t, not the next one up) and no certificate of t or higher.
    # Spelt per band because a subquery may not refer to the aggregate itself.
    bands = None
    for i, t in enumerate(tiers):
        band = Q(rural_day_count__gte=tier_days(t.years))
        if i:
            band &= Q(rural_day_count__lt=tier_days(tiers[i - 1].years))
        certified = RuralHonourCertificate.objects.filter(teacher_id=OuterRef("teacher_id"), tier__years__gte=t.years)
        band &= ~Exists(certified)
        bands = band if bands is None else bands | band
    return (
        ServicePeriod.objects.filter(
            teacher__in=teachers.filter(status=TeacherStatus.ACTIVE).order_by().values("pk"),
            full_time=True,
            school__location=Location.RURAL,
            start__lt=until,
        )
        .order_by()
        .values("teacher_id", "teacher__school_id", "teacher__name")
        .annotate(rural_day_count=days)
        .filter(bands)
        .annotate(tier_years=tier)
        .order_by("-tier_years", "teacher__school_id", "teacher__name", "teacher_id")
    )


def with_teachers(rows, teachers_qs=None):
    """Attach the Teacher (school and county loaded) to each owed row of a page: one query."""
    from .models import Teacher

    rows = list(rows)
    found = (teachers_qs or Teacher.objects).select_related("school__county").in_bulk([r["teacher_id"] for r in rows])
    for r in rows:
        r["teacher"] = found.get(r["teacher_id"])
        r["rural_years"] = years_of(r["rural_day_count"])
    return rows


def years_of(days) -> float:
    """Years from a day count (int) or a timedelta."""
    n = days.days if isinstance(days, dt.timedelta) else int(days or 0)
    return round(n / DAYS_PER_YEAR, 2)


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` as an integer (PostgreSQL's date - date)."""

    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"
