"""Read-side rules of 结对帮扶 that pages and reports share: coverage and the agreement's compliance grid.

Views call these; they hold no programme rule themselves.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from schools.models import COMPULSORY_STAGES

from .models import Agreement, AgreementForm, AgreementSchool, AgreementStatus, Semester
from .models.agreements import KEY_POVERTY

# -- coverage (结对覆盖率) ---------------------------------------------------------------------------
#: schools in provincial or municipal key poor villages: they must be paired one-to-one (重点帮扶)
KEY_SCHOOL = Q(village__poverty__in=KEY_POVERTY)
#: compulsory-education schools: every one of them paired (2017 target)
COMPULSORY_SCHOOL = Q(stage__in=COMPULSORY_STAGES)


def one_to_one_helped_schools():
    """Ids of schools helped under an active one-to-one agreement (a link is active while its agreement is)."""
    return AgreementSchool.objects.filter(active=True, agreement__form=AgreementForm.ONE_TO_ONE).values("school_id")


def helped_schools():
    """Ids of schools helped under any active agreement."""
    return AgreementSchool.objects.filter(active=True).values("school_id")


def helping_schools():
    """Ids of schools helping under an active agreement."""
    return Agreement.objects.filter(status=AgreementStatus.ACTIVE).values("helping_school_id")


# Each set is read once and hashed (``IN (SELECT …)``), not probed per school.
KEY_PAIRED = KEY_SCHOOL & Q(pk__in=one_to_one_helped_schools())
COMPULSORY_PAIRED = COMPULSORY_SCHOOL & (Q(pk__in=helped_schools()) | Q(pk__in=helping_schools()))


def _pct(n, d):
    return round(n * 100 / d, 1) if d else None


COVERAGE_COUNTS = ("key_total", "key_paired", "comp_total", "comp_paired")


def coverage_counts(schools) -> tuple[dict, dict]:
    """``(per_county, city)`` coverage of ``schools`` (scoped): totals, paired and percentages. Two queries."""
    agg = {
        "key_total": Count("pk", filter=KEY_SCHOOL),
        "key_paired": Count("pk", filter=KEY_PAIRED),
        "comp_total": Count("pk", filter=COMPULSORY_SCHOOL),
        "comp_paired": Count("pk", filter=COMPULSORY_PAIRED),
    }
    per_county = {r["county_id"]: r for r in schools.values("county_id").annotate(**agg).order_by()}
    city = schools.aggregate(**agg)
    for r in [*per_county.values(), city]:
        r.update(key_pct=_pct(r["key_paired"], r["key_total"]), comp_pct=_pct(r["comp_paired"], r["comp_total"]))
    return per_county, city


def coverage_row(per_county: dict, county_id) -> dict:
    """One county's coverage (zeros where it has no school)."""
    return per_county.get(county_id) or {**dict.fromkeys(COVERAGE_COUNTS, 0), "key_pct": None, "comp_pct": None}


def unpaired(schools, which: str = "key"):
    """Key-poor-village schools without an active one-to-one agreement, or (``compulsory``) compulsory schools
    in no active agreement."""
    if which == "compulsory":
        return schools.filter(COMPULSORY_SCHOOL).exclude(pk__in=helped_schools()).exclude(pk__in=helping_schools())
    return schools.filter(KEY_SCHOOL).exclude(pk__in=one_to_one_helped_schools())


# -- the agreement's compliance grid ------------------------------------------------------------------
def compliance_grid(cells, years) -> list[tuple[str, list]]:
    """The cells of one agreement as its page shows them: per school year, newest first, the year's own
    minimums then each semester's, as ``[(label, [cells])]``; periods without a cell are left out. One query
    (the semesters)."""
    semesters = {}
    for s in Semester.objects.filter(school_year__in=years).select_related("school_year").order_by("number"):
        semesters.setdefault(s.school_year_id, []).append(s)
    by_period = {}
    for c in cells:
        by_period.setdefault((c.period_kind, c.period_id), []).append(c)
    grid = []
    for y in reversed(years):
        periods = [("year", y.pk, _("%(y)s school year") % {"y": y.name})]
        periods += [("semester", s.pk, str(s)) for s in semesters.get(y.pk, [])]
        for kind, pk, label in periods:
            row = by_period.get((kind, pk))
            if row:
                grid.append((label, row))
    return grid
