#!/usr/bin/env python
"""Benchmark of the subsidy batch (精准救助 测算) and of the award roster export.

    .venv/bin/python benchmarks/bench_subsidies.py [--scale 10] [--db jinpin_bench_subsidies] [--workers 2]

Uses a dedicated PostgreSQL database (created if missing; DATABASE_URL's server), builds
or reuses ``seed_demo --scale N`` data (N=10: 1,000,000 students, 300,000 households),
then, on the same database in the same run:

1. the *reference*: the best single ``INSERT … SELECT`` for every award row (each pupil's facts read
   once, every scheme judged on that row, one statement for all schemes; see ``limit_sql``), split by
   pupil id over as many database connections as the batch has worker processes (``--workers``);
2. the *batch*: the real job (Celery worker with ``--workers`` processes, chunks, progress,
   conflict handling and change report), from an empty awards table, and the worker's peak memory;
3. checks both produced exactly the same rows, and prints
   ``batch (N workers)/reference (N connections) ratio: R`` — run it with ``--workers 1`` and ``--workers 2``;
4. one streaming process (server-side cursor, the rules in Python, COPY) producing the same rows:
   PERFORMANCE.md's reference for "two Celery workers on one batch within 1.2× of one streaming
   process"; prints ``batch (N workers)/stream (one process) ratio: R``;
5. the award roster export (openpyxl write-only through jinpin.exports) at 100,000 and
   1,000,000 rows, each in a fresh process, with time and peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))


def setup(db: str) -> None:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    u = urlparse(base)
    os.environ["DATABASE_URL"] = f"{u.scheme}://{u.netloc}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    os.environ.setdefault("CONN_MAX_AGE", "0")
    import psycopg2

    conn = psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{db}"')
    conn.close()
    import django

    django.setup()


# The reference ("limit"): the best single statement for the same rows. Every enrolled pupil's facts are
# read once (no CTE materialised and scanned once per scheme) and every scheme is judged on that row in a
# LATERAL VALUES list: one INSERT … SELECT for all schemes, no chunks, no conflict handling, no change report.
# The rules are the schemes' own (``subsidies.eligibility``, the SQL the batch runs), so the rows are equal by
# construction and the comparison is of the batch's machinery alone. ``lo``/``hi`` cut it by pupil id, so
# that it can be split over several connections (one transaction each) as the batch is over its workers.
def limit_sql(period, lo=None, hi=None):
    from subsidies import eligibility
    from subsidies.services.batch import INSERT_COLUMNS, base_sql, schemes_for

    params: list = [period.pk]
    base = base_sql(
        school_year=period.school_year, decisive=period.decisive_date, county_id=None, lo=lo, hi=hi, params=params
    )
    ref = eligibility.column_ref("b")
    values = []
    for sr in schemes_for(period):
        amount_params: list = []
        amount = eligibility.amount(sr.rate).sql(ref, amount_params)
        where_params: list = []
        where = eligibility.condition(sr.scheme, period.decisive_date).sql(ref, where_params)
        values.append(f"(%s::bigint, %s::bigint, CASE WHEN {where} THEN {amount} END)")
        params += [sr.scheme.pk, sr.rate.pk, *where_params, *amount_params]
    return (
        f"INSERT INTO subsidies_award ({INSERT_COLUMNS}) "
        f"SELECT b.student_id, x.scheme_id, %s, b.school_id, b.county_id, x.amount, x.rate_version_id, b.facts, "
        f"'candidate', now(), now() FROM ({base}) b "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) x(scheme_id, rate_version_id, amount) "
        f"WHERE x.amount IS NOT NULL",
        params,
    )


COLS = "student_id, scheme_id, period_id, school_id, county_id, amount, rate_version_id, facts, status"


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else None


def empty_awards():
    # the money tables refuse TRUNCATE (their rows are evidence) unless the session says so, as flush does
    sql("SET jinpin.allow_truncate = on; TRUNCATE subsidies_award CASCADE; RESET jinpin.allow_truncate")
    sql("VACUUM ANALYZE subsidies_award")
    sql("CHECKPOINT")


def _connect():
    import psycopg2

    u = urlparse(os.environ["DATABASE_URL"])
    return psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=u.path.lstrip("/"),
    )


def run_limit(period, connections: int = 1) -> float:
    """The reference statement, on ``connections`` database connections at once, each over an equal share of
    the pupils (by id range, one transaction each); wall-clock seconds until the last one commits."""
    import threading

    if connections == 1:
        ranges = [(None, None)]
    else:
        bounds = sql(
            "SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY student_id) FROM subsidies_enrolment "
            "WHERE school_year = %s",
            [[i / connections for i in range(1, connections)], period.school_year],
        )[0][0]
        edges = [0, *bounds, 2**62]
        ranges = list(zip(edges, edges[1:], strict=False))
    statements = [limit_sql(period, lo, hi) for lo, hi in ranges]
    empty_awards()
    conns = [_connect() for _ in statements]
    errors = []

    def one(conn, statement):
        try:
            with conn, conn.cursor() as cur:  # one transaction, committed on exit
                cur.execute(*statement)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=one, args=pair) for pair in zip(conns, statements, strict=True)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    for conn in conns:
        conn.close()
    if errors:
        raise SystemExit(f"reference failed: {errors[0]}")
    return elapsed


def _stream_rules(period):
    """The enabled schemes as hand-tuned Python predicates: a reference copy of ``subsidies.eligibility`` kept
    fast on purpose (the benchmark checks that it produces exactly the batch's rows)."""
    from subsidies.models import POOR_STATUSES, Group
    from subsidies.services.batch import _years_before, schemes_for

    d = period.decisive_date
    rules = []
    for sr in schemes_for(period):
        s = sr.scheme
        rules.append(
            (
                s.pk,
                sr.rate.pk,
                sr.rate.parsed_lines(),
                frozenset(s.stages or ()),
                s.poor_village_school,
                s.rural_school,
                s.boarders_only,
                _years_before(d, s.min_age) if s.min_age is not None else None,
                _years_before(d, s.max_age + 1) if s.max_age is not None else None,
                frozenset(s.groups or ()),
            )
        )
    poor_statuses = frozenset(POOR_STATUSES)

    def groups_of(r):
        poor = r["household_status"] in poor_statuses
        g = {Group.ANY}
        if poor:
            g.add(Group.POOR)
        dibao = r["pupil_dibao"] or (r["household_dibao"] and poor)
        if dibao:
            g.add(Group.DIBAO)
        if r["tekun"] and poor:
            g.add(Group.TEKUN)
        if poor or dibao:
            g.add(Group.HARDSHIP)
        for flag, group in (("orphan", Group.ORPHAN), ("disabled", Group.DISABLED), ("boarder", Group.BOARDER)):
            if r[flag]:
                g.add(group)
        if r["special_ed"] or r["stage"] == "special":
            g.add(Group.SPECIAL_ED)
        return g

    def rate_stage(r):
        if r["stage"] == "nine_year":
            return "primary" if r["grade"] <= 6 else "junior"
        return r["stage"]

    def awards(r):
        groups = None
        stage = rate_stage(r)
        for scheme_id, rate_id, lines, stages, poor_village, rural, boarders, born_by, born_after, want in rules:
            if (
                (stages and r["stage"] not in stages and stage not in stages)
                or (poor_village and r["poor_village"] == "none")
                or (rural and not r["rural"])
                or (boarders and not r["boarder"])
                or (born_by and r["birth_date"] > born_by)
                or (born_after and r["birth_date"] <= born_after)
            ):
                continue
            if groups is None:
                groups = groups_of(r)
            if want and not (want & groups):
                continue
            for line in lines:  # first line that holds gives the amount
                kind, _sep, value = line["when"].partition(":")
                if (
                    line["when"] == "any"
                    or (kind == "group" and value in groups)
                    or (kind == "stage" and value in (r["stage"], stage))
                ):
                    yield scheme_id, rate_id, line["amount"]
                    break

    return awards


def run_stream(period) -> float:
    """One streaming process: the students' facts through a server-side cursor, the rules in Python, COPY of the awards.

    The PERFORMANCE.md reference the batch's two workers are measured against (target: within 1.2×).
    """
    import io

    from django.db import connection, transaction

    from subsidies.services.batch import base_sql

    empty_awards()
    awards = _stream_rules(period)
    params: list = []
    base = base_sql(
        school_year=period.school_year, decisive=period.decisive_date, county_id=None, lo=None, hi=None, params=params
    )
    t = time.perf_counter()
    n = 0
    with transaction.atomic():
        raw = connection.connection  # psycopg2: a named cursor streams; COPY runs between its fetches
        src = raw.cursor(name="bench_stream")
        src.itersize = 20_000
        names = ["student_id", "school_id", "county_id", "stage", "grade", "birth_date", "orphan", "disabled"]
        names += ["special_ed", "boarder", "pupil_dibao", "household_dibao", "tekun", "poor_village", "rural"]
        names += ["household_status", "facts"]
        src.execute(
            f"SELECT student_id, school_id, county_id, {', '.join(names[3:-1])}, facts::text FROM ({base}) b",
            params,
        )
        out = raw.cursor()
        copy = (
            "COPY subsidies_award (student_id, scheme_id, period_id, school_id, county_id, amount, rate_version_id, facts, status, "
            "created_at, updated_at) FROM STDIN"
        )
        now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
        while True:
            rows = src.fetchmany(20_000)
            if not rows:
                break
            buf = io.StringIO()
            for row in rows:
                r = dict(zip(names, row, strict=False))
                facts = r["facts"].replace("\\", "\\\\")
                for scheme_id, rate_id, amount in awards(r):
                    buf.write(
                        f"{r['student_id']}\t{scheme_id}\t{period.pk}\t{r['school_id']}\t{r['county_id']}\t{amount}\t{rate_id}\t"
                        f"{facts}\tcandidate\t{now}\t{now}\n"
                    )
                    n += 1
            buf.seek(0)
            out.copy_expert(copy, buf)
        src.close()
    return time.perf_counter() - t


def start_worker(n):
    from tests.conftest import _worker_env  # noqa: F401 (same env the tests give a real worker)

    queue = f"bench-{os.getpid()}"
    env = dict(os.environ, CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_TASK_ALWAYS_EAGER="0")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jinpin",
            "worker",
            "-Q",
            queue,
            "-c",
            str(n),
            "--pool",
            "prefork",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from jinpin import celery_app

    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    for _ in range(120):
        if celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            return proc
    raise SystemExit("the Celery worker did not start")


def worker_memory(proc) -> str:
    """Peak resident memory of the Celery worker's processes (the main one and its pool), from /proc."""

    def hwm(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None

    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    pool = [m for m in (hwm(int(c)) for c in children) if m is not None]
    return f"main {hwm(proc.pid) or 0:.0f} MB, pool processes {', '.join(f'{m:.0f}' for m in pool)} MB"


def wait_idle(timeout: float = 1800) -> float:
    """Wait until the worker has no task left: a batch's follow-up jobs (the period's anomaly report, the
    dashboards' warmer) run in the same worker after the batch is done, and the next measurement must not
    share the machine, or the worker's processes, with them. Returns the seconds waited."""
    from jinpin.celery import app

    t = time.perf_counter()
    inspector = app.control.inspect(timeout=2)
    while time.perf_counter() - t < timeout:
        busy = [
            task
            for reply in (inspector.active() or {}, inspector.reserved() or {}, inspector.scheduled() or {})
            for tasks in reply.values()
            for task in tasks
        ]
        if not busy:
            return time.perf_counter() - t
        time.sleep(1)
    raise SystemExit("the worker did not become idle")


def run_batch(period, admin) -> float:
    from jinpin.models import Job
    from subsidies.services import batch

    empty_awards()
    t = time.perf_counter()
    job = batch.batch_start(period=period, county=None, user=admin)
    while True:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t
    if job.status != Job.Status.SUCCEEDED:
        raise SystemExit(f"batch failed: {job.message}")
    return elapsed


def export_child(rows: int) -> None:
    """In a fresh process: write the first ``rows`` awards of the roster; print time and peak memory."""
    import itertools
    import tempfile

    from jinpin import exports
    from jinpin.scope import Scope
    from subsidies.exporters import AwardRosterExporter

    exporter = AwardRosterExporter(Scope(user_id=None, role="auditor"), {})
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        n = exports.write_xlsx(
            Path(d) / "awards.xlsx", exporter.columns, itertools.islice(exporter.rows(), rows), sheet_title="awards"
        )
        elapsed = time.perf_counter() - t
        size = (Path(d) / "awards.xlsx").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"export {n} rows: {elapsed:.1f} s, peak memory {peak:.0f} MB, file {size / 2**20:.1f} MB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--db", default="jinpin_bench_subsidies")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each side; medians are reported")
    ap.add_argument("--export-rows", default="100000,1000000")
    ap.add_argument("--skip-export", action="store_true")
    ap.add_argument("--skip-stream", action="store_true", help="skip the one-process streaming reference")
    ap.add_argument("--export-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    setup(args.db)
    if args.export_child:
        return export_child(args.export_child)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from subsidies.models import Award, Enrolment, Household, Period

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", scale=args.scale, only="seed_places,seed_users,seed_subsidies")
    print(
        f"data: {Enrolment.objects.filter(school_year=2016).count():,} enrolled students, "
        f"{Household.objects.count():,} households (ready in {time.perf_counter() - t:.0f} s)",
        flush=True,
    )
    period = Period.objects.get(code="2016-2017")
    admin = get_user_model().objects.get(username="admin")
    worker = start_worker(args.workers)
    try:
        limits, batches, streams = [], [], []
        for _i in range(args.repeat):
            limits.append(run_limit(period, args.workers))
            print(
                f"reference (one INSERT … SELECT for all schemes, split over {args.workers} connection(s)): "
                f"{limits[-1]:.1f} s, {Award.objects.count():,} rows",
                flush=True,
            )
            sql("DROP TABLE IF EXISTS bench_limit")
            sql(f"CREATE TABLE bench_limit AS SELECT {COLS} FROM subsidies_award")
            batches.append(run_batch(period, admin))
            print(
                f"batch ({args.workers} Celery worker processes): {batches[-1]:.1f} s, {Award.objects.count():,} rows; "
                f"worker peak memory (VmHWM) {worker_memory(worker)}",
                flush=True,
            )
            print(
                f"(the batch's follow-up jobs — anomaly report, dashboards — took {wait_idle():.1f} s more)", flush=True
            )
            missing = sql(
                f"SELECT count(*) FROM (SELECT {COLS} FROM bench_limit EXCEPT ALL SELECT {COLS} FROM subsidies_award) x"
            )[0][0]
            extra = sql(
                f"SELECT count(*) FROM (SELECT {COLS} FROM subsidies_award EXCEPT ALL SELECT {COLS} FROM bench_limit) x"
            )[0][0]
            if missing or extra:
                raise SystemExit(f"rows differ: {missing} only in the limit, {extra} only in the batch")
            print("rows identical: yes", flush=True)
            if not args.skip_stream:
                streams.append(run_stream(period))
                print(
                    f"stream (one process: server-side cursor, rules in Python, COPY): {streams[-1]:.1f} s, "
                    f"{Award.objects.count():,} rows",
                    flush=True,
                )
                differ = sql(
                    f"SELECT count(*) FROM ((SELECT {COLS} FROM bench_limit EXCEPT ALL SELECT {COLS} FROM subsidies_award) UNION ALL "
                    f"(SELECT {COLS} FROM subsidies_award EXCEPT ALL SELECT {COLS} FROM bench_limit)) x"
                )[0][0]
                if differ:
                    raise SystemExit(f"the streaming process's rows differ from the limit's: {differ}")
                print("stream rows identical: yes", flush=True)
        limit, batch_t = statistics.median(limits), statistics.median(batches)
    finally:
        worker.terminate()
        try:
            worker.wait(120)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    if not args.skip_export:
        for n in [int(x) for x in args.export_rows.split(",") if x]:
            subprocess.run([sys.executable, __file__, "--db", args.db, "--export-child", str(n)], check=True, cwd=BASE)
    if streams:
        print(f"batch ({args.workers} workers)/stream (one process) ratio: {batch_t / statistics.median(streams):.2f}")
    print(f"batch ({args.workers} workers)/reference ({args.workers} connections) ratio: {batch_t / limit:.2f}")


if __name__ == "__main__":
    main()
