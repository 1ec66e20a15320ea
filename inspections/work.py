"""Work waiting in 督查抽查 (registered with ``jinpin.work``)."""

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jinpin import work
from jinpin.scope import Role
from schools.models import Village

from .models import Draw, DrawItem, Finding, Photo

HOUSEHOLDS = {"draw__kind": Draw.Kind.HOUSEHOLDS, "draw__status": Draw.Status.CONFIRMED}
NOT_CLOSED = [Finding.Status.OPEN, Finding.Status.SUBMITTED, Finding.Status.RETURNED]


def checks_not_done(scope):
    """Drawn households of confirmed draws without a check, in the inspector's running assignments."""
    return (
        scope.filter(DrawItem)
        .filter(household_check__isnull=True, **HOUSEHOLDS)
        .select_related("village", "county")
        .order_by("draw__group_id", "county_id", "position")
    )


def villages_without_photo(scope):
    """村村拍照: villages of the inspector's samples with no photo in that campaign."""
    items = scope.filter(DrawItem).filter(**HOUSEHOLDS)
    photo = Photo.objects.filter(village_id=OuterRef("village_id"), campaign_id=OuterRef("draw__group__campaign_id"))
    ids = items.exclude(Exists(photo)).values("village_id")
    return Village.objects.filter(pk__in=ids).select_related("town", "county").order_by("code")


def findings(*statuses):
    def rows(scope):
        return (
            scope.filter(Finding)
            .filter(status__in=statuses)
            .select_related("county", "category")
            .order_by("deadline", "pk")
        )

    return rows


def overdue(scope):
    return findings(*NOT_CLOSED)(scope).filter(deadline__lt=timezone.localdate())


FINDING_COLUMNS = [
    (_("Finding"), lambda f: f.description[:40]),
    (_("County"), lambda f: f.county.name),
    (_("Deadline"), lambda f: f.deadline),
    (_("Status"), lambda f: f.get_status_display()),
]


def _finding_url(f):
    return reverse("inspections:finding_detail", args=[f.pk])


def register():
    inspector = frozenset({Role.INSPECTOR})
    work.register(
        work.WorkItem(
            key="checks_not_done",
            label=_("Drawn households not yet checked"),
            roles=inspector,
            rows=checks_not_done,
            columns=[
                (_("Household"), lambda i: i.snapshot.get("number", "")),
                (_("Village"), lambda i: i.village.name if i.village_id else ""),
                (_("County"), lambda i: i.county.name if i.county_id else ""),
            ],
            order=10,
        )
    )
    work.register(
        work.WorkItem(
            key="villages_without_photo",
            label=_("Villages of the sample without a photo"),
            roles=inspector,
            rows=villages_without_photo,
            columns=[
                (_("Village"), lambda v: v.name),
                (_("Town"), lambda v: v.town.name),
                (_("County"), lambda v: v.county.name),
            ],
            order=11,
        )
    )
    work.register(
        work.WorkItem(
            key="findings_to_verify",
            label=_("Rectification submitted, awaiting verification"),
            roles=inspector,
            rows=findings(Finding.Status.SUBMITTED),
            columns=FINDING_COLUMNS,
            url=_finding_url,
            order=12,
        )
    )
    work.register(
        work.WorkItem(
            key="findings_to_rectify",
            label=_("Findings to rectify"),
            roles=frozenset({Role.COUNTY_OFFICER}),
            rows=findings(Finding.Status.OPEN, Finding.Status.RETURNED),
            columns=FINDING_COLUMNS,
            url=_finding_url,
            order=16,
        )
    )
    work.register(
        work.WorkItem(
            key="findings_overdue",
            label=_("Overdue findings"),
            roles=frozenset({Role.COUNTY_OFFICER, Role.CITY_ADMIN, Role.INSPECTOR}),
            rows=overdue,
            columns=FINDING_COLUMNS,
            url=_finding_url,
            order=17,
            county_path="county_id",
        )
    )
