"""Workflows of the teachers app: service history, rotation (交流轮岗), training, honours.

Every function is keyword-only, atomic, validates before it writes and records who acted
(auditlog signals with ``acting_user`` as the actor, or ``audit.log`` for bulk writes).
Other apps (pairing: 挂职交流 secondments) call ``service_period_open`` / ``service_period_close``.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import invalidation
from .models import Movement, MovementStatus, ServiceKind, ServicePeriod, Teacher


@contextmanager
def _acting(user):
    """Audit entries written inside carry ``user`` as the actor (also outside a request)."""
    if user is None:
        yield
        return
    with set_actor(user):
        yield


def _lock_teacher(teacher: Teacher) -> Teacher:
    """Serialise writes to one teacher's service history (the overlap check is a read-then-write)."""
    Teacher.objects.select_for_update().filter(pk=teacher.pk).values_list("pk", flat=True).get()
    return teacher


def _overlap_error(teacher: Teacher, start, end, exclude_pk=None) -> ValidationError | None:
    clash = (
        ServicePeriod.objects.filter(teacher_id=teacher.pk, full_time=True)
        .overlapping(start, end)
        .exclude(pk=exclude_pk)
        .select_related("school")
        .first()
    )
    if clash is None:
        return None
    return ValidationError(
        _(
            "%(name)s already holds a full-time post at %(school)s from %(start)s%(until)s; a teacher cannot hold two full-time posts at once."
        )
        % {
            "name": teacher.name,
            "school": clash.school.name,
            "start": clash.start.isoformat(),
            "until": (" " + _("until %(d)s") % {"d": clash.end.isoformat()}) if clash.end else "",
        },
        code="overlap",
    )


def _sync_current_school(teacher: Teacher) -> None:
    """The teacher's current school follows their open full-time period (if any)."""
    today = timezone.localdate()
    current = (
        ServicePeriod.objects.filter(teacher_id=teacher.pk, full_time=True, end__isnull=True, start__lte=today)
        .order_by("-start")
        .values_list("school_id", flat=True)
        .first()
    )
    if current is not None and current != teacher.school_id:
        teacher.school_id = current
        teacher.save(update_fields=["school", "updated_at"])


@transaction.atomic
def service_period_open(
    *,
    teacher: Teacher,
    school,
    start: dt.date,
    full_time: bool,
    kind: str,
    acting_user,
    movement: Movement | None = None,
    end: dt.date | None = None,
    note: str = "",
) -> ServicePeriod:
    """Open a period of service at ``school`` from ``start`` (``end`` exclusive, usually None).

    Refuses (ValidationError) a full-time period that overlaps another full-time period of
    the same teacher. A full-time period open today becomes the teacher's current school.
    Locks the teacher row for the transaction.
    """
    teacher = _lock_teacher(teacher)
    period = ServicePeriod(
        teacher=teacher,
        school=school,
        start=start,
        end=end,
        full_time=full_time,
        kind=kind,
        movement=movement,
        note=note,
    )
    period.full_clean()
    if full_time:
        err = _overlap_error(teacher, start, end)
        if err:
            raise err
    with _acting(acting_user):
        try:
            with transaction.atomic():
                period.save()
        except IntegrityError as e:  # the PostgreSQL exclusion constraint, if a check was bypassed
            raise ValidationError(_("A teacher cannot hold two full-time posts at once."), code="overlap") from e
        if full_time and end is None:
            _sync_current_school(teacher)
    return period


@transaction.atomic
def service_period_close(*, period: ServicePeriod, end: dt.date, acting_user) -> ServicePeriod:
    """End a period of service: ``end`` is the first day no longer in post."""
    period = ServicePeriod.objects.select_for_update().select_related("teacher").get(pk=period.pk)
    if end < period.start:
        raise ValidationError(
            {"end": _("The end date cannot be before the start date (%(d)s).") % {"d": period.start.isoformat()}}
        )
    if period.end is not None and period.end <= end:
        return period  # already closed, no later than asked: nothing to do
    period.end = end
    with _acting(acting_user):
        period.save(update_fields=["end"])
        _sync_current_school(period.teacher)
    return period


# -- registry ---------------------------------------------------------------------------
@transaction.atomic
def teacher_create(*, acting_user, start: dt.date | None = None, kind: str = ServiceKind.RECORD, **fields) -> Teacher:
    """Register a teacher; with a school and ``start``, open their first full-time period there."""
    honours = fields.pop("honours", None)
    teacher = Teacher(**fields)
    teacher.full_clean()
    with _acting(acting_user):
        try:
            with transaction.atomic():
                teacher.save()
        except IntegrityError as e:  # the same ID number registered meanwhile (a double submit, another office)
            raise ValidationError(
                {"id_number": _("This ID number is already registered; reload the page to find the record.")},
                code="duplicate",
            ) from e
        if honours is not None:
            teacher.honours.set(honours)
        if teacher.school_id and start:
            service_period_open(
                teacher=teacher, school=teacher.school, start=start, full_time=True, kind=kind, acting_user=acting_user
            )
    return teacher


# -- rotation and exchange (交流轮岗) -------------------------------------------------------
def _claim(movement: Movement, old: str, new: str, **extra) -> None:
    """Atomically move a movement from ``old`` to ``new``; refuse if someone else got there first."""
    n = Movement.objects.filter(pk=movement.pk, status=old).update(status=new, **extra)
    if n != 1:
        raise ValidationError(
            _("This movement is no longer “%(old)s”; reload the page.") % {"old": MovementStatus(old).label},
            code="stale",
        )
    movement.status = new
    for k, v in extra.items():
        setattr(movement, k, v)


def _kind_for(movement: Movement) -> str:
    from .models import MovementKind

    return ServiceKind.SECONDMENT if movement.kind == MovementKind.SECONDMENT else ServiceKind.MOVEMENT


@transaction.atomic
def movement_start(*, movement: Movement, on: dt.date, acting_user) -> Movement:
    """planned → in post: the teacher takes up the post at the receiving school on ``on``.

    A full-time move closes the teacher's open full-time post (at the sending school) the
    same day and opens a full-time period at the receiving school; a part-time one (a visit,
    support sessions) opens a part-time period and leaves the home post as it is.
    """
    if (movement.start - on).days > 366:  # subtraction of dates: no overflow near year 1
        raise ValidationError(_("The start date is too far from the planned start."))
    teacher = _lock_teacher(movement.teacher)
    with _acting(acting_user):
        before = movement.status
        _claim(movement, MovementStatus.PLANNED, MovementStatus.IN_POST, started_on=on)
        if movement.full_time:
            for p in ServicePeriod.objects.filter(teacher=teacher, full_time=True).overlapping(on, None):
                if p.start >= on:
                    raise ValidationError(
                        _("%(name)s has a full-time post at %(school)s starting %(d)s, on or after this date.")
                        % {"name": teacher.name, "school": p.school.name, "d": p.start.isoformat()}
                    )
                service_period_close(period=p, end=on, acting_user=acting_user)
        service_period_open(
            teacher=teacher,
            school=movement.to_school,
            start=on,
            full_time=movement.full_time,
            kind=_kind_for(movement),
            acting_user=acting_user,
            movement=movement,
        )
        _log_status(movement, before, acting_user)
    return movement


@transaction.atomic
def movement_complete(*, movement: Movement, on: dt.date, acting_user) -> Movement:
    """in post → completed on ``on``.

    A temporary full-time move (one with a planned end) closes the receiving school's
    period and returns the teacher full-time to the sending school; a permanent move
    keeps the new post open; a part-time move just closes its period.
    """
    if movement.started_on and on < movement.started_on:
        raise ValidationError(_("The end date cannot be before the date the teacher took up the post."))
    teacher = _lock_teacher(movement.teacher)
    with _acting(acting_user):
        before = movement.status
        _claim(movement, MovementStatus.IN_POST, MovementStatus.COMPLETED, ended_on=on)
        permanent = movement.full_time and movement.end is None
        if not permanent:
            for p in movement.service_periods.filter(end__isnull=True):
                service_period_close(period=p, end=on, acting_user=acting_user)
            if movement.full_time and movement.from_school_id:
                service_period_open(
                    teacher=teacher,
                    school=movement.from_school,
                    start=on,
                    full_time=True,
                    kind=ServiceKind.TRANSFER,
                    acting_user=acting_user,
                    note=_("Returned after a movement"),
                )
        _log_status(movement, before, acting_user)
    return movement


@transaction.atomic
def movement_cancel(*, movement: Movement, acting_user) -> Movement:
    """planned → cancelled (a movement in progress is completed instead, never cancelled)."""
    with _acting(acting_user):
        before = movement.status
        _claim(movement, MovementStatus.PLANNED, MovementStatus.CANCELLED)
        _log_status(movement, before, acting_user)
    return movement


def _log_status(movement: Movement, before: str, acting_user) -> None:
    # ``update()`` bypasses auditlog's signals: write the status change ourselves.
    from jinpin import audit

    audit.log(movement, action=audit.Action.UPDATE, actor=acting_user, changes={"status": [before, movement.status]})


# -- registry updates -------------------------------------------------------------------------
@transaction.atomic
def teacher_update(*, teacher: Teacher, acting_user, changed: list[str], honours=None) -> Teacher:
    """Save the changed fields of ``teacher`` (and its honour titles, when given) in one transaction;
    retiring or leaving closes the open periods."""
    from .models import TeacherStatus

    teacher.full_clean()
    with _acting(acting_user):
        fields = [f for f in changed if f != "honours"]
        if fields:
            teacher.save(update_fields=[*fields, "updated_at"])
        if honours is not None:
            teacher.honours.set(honours)
        if teacher.status != TeacherStatus.ACTIVE and teacher.left_on:
            for p in ServicePeriod.objects.filter(teacher=teacher, end__isnull=True):
                service_period_close(period=p, end=max(teacher.left_on, p.start), acting_user=acting_user)
    return teacher


# -- training ------------------------------------------------------------------------------------
@transaction.atomic
def attendance_record(*, teacher: Teacher, course, hours, completed_on, certificate_no: str = "", acting_user):
    """Record that ``teacher`` completed ``course`` (once per course; a second record is refused)."""
    from .models import AttendanceSource, TrainingAttendance

    if TrainingAttendance.objects.filter(teacher=teacher, course=course).exists():
        raise ValidationError(
            _("%(name)s's attendance of this course is already recorded.") % {"name": teacher.name}, code="duplicate"
        )
    a = TrainingAttendance(
        teacher=teacher,
        course=course,
        hours=hours,
        completed_on=completed_on,
        certificate_no=certificate_no,
        source=AttendanceSource.MANUAL,
        recorded_by=acting_user,
    )
    a.full_clean()
    with _acting(acting_user):
        try:
            with transaction.atomic():
                a.save()
        except IntegrityError as e:  # recorded meanwhile (a double submit): the unique constraint is the last guard
            raise ValidationError(
                _("%(name)s's attendance of this course is already recorded.") % {"name": teacher.name},
                code="duplicate",
            ) from e
    return a


# -- rural-service honours ----------------------------------------------------------------------
@transaction.atomic
def certificates_issue(*, teachers, year: int, issued_on: dt.date, acting_user, prefix: str = "") -> int:
    """Issue the owed rural-service certificate to each of ``teachers`` (a scoped queryset).

    Recomputes what is owed in the database (so a stale page cannot issue a tier twice),
    writes the certificates in bulk and one audit entry per certificate (in one INSERT). The unique
    (teacher, tier) constraint is the last guard: conflicting rows are skipped.
    Returns how many were issued.
    """
    from jinpin import audit
    from jinpin.audit import log_many

    from . import honours
    from .models import RuralHonourCertificate, RuralHonourTier

    tiers = {t.years: t for t in RuralHonourTier.objects.all()}
    rows = [
        (r["teacher_id"], r["tier_years"], r["rural_day_count"])
        for r in honours.owed(teachers, year, tiers=list(tiers.values()))
    ]
    certs = [
        RuralHonourCertificate(
            teacher_id=pk,
            tier=tiers[years],
            year=year,
            issued_on=issued_on,
            issued_by=acting_user,
            rural_years=honours.years_of(days),
            certificate_no=f"{prefix}{year}-{years}-{pk:06d}",
        )
        for pk, years, days in rows
    ]
    invalidation.bump()  # bulk writes send no signal
    created = RuralHonourCertificate.objects.bulk_create(certs, ignore_conflicts=True)
    issued = list(
        RuralHonourCertificate.objects.filter(
            year=year, issued_on=issued_on, teacher_id__in=[c.teacher_id for c in created]
        ).values_list("pk", "teacher__name", "tier__years", "certificate_no")
    )
    log_many(
        RuralHonourCertificate,
        [
            (pk, f"{name} · {years}", {"tier": [None, years], "certificate_no": [None, no]})
            for pk, name, years, no in issued
        ],
        action=audit.Action.CREATE,
        actor=acting_user,
        event="rural_honour_issued",
        year=year,
    )
    return len(issued)
