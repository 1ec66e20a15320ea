"""How 精准救助 records are scoped (registered with jinpin.scope at start-up)."""

from django.db.models import Exists, OuterRef

from jinpin import scope
from jinpin.scope import Role

from .models import (
    Allocation,
    Award,
    BatchRun,
    Enrolment,
    Household,
    LoanApplication,
    MatchItem,
    PayoutBatch,
    PayoutLine,
    Period,
    RateVersion,
    Recovery,
    Scheme,
    Student,
)

OFFICERS = {Role.CITY_ADMIN, Role.COUNTY_OFFICER}
CITY = {Role.CITY_ADMIN}

#: who sees payout batches, bank files, loans, recoveries, the reconciliation and the anomalies
PAYOUT_READERS = frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR})
#: who prepares and sends payout batches, imports the bank's return file, settles and disburses
PAYOUT_SENDERS = frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER})
_SCHOOL_SIDE = frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL, Role.AUDITOR})

#: Who may open each part of 精准救助: the one table the views' ``role_required`` and the menu entries
#: (apps.py) read. Which rows each person then sees, and what they may change, is registered below.
ACCESS = {
    "awards": _SCHOOL_SIDE,
    "pupils": _SCHOOL_SIDE,
    "households": frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR, Role.INSPECTOR}),
    "schemes": _SCHOOL_SIDE,
    "batch": PAYOUT_READERS,
    "funds": PAYOUT_READERS,
    "payouts": PAYOUT_READERS,
    "payouts_send": PAYOUT_SENDERS,
    "reconciliation": PAYOUT_READERS,
    "anomalies": PAYOUT_READERS,
    "matching": PAYOUT_READERS | {Role.PRINCIPAL},
}


def _students(s, qs):
    """A student is in scope through any enrolment in the person's county or school."""
    if s.city_wide or s.is_inspector:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.filter(Exists(Enrolment.objects.filter(student=OuterRef("pk"), school__county_id=s.county_id)))
    if s.is_principal and s.school_id:
        return qs.filter(Exists(Enrolment.objects.filter(student=OuterRef("pk"), school_id=s.school_id)))
    return qs.none()


def _award_write(s, obj=None):
    if s.read_only:
        return False
    if obj is None:
        return s.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL)
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return obj.county_id == s.county_id
    if s.is_principal:
        return obj.school_id == s.school_id
    return False


def register_all():
    scope.register(Household, rows=scope.by_county("village__county_id"), write=OFFICERS)
    scope.register(Student, rows=_students, write={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL})
    scope.register(
        Enrolment,
        rows=scope.by_county("school__county_id", "school_id"),
        write={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL},
    )
    scope.register(Award, rows=scope.by_county("county_id", "school_id"), write=_award_write)
    scope.register(Scheme, rows=scope.everything, write=CITY)
    scope.register(RateVersion, rows=scope.everything, write=CITY)
    scope.register(Period, rows=scope.everything, write=CITY)
    scope.register(Allocation, rows=scope.by_county("county_id"), write=CITY)
    scope.register(BatchRun, rows=scope.by_county("county_id"), write=OFFICERS)
    scope.register(PayoutBatch, rows=scope.by_county("county_id", inspectors=False), write=PAYOUT_SENDERS)
    scope.register(PayoutLine, rows=scope.by_county("batch__county_id", inspectors=False), write=PAYOUT_SENDERS)
    scope.register(Recovery, rows=scope.by_county("award__county_id", inspectors=False), write=OFFICERS)
    scope.register(LoanApplication, rows=scope.by_county("county_id", inspectors=False), write=OFFICERS)
    scope.register(MatchItem, rows=scope.by_county("county_id", "school_id", inspectors=False), write=frozenset())
