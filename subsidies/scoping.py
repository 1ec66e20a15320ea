"""How 精准救助 records are scoped (registered with jinpin.scope at start-up).

Reading a pupil and changing a pupil are two rules. A pupil is *read* through any enrolment in the person's area
(a school sees the children it taught, with their awards). A pupil's record -- identity, flags, household link,
payee and bank account -- is *changed* only by the side that owns it: the school of the pupil's current enrolment
(the latest school year; ``Student.objects.with_current``), its county office, or the city administrator.
Creating an enrolment never grants that right: imports refuse rows for pupils owned elsewhere, and a change of
school is a transfer (转学) confirmed by the sending side. Forms, imports, bulk actions and tasks all ask
``students_owned`` / ``can_change_student`` below.
"""

from django.db.models import Exists, OuterRef, Q

from jinpin import scope
from jinpin.scope import Role

from .models import (
    Allocation,
    Award,
    BatchRun,
    Enrolment,
    EnrolmentConflict,
    Household,
    LoanApplication,
    MatchItem,
    PaymentDetailChange,
    PayoutBatch,
    PayoutLine,
    Period,
    PupilTransfer,
    RateVersion,
    Recovery,
    Scheme,
    Student,
)
from .models.registry import current_enrolment

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


def students_owned(s, qs=None):
    """The pupils whose record this person may change (set-based: the current-enrolment subqueries)."""
    qs = Student.objects.all() if qs is None else qs
    if s.read_only:
        return qs.none()
    if s.is_city_admin:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.with_current().filter(current_county_id=s.county_id)
    if s.is_principal and s.school_id:
        return qs.with_current().filter(current_school_id=s.school_id)
    return qs.none()


def can_change_student(s, obj=None) -> bool:
    """``obj=None``: may this role change some pupil at all; else this pupil (one query unless annotated)."""
    if s.read_only or s.role not in (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL):
        return False
    if obj is None or s.is_city_admin:
        return True
    if hasattr(obj, "current_school_id"):
        school_id, county_id = obj.current_school_id, obj.current_county_id
    else:
        current = (
            Enrolment.objects.filter(student_id=obj.pk)
            .order_by("-school_year")
            .values_list("school_id", "school__county_id")[:1]
        )
        school_id, county_id = next(iter(current), (None, None))
    if s.is_county_officer:
        return county_id is not None and county_id == s.county_id
    return school_id is not None and school_id == s.school_id


# -- 转学: who requests and who confirms ----------------------------------------------------
def can_request_transfer(s, to_school) -> bool:
    """The receiving side asks: the receiving school's principal, its county office, or the city."""
    if s.read_only:
        return False
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return to_school is None or to_school.county_id == s.county_id
    if s.is_principal:
        return to_school is None or to_school.pk == s.school_id
    return False


def can_decide_transfer(s, transfer, user_id=None) -> bool:
    """The sending side confirms: its county office for a move inside the county, the city administrator for a
    move between counties (or any move). Never the person who asked."""
    if s.read_only or transfer.status != "pending":
        return False
    if user_id is not None and transfer.requested_by_id == user_id:
        return False
    if s.is_city_admin:
        return True
    if s.is_county_officer:
        return not transfer.between_counties and transfer.from_school.county_id == s.county_id
    return False


def _transfers(s, qs):
    if s.city_wide:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.filter(Q(from_school__county_id=s.county_id) | Q(to_school__county_id=s.county_id))
    if s.is_principal and s.school_id:
        return qs.filter(Q(from_school_id=s.school_id) | Q(to_school_id=s.school_id))
    return qs.none()


def _transfer_write(s, obj=None):
    if obj is None:
        return can_request_transfer(s, None)
    return can_decide_transfer(s, obj)


# -- payee and bank account: owning side asks, a second person of the owning side confirms ----------------
def _payment_changes(s, qs):
    """The owning side's requests (the current enrolment of each request's pupil: a subquery per request row,
    not a scan of every pupil)."""
    if s.city_wide:
        return qs
    if s.is_county_officer and s.county_id:
        return qs.annotate(_owner_county=current_enrolment("student_id", "school__county_id")).filter(
            _owner_county=s.county_id
        )
    if s.is_principal and s.school_id:
        return qs.annotate(_owner_school=current_enrolment("student_id", "school_id")).filter(_owner_school=s.school_id)
    return qs.none()


def can_decide_payment_change(s, change, user_id) -> bool:
    """Four eyes: the owning side confirms, never the person who asked."""
    return change.status == "pending" and change.requested_by_id != user_id and can_change_student(s, change.student)


def _enrolment_write(s, obj=None):
    """An enrolment is written by the side that owns its pupil, at a school of its own area."""
    if obj is None:
        return can_change_student(s, None)
    in_area = s.is_city_admin or (
        obj.school.county_id == s.county_id if s.is_county_officer else obj.school_id == s.school_id
    )
    return in_area and can_change_student(s, obj.student)


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
    scope.register(Student, rows=_students, write=can_change_student)
    scope.register(PupilTransfer, rows=_transfers, write=_transfer_write)
    scope.register(
        PaymentDetailChange,
        rows=_payment_changes,
        write=lambda s, obj=None: can_change_student(s, obj.student if obj is not None else None),
    )
    # refused import rows that matter: the city level only (never the importer, never the other county)
    scope.register(
        EnrolmentConflict,
        rows=lambda s, qs: qs if s.city_wide else qs.none(),
        write=frozenset(),
    )
    scope.register(Enrolment, rows=scope.by_county("school__county_id", "school_id"), write=_enrolment_write)
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
