"""The teachers app's headline figures (registered with ``jinpin.figures``): teachers supplemented or
exchanged into poor-village primary schools and kindergartens (the report's 628), progress toward the
915 and 3,138 targets, and the 60-hour training rule's compliance. Each is defined here once."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Min
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import figures
from schools.models import Poverty, Stage

from . import training_compliance as comp
from .invalidation import AREA
from .models import ServiceKind, ServicePeriod, Target, TargetMetric, Teacher, TrainingAttendance
from .selectors import target_q

POOR = [Poverty.PROVINCIAL, Poverty.MUNICIPAL]
#: a period that began with one of these brought a teacher into the school (补充 or 交流)
INTO_KINDS = [ServiceKind.HIRE, ServiceKind.MOVEMENT, ServiceKind.TRANSFER, ServiceKind.SECONDMENT]
#: the report's figure: 贫困村小学、幼儿园
INTO_STAGES = [Stage.PRIMARY, Stage.KINDERGARTEN]
PROGRAMME_START = dt.date(2016, 1, 1)  # used only when no 915-type target is on record
PERIOD_PATHS = {"county": "school__county_id", "town": "school__town_id", "school": "school_id"}
TEACHER_PATHS = {"county": "school__county_id", "town": "school__town_id", "school": "school_id"}


def programme_start() -> dt.date:
    """The first day the programme counts teachers from: the earliest start of a target of that kind (data)."""
    return (
        Target.objects.filter(metric=TargetMetric.INTO_POOR_VILLAGES).aggregate(d=Min("start"))["d"] or PROGRAMME_START
    )


def into_poor_periods(as_of: dt.date):
    """补充、交流教师: service periods that brought a teacher (hire, rotation, transfer or secondment) into a
    primary school or kindergarten of a provincial or municipal poor village, begun between the
    programme's start and ``as_of`` (inclusive). A move that starts the day after is not counted."""
    return ServicePeriod.objects.filter(
        kind__in=INTO_KINDS,
        school__village__poverty__in=POOR,
        school__stage__in=INTO_STAGES,
        start__gte=programme_start(),
        start__lte=as_of,
    )


def _teachers_of(periods):
    """Each teacher once, however many periods count for them."""
    return (
        Teacher.objects.filter(pk__in=periods.values("teacher_id"))
        .select_related("school", "school__county")
        .order_by("school__county__order", "school__code", "name", "pk")
    )


def _target(metric):
    def get(as_of):
        return (
            Target.objects.filter(metric=metric, county__isnull=True, start__lte=as_of).order_by("-start", "pk").first()
        )

    return get


def _target_periods(metric):
    def facts(as_of):
        t = _target(metric)(as_of)
        if t is None:
            return ServicePeriod.objects.none()
        return ServicePeriod.objects.filter(target_q(t), start__lte=as_of)

    return facts


def _target_value(metric):
    def value(as_of):
        t = _target(metric)(as_of)
        return t.value if t else None

    return value


def _training_facts(as_of):
    rule = comp.active_rule()
    if rule is None:
        return Teacher.objects.none()
    return comp.annotate_hours(rule, comp.target_group(rule, Teacher.objects.all()), as_of).filter(
        hours__gte=rule.threshold
    )


def _training_group(as_of):
    rule = comp.active_rule()
    if rule is None:
        return Teacher.objects.none()
    return comp.target_group(rule, Teacher.objects.all())


def _latest_period():
    return ServicePeriod.objects.filter(kind__in=INTO_KINDS).aggregate(d=Max("start"))["d"]


def _latest_training():
    return TrainingAttendance.objects.aggregate(d=Max("completed_on"))["d"]


def _teacher_url(t):
    return reverse("teachers:teacher_detail", args=[t.pk])


TEACHER_COLUMNS = [
    (_("Name"), lambda t: t.name),
    (_("School"), lambda t: t.school.name if t.school_id else ""),
    (_("County"), lambda t: t.school.county.name if t.school_id else ""),
]


def register():
    figures.register(
        figures.Figure(
            key="teachers_into_poor",
            label=_("Teachers supplemented or exchanged into poor-village primary schools and kindergartens"),
            note=_(
                "Each teacher once who, between the programme's start (the 915 target's first day) and the as-of "
                "date, began a period of service — a new hire, rotation, transfer or secondment — in a primary "
                "school or kindergarten of a provincial or municipal poor village. Counted in the county of that "
                "school."
            ),
            unit="person",
            facts=into_poor_periods,
            paths=PERIOD_PATHS,
            listing=_teachers_of,
            cache_area=AREA,
            order=10,
            columns=TEACHER_COLUMNS,
            latest=_latest_period,
            list_url=_teacher_url,
        )
    )
    figures.register(
        figures.Figure(
            key="teachers_target_poor",
            label=_("Progress toward the target of teachers into poor-village schools"),
            note=_(
                "Each teacher once who began a period of service (hire, rotation, transfer or secondment) in a "
                "school of a poor village of any stage, from the city-wide target's first day to the as-of date; "
                "the target (915 over three years) is data."
            ),
            unit="person",
            facts=_target_periods(TargetMetric.INTO_POOR_VILLAGES),
            paths=PERIOD_PATHS,
            listing=_teachers_of,
            target=_target_value(TargetMetric.INTO_POOR_VILLAGES),
            cache_area=AREA,
            order=40,
            columns=TEACHER_COLUMNS,
            list_url=_teacher_url,
        )
    )
    figures.register(
        figures.Figure(
            key="teachers_target_hires",
            label=_("Progress toward the year's target of new teachers"),
            note=_(
                "Each teacher once hired (a period of service that began as a new hire) in the stages the target "
                "names, from the city-wide target's first day to the as-of date; the target (3,138 in 2016) is data."
            ),
            unit="person",
            facts=_target_periods(TargetMetric.HIRES),
            paths=PERIOD_PATHS,
            listing=_teachers_of,
            target=_target_value(TargetMetric.HIRES),
            cache_area=AREA,
            order=41,
            columns=TEACHER_COLUMNS,
            list_url=_teacher_url,
        )
    )
    figures.register(
        figures.Figure(
            key="teachers_training",
            label=_("Staff meeting the 60-hour training rule"),
            note=_(
                "Staff of the rule's target group (its posts, in schools of its poverty designation and stages, in "
                "service today) with at least the rule's minimum hours of training at its levels, completed between "
                "the rule's first day and the as-of date; the rate is against the whole target group."
            ),
            unit="person",
            facts=_training_facts,
            paths=TEACHER_PATHS,
            listing=lambda qs: qs.select_related("school", "school__county").order_by(
                "school__county__order", "school__code", "name", "pk"
            ),
            denominator=_training_group,
            target=lambda as_of: 100,
            target_is_rate=True,
            cache_area=AREA,
            order=60,
            columns=[*TEACHER_COLUMNS, (_("Hours"), lambda t: t.hours)],
            latest=_latest_training,
            list_url=_teacher_url,
        )
    )
