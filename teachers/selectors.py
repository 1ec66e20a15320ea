"""Read-side rules of the teachers app that pages, panels and reports share: staffing and target progress.

Views call these; they hold no programme rule themselves.
"""

import datetime as dt
import functools
import operator

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from schools.models import County, Poverty

from .models import ServiceKind, ServicePeriod, Target, TargetMetric, Teacher, TeacherStatus

POOR = [Poverty.PROVINCIAL, Poverty.MUNICIPAL]


def _count(qs):
    return Coalesce(
        Subquery(qs.order_by().values("school_id").annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def staffing(schools, year: int):
    """Schools annotated with approved posts, teachers in post, vacancies, and this year's hires and departures.

    Subqueries per school (no join fan-out); ``poverty_rank`` puts provincial, then
    municipal poor-village schools first.
    """
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    in_post = _count(Teacher.objects.filter(school_id=OuterRef("pk"), status=TeacherStatus.ACTIVE))
    hires = _count(
        ServicePeriod.objects.filter(school_id=OuterRef("pk"), kind=ServiceKind.HIRE, start__range=(start, end))
    )
    departures = _count(
        Teacher.objects.filter(
            school_id=OuterRef("pk"),
            status__in=[TeacherStatus.RETIRED, TeacherStatus.LEFT],
            left_on__range=(start, end),
        )
    )
    return schools.annotate(
        posts=F("establishment__posts"),
        in_post=in_post,
        hires=hires,
        departures=departures,
        poverty_rank=Case(
            When(village__poverty=Poverty.PROVINCIAL, then=Value(0)),
            When(village__poverty=Poverty.MUNICIPAL, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    ).annotate(vacancies=F("posts") - F("in_post"))


def target_q(target: Target) -> Q:
    """The service periods a target counts (a condition on ServicePeriod): one per teacher move or hire in its window."""
    q = Q(start__gte=target.start, start__lte=target.end)
    if target.metric == TargetMetric.INTO_POOR_VILLAGES:
        q &= Q(
            kind__in=[ServiceKind.HIRE, ServiceKind.MOVEMENT, ServiceKind.TRANSFER, ServiceKind.SECONDMENT],
            school__village__poverty__in=POOR,
        )
    else:
        q &= Q(kind=ServiceKind.HIRE)
    if target.stages:
        q &= Q(school__stage__in=target.stages)
    if target.county_id:
        q &= Q(school__county_id=target.county_id)
    return q


def target_progress(targets, scope) -> list[dict]:
    """Distinct teachers counted by each target, city-wide (if the user reads the city) and per county in scope.

    Two queries however many targets: one conditional ``COUNT(DISTINCT teacher) FILTER (...)`` per
    target, grouped by county, and the same aggregated over the city.
    """
    targets = list(targets)
    if not targets:
        return []
    conds = {f"t{t.pk}": target_q(t) for t in targets}
    periods = ServicePeriod.objects.filter(functools.reduce(operator.or_, conds.values())).order_by()
    counts = {k: Count("teacher_id", distinct=True, filter=q) for k, q in conds.items()}
    by_county = list(
        periods.filter(school__county__in=scope.filter(County))
        .values("school__county_id", "school__county__name", "school__county__order")
        .annotate(**counts)
        .order_by("school__county__order")
    )
    city = periods.aggregate(**counts) if (scope.city_wide or scope.is_inspector) else {}
    out = []
    for t in targets:
        k = f"t{t.pk}"
        n = city.get(k)
        rows = [
            {
                "school__county_id": r["school__county_id"],
                "school__county__name": r["school__county__name"],
                "school__county__order": r["school__county__order"],
                "n": r[k],
            }
            for r in by_county
            if r[k]
        ]
        percent = round(100 * n / t.value, 1) if n is not None and t.value else None
        out.append({"target": t, "city": n, "percent": percent, "counties": rows})
    return out
