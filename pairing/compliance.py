"""The compliance engine: every agreement × minimum × period as met / not yet / missed, in SQL.

One statement computes all cells of a set of agreements (a scoped queryset)
for the chosen school years, whatever their number:

* ``ag``    -- the agreements (not drafts) and the span they run;
* ``per``   -- the semesters and school years chosen, up to today;
* ``cells`` -- agreement × period × minimum of that period, where the agreement ran in the period;
* ``ev``    -- the evidence counted per agreement × minimum × period, one grouped
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
    JointProject,
    Milestone,
    MilestoneStatus,
    Minimum,
    Period,
    SchoolYear,
    Secondment,
    Semester,
)

MET, NOT_YET, MISSED = "met", "not_yet", "missed"
STATE_LABELS = {MET: _("Met"), NOT_YET: _("Not yet"), MISSED: _("Missed")}
STATE_BADGES = {MET: "green", NOT_YET: "amber", MISSED: "red"}
FOREVER = dt.date(9999, 12, 31)


def T(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def active_minimums():
    return list(Minimum.objects.filter(is_active=True).order_by("order", "pk"))


def years_upto(today=None, *, last: int | None = None):
    """School years that have started by ``today`` (the last ``last`` of them)."""
    today = today or timezone.localdate()
    qs = SchoolYear.objects.filter(starts_on__lte=today).order_by("-starts_on")
    years = list(qs[:last] if last else qs)
    years.reverse()
    return years


def _evidence_part(m: Minimum, params: list, restrict: bool = True) -> str:
    """One grouped SELECT giving (agreement_id, minimum_id, period_id, n) for minimum ``m``.

    ``restrict`` narrows the evidence to the chosen agreements up front (a county); for the
    whole city it is cheaper to group every row of the period and let the final join drop drafts.
    """
    act, sec, proj, ms, link = T(Activity), T(Secondment), T(JointProject), T(Milestone), T(AgreementSchool)
    only = "AND {alias}.agreement_id IN (SELECT id FROM ag) " if restrict else ""
    if m.evidence == Evidence.ACTIVITIES:
        col = "semester_id" if m.period == Period.SEMESTER else "school_year_id"
        kinds = list(m.activity_kinds) or ["-"]
        params += [m.pk, *kinds, m.period]
        return (
            f"SELECT a.agreement_id, %s AS minimum_id, a.{col} AS period_id, COUNT(*) AS n FROM {act} a "
            f"WHERE a.kind IN ({', '.join(['%s'] * len(kinds))}) "
            f"AND a.{col} IN (SELECT period_id FROM per WHERE pk_kind = %s) "
            f"{only.format(alias='a')}GROUP BY a.agreement_id, a.{col}"
        )
    if m.evidence == Evidence.SECONDMENT_EACH_WAY:
        out_ = f"SUM(CASE WHEN s.direction = '{Direction.TO_HELPED.value}' THEN 1 ELSE 0 END)"
        in_ = f"SUM(CASE WHEN s.direction = '{Direction.TO_HELPING.value}' THEN 1 ELSE 0 END)"
        params += [m.pk, m.period]
        return (
            f"SELECT s.agreement_id, %s AS minimum_id, per.period_id, CASE WHEN {out_} < {in_} THEN {out_} ELSE {in_} END AS n "
            f"FROM {sec} s JOIN per ON per.pk_kind = %s AND s.starts_on <= per.pe AND (s.ends_on IS NULL OR s.ends_on >= per.ps) "
            f"WHERE 1 = 1 {only.format(alias='s')}GROUP BY s.agreement_id, per.period_id"
        )
    if m.evidence == Evidence.PROJECTS:
        params += [m.pk, m.period]
        return (
            f"SELECT p.agreement_id, %s AS minimum_id, per.period_id, COUNT(*) AS n "
            f"FROM {proj} p JOIN per ON per.pk_kind = %s AND p.started_on <= per.pe "
            f"AND (p.concluded_on IS NULL OR p.concluded_on >= per.ps) "
            f"WHERE 1 = 1 {only.format(alias='p')}GROUP BY p.agreement_id, per.period_id"
        )
    if m.evidence == Evidence.PLAN_AND_CHARTER:
        params += [m.pk, MilestoneStatus.ADOPTED.value, m.required, m.period]
        return (
            f"SELECT ag.id AS agreement_id, %s AS minimum_id, per.period_id, CASE WHEN EXISTS ("
            f"SELECT 1 FROM {link} x WHERE x.agreement_id = ag.id AND (SELECT COUNT(*) FROM {ms} d "
            f"WHERE d.school_id = x.school_id AND d.status = %s AND d.adopted_on <= per.pe) < 2"
            f") THEN 0 ELSE %s END AS n FROM ag JOIN per ON per.pk_kind = %s"
        )
    raise ValueError(m.evidence)


def result_sql(agreements, *, years, today, minimums) -> tuple[str, list]:
    """The ``WITH ...`` prefix defining ``result(agreement_id, minimum_id, period_id, n, state, ...)``."""
    try:
        inner, inner_params = agreements.values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]
        inner, inner_params = "SELECT 0 WHERE 1 = 0", ()
    year_ids = [y.pk for y in years] or [0]
    ys = ", ".join(["%s"] * len(year_ids))
    min_ids = [m.pk for m in minimums] or [0]
    params: list = [FOREVER, AgreementStatus.DRAFT.value, *inner_params, *year_ids, *year_ids]
    sql = (
        f"WITH ag AS (SELECT a.id, a.starts_on AS s, COALESCE(a.ended_on, a.ends_on, %s) AS e FROM {T(Agreement)} a "
        f"WHERE a.status <> %s AND a.id IN ({inner})), "
        f"per AS (SELECT 'semester' AS pk_kind, id AS period_id, starts_on AS ps, ends_on AS pe FROM {T(Semester)} "
        f"WHERE school_year_id IN ({ys}) "
        f"UNION ALL SELECT 'year' AS pk_kind, id AS period_id, starts_on AS ps, ends_on AS pe FROM {T(SchoolYear)} WHERE id IN ({ys})), "
    )
    params += [today, *min_ids]
    sql += (
        f"cells AS (SELECT ag.id AS agreement_id, m.id AS minimum_id, m.required, per.pk_kind, per.period_id, per.ps, per.pe, "
        f"ag.e AS ae FROM ag JOIN per ON per.ps <= ag.e AND per.pe >= ag.s AND per.ps <= %s "
        f"JOIN {T(Minimum)} m ON m.period = per.pk_kind AND m.id IN ({', '.join(['%s'] * len(min_ids))})), "
    )
    restrict = bool(agreements.query.where)
    parts = [_evidence_part(m, params, restrict) for m in minimums]
    if not parts:
        parts = ["SELECT 0 AS agreement_id, 0 AS minimum_id, 0 AS period_id, 0 AS n"]
    sql += "ev AS (" + " UNION ALL ".join(parts) + "), "
    params += [today, today]
    sql += (
        "result AS (SELECT c.agreement_id, c.minimum_id, c.pk_kind, c.period_id, c.ps, c.pe, c.required, "
        "COALESCE(ev.n, 0) AS n, "
        f"CASE WHEN COALESCE(ev.n, 0) >= c.required THEN '{MET}' "
        f"WHEN c.pe >= %s AND c.ae >= %s THEN '{NOT_YET}' ELSE '{MISSED}' END AS state "
        "FROM cells c LEFT JOIN ev ON ev.agreement_id = c.agreement_id AND ev.minimum_id = c.minimum_id "
        "AND ev.period_id = c.period_id) "
    )
    return sql, params


def _execute(c, sql, params):
    """Run the statement; on PostgreSQL without JIT, whose compile time (~150 ms) exceeds what it saves here."""
    if connection.in_atomic_block:
        with connection.cursor() as plain:  # ``c`` may be a server-side cursor, which only takes a SELECT
            plain.execute("SET LOCAL jit = off")
    c.execute(sql, params)


@dataclass
class Cell:
    agreement_id: int
    minimum: Minimum
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
    sql += "SELECT agreement_id, minimum_id, pk_kind, period_id, ps, pe, n, state FROM result ORDER BY agreement_id, ps, minimum_id"
    with transaction.atomic(), connection.cursor() as c:
        _execute(c, sql, params)
        rows = c.fetchall()
    order = {m.pk: i for i, m in enumerate(minimums)}
    out = [Cell(a, by_id[m], k, p, _as_date(ps), _as_date(pe), int(n), st) for a, m, k, p, ps, pe, n, st in rows]
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
    """Yield ``(agreement_id, minimum_id, pk_kind, period_id, n, state)`` in agreement order,
    from a server-side cursor on PostgreSQL (flat memory)."""
    today = today or timezone.localdate()
    minimums = active_minimums() if minimums is None else minimums
    if not years:
        return
    sql, params = result_sql(agreements, years=years, today=today, minimums=minimums)
    sql += "SELECT agreement_id, minimum_id, pk_kind, period_id, n, state FROM result ORDER BY agreement_id, ps, minimum_id"
    with transaction.atomic(), connection.chunked_cursor() as c:
        _execute(c, sql, params)
        while True:
            rows = c.fetchmany(chunk)
            if not rows:
                break
            yield from rows


def attach_evidence(cell_list, agreement: Agreement):
    """Fill ``cell.evidence`` for one agreement's cells (a few small queries, for its detail page)."""
    if not cell_list:
        return cell_list
    sem_ids = {c.period_id for c in cell_list if c.period_kind == "semester"}
    year_ids = {c.period_id for c in cell_list if c.period_kind == "year"}
    acts = defaultdict(list)
    for a in (
        Activity.objects.filter(agreement=agreement)
        .filter(**({"school_year_id__in": year_ids} if year_ids else {"semester_id__in": sem_ids}))
        .only("pk", "kind", "held_on", "semester_id", "school_year_id", "summary")
    ):
        acts[("semester", a.semester_id)].append(a)
        acts[("year", a.school_year_id)].append(a)
    secs = list(agreement.secondments.all())
    projs = list(agreement.projects.all())
    adopted = list(
        Milestone.objects.filter(
            school__agreement_links__agreement=agreement, status=MilestoneStatus.ADOPTED
        ).select_related("school")
    )
    for c in cell_list:
        m = c.minimum
        if m.evidence == Evidence.ACTIVITIES:
            c.evidence = [a for a in acts[(c.period_kind, c.period_id)] if a.kind in m.activity_kinds]
        elif m.evidence == Evidence.SECONDMENT_EACH_WAY:
            c.evidence = [
                s for s in secs if s.starts_on <= c.ends_on and (s.ends_on is None or s.ends_on >= c.starts_on)
            ]
        elif m.evidence == Evidence.PROJECTS:
            c.evidence = [
                p
                for p in projs
                if p.started_on <= c.ends_on and (p.concluded_on is None or p.concluded_on >= c.starts_on)
            ]
        elif m.evidence == Evidence.PLAN_AND_CHARTER:
            c.evidence = [ms for ms in adopted if ms.adopted_on <= c.ends_on]
    return cell_list


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
    """Mark compliance as changed once the current transaction commits (signal receiver and helper)."""
    transaction.on_commit(_bump)


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
