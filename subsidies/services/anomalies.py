"""监督: the auditors' anomaly checks. Each check is a generator of rows; all are set-based queries.

Kinds: the same ID enrolled twice (refused imports); awards to households not verified or
lifted out on the decisive date; amounts that differ from the rate in force for the frozen
facts (and two exclusive categories paid); a student paid twice; and the reverse check,
pupils the rules make eligible who received nothing.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Count, DecimalField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from .. import eligibility
from ..models import (
    POOR_STATUSES,
    AmountRule,
    Award,
    AwardStatus,
    EnrolmentConflict,
    HouseholdStatus,
    PayoutLine,
    Period,
    Scheme,
    SchemeKind,
)
from ..models.schemes import Group

ACTIVE = [AwardStatus.APPLIED, AwardStatus.REVIEWED, AwardStatus.APPROVED, AwardStatus.PAID]
LIMIT = 100_000  # rows per check in one report


def _id(scope, number):
    from jinpin import privacy

    # the auditor's report traces payments to pupils: their IDs as jinpin.privacy allows there
    return privacy.shown(scope.role, privacy.PUPIL_ID, privacy.AUDIT_TRACE, number)


def audit_reveal(scope, period, rows: int, request=None) -> None:
    """Audit a report of ``rows`` rows if it showed this person full IDs (jinpin.privacy)."""
    from jinpin import audit, privacy

    if rows and privacy.is_full(scope.role, privacy.PUPIL_ID, privacy.AUDIT_TRACE):
        audit.log_reveal(
            period,
            fields=[privacy.PUPIL_ID],
            place=privacy.AUDIT_TRACE,
            request=request,
            user_id=scope.user_id,
            count=rows,
            report="anomalies",
        )


def duplicate_enrolments(scope, period):
    # refused import rows are the city level's record (scoping: city administrator and auditors only): a county
    # office would otherwise learn where another county's pupil is enrolled
    qs = (
        scope.filter(EnrolmentConflict)
        .filter(school_year=period.school_year)
        .select_related("school__county", "existing_school")
    )
    for c in qs[:LIMIT]:
        yield (
            _("Same ID enrolled in two schools")
            if c.kind == EnrolmentConflict.Kind.SAME_YEAR
            else _("Import of a pupil whose record another school keeps"),
            c.school.county.name,
            c.school.name,
            "",
            _id(scope, c.id_number),
            "",
            None,
            _("already enrolled at %(school)s") % {"school": c.existing_school.name},
        )


def not_poor_on_decisive_date(scope, period):
    """Awards of schemes that require a registered poor household, where the registry (as now corrected)
    says the household was not verified, or was lifted out, on the decisive date."""
    poor_only = [s.pk for s in Scheme.objects.all() if s.groups == [Group.POOR]]
    status_then = (
        HouseholdStatus.objects.filter(
            household=OuterRef("student__household"), effective_on__lte=OuterRef("period__decisive_date")
        )
        .order_by("-effective_on", "-pk")
        .values("status")[:1]
    )
    qs = (
        scope.filter(Award)
        .filter(period=period, scheme_id__in=poor_only, status__in=ACTIVE)
        .annotate(then=Subquery(status_then))
        .filter(Q(then__isnull=True) | ~Q(then__in=POOR_STATUSES))
        .values_list(
            "county__name", "school__name", "student__name", "student__id_number", "scheme__name", "amount", "then"
        )
    )
    labels = dict(HouseholdStatus.Status.choices)
    for county, school, name, number, scheme, amount, then in qs[:LIMIT]:
        yield (
            _("Household not a verified poor household on the decisive date"),
            county,
            school,
            name,
            _id(scope, number),
            scheme,
            amount,
            str(labels.get(then, _("no household record"))),
        )


def wrong_amounts(scope, period):
    """Amounts that differ from what the rate in force gives for the award's frozen facts.

    One query: the expected amount is the same SQL the batch uses (``subsidies.eligibility``), read over
    each award's frozen facts instead of the registry. For exclusive categories (nutrition meals) a
    lower category paid to a pupil in a higher one is named as such.
    """
    in_force = {}
    for scheme in Scheme.objects.exclude(kind=SchemeKind.LOAN):
        rate = scheme.rate_on(period.decisive_date)
        if rate is not None:
            in_force[scheme.pk] = (scheme, rate)
    if not in_force:
        return
    table = connection.ops.quote_name(Award._meta.db_table)
    ref = eligibility.json_ref(f"{table}.facts")
    expected_params, whens = [], []
    for scheme_id, (_scheme, rate) in in_force.items():
        expected_params.append(scheme_id)
        whens.append(f"WHEN %s THEN {eligibility.amount(rate).sql(ref, expected_params)}")
    expected_sql = f"(CASE {table}.scheme_id {' '.join(whens)} END)"
    rate_params: list = []
    for scheme_id, (_scheme, rate) in in_force.items():
        rate_params.extend([scheme_id, rate.pk])
    rate_sql = f"(CASE {table}.scheme_id {' '.join(['WHEN %s THEN %s'] * len(in_force))} END)"
    qs = (
        scope.filter(Award)
        .filter(period=period, status__in=ACTIVE, scheme_id__in=list(in_force))
        .annotate(
            expected=RawSQL(expected_sql, expected_params, output_field=DecimalField(max_digits=10, decimal_places=2)),
            wrong=RawSQL(
                f"({expected_sql} IS DISTINCT FROM {table}.amount OR {rate_sql} IS DISTINCT FROM {table}.rate_version_id)",
                [*expected_params, *rate_params],
                output_field=BooleanField(),
            ),
        )
        .filter(wrong=True)
        .order_by("county__name", "school__name", "student_id", "scheme_id")
        .values_list(
            "scheme_id",
            "amount",
            "expected",
            "county__name",
            "school__name",
            "student__name",
            "student__id_number",
        )
    )
    for scheme_id, amount, expected, county, school, name, number in qs[:LIMIT]:
        scheme, rate = in_force[scheme_id]
        kind = (
            _("Exclusive categories: a different category paid")
            if scheme.amount_rule == AmountRule.PRIORITY
            else _("Amount differs from the rate in force")
        )
        yield (
            kind,
            county,
            school,
            name,
            _id(scope, number),
            scheme.name,
            amount,
            _("expected %(e)s under the rates from %(d)s") % {"e": expected, "d": rate.effective_from},
        )


def paid_twice(scope, period):
    """A student awarded twice for one scheme and period, or one award paid twice (both guarded by database
    constraints: if they ever show, something went around them). Rows name the student (ID masked per role),
    school, scheme and period: one aggregate query each."""
    awards = scope.filter(Award).filter(period=period)
    dup = (
        awards.order_by()
        .values("student_id", "scheme_id")
        .annotate(
            n=Count("pk"),
            total=Sum("amount"),
            county=Min("county__name"),
            school=Min("school__name"),
            name=Min("student__name"),
            number=Min("student__id_number"),
            scheme=Min("scheme__name"),
        )
        .filter(n__gt=1)
        .order_by("county", "school", "student_id")
    )
    for d in dup[:LIMIT]:
        yield (
            _("Student awarded twice for one scheme and period"),
            d["county"],
            d["school"],
            d["name"],
            _id(scope, d["number"]),
            d["scheme"],
            d["total"],
            _("%(period)s: %(n)s awards") % {"period": period.name, "n": d["n"]},
        )
    lines = (
        PayoutLine.objects.filter(award__in=awards, status=PayoutLine.Status.PAID)
        .order_by()
        .values(
            "award_id",
            "award__county__name",
            "award__school__name",
            "award__student__name",
            "award__student__id_number",
            "award__scheme__name",
        )
        .annotate(n=Count("pk"), total=Sum("amount"))
        .filter(n__gt=1)
        .order_by("award__county__name", "award__school__name", "award_id")
    )
    for d in lines[:LIMIT]:
        yield (
            _("Award paid twice"),
            d["award__county__name"],
            d["award__school__name"],
            d["award__student__name"],
            _id(scope, d["award__student__id_number"]),
            d["award__scheme__name"],
            d["total"],
            _("%(period)s: paid %(n)s times") % {"period": period.name, "n": d["n"]},
        )


def eligible_but_nothing(scope, period):
    """The reverse check: what the rules give now that has no award in process (or was rejected/dropped)."""
    from .batch import computed_sql, schemes_for

    rates = schemes_for(period)
    if not rates:
        return
    county = None if scope.city_wide else scope.county_id
    params: list = []
    head = computed_sql(period=period, rates=rates, county_id=county, lo=None, hi=None, params=params)
    from schools.models import County, School

    from ..models import Student

    poor_params: list = []
    poor = eligibility.POOR.sql(eligibility.json_ref("computed.facts"), poor_params)  # a verified poor household then
    sql = f"""
    WITH {head}
    SELECT county.name, school.name, student.name, student.id_number, scheme.name, computed.amount, award.status
    FROM computed
    JOIN {Student._meta.db_table} student ON student.id = computed.student_id
    JOIN {School._meta.db_table} school ON school.id = computed.school_id
    JOIN {County._meta.db_table} county ON county.id = computed.county_id
    JOIN {Scheme._meta.db_table} scheme ON scheme.id = computed.scheme_id
    LEFT JOIN {Award._meta.db_table} award ON award.student_id = computed.student_id AND award.scheme_id = computed.scheme_id AND award.period_id = %s
    WHERE (award.id IS NULL OR award.status IN ('rejected', 'dropped')) AND {poor}
    ORDER BY county.name, school.name, student.id LIMIT {LIMIT}
    """
    labels = dict(AwardStatus.choices)
    with connection.cursor() as cur:
        cur.execute(sql, [*params, period.pk, *poor_params])
        for county_name, school, name, number, scheme, amount, status in cur.fetchall():
            yield (
                _("Verified poor household, eligible, received nothing"),
                county_name,
                school,
                name,
                _id(scope, number),
                scheme,
                amount,
                str(labels[status]) if status else _("no award"),
            )


CHECKS = [duplicate_enrolments, not_poor_on_decisive_date, wrong_amounts, paid_twice, eligible_but_nothing]


def anomalies(scope, period: Period):
    """Every anomaly of the period in scope: (kind, county, school, student, ID, scheme, amount, detail)."""
    for check in CHECKS:
        yield from check(scope, period)
