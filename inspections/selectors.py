"""Read-side of 督查抽查: coverage, the campaign summary, the payment trace, the assistance ledger.

Each is a fixed number of aggregate queries whatever the size of the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from subsidies.models import Award, AwardStep, Enrolment, HouseholdStatus, PayoutLine, Recovery, Student

from .models import (
    CheckResult,
    Draw,
    DrawItem,
    Finding,
    HouseholdCheck,
    PaymentTrace,
    Photo,
    light,
)

HOUSEHOLD_DRAWS = Q(draw__kind=Draw.Kind.HOUSEHOLDS, draw__status=Draw.Status.CONFIRMED)


#: the payment trace's checks as the auditor reads them
CHECK_LABELS = {
    "line_equals_award": gettext_lazy("The payout line is the award's amount"),
    "paid_once": gettext_lazy("Paid once, in full"),
    "enrolled": gettext_lazy("Enrolled at the award's school"),
    "household_poor_on_decisive_date": gettext_lazy("Household registered poor on the decisive date"),
    "facts_agree": gettext_lazy("Frozen facts agree with the registry"),
    "approved": gettext_lazy("Approved by the county"),
}


def sample_items(scope, campaign):
    """The drawn households of the campaign's confirmed draws, in scope."""
    return scope.filter(DrawItem).filter(HOUSEHOLD_DRAWS, draw__group__campaign=campaign)


@dataclass
class CoverageRow:
    group: str
    county: str
    villages: int = 0
    villages_without_photo: list = field(default_factory=list)
    drawn: int = 0
    unchecked: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.villages_without_photo and not self.unchecked


def coverage(scope, campaign, *, unchecked_limit: int = 200) -> list[CoverageRow]:
    """村村拍照、户户不落: per group and county, villages of the sample without a photo and drawn
    households not yet checked. Four queries, whatever the size of the sample."""
    items = sample_items(scope, campaign)
    per_village = list(
        items.values(
            "draw__group_id", "draw__group__name", "county_id", "county__name", "village_id", "village__name"
        ).annotate(n=Count("pk"))
    )
    photographed = set(
        scope.filter(Photo).filter(campaign=campaign, village__isnull=False).values_list("village_id", flat=True)
    )
    unchecked = items.filter(household_check__isnull=True)
    counts = {
        (r["draw__group_id"], r["county_id"]): r["n"]
        for r in unchecked.values("draw__group_id", "county_id").annotate(n=Count("pk"))
    }
    rows: dict[tuple, CoverageRow] = {}
    for r in per_village:
        key = (r["draw__group_id"], r["county_id"])
        row = rows.setdefault(key, CoverageRow(r["draw__group__name"], r["county__name"]))
        row.villages += 1
        row.drawn += r["n"]
        if r["village_id"] not in photographed:
            row.villages_without_photo.append(r["village__name"])
    # the first households still to check, in draw order (a bounded list, whatever the sample's size)
    first = unchecked.order_by("draw__group_id", "county_id", "position").values_list(
        "draw__group_id", "county_id", "pk", "snapshot__number", "snapshot__head_name", "village__name"
    )[:unchecked_limit]
    for g, c, pk, number, head, village in first:
        if (g, c) in rows:
            rows[(g, c)].unchecked.append({"pk": pk, "number": number, "head": head, "village": village})
    for key, row in rows.items():
        row.unchecked_count = counts.get(key, 0)
    return sorted(rows.values(), key=lambda r: (r.group, r.county))


@dataclass
class Summary:
    drawn: int = 0
    population: int = 0
    checked: int = 0
    not_found: int = 0
    villages: int = 0
    villages_photographed: int = 0
    failures: list = field(default_factory=list)
    by_category: list = field(default_factory=list)
    by_status: list = field(default_factory=list)
    by_county: list = field(default_factory=list)
    by_village: list = field(default_factory=list)
    draws: list = field(default_factory=list)

    @property
    def rate(self):
        return self.drawn / self.population if self.population else 0


def summary(scope, campaign) -> Summary:
    """现场督察结束后汇总: drawn / checked / not found, the rate, villages photographed, failures per
    checklist item, findings by category, status and county, and per town and village."""
    s = Summary()
    items = sample_items(scope, campaign)
    draws = list(
        scope.filter(Draw)
        .filter(group__campaign=campaign)
        .select_related("group", "created_by")
        .defer("population_runs", "population_ids", "sample")
        .order_by("group", "kind", "created_at")
    )
    s.draws = draws
    live = [d for d in draws if d.kind == Draw.Kind.HOUSEHOLDS and d.status == Draw.Status.CONFIRMED]
    s.population = sum(d.population_size for d in live)
    villages = list(
        items.values("county__name", "village__town__name", "village_id", "village__name")
        .annotate(
            drawn=Count("pk"),
            checked=Count("household_check"),
            not_found=Count("household_check", filter=Q(household_check__outcome=HouseholdCheck.Outcome.NOT_FOUND)),
        )
        .order_by("county__name", "village__town__name", "village__name")
    )
    photos = dict(
        scope.filter(Photo)
        .filter(campaign=campaign, village__isnull=False)
        .values("village_id")
        .annotate(n=Count("pk"))
        .values_list("village_id", "n")
    )
    for v in villages:
        v["photos"] = photos.get(v["village_id"], 0)
        s.drawn += v["drawn"]
        s.checked += v["checked"]
        s.not_found += v["not_found"]
    s.villages = len(villages)
    s.villages_photographed = sum(1 for v in villages if v["photos"])
    s.by_village = villages
    results = scope.filter(CheckResult).filter(household_check__item__draw__group__campaign=campaign)
    s.failures = list(
        results.values("item__label", "item__order")
        .annotate(failed=Count("pk", filter=Q(passed=False)), total=Count("pk"))
        .order_by("item__order")
    )
    top = max([f["failed"] for f in s.failures] or [0]) or 1
    for f in s.failures:
        f["width"] = round(100 * f["failed"] / top)
    findings = scope.filter(Finding).filter(campaign=campaign)
    s.by_category = list(findings.values("category__name").annotate(n=Count("pk")).order_by("-n", "category__name"))
    status_labels = dict(Finding.Status.choices)
    s.by_status = [
        {"status": status_labels.get(r["status"], r["status"]), "n": r["n"]}
        for r in findings.values("status").annotate(n=Count("pk")).order_by("status")
    ]
    s.by_county = list(
        findings.values("county__name")
        .annotate(n=Count("pk"), open=Count("pk", filter=~Q(status=Finding.Status.CLOSED)))
        .order_by("county__name")
    )
    return s


# -- the payment trace ------------------------------------------------------------------------------
def payment_trace(item: DrawItem) -> dict:
    """The whole chain of one drawn payment: pupil and enrolment, the household's status history and
    its status on the decisive date, the award with its frozen facts and rate version, the approval
    steps, the payout line and the bank's return, other lines of the award and recoveries."""
    line = PayoutLine.objects.select_related(
        "batch", "batch__county", "batch__created_by", "batch__sent_by", "award"
    ).get(pk=item.payout_line_id)
    award = Award.objects.select_related(
        "student", "student__household", "scheme", "period", "school", "county", "rate_version"
    ).get(pk=line.award_id)
    period = award.period
    student: Student = award.student
    enrolment = (
        Enrolment.objects.filter(student=student, school_year=period.school_year).select_related("school").first()
    )
    statuses, status_on = [], None
    if student.household_id:
        statuses = list(
            HouseholdStatus.objects.filter(household_id=student.household_id).order_by("effective_on", "pk")
        )
        in_force = [s for s in statuses if s.effective_on <= period.decisive_date]
        status_on = in_force[-1] if in_force else None
    steps = list(AwardStep.objects.filter(award=award).select_related("actor").order_by("at", "pk"))
    lines = list(PayoutLine.objects.filter(award=award).select_related("batch").order_by("pk"))
    recoveries = list(Recovery.objects.filter(award=award).order_by("created_at"))
    paid = sum((ln.amount for ln in lines if ln.status == PayoutLine.Status.PAID), Decimal("0"))
    recovered = sum((r.amount for r in recoveries), Decimal("0"))
    from subsidies.models import POOR_STATUSES

    checks = {
        "line_equals_award": line.amount == award.amount,
        "paid_once": paid == award.amount,
        "enrolled": enrolment is not None and enrolment.school_id == award.school_id,
        # a pupil without a household (orphan, urban 低保) is aided on their own flags
        "household_poor_on_decisive_date": (not student.household_id)
        or (status_on is not None and status_on.status in POOR_STATUSES),
        "facts_agree": (award.facts or {}).get("household_status") in (None, getattr(status_on, "status", None)),
        "approved": any(s.action == AwardStep.Action.APPROVE for s in steps),
    }
    return {
        "line": line,
        "award": award,
        "student": student,
        "enrolment": enrolment,
        "statuses": statuses,
        "status_on": status_on,
        "steps": steps,
        "lines": lines,
        "recoveries": recoveries,
        "paid": paid,
        "recovered": recovered,
        "net": paid - sum((r.amount for r in recoveries if r.status == Recovery.Status.SETTLED), Decimal("0")),
        "checks": checks,
        "check_rows": [(k, CHECK_LABELS.get(k, k), ok) for k, ok in checks.items()],
        "all_ok": all(checks.values()),
        "trace": PaymentTrace.objects.filter(item=item).select_related("traced_by", "finding").first(),
    }


#: what each link of a payment trace checks, as the page says it
CHECK_LABELS = {
    "line_equals_award": _("The paid line equals the award"),
    "paid_once": _("Paid once, in full"),
    "enrolled": _("Enrolled at the awarding school"),
    "household_poor_on_decisive_date": _("Household poor on the decisive date"),
    "facts_agree": _("Frozen facts agree with the registry"),
    "approved": _("Approved"),
}


def ledger(household) -> dict:
    """帮扶台账: everything the programme did for one household."""
    students = list(Student.objects.filter(household=household).order_by("pk"))
    enrolments = list(
        Enrolment.objects.filter(student__household=household)
        .select_related("school", "student")
        .order_by("student", "school_year")
    )
    awards = list(
        Award.objects.filter(student__household=household)
        .select_related("scheme", "period", "student")
        .annotate(
            paid=Sum("payout_lines__amount", filter=Q(payout_lines__status=PayoutLine.Status.PAID)),
        )
        .order_by("period", "scheme")
    )
    items = list(
        DrawItem.objects.filter(household=household)
        .select_related("draw__group__campaign", "household_check", "household_check__checked_by")
        .defer(*light("draw"))
        .order_by("draw__created_at")
    )
    findings = list(
        Finding.objects.filter(item__household=household).select_related("category", "campaign").order_by("pk")
    )
    statuses = list(HouseholdStatus.objects.filter(household=household).order_by("effective_on", "pk"))
    return {
        "students": students,
        "enrolments": enrolments,
        "awards": awards,
        "items": items,
        "findings": findings,
        "statuses": statuses,
        "total_paid": sum((a.paid or Decimal("0") for a in awards), Decimal("0")),
    }
