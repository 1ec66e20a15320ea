"""How 督查抽查 records are scoped (registered with jinpin.scope at start-up).

The county rule is ``jinpin.scope.by_inspection_county`` (an inspector reads and writes their
groups' counties while a campaign runs); here an inspector's rows are further kept to the running
campaigns whose groups they belong to, so an old campaign's records in the same county stay closed.
Who may do which rectification step is decided here too (``can_*``), and views and templates ask it.
"""

from django.db.models import Exists, OuterRef

from jinpin import scope
from jinpin.scope import Role

from .models import (
    Assignment,
    Campaign,
    ChecklistItem,
    CheckResult,
    CityDepartment,
    Draw,
    DrawItem,
    Finding,
    FindingCategory,
    Group,
    HouseholdCheck,
    HouseholdResponsibility,
    PaymentTrace,
    Photo,
    RectificationStep,
)

CITY = {Role.CITY_ADMIN}
RUNNING = Campaign.Status.RUNNING


def _county_rows(county_path: str, campaign_path: str):
    base = scope.by_inspection_county(county_path)

    def rows(s, qs):
        qs = base(s, qs)
        if s.is_inspector:
            member = Group.objects.filter(
                campaign_id=OuterRef(campaign_path),
                members=s.user_id,
                campaign__status=RUNNING,
            )
            qs = qs.filter(Exists(member))
        return qs

    return rows


def _campaigns(s, qs):
    if s.city_wide:
        return qs
    if s.is_inspector:
        return qs.filter(Exists(Group.objects.filter(campaign=OuterRef("pk"), members=s.user_id)))
    if s.is_county_officer and s.county_id:
        return qs.filter(
            Exists(Assignment.objects.filter(group__campaign=OuterRef("pk"), counties=s.county_id))
            | Exists(Finding.objects.filter(campaign=OuterRef("pk"), county_id=s.county_id))
        )
    return qs.none()


def _groups(s, qs, path=""):
    p = f"{path}__" if path else ""
    if s.city_wide:
        return qs
    if s.is_inspector:
        return qs.filter(Exists(Group.objects.filter(pk=OuterRef(f"{p}pk" if p else "pk"), members=s.user_id)))
    if s.is_county_officer and s.county_id:
        return qs.filter(
            Exists(Assignment.objects.filter(group=OuterRef(f"{p}pk" if p else "pk"), counties=s.county_id))
        )
    return qs.none()


def _draws(s, qs):
    if s.city_wide:
        return qs
    if s.is_inspector:
        return qs.filter(
            Exists(Group.objects.filter(pk=OuterRef("group_id"), members=s.user_id, campaign__status=RUNNING))
        )
    if s.is_county_officer and s.county_id:
        return qs.filter(Exists(Assignment.objects.filter(group=OuterRef("group_id"), counties=s.county_id)))
    return qs.none()


def _inspector_writes(s, obj=None):
    """Inspectors write checks, photos and findings in their scope; the city administrator too."""
    return s.role in (Role.INSPECTOR, Role.CITY_ADMIN)


def _draw_write(s, obj=None):
    if s.is_city_admin:
        return True
    if not s.is_inspector:
        return False
    if obj is None:
        return True
    return obj.group.campaign.is_running and obj.group.members.filter(pk=s.user_id).exists()


def _finding_write(s, obj=None):
    return s.role in (Role.INSPECTOR, Role.CITY_ADMIN, Role.COUNTY_OFFICER)


# -- who may take which rectification step (one table; views, templates and services ask it) ------
def can_record_finding(s) -> bool:
    return s.role in (Role.INSPECTOR, Role.CITY_ADMIN)


def can_record_anomaly_finding(s) -> bool:
    """A hit of the anomaly report becomes a finding by an inspector, an auditor (who otherwise only
    reads) or the city administrator; which hits, ``inspections.anomalies.in_scope`` says."""
    return s.role in (Role.INSPECTOR, Role.AUDITOR, Role.CITY_ADMIN)


def can_submit(s, finding) -> bool:
    """The responsible county's officer submits measures while the finding is open or returned."""
    return (
        s.is_county_officer
        and finding.county_id == s.county_id
        and finding.status in (Finding.Status.OPEN, Finding.Status.RETURNED)
    )


def can_review(s, finding) -> bool:
    """An inspector of the finding's campaign (in scope) or the city administrator closes or returns it."""
    return (s.is_inspector or s.is_city_admin) and finding.status == Finding.Status.SUBMITTED


def can_trace(s) -> bool:
    """Inspectors and auditors confirm a traced payment (auditors read everything, and write only this)."""
    return s.role in (Role.INSPECTOR, Role.AUDITOR, Role.CITY_ADMIN)


def register_all():
    scope.register(CityDepartment, rows=scope.everything, write=CITY)
    scope.register(ChecklistItem, rows=scope.everything, write=CITY)
    scope.register(FindingCategory, rows=scope.everything, write=CITY)
    scope.register(Campaign, rows=_campaigns, write=CITY)
    scope.register(Group, rows=_groups, write=CITY)
    scope.register(Assignment, rows=lambda s, qs: _groups(s, qs, "group"), write=CITY)
    scope.register(Draw, rows=_draws, write=_draw_write)
    scope.register(DrawItem, rows=_county_rows("county_id", "draw__group__campaign"), write=_inspector_writes)
    scope.register(
        HouseholdCheck, rows=_county_rows("item__county_id", "item__draw__group__campaign"), write=_inspector_writes
    )
    scope.register(
        CheckResult,
        rows=_county_rows("household_check__item__county_id", "household_check__item__draw__group__campaign"),
        write=_inspector_writes,
    )
    scope.register(Photo, rows=_county_rows("county_id", "campaign"), write=_inspector_writes)
    scope.register(Finding, rows=_county_rows("county_id", "campaign"), write=_finding_write)
    scope.register(RectificationStep, rows=_county_rows("finding__county_id", "finding__campaign"), write=frozenset())
    scope.register(PaymentTrace, rows=_county_rows("item__county_id", "item__draw__group__campaign"), write=frozenset())
    scope.register(
        HouseholdResponsibility,
        rows=scope.by_county("household__village__county_id"),
        write={Role.CITY_ADMIN, Role.COUNTY_OFFICER},
    )
