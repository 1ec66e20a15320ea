"""The anomaly report, stored: computed by a job, read by the page.

Running every check over a city (eligibility re-computed for a million pupils) takes tens of
seconds, far beyond a page request. So the checks of ``anomalies.py`` run in a job — after each
subsidy batch, after the weekly registry re-match, and when someone asks for it on the page —
and their rows are kept, with the time they were computed, in ``AnomalySnapshot``/``AnomalyRow``.
The page reads the stored rows (scoped by county, IDs masked per role); the export still runs
the checks live.

Rows are computed once for the whole city (a city-wide scope) in the site's language; a county
officer sees the rows of their county.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jinpin import idcard, jobs
from jinpin.scope import Role, Scope

from ..models import AnomalyRow, AnomalySnapshot, Period
from . import anomalies as checks

JOB_KIND = "subsidies.anomaly_scan"
PAGE_ROWS = 200
# the checks see the whole city with full IDs (as the auditor, whose trace shows them: jinpin.privacy);
# ``stored`` masks them again for each reader
CITY = Scope(role=Role.AUDITOR)


@transaction.atomic
def refresh(*, period: Period) -> AnomalySnapshot:
    """Run every anomaly check for ``period`` and replace its stored rows (one transaction:
    readers see the old report until the new one commits)."""
    from schools.models import County

    county_ids = dict(County.objects.values_list("name", "pk"))
    with translation.override(settings.LANGUAGE_CODE):
        snap, _new = AnomalySnapshot.objects.select_for_update().get_or_create(
            period=period, defaults={"computed_at": timezone.now()}
        )
        snap.items.all().delete()  # one DELETE: nothing refers to a stored row
        batch, n = [], 0
        for kind, county, school, student, number, scheme, amount, detail in checks.anomalies(CITY, period):
            n += 1
            batch.append(
                AnomalyRow(
                    snapshot=snap,
                    seq=n,
                    county_id=county_ids.get(county),
                    kind=str(kind)[:200],
                    county_name=(county or "")[:50],
                    school=(school or "")[:200],
                    student=(student or "")[:50],
                    id_number=(number or "")[:18],
                    scheme=(scheme or "")[:100],
                    amount=amount,
                    detail=str(detail or "")[:300],
                )
            )
            if len(batch) == 5000:
                AnomalyRow.objects.bulk_create(batch)
                batch = []
        AnomalyRow.objects.bulk_create(batch)
        snap.computed_at, snap.rows = timezone.now(), n
        snap.save(update_fields=["computed_at", "rows"])
    return snap


def stored(scope, period: Period | None):
    """What the page shows: ``(snapshot or None, first rows, {kind: count})`` for the scope; each
    row is its 8 shown values then the ``AnomalyRow``.
    Three queries whatever the size of the report."""
    from jinpin import privacy

    snap = AnomalySnapshot.objects.filter(period=period).first() if period else None
    if snap is None:
        return None, [], {}
    items = snap.items.all()
    if scope.is_inspector:  # 督查抽查: the counties of their groups while a campaign runs (jinpin.scope)
        items = items.filter(county_id__in=scope.inspector_county_ids)
    elif not scope.city_wide:
        items = items.filter(county_id=scope.county_id) if scope.county_id else items.none()
    counts = dict(items.order_by().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    full = privacy.is_full(scope.role, privacy.PUPIL_ID, privacy.AUDIT_TRACE)
    rows = [
        (
            r.kind,
            r.county_name,
            r.school,
            r.student,
            r.id_number if full or not r.id_number else idcard.mask(r.id_number),
            r.scheme,
            r.amount,
            r.detail,
            r,  # the stored row itself (its pk, and the key a finding made from it keeps)
        )
        for r in items.select_related("snapshot").order_by("seq")[:PAGE_ROWS]
    ]
    return snap, rows, counts


def run_job(job, scope, progress) -> jobs.JobResult:
    period = Period.objects.filter(pk=job.params.get("period")).first()
    if period is None:
        raise jobs.JobFailed(_("The period no longer exists."))
    snap = refresh(period=period)
    return jobs.JobResult(rows=snap.rows, summary=_("%(n)s anomalies found.") % {"n": snap.rows})


def permission(scope, params) -> bool:
    from ..scoping import ACCESS

    return scope.role in ACCESS["anomalies"]


def result_link(job):
    from django.urls import reverse

    if job.status != job.Status.SUCCEEDED:
        return None
    return f"{reverse('subsidies:anomalies')}?period={int(job.params.get('period') or 0)}", str(_("Open the anomalies"))


jobs.register(JOB_KIND, run_job, permission=permission, result_link=result_link)


def scan_start(*, period: Period, request):
    """Queue a recomputation of ``period``'s anomaly report for the requesting user; returns the Job."""
    return jobs.start(
        kind=JOB_KIND,
        params={"period": period.pk},
        request=request,
        title=_("Anomaly check %(period)s") % {"period": period.name},
    )
