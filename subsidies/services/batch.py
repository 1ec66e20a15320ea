"""The batch calculation (资助名单测算): every scheme for every enrolled student, set-based in SQL.

A run covers a period and a county (or the whole city). It is cut into student-id
ranges (``BatchChunk``); each chunk is one transaction that claims its row with
``SELECT … FOR UPDATE SKIP LOCKED``, evaluates all schemes for the chunk's students in
**one** parameterised statement, and marks the chunk done. Several Celery workers
share a run by claiming chunks; a worker killed half-way leaves its chunk uncommitted,
so it simply becomes claimable again.

The statement (see ``_chunk_sql``) builds a ``base`` of facts per student (household
status in force on the decisive date, stage, school, flags), evaluates every scheme's
eligibility and amount rule from the scheme's data, and then, in data-modifying CTEs:

* inserts new awards with ``ON CONFLICT (student, scheme, period) DO NOTHING`` – the
  unique constraint, not code, guarantees no duplicate whatever runs at once;
* refreshes awards nobody has acted on yet (candidate / dropped) whose amount or facts
  changed, and marks candidates that are no longer eligible as dropped;
* records every difference (``BatchChange``), including those on awards already
  applied, reviewed, approved or paid, which are never changed – only listed for review.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jinpin import audit, jobs
from schools.models import County, School, Village

from .. import eligibility, invalidation
from ..models import (
    Award,
    BatchChange,
    BatchChunk,
    BatchRun,
    Enrolment,
    Period,
    RateVersion,
    Scheme,
    SchemeKind,
)
from ..models.awards import BATCH_WRITABLE
from ..models.registry import Household, HouseholdStatus, Student

log = logging.getLogger(__name__)

JOB_KIND = "subsidies.batch"
DEFAULT_CHUNK = 20_000
MIN_CHUNKS = 20  # a run of fewer students than 20 chunks' worth is still cut in 20: the progress bar moves
HELPERS = 3  # extra Celery tasks that share a run's chunks with the job's own task
TAIL_CHUNKS = 2  # a large run's last two chunks' worth of students is cut in quarters (``plan_chunks``)
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
KEEPALIVE_SQL = (
    "SET LOCAL tcp_keepalives_idle = 30; SET LOCAL tcp_keepalives_interval = 10; SET LOCAL tcp_keepalives_count = 3"
)
# a chunk's computed awards (20,000 pupils: some 40,000 rows with their facts) kept in memory, not spilled to
# a temporary file and read back by each of the statement's parts
WORK_MEM_SQL = "; SET LOCAL work_mem = '64MB'"
CONNECTION_CHECK_SQL = "; SET LOCAL client_connection_check_interval = '10s'"  # PostgreSQL 14+


# -- the SQL ---------------------------------------------------------------------------
def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_years_before = eligibility.years_before


@dataclass(frozen=True)
class SchemeRate:
    scheme: Scheme
    rate: RateVersion


def schemes_for(period: Period) -> list[SchemeRate]:
    """Active, enrolment-based schemes (not loans) with the rate version in force on the decisive date."""
    out = []
    for scheme in Scheme.objects.filter(is_active=True).exclude(kind=SchemeKind.LOAN).order_by("order", "pk"):
        rate = scheme.rate_on(period.decisive_date)
        if rate is not None:
            out.append(SchemeRate(scheme, rate))
    return out


def _scheme_value(sr: SchemeRate, decisive: dt.date, params: list) -> str:
    """One scheme's ``(scheme_id, rate_version_id, amount)`` for the student row ``pupil``: the amount is NULL
    unless the scheme's eligibility holds and a line of its rate gives one (``subsidies.eligibility``)."""
    ref = eligibility.column_ref("pupil")
    where_params: list = []
    where = eligibility.condition(sr.scheme, decisive).sql(ref, where_params)
    amount_params: list = []
    amount = eligibility.amount(sr.rate).sql(ref, amount_params)
    params.extend([sr.scheme.pk, sr.rate.pk, *where_params, *amount_params])
    return f"(%s::bigint, %s::bigint, CASE WHEN {where} THEN {amount} END)"


def base_sql(
    *, school_year: int, decisive: dt.date, county_id: int | None, lo: int | None, hi: int | None, params: list
) -> str:
    """One row per enrolled student: the facts every rule reads (``eligibility.FACTS``), judged on the decisive date.

    Each fact is a typed column of its own name, and all of them together the ``facts`` JSON the award keeps.
    """
    columns, json_pairs = [], []
    for fact in eligibility.FACTS.values():
        columns.append(f"{fact.source} AS {fact.name}")
        json_pairs.append(f"'{fact.name}', {fact.source}")
    n_date = sum(f.source.count("%s") for f in eligibility.FACTS.values())
    params.extend([decisive] * (2 * n_date))  # the facts' date, in the columns and in the JSON
    params.append(decisive)  # the household status in force
    where = ["enrolment.school_year = %s"]
    params.append(school_year)
    if lo is not None:
        # the range once more on the pupil's own id (equal to enrolment.student_id): the planner carries an
        # equality from one side of a join to the other, not a range, and without it reads all 1,000,000
        # pupils (a sequential scan, ~0.1 s) for every chunk of 20,000
        where.append(
            "enrolment.student_id >= %s AND enrolment.student_id < %s AND student.id >= %s AND student.id < %s"
        )
        params.extend([lo, hi, lo, hi])
    if county_id is not None:
        where.append("school.county_id = %s")
        params.append(county_id)
    return f"""
    SELECT enrolment.student_id, enrolment.school_id, school.county_id, {", ".join(columns)},
           jsonb_build_object({", ".join(json_pairs)}) AS facts
    FROM {_t(Enrolment)} enrolment
    JOIN {_t(Student)} student ON student.id = enrolment.student_id
    JOIN {_t(School)} school ON school.id = enrolment.school_id
    LEFT JOIN {_t(Household)} household ON household.id = student.household_id
    LEFT JOIN LATERAL (
        SELECT history.status FROM {_t(HouseholdStatus)} history
        WHERE history.household_id = student.household_id AND history.effective_on <= %s
        ORDER BY history.effective_on DESC, history.id DESC LIMIT 1
    ) status_now ON TRUE
    LEFT JOIN {_t(Village)} village ON village.id = school.village_id
    WHERE {" AND ".join(where)}
    """


def computed_sql(*, period: Period, rates: list[SchemeRate], county_id, lo, hi, params: list) -> str:
    """``WITH base …, computed …``: every award the rules give for the students in range."""
    base_params: list = []
    base = base_sql(
        school_year=period.school_year,
        decisive=period.decisive_date,
        county_id=county_id,
        lo=lo,
        hi=hi,
        params=base_params,
    )
    params.extend(base_params)
    values = [_scheme_value(sr, period.decisive_date, params) for sr in rates]
    # each student's facts are read once and every scheme is judged on that row (a LATERAL list of the
    # schemes), not a base materialised and scanned once per scheme; ``base`` is inlined where it is read
    # once (a city run), kept once where a county run also reads it
    return (
        f"base AS ({base}), "
        f"computed AS MATERIALIZED (SELECT pupil.student_id, scheme_award.scheme_id, scheme_award.rate_version_id, scheme_award.amount, "
        f"pupil.school_id, pupil.county_id, pupil.facts FROM base pupil "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) scheme_award(scheme_id, rate_version_id, amount) "
        f"WHERE scheme_award.amount IS NOT NULL)"
    )


INSERT_COLUMNS = "student_id, scheme_id, period_id, school_id, county_id, amount, rate_version_id, facts, status, created_at, updated_at"


def _chunk_sql(*, run: BatchRun, period: Period, rates: list[SchemeRate], lo: int, hi: int) -> tuple[str, list]:
    params: list = []
    head = computed_sql(period=period, rates=rates, county_id=run.county_id, lo=lo, hi=hi, params=params)
    award, change = _t(Award), _t(BatchChange)
    writable = ", ".join(f"'{s}'" for s in BATCH_WRITABLE)
    # a county run also takes the awards of the pupils it computes that an earlier enrolment put in another county:
    # a pupil who moved must have their award moved (or listed), not be left dropped where they no longer are
    county = "AND (award.county_id = %s OR award.student_id IN (SELECT student_id FROM base))" if run.county_id else ""
    cur_params = [period.pk, lo, hi, [sr.scheme.pk for sr in rates]] + ([run.county_id] if run.county_id else [])
    sql = f"""
    WITH {head},
    awarded AS MATERIALIZED (
        SELECT award.id, award.student_id, award.scheme_id, award.amount, award.facts, award.status FROM {award} award
        WHERE award.period_id = %s AND award.student_id >= %s AND award.student_id < %s AND award.scheme_id = ANY(%s) {county}
    ),
    diff AS MATERIALIZED (
        SELECT awarded.id AS award_id, awarded.status, awarded.amount AS old_amount, computed.amount AS new_amount,
               awarded.facts AS old_facts, computed.facts AS new_facts, computed.rate_version_id, computed.school_id, computed.county_id,
               CASE WHEN computed.student_id IS NULL THEN 'dropped' ELSE 'changed' END AS kind
        FROM awarded LEFT JOIN computed ON computed.student_id = awarded.student_id AND computed.scheme_id = awarded.scheme_id
        WHERE ((computed.student_id IS NULL AND awarded.status NOT IN ('dropped', 'rejected'))
            OR (computed.student_id IS NOT NULL AND (computed.amount <> awarded.amount OR computed.facts <> awarded.facts OR awarded.status = 'dropped')))
          -- an officer who kept the award as is, with a justification, for this very difference is not asked again
          AND NOT (awarded.status NOT IN ({writable}) AND EXISTS (
              SELECT 1 FROM {change} kept WHERE kept.award_id = awarded.id AND kept.resolution = 'keep'
                 AND kept.kind = CASE WHEN computed.student_id IS NULL THEN 'dropped' ELSE 'changed' END
                 AND kept.new_amount IS NOT DISTINCT FROM computed.amount AND kept.new_facts IS NOT DISTINCT FROM computed.facts))
    ),
    ins AS (
        INSERT INTO {award} ({INSERT_COLUMNS})
        SELECT student_id, scheme_id, %s, school_id, county_id, amount, rate_version_id, facts, 'candidate', now(), now()
        FROM computed ORDER BY student_id, scheme_id
        ON CONFLICT (student_id, scheme_id, period_id) DO NOTHING
        RETURNING 1
    ),
    upd AS (
        UPDATE {award} award SET amount = diff.new_amount, facts = diff.new_facts, rate_version_id = diff.rate_version_id,
               school_id = diff.school_id, county_id = diff.county_id, status = 'candidate', updated_at = now()
        FROM diff WHERE award.id = diff.award_id AND diff.kind = 'changed' AND award.status IN ({writable})
        RETURNING 1
    ),
    drp AS (
        UPDATE {award} award SET status = 'dropped', updated_at = now()
        FROM diff WHERE award.id = diff.award_id AND diff.kind = 'dropped' AND award.status = 'candidate'
        RETURNING 1
    ),
    logged AS (
        INSERT INTO {change} (run_id, award_id, kind, status, old_amount, new_amount, old_facts, new_facts, applied,
                              new_rate_version_id, new_school_id, new_county_id, resolution, resolution_reason)
        SELECT %s, award_id, kind, status, old_amount, new_amount, old_facts, new_facts, status IN ({writable}),
               rate_version_id, school_id, county_id, '', '' FROM diff
        RETURNING applied
    ),
    superseded AS (
        -- this run re-judged these awards: an earlier run's open difference gives way to what this run found
        -- (a new open item if the difference is still there, nothing to resolve if it is gone)
        UPDATE {change} earlier SET resolution = 'superseded', resolved_at = now()
        WHERE earlier.award_id IN (SELECT id FROM awarded) AND earlier.run_id <> %s AND NOT earlier.applied AND earlier.resolution = ''
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd), (SELECT count(*) FROM drp),
           (SELECT count(*) FROM logged WHERE NOT applied), (SELECT count(*) FROM superseded)
    """
    params.extend(cur_params)
    params.append(period.pk)
    params.append(run.pk)
    params.append(run.pk)
    return sql, params


# -- planning and running ---------------------------------------------------------------
def plan_chunks(run: BatchRun, chunk_size: int, *, min_chunks: int = 1, tail: int = 0) -> int:
    """Cut the run's enrolled students into contiguous id ranges of about ``chunk_size``
    (at least ``min_chunks`` of them, so that a small city's progress bar still moves).

    ``tail``: the last ``tail`` chunks' worth of students is cut in quarters (a large run only, of more
    than ``min_chunks`` and ``2 × tail`` chunks). Chunks are taken in order, so the workers sharing a
    run end within about a quarter of a chunk of each other, instead of one waiting out a whole chunk
    while the other computes the last one alone (some 2.7 s of two workers' 75 s at 1,000,000 pupils).

    The ranges cover every id (the first starts at 0, the last ends past any id), so
    awards of students no longer enrolled are still checked. Idempotent.
    """
    params: list = [run.period.school_year]
    county = ""
    if run.county_id:
        county = "AND school.county_id = %s"
        params.append(run.county_id)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {_t(Enrolment)} enrolment JOIN {_t(School)} school ON school.id = enrolment.school_id "
            f"WHERE enrolment.school_year = %s {county}",
            params,
        )
        total = cur.fetchone()[0]
        tiles = max(1, min(min_chunks, total), -(-total // chunk_size))
        quarters = tail if tail and tiles > max(min_chunks, 2 * tail) else 0
        cur.execute(
            f"""SELECT tile, min(student_id), count(*) FROM (
                  SELECT enrolment.student_id, ntile(%s) OVER (ORDER BY enrolment.student_id) AS tile
                  FROM {_t(Enrolment)} enrolment JOIN {_t(School)} school ON school.id = enrolment.school_id
                  WHERE enrolment.school_year = %s {county}
                ) tiles GROUP BY tile ORDER BY tile""",
            [4 * tiles if quarters else tiles, *params],
        )
        rows = cur.fetchall()
    if quarters:  # whole chunks of four quarter tiles each, then the last tiles alone
        whole = 4 * (tiles - quarters)
        groups = [rows[k : k + 4] for k in range(0, whole, 4)] + [[r] for r in rows[whole:]]
        rows = [(g[0][0], g[0][1], sum(r[2] for r in g)) for g in groups]
    starts = [r[1] for r in rows] or [0]
    counts = [r[2] for r in rows] or [0]
    starts[0] = 0
    bounds = starts + [2**62]
    chunks = [BatchChunk(run=run, lo=bounds[i], hi=bounds[i + 1], students=counts[i]) for i in range(len(starts))]
    BatchChunk.objects.bulk_create(chunks, ignore_conflicts=True)
    BatchRun.objects.filter(pk=run.pk).update(students=total)
    return total


def work(run_id: int, progress=None) -> int:
    """Claim and compute chunks of a run until none is left to claim, then close the run if its last
    chunk is done (whichever task gets there first). Returns chunks done here."""
    run = BatchRun.objects.select_related("period").get(pk=run_id)
    rates = schemes_for(run.period)
    n = 0
    while True:
        done = _work_one(run, rates)
        if done is None:
            finalize(run.pk)
            return n
        n += 1
        if progress is not None:
            progress.add(done)


def finalize(run_id: int) -> bool:
    """Close the run and finish its job once every chunk is done; True for the one caller that does it.

    Called by every task that runs out of chunks, so the run reaches its true state as soon as its
    last chunk is done, whichever task did it and whether or not the coordinating task is still alive.
    The atomic claim (``status`` running → done, only when no chunk is left) lets exactly one win.
    """
    with transaction.atomic():
        claimed = (
            BatchRun.objects.filter(pk=run_id, status=BatchRun.Status.RUNNING)
            .exclude(chunks__done=False)
            .update(status=BatchRun.Status.DONE, finished_at=timezone.now())
        )
        if claimed != 1:
            return False
        run = BatchRun.objects.select_related("period", "job__created_by").get(pk=run_id)
        totals = run.chunks.aggregate(
            created=Sum("created"), updated=Sum("updated"), dropped=Sum("dropped"), flagged=Sum("flagged")
        )
        totals = {k: v or 0 for k, v in totals.items()}
        BatchRun.objects.filter(pk=run.pk).update(**totals)
        audit.log(
            run,
            action=audit.Action.CREATE,
            actor=run.job.created_by,
            event="subsidy_batch",
            period=run.period.code,
            county=run.county_id,
            students=run.students,
            **totals,
        )
        jobs.finish(run.job_id, jobs.Job.Status.SUCCEEDED, result=_result(run, totals))
        # the awards changed: the planner's statistics first (a batch writes most of a period's awards at once:
        # jinpin.stats), then the period's stored anomaly report is recomputed by a task of its own
        from jinpin.stats import refresh_statistics

        from ..tasks import refresh_anomalies

        transaction.on_commit(lambda: refresh_statistics(Award, BatchChange))
        period_id = run.period_id
        transaction.on_commit(lambda: refresh_anomalies.delay(period_id))
        # and the dashboards' figures the new awards invalidated, before anybody opens a dashboard
        transaction.on_commit(jobs.rewarm_dashboards)
    return True


def _result(run: BatchRun, totals: dict) -> jobs.JobResult:
    summary = _(
        "%(students)s students: %(created)s new awards, %(updated)s changed, %(dropped)s no longer eligible, "
        "%(flagged)s differences on awards already in process (for review)."
    ) % {"students": run.students, **totals}
    return jobs.JobResult(rows=run.students, summary=summary)


def _work_one(run: BatchRun, rates) -> int | None:
    for attempt in range(6):
        try:
            with transaction.atomic():
                # A worker that dies without closing its connection (a machine lost, a network cut) would
                # hold its chunk's row lock until TCP notices; make PostgreSQL notice within about a minute,
                # so that the chunk becomes claimable again.
                with connection.cursor() as cur:
                    cur.execute(
                        KEEPALIVE_SQL + WORK_MEM_SQL + (CONNECTION_CHECK_SQL if connection.pg_version >= 140000 else "")
                    )
                chunk = (
                    BatchChunk.objects.select_for_update(skip_locked=True)
                    .filter(run=run, done=False)
                    .order_by("lo")
                    .first()
                )
                if chunk is None:
                    return None
                if rates:
                    sql, params = _chunk_sql(run=run, period=run.period, rates=rates, lo=chunk.lo, hi=chunk.hi)
                    with connection.cursor() as cur:
                        cur.execute(sql, params)
                        created, updated, dropped, flagged, _superseded = cur.fetchone()
                    invalidation.bump()  # cached subsidy figures are stale once this chunk commits
                else:
                    created = updated = dropped = flagged = 0
                BatchChunk.objects.filter(pk=chunk.pk).update(
                    done=True,
                    done_at=timezone.now(),
                    created=created,
                    updated=updated,
                    dropped=dropped,
                    flagged=flagged,
                )
                return chunk.students
        except OperationalError as exc:
            code = getattr(getattr(exc, "__cause__", None), "pgcode", None)
            if code not in RETRYABLE or attempt == 5:
                raise
            log.warning("batch run %s: %s, retrying chunk", run.pk, code)
            time.sleep(0.05 * (attempt + 1))
    return None


def run_job(job, scope, progress) -> jobs.JobResult:
    """The job handler: plan (once), share the chunks with helper tasks, wait, summarise."""
    from ..tasks import batch_work

    params = job.params
    period = Period.objects.get(pk=params["period"])
    with transaction.atomic():
        run, _new = BatchRun.objects.select_for_update().get_or_create(
            job=job, defaults={"period": period, "county_id": params.get("county")}
        )
        if not run.chunks.exists():
            if params.get("chunk_size"):
                plan_chunks(run, int(params["chunk_size"]))
            else:
                plan_chunks(run, DEFAULT_CHUNK, min_chunks=MIN_CHUNKS, tail=TAIL_CHUNKS)
    run.refresh_from_db()
    remaining = run.chunks.filter(done=False)
    done_students = run.chunks.filter(done=True).aggregate(n=Sum("students"))["n"] or 0
    progress(done_students, run.students, force=True)
    for _i in range(min(HELPERS, max(0, remaining.count() - 1))):
        batch_work.delay(run.pk, str(job.pk))
    work(run.pk, progress)
    # chunks still claimed by other tasks: wait for them (a dead worker's chunk comes back to us);
    # whichever task finishes the last chunk closes the run and the job (``finalize``)
    while remaining.exists():
        time.sleep(0.2)
        work(run.pk, progress)
    finalize(run.pk)
    run.refresh_from_db()
    totals = {k: getattr(run, k) for k in ("created", "updated", "dropped", "flagged")}
    return _result(run, totals)


def permission(scope, params) -> bool:
    if scope.read_only:
        return False
    if scope.is_city_admin:
        return True
    return scope.is_county_officer and params.get("county") == scope.county_id


def batch_start(*, period: Period, county: County | None, request=None, user=None, chunk_size: int | None = None):
    """Queue a batch run for ``period`` and ``county`` (None: the whole city). Returns the Job."""
    params = {"period": period.pk, "county": county.pk if county else None}
    if chunk_size:
        params["chunk_size"] = chunk_size
    return jobs.start(
        kind=JOB_KIND,
        params=params,
        request=request,
        user=user,
        title=batch_title(period, county),
    )


def batch_title(period: Period, county: County | None) -> str:
    """A batch job's title, as its owner reads it in the job list: 资助批量计算 2016–2017 · 汶上县."""
    where = county.name if county else _("the whole city")
    return _("Subsidy batch %(period)s · %(where)s") % {"period": period.name, "where": where}


def result_link(job):
    """The job's page leads to its run: totals, chunks and every difference it made."""
    from django.urls import reverse

    run = BatchRun.objects.filter(job=job).only("pk").first()
    if run is None:
        return None
    return reverse("subsidies:run_detail", args=[run.pk]), str(_("Open the run and its differences"))


# a failed run is resumed, not restarted beside itself: its done chunks stay done
jobs.register(JOB_KIND, run_job, permission=permission, rerun_in_place=True, result_link=result_link)


def run_now(*, period: Period, county: County | None = None, user, chunk_size: int | None = None):
    """Run a batch in this process (demo seeder, tests, shell); returns the finished Job."""
    from jinpin.models import Job

    params = {"period": period.pk, "county": county.pk if county else None}
    if chunk_size:
        params["chunk_size"] = chunk_size
    job = Job.objects.create(kind=JOB_KIND, params=params, title=batch_title(period, county), created_by=user)
    jobs.execute(job.pk)
    job.refresh_from_db()
    return job
