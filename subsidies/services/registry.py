"""Writes to the pupils registry by a person: a pupil's record from a form, next year's enrolments in bulk, and the
city-only record of refused import rows. Ownership (``scoping.students_owned``) is checked here, whoever calls:
a view, an import or a Celery task."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from jinpin import audit

from .. import scoping
from ..models import Enrolment, EnrolmentConflict, Student

#: what the pupil form changes; payee and bank account change only through ``payment_change_request``
RECORD_FIELDS = ("name", "household", "is_orphan", "is_disabled", "is_special_ed", "is_boarder", "is_dibao")


@transaction.atomic
def student_update(*, student: Student, acting_user, scope, request=None, **values) -> Student:
    """Change a pupil's name, flags or household link (the owning side only)."""
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"not changed here: {sorted(unknown)}")
    if not scoping.can_change_student(scope, student):
        raise PermissionDenied
    student = Student.objects.select_for_update().get(pk=student.pk)
    changed = [k for k, v in values.items() if getattr(student, k) != v]
    for k in changed:
        setattr(student, k, values[k])
    if changed:
        student.full_clean()
        with audit.set_actor(acting_user):
            student.save(update_fields=[*changed, "updated_at"])
    return student


@transaction.atomic
def enrolments_promote(*, student_ids, from_year: int, acting_user, scope, request=None) -> int:
    """Bulk action: enrol the chosen pupils for the next school year at the same school, one grade up.

    Refused as a whole (nothing written) if any chosen pupil is not owned by the person: a forged id in the
    selection never creates an enrolment. Pupils without an enrolment in ``from_year``, or already enrolled in the
    next year, are skipped. Returns the number of enrolments created."""
    ids = sorted({int(i) for i in student_ids})
    if not ids or scope.read_only:
        raise PermissionDenied
    owned = list(scoping.students_owned(scope, Student.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    if len(owned) != len(ids):
        raise PermissionDenied
    to_year = from_year + 1
    # lock the pupils: a transfer confirmed meanwhile must not see its current enrolment change under it
    list(Student.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    source = Enrolment.objects.filter(student_id__in=ids, school_year=from_year).exclude(
        student__enrolments__school_year__gte=to_year
    )
    new = [
        Enrolment(student_id=e.student_id, school_id=e.school_id, school_year=to_year, stage=e.stage, grade=e.grade + 1)
        for e in source.only("student_id", "school_id", "stage", "grade")
        if e.grade < 12
    ]
    Enrolment.objects.bulk_create(new, batch_size=2000)
    audit.log_many(
        Enrolment,
        [(e.pk, f"{e.student_id} {to_year} {e.school_id}", {"school_year": ["", str(to_year)]}) for e in new],
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        event="promote",
    )
    return len(new)


def conflicts_record(conflicts: list[EnrolmentConflict]) -> None:
    """Keep refused rows that matter for the city level, in a transaction of their own: the import was refused and
    wrote nothing; this is the city's record of the attempt, which the importer never sees."""
    if not conflicts:
        return
    with transaction.atomic():
        EnrolmentConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
