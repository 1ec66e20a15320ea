"""Training compliance (培训达标), computed in the database.

A rule (``TrainingRule``, data) names a target group -- posts, and the schools' poverty
designations and stages -- a period, the qualifying training levels and a minimum of hours.
``annotate_hours`` adds each teacher's qualifying hours as one correlated subquery (an
index scan on ``(teacher, completed_on)`` per teacher, no Python loop);
``summary_by`` groups the result per county or per school in the same query.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from .models import TeacherStatus, TrainingAttendance, TrainingRule

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=8, decimal_places=1))


def active_rule() -> TrainingRule | None:
    return TrainingRule.objects.filter(is_active=True).order_by("-period_start", "pk").first()


def target_group(rule: TrainingRule, teachers):
    """The teachers the rule applies to (in service, right post, right kind of school)."""
    qs = teachers.filter(status=TeacherStatus.ACTIVE, post__in=rule.posts, school__isnull=False)
    if rule.poverty:
        qs = qs.filter(school__village__poverty__in=rule.poverty)
    if rule.stages:
        qs = qs.filter(school__stage__in=rule.stages)
    return qs


def qualifying_attendance(rule: TrainingRule):
    return TrainingAttendance.objects.filter(
        course__level__in=rule.levels, completed_on__gte=rule.period_start, completed_on__lte=rule.period_end
    )


def annotate_hours(rule: TrainingRule, teachers):
    """Add ``hours`` (qualifying hours in the period) and ``shortfall`` (0 when compliant)."""
    hours = (
        qualifying_attendance(rule)
        .filter(teacher_id=OuterRef("pk"))
        .order_by()
        .values("teacher_id")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return teachers.annotate(
        hours=Coalesce(Subquery(hours, output_field=DecimalField(max_digits=8, decimal_places=1)), ZERO),
    ).annotate(shortfall=Greatest(Value(rule.threshold) - F("hours"), ZERO))


def compliance(rule: TrainingRule, teachers):
    """Target group of ``teachers`` (already scoped) with hours and shortfall annotated."""
    return annotate_hours(rule, target_group(rule, teachers))


def short_of(rule: TrainingRule, teachers):
    """Teachers below the threshold, the largest shortfall first."""
    return compliance(rule, teachers).filter(hours__lt=rule.threshold).order_by("-shortfall", "school_id", "name", "pk")


def summary_by(rule: TrainingRule, teachers, *fields: str):
    """Per group of ``fields`` (e.g. ``"school__county_id"``): how many in the group, compliant, short, hours missing."""
    qs = compliance(rule, teachers)
    return (
        qs.order_by()
        .values(*fields)
        .annotate(
            n=Count("pk"),
            ok=Count("pk", filter=Q(hours__gte=rule.threshold)),
            short=Count("pk", filter=Q(hours__lt=rule.threshold)),
            missing=Coalesce(Sum("shortfall"), ZERO),
        )
        .order_by(*fields)
    )


def totals(rule: TrainingRule, teachers) -> dict:
    qs = compliance(rule, teachers)
    return qs.aggregate(
        n=Count("pk"),
        ok=Count("pk", filter=Q(hours__gte=rule.threshold)),
        short=Count("pk", filter=Q(hours__lt=rule.threshold)),
        missing=Coalesce(Sum("shortfall"), ZERO),
    )
