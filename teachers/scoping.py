"""How the teachers app's models are scoped (registered with jinpin.scope at start-up).

A county officer sees the teachers whose *current* school is in their county, a principal
their own school's teachers; the city administrator, auditors and inspectors read all.
"""

from django.db.models import Q

from jinpin import scope
from jinpin.scope import Role

from .models import (
    Establishment,
    HonourTitle,
    Movement,
    RuralHonourCertificate,
    RuralHonourTier,
    ServicePeriod,
    Target,
    Teacher,
    TrainingAttendance,
    TrainingCourse,
    TrainingRule,
)

OFFICERS = {Role.CITY_ADMIN, Role.COUNTY_OFFICER}
STAFF_KEEPERS = {Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL}


def _movements(s, qs):
    """A movement is seen from both ends, and by the teacher's current county/school."""
    if s.city_wide or s.is_inspector:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.filter(
            Q(from_school__county_id=s.county_id)
            | Q(to_school__county_id=s.county_id)
            | Q(teacher__school__county_id=s.county_id)
        )
    if s.is_principal and s.school_id:
        return qs.filter(
            Q(from_school_id=s.school_id) | Q(to_school_id=s.school_id) | Q(teacher__school_id=s.school_id)
        )
    return qs.none()


def _courses(s, qs):
    """Courses of the city or above are visible to all; a county's own courses to that county."""
    if s.city_wide or s.is_inspector:
        return qs
    if s.county_id:
        return qs.filter(Q(county__isnull=True) | Q(county_id=s.county_id))
    return qs.filter(county__isnull=True)


def _course_write(s, obj=None):
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return obj is None or obj.county_id == s.county_id
    return False


def register_all():
    scope.register(HonourTitle, rows=scope.everything, write={Role.CITY_ADMIN})
    scope.register(TrainingRule, rows=scope.everything, write={Role.CITY_ADMIN})
    scope.register(RuralHonourTier, rows=scope.everything, write={Role.CITY_ADMIN})
    scope.register(Target, rows=scope.everything, write={Role.CITY_ADMIN})
    scope.register(Teacher, rows=scope.by_county("school__county_id", "school_id"), write=STAFF_KEEPERS)
    scope.register(
        ServicePeriod, rows=scope.by_county("teacher__school__county_id", "teacher__school_id"), write=STAFF_KEEPERS
    )
    scope.register(
        TrainingAttendance,
        rows=scope.by_county("teacher__school__county_id", "teacher__school_id"),
        write=STAFF_KEEPERS,
    )
    scope.register(TrainingCourse, rows=_courses, write=_course_write)
    scope.register(Movement, rows=_movements, write=OFFICERS)
    scope.register(Establishment, rows=scope.by_county("school__county_id", "school_id"), write=OFFICERS)
    scope.register(
        RuralHonourCertificate, rows=scope.by_county("teacher__school__county_id", "teacher__school_id"), write=OFFICERS
    )
