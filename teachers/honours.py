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

from django.db.models import (
    Case,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from schools.models import Location

from .models import RuralHonourCertificate, RuralHonourTier, ServicePeriod, TeacherStatus

DAYS_PER_YEAR = 365.25


def honour_date(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def tier_days(years: int) -> int:
    """Days of service that make ``years`` years (365.25 days a year, rounded up)."""
    return math.ceil(years * DAYS_PER_YEAR)


def annotate_rural_days(teachers, on: dt.date):
    """Add ``rural_days`` (a timedelta): full-time rural service up to and including ``on``."""
    until = on + dt.timedelta(days=1)  # periods are half-open: [start, end)
    until_v = Value(until, output_field=DateField())
    days = (
        ServicePeriod.objects.filter(
            teacher_id=OuterRef("pk"), full_time=True, school__location=Location.RURAL, start__lt=until
        )
        .order_by()
        .values("teacher_id")
        .annotate(
            total=Sum(
                ExpressionWrapper(Least(Coalesce(F("end"), until_v), until_v) - F("start"), output_field=DurationField())
            )
        )
        .values("total")
    )
    return teachers.annotate(rural_days=Coalesce(Subquery(days, output_field=DurationField()), Value(dt.timedelta(0))))


def owed(teachers, year: int, *, tiers=None):
    """Teachers owed a certificate for ``year``: ``tier_years`` (the tier owed) and ``rural_days`` annotated.

    One query; ``tiers`` defaults to every ``RuralHonourTier`` (a small table).
    """
    tiers = sorted(tiers if tiers is not None else RuralHonourTier.objects.all(), key=lambda t: -t.years)
    if not tiers:
        return teachers.none()
    on = honour_date(year)
    qs = annotate_rural_days(teachers.filter(status=TeacherStatus.ACTIVE), on)
    reached = Case(
        *[When(rural_days__gte=dt.timedelta(days=tier_days(t.years)), then=Value(t.years)) for t in tiers],
        default=Value(0),
        output_field=IntegerField(),
    )
    qs = qs.annotate(tier_years=reached).filter(tier_years__gt=0)
    already = RuralHonourCertificate.objects.filter(teacher_id=OuterRef("pk"), tier__years__gte=OuterRef("tier_years"))
    return qs.filter(~Exists(already))


def years_of(days: dt.timedelta) -> float:
    return round(days.days / DAYS_PER_YEAR, 2)


