"""How 结对帮扶 records are scoped (registered with jinpin.scope at start-up).

A principal sees the agreements their school is in (on either side) and
everything logged under them -- no other pair. A county officer sees the
agreements of their county (and those their county's schools help elsewhere)
and writes those of their county. City-wide roles and inspectors read all.
"""

from django.db.models import Q

from jinpin import scope
from jinpin.scope import Role

from .models import (
    Activity,
    Agreement,
    AgreementSchool,
    Attachment,
    Donation,
    JointProject,
    RequiredMinimum,
    SchoolMilestone,
    SchoolYear,
    Secondment,
    Semester,
)

LOGGERS = {Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL}


def agreement_q(s):
    """A Q on Agreement narrowing to the scope's agreements, or None for none.

    Written as plain columns and IN-subqueries (no OR across a join), so that rows reached
    through an agreement filter by ``agreement_id IN (...)`` and the planner can use the
    (agreement, ...) indexes even on a million activities.
    """
    from schools.models import School

    if s.is_county_officer and s.county_id:
        return Q(county_id=s.county_id) | Q(
            helping_school_id__in=School.objects.filter(county_id=s.county_id).values("pk")
        )
    if s.is_principal and s.school_id:
        linked = AgreementSchool.objects.filter(school_id=s.school_id).values("agreement_id")
        return Q(helping_school_id=s.school_id) | Q(pk__in=linked)
    return None


def rows_through(prefix):
    """A rows rule for Agreement (``prefix=""``) or for rows reached through ``prefix`` (``"agreement__"``)."""

    def rows(s, qs):
        if s.city_wide or s.is_inspector:
            return qs
        q = agreement_q(s)
        if q is None:
            return qs.none()
        if not prefix:
            return qs.filter(q)
        agreements = Agreement.objects.filter(q).values("pk")
        if s.is_principal:
            # a principal's pairs are a handful: a literal id list gives the planner the true
            # selectivity (an IN-subquery is guessed at half the table and scans by date instead)
            agreements = list(agreements.values_list("pk", flat=True))
        return qs.filter(**{f"{prefix[:-2]}__in": agreements})

    return rows


def agreement_write(s, obj=None):
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return obj is None or obj.county_id == s.county_id
    return False


def log_write(s, obj=None):
    """Who may log under a pair: officers of the agreement's county, the city, and the pair's principals
    (rows are narrowed first, so a principal reaching an object is in the pair)."""
    if s.is_city_admin or s.is_principal:
        return True
    if s.is_county_officer:
        if obj is None:
            return True
        agreement = obj if isinstance(obj, Agreement) else obj.agreement
        return agreement.county_id == s.county_id
    return False


def attachment_write(s, obj=None):
    return log_write(s, obj.activity if obj is not None else None)


def milestone_rows(s, qs):
    if s.city_wide or s.is_inspector:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.filter(school__county_id=s.county_id)
    if s.is_principal and s.school_id:
        helped = AgreementSchool.objects.filter(agreement__helping_school_id=s.school_id).values("school_id")
        return qs.filter(Q(school_id=s.school_id) | Q(school_id__in=helped))
    return qs.none()


def milestone_write(s, obj=None):
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return obj is None or obj.school.county_id == s.county_id
    if s.is_principal:
        return obj is None or obj.school_id == s.school_id
    return False


def register_all():
    scope.register(Agreement, rows=rows_through(""), write=agreement_write)
    scope.register(AgreementSchool, rows=rows_through("agreement__"), write=agreement_write)
    for model in (Activity, Secondment, JointProject, Donation):
        scope.register(model, rows=rows_through("agreement__"), write=log_write)
    scope.register(Attachment, rows=rows_through("activity__agreement__"), write=attachment_write)
    scope.register(SchoolMilestone, rows=milestone_rows, write=milestone_write)
    for model in (RequiredMinimum, SchoolYear, Semester):
        scope.register(model, rows=scope.everything, write={Role.CITY_ADMIN})
