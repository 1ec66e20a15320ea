"""The compliance engine: every agreement × minimum × period as met / not yet / missed, in SQL.

One statement computes all cells of a set of agreements (a scoped queryset)
for the chosen school years, whatever their number:

* ``agreements`` -- the agreements (not drafts) and the span they run;
* ``periods``    -- the semesters and school years chosen, up to today;
* ``cells``      -- agreement × period × minimum of that period, where the agreement ran in the period;
* ``evidence``   -- the evidence counted per agreement × minimum × period, one grouped
  SELECT per minimum (the minimums are data: a handful of rows, loaded first);
* the state: ``met`` when the count reaches the minimum; ``not_yet`` while both the
  period and the agreement still run; else ``missed`` (the period is over, or the
  agreement ended before it could be met).

Python only turns the rows into objects; there is no query per agreement. The
SQL uses CTEs, CASE and window aggregates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    Activity,
    Agreement,
    AgreementSchool,
    AgreementStatus,
    Direction,
    Evidence,
    Interval,
    JointProject,
    RequiredMinimum,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
    SchoolYear,
    Secondment,
    Semester,
)

MET, NOT_YET, MISSED = "met", "not_yet", "missed"
STATE_LABELS = {MET: _("Met"), NOT_YET: _("Not yet"), MISSED: _("Missed")}
STATE_BADGES = {MET: "green", NOT_YET: "amber", MISSED: "red"}
FOREVER = dt.date(9999, 12, 31)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def active_minimums():
    return list(RequiredMinimum.objects.filter(is_active=True).order_by("order", "pk"))


def current_periods(day=None):
    """The school year and the semester pages open on: those containing ``day``, by default the reference date
    (``jinpin.reference``: today, or the last day with records when they stop before this school year). The
    year is the latest begun when none contains the day; the semester is None in a holiday. States (met, not
    yet, missed) are still judged against the real today by the callers: a semester of 2016 is over."""
    from jinpin import cache
    from jinpin.reference import reference_date

    from .figures import AREA

    day = day or reference_date()

    def periods():
        year = (
            SchoolYear.objects.containing(day).first()
            or SchoolYear.objects.filter(starts_on__lte=day).order_by("-starts_on").first()
        )
        return year, Semester.objects.containing(day).first()

    # the calendar's rows: kept under the twinning stamp, which a change of the calendar moves (``touch``)
    return cache.cached(AREA, ("periods", day.isoformat()), periods)


def years_upto(today=None, *, last: int | None = None):
    """School years that have started by ``today`` (the last ``last`` of them)."""
    today = today or timezone.localdate()
    qs = SchoolYear.objects.filter(starts_on__lte=today).order_by("-starts_on")
    years = list(qs[:last] if last else qs)
    years.reverse()
    return years


def _evidence_rows(m: RequiredMinimum, params: list, restrict: bool = True) -> str:
    """One SELECT of the evidence that counts for minimum ``m``: ``(agreement_id, minimum_id, period_id,
    evidence_id, direction)``, one row per activity, secondment, project or adopted document in a period.

    The counts (``_evidence_part``) and the evidence an agreement's page lists (``attach_evidence``) are both
    read from here. ``restrict`` narrows the evidence to the chosen agreements up front (a county); for the
    whole city it is cheaper to take every row of the period and let the final join drop drafts.
    """
    only = "AND {alias}.agreement_id IN (SELECT id FROM agreements) " if restrict else ""
    if m.evidence == Evidence.ACTIVITIES:
        column = "semester_id" if m.interval == Interval.SEMESTER else "school_year_id"
        kinds = list(m.activity_kinds) or ["-"]
        params += [m.pk, *kinds, m.interval]
        return (
            f"SELECT activity.agreement_id, %s AS minimum_id, activity.{column} AS period_id, "
            f"activity.id AS evidence_id, '' AS direction FROM {table(Activity)} activity "
            f"WHERE activity.kind IN ({', '.join(['%s'] * len(kinds))}) "
            f"AND activity.{column} IN (SELECT period_id FROM periods WHERE kind = %s) {only.format(alias='activity')}"
        )
    if m.evidence == Evidence.SECONDMENT_EACH_WAY:
        params += [m.pk, m.interval]
        return (
            f"SELECT secondment.agreement_id, %s AS minimum_id, periods.period_id, secondment.id AS evidence_id, "
            f"secondment.direction FROM {table(Secondment)} secondment JOIN periods ON periods.kind = %s "
            f"AND secondment.starts_on <= periods.ends_on "
            f"AND (secondment.ends_on IS NULL OR secondment.ends_on >= periods.starts_on) "
            f"WHERE 1 = 1 {only.format(alias='secondment')}"
        )
    if m.evidence == Evidence.PROJECTS:
        params += [m.pk, m.interval]
        return (
            f"SELECT project.agreement_id, %s AS minimum_id, periods.period_id, project.id AS evidence_id, "
            f"'' AS direction FROM {table(JointProject)} project JOIN periods ON periods.kind = %s "
            f"AND project.started_on <= periods.ends_on "
            f"AND (project.concluded_on IS NULL OR project.concluded_on >= periods.starts_on) "
            f"WHERE 1 = 1 {only.format(alias='project')}"
        )
    if m.evidence == Evidence.PLAN_AND_CHARTER:
        params += [m.pk, SchoolMilestoneStatus.ADOPTED.value, m.interval]
        return (
            f"SELECT helped.agreement_id, %s AS minimum_id, periods.period_id, document.id AS evidence_id, "
            f"'' AS direction FROM {table(AgreementSchool)} helped "
            f"JOIN agreements ON agreements.id = helped.agreement_id "
            f"JOIN {table(SchoolMilestone)} document ON document.school_id = helped.school_id AND document.status = %s "
            f"JOIN periods ON periods.kind = %s AND document.adopted_on <= periods.ends_on"
        )
    raise ValueError(m.evidence)


def _evidence_part(m: RequiredMinimum, params: list, restrict: bool = True) -> str:
    """One grouped SELECT giving (agreement_id, minimum_id, period_id, n) for minimum ``m``, counting its rows.

    Activities and projects count one each; secondments count the smaller of the two directions (互派);
    the plan and charter count ``required`` once every helped school has adopted both, else 0.
    """
    rows_params: list = []
    rows = _evidence_rows(m, rows_params, restrict)
    if m.evidence == Evidence.SECONDMENT_EACH_WAY:
        to_helped = f"SUM(CASE WHEN found.direction = '{Direction.TO_HELPED.value}' THEN 1 ELSE 0 END)"
        to_helping = f"SUM(CASE WHEN found.direction = '{Direction.TO_HELPING.value}' THEN 1 ELSE 0 END)"
        n = f"CASE WHEN {to_helped} < {to_helping} THEN {to_helped} ELSE {to_helping} END"
    elif m.evidence == Evidence.PLAN_AND_CHARTER:
        params += [len(SchoolMilestoneKind.values), m.required]  # placed before the rows' own parameters
        n = (
            f"CASE WHEN COUNT(DISTINCT found.evidence_id) >= %s * (SELECT COUNT(*) FROM {table(AgreementSchool)} helped "
            f"WHERE helped.agreement_id = found.agreement_id) THEN %s ELSE 0 END"
        )
    else:
        n = "COUNT(*)"
    params += rows_params
    return (
        f"SELECT found.agreement_id, found.minimum_id, found.period_id, {n} AS n FROM ({rows}) found "
        f"GROUP BY found.agreement_id, found.minimum_id, found.period_id"
    )


def _scope_sql(agreements, params: list, *, year_ids, semester_ids=None) -> str:
    """``WITH agreements AS (…), periods AS (…), ``: the agreements (not drafts) and the span they run; the
    school years chosen and their semesters (or only ``semester_ids``)."""
    try:
        inner, inner_params = agreements.values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]
        inner, inner_params = "SELECT 0 WHERE 1 = 0", ()
    year_ids = list(year_ids) or [0]
    ys = ", ".join(["%s"] * len(year_ids))
    if semester_ids is None:
        semesters, semester_params = f"school_year_id IN ({ys})", year_ids
    else:
        semester_ids = list(semester_ids) or [0]
        semesters, semester_params = f"id IN ({', '.join(['%s'] * len(semester_ids))})", semester_ids
    params += [FOREVER, AgreementStatus.DRAFT.value, *inner_params, *semester_params, *year_ids]
    return (
        f"WITH agreements AS (SELECT agreement.id, agreement.starts_on, "
        f"COALESCE(agreement.ended_on, agreement.ends_on, %s) AS ends_on FROM {table(Agreement)} agreement "
        f"WHERE agreement.status <> %s AND agreement.id IN ({inner})), "
        f"periods AS (SELECT 'semester' AS kind, id AS period_id, starts_on, ends_on FROM {table(Semester)} "
        f"WHERE {semesters} "
        f"UNION ALL SELECT 'year' AS kind, id AS period_id, starts_on, ends_on FROM {table(SchoolYear)} "
        f"WHERE id IN ({ys})), "
    )


def result_sql(agreements, *, years, today, minimums) -> tuple[str, list]:
    """The ``WITH ...`` prefix defining ``result(agreement_id, minimum_id, kind, period_id, starts_on, ends_on,
    required, n, state)``: one row per cell."""
    params: list = []
    sql = _scope_sql(agreements, params, year_ids=[y.pk for y in years])
    min_ids = [m.pk for m in minimums] or [0]
    params += [today, *min_ids]
    sql += (
        # agreement × period × minimum of that period, where the agreement ran in the period (up to today)
        f"cells AS (SELECT agreements.id AS agreement_id, minimum.id AS minimum_id, minimum.required, periods.kind, "
        f"periods.period_id, periods.starts_on, periods.ends_on, agreements.ends_on AS agreement_ends_on "
        f"FROM agreements JOIN periods ON periods.starts_on <= agreements.ends_on "
        f"AND periods.ends_on >= agreements.starts_on AND periods.starts_on <= %s "
        f"JOIN {table(RequiredMinimum)} minimum ON minimum.interval = periods.kind "
        f"AND minimum.id IN ({', '.join(['%s'] * len(min_ids))})), "
    )
    restrict = bool(agreements.query.where)
    parts = [_evidence_part(m, params, restrict) for m in minimums]
    if not parts:
        parts = ["SELECT 0 AS agreement_id, 0 AS minimum_id, 0 AS period_id, 0 AS n"]
    sql += "evidence AS (" + " UNION ALL ".join(parts) + "), "
    params += [today, today]
    sql += (
        "result AS (SELECT cells.agreement_id, cells.minimum_id, cells.kind, cells.period_id, cells.starts_on, "
        "cells.ends_on, cells.required, COALESCE(evidence.n, 0) AS n, "
        f"CASE WHEN COALESCE(evidence.n, 0) >= cells.required THEN '{MET}' "
        f"WHEN cells.ends_on >= %s AND cells.agreement_ends_on >= %s THEN '{NOT_YET}' ELSE '{MISSED}' END AS state "
        "FROM cells LEFT JOIN evidence ON evidence.agreement_id = cells.agreement_id "
        "AND evidence.minimum_id = cells.minimum_id AND evidence.period_id = cells.period_id) "
    )
    return sql, params


def _execute(c, sql, params):
    """Run the statement (JIT is off for every connection: jinpin/settings.py)."""
    c.execute(sql, params)


@dataclass
class Cell:
    agreement_id: int
    minimum: RequiredMinimum
    period_kind: str
    period_id: int
    starts_on: dt.date
    ends_on: dt.date
    count: int
    state: str
    evidence: list = field(default_factory=list)

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    @property
    def badge(self):
        return STATE_BADGES[self.state]


def _as_date(v):
    return dt.date.fromisoformat(v) if isinstance(v, str) else v


def cells(agreements, *, years, today=None, minimums=None) -> list[Cell]:
    """All cells of ``agreements`` (a queryset) for ``years``: one query. For small sets (a pair, a page)."""
    today = today or timezone.localdate()
    minimums = active_minimums() if minimums is None else minimums
    if not years:
        return []
    by_id = {m.pk: m for m in minimums}
    sql, params = result_sql(agreements, years=years, today=today, minimums=minimums)
    sql += "SELECT agreement_id, minimum_id, kind, period_id, starts_on, ends_on, n, state FROM result ORDER BY agreement_id, starts_on, minimum_id"
    with transaction.atomic(), connection.cursor() as c:
        _execute(c, sql, params)
        rows = c.fetchall()
    order = {m.pk: i for i, m in enumerate(minimums)}
    out = [
        Cell(agreement_id, by_id[minimum_id], kind, period_id, _as_date(starts), _as_date(ends), int(n), state)
        for agreement_id, minimum_id, kind, period_id, starts, ends, n, state in rows
    ]
    out.sort(key=lambda c: (c.agreement_id, c.period_kind != "semester", c.starts_on, order[c.minimum.pk]))
    return out


ORDERINGS = {
    "missed": "missed DESC, not_yet DESC, agreement_id",
    "met": "met DESC, missed, agreement_id",
    "agreement": "agreement_id",
}


def ranking(agreements, *, years, today=None, limit=50, offset=0, order="missed", only_missed=False, minimums=None):
    """Agreements ranked by missed minimums, one page: ``(rows, total, totals)`` in one query.

    ``rows`` are ``(agreement_id, missed, not_yet, met)``; ``total`` is how many
    agreements have cells; ``totals`` the cell counts by state over all of them.
    """
    today = today or timezone.localdate()
    minimums = active_minimums() if minimums is None else minimums
    if not years:
        return [], 0, {MET: 0, NOT_YET: 0, MISSED: 0}
    sql, params = result_sql(agreements, years=years, today=today, minimums=minimums)
    sql += (
        f"SELECT agreement_id, SUM(CASE WHEN state = '{MISSED}' THEN 1 ELSE 0 END) AS missed, "
        f"SUM(CASE WHEN state = '{NOT_YET}' THEN 1 ELSE 0 END) AS not_yet, "
        f"SUM(CASE WHEN state = '{MET}' THEN 1 ELSE 0 END) AS met, "
        "COUNT(*) OVER () AS total, "
        f"SUM(SUM(CASE WHEN state = '{MISSED}' THEN 1 ELSE 0 END)) OVER () AS t_missed, "
        f"SUM(SUM(CASE WHEN state = '{NOT_YET}' THEN 1 ELSE 0 END)) OVER () AS t_not_yet, "
        f"SUM(SUM(CASE WHEN state = '{MET}' THEN 1 ELSE 0 END)) OVER () AS t_met "
        "FROM result GROUP BY agreement_id "
    )
    if only_missed:
        sql += f"HAVING SUM(CASE WHEN state = '{MISSED}' THEN 1 ELSE 0 END) > 0 "
    sql += f"ORDER BY {ORDERINGS.get(order, ORDERINGS['missed'])} LIMIT %s OFFSET %s"
    params += [limit, offset]
    with transaction.atomic(), connection.cursor() as c:
        _execute(c, sql, params)
        rows = c.fetchall()
    if not rows:
        if offset:  # past the last page: the totals still show
            _, total, totals = ranking(
                agreements,
                years=years,
                today=today,
                limit=1,
                offset=0,
                order=order,
                only_missed=only_missed,
                minimums=minimums,
            )
            return [], total, totals
        return [], 0, {MET: 0, NOT_YET: 0, MISSED: 0}
    first = rows[0]
    totals = {MISSED: int(first[5] or 0), NOT_YET: int(first[6] or 0), MET: int(first[7] or 0)}
    return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows], int(first[4]), totals


def count(agreements, *, years, today=None, minimums=None) -> int:
    """How many cells ``stream`` yields (for an export's progress bar)."""
    today = today or timezone.localdate()
    minimums = active_minimums() if minimums is None else minimums
    if not years:
        return 0
    sql, params = result_sql(agreements, years=years, today=today, minimums=minimums)
    with transaction.atomic(), connection.cursor() as c:
        _execute(c, sql + "SELECT COUNT(*) FROM result", params)
        return c.fetchone()[0]


def stream(agreements, *, years, today=None, minimums=None, chunk=5000):
    """Yield ``(agreement_id, minimum_id, kind, period_id, n, state)`` in agreement order,
    from a server-side cursor on PostgreSQL (flat memory)."""
    today = today or timezone.localdate()
    minimums = active_minimums() if minimums is None else minimums
    if not years:
        return
    sql, params = result_sql(agreements, years=years, today=today, minimums=minimums)
    sql += "SELECT agreement_id, minimum_id, kind, period_id, n, state FROM result ORDER BY agreement_id, starts_on, minimum_id"
    with transaction.atomic(), connection.chunked_cursor() as c:
        _execute(c, sql, params)
        while True:
            rows = c.fetchmany(chunk)
            if not rows:
                break
            yield from rows


def attach_evidence(cell_list, agreement: Agreement):
    """Fill ``cell.evidence`` for one agreement's cells: the rows ``_evidence_rows`` counted, loaded as objects
    (five small queries, for its detail page)."""
    if not cell_list:
        return cell_list
    minimums = list({c.minimum.pk: c.minimum for c in cell_list}.values())
    params: list = []
    sql = _scope_sql(
        Agreement.objects.filter(pk=agreement.pk),
        params,
        year_ids={c.period_id for c in cell_list if c.period_kind == "year"},
        semester_ids={c.period_id for c in cell_list if c.period_kind == "semester"},
    )
    sql = sql.rstrip(", ") + " " + " UNION ALL ".join(_evidence_rows(m, params) for m in minimums)
    with transaction.atomic(), connection.cursor() as c:
        _execute(c, sql, params)
        rows = c.fetchall()
    by_minimum = {m.pk: m for m in minimums}
    wanted = defaultdict(set)
    for _agreement, minimum_id, _period, evidence_id, _direction in rows:
        wanted[by_minimum[minimum_id].evidence].add(evidence_id)
    objects = {
        Evidence.ACTIVITIES: Activity.objects.only("pk", "kind", "held_on", "semester_id", "school_year_id", "summary"),
        Evidence.SECONDMENT_EACH_WAY: Secondment.objects.all(),
        Evidence.PROJECTS: JointProject.objects.all(),
        Evidence.PLAN_AND_CHARTER: SchoolMilestone.objects.select_related("school"),
    }
    loaded = {kind: qs.in_bulk(wanted[kind]) if wanted[kind] else {} for kind, qs in objects.items()}
    found = defaultdict(list)
    for _agreement, minimum_id, period_id, evidence_id, _direction in rows:
        found[(minimum_id, period_id)].append(loaded[by_minimum[minimum_id].evidence][evidence_id])
    for c in cell_list:
        order = ORDER_BY[c.minimum.evidence]
        c.evidence = sorted(found[(c.minimum.pk, c.period_id)], key=order)
    return cell_list


#: how a cell lists its evidence: as each model orders itself (newest first), documents as created
ORDER_BY = {
    Evidence.ACTIVITIES: lambda a: (-a.held_on.toordinal(), -a.pk),
    Evidence.SECONDMENT_EACH_WAY: lambda s: (-s.starts_on.toordinal(), -s.pk),
    Evidence.PROJECTS: lambda p: (-p.started_on.toordinal(), -p.pk),
    Evidence.PLAN_AND_CHARTER: lambda d: d.pk,
}


# -- cached results ------------------------------------------------------------------------------
CACHE_SECONDS = 600


def generation() -> int:
    """The current compliance stamp (one indexed read)."""
    from .models import ComplianceStamp

    return ComplianceStamp.objects.filter(pk=1).values_list("generation", flat=True).first() or 0


def _bump():
    from django.db.models import F

    from .models import ComplianceStamp

    if not ComplianceStamp.objects.filter(pk=1).update(generation=F("generation") + 1):
        ComplianceStamp.objects.get_or_create(pk=1, defaults={"generation": 1})


def touch(*args, **kwargs):
    """Mark compliance as changed once the current transaction commits (signal receiver and helper); the
    dashboard's twinning figures (``pairing.figures``, the "pairing" stamp of ``jinpin.cache``) with it."""
    from jinpin import cache

    from .figures import AREA

    transaction.on_commit(_bump)
    cache.bump(AREA)


def cached_ranking(scope, agreements, *, key: tuple, years, today=None, **kwargs):
    """``ranking`` cached per scope, parameters, day and compliance stamp: a repeated view of an
    unchanged county costs one read of the stamp; any committed write changes the key."""
    from django.core.cache import cache

    today = today or timezone.localdate()
    k = "pairing:rank:" + ":".join(
        map(
            str,
            (
                generation(),
                scope.role,
                scope.county_id,
                scope.school_id,
                today,
                [y.pk for y in years],
                *key,
                sorted(kwargs.items()),
            ),
        )
    )
    k = "pairing:rank:" + hashlib.sha1(k.encode()).hexdigest()
    hit = cache.get(k)
    if hit is None:
        hit = ranking(agreements, years=years, today=today, **kwargs)
        cache.set(k, hit, CACHE_SECONDS)
    return hit
