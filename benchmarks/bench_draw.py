"""Benchmark: the stratified household draw (督查抽查) over 300,000 households in ~5,000 villages.

    .venv/bin/python benchmarks/bench_draw.py [--households 300000] [--villages 5000] [--runs 3] [--db]

1. The draw method alone (``inspections/verify_draw.py``, pure Python, no database): a synthetic
   population of N households in V villages (sizes 20-100, shuffled), drawn at 10.69% with at least
   one a village; then the verification of the record. Median of ``--runs``. Target: under 2 s.
2. With ``--db``, the whole path in jinpin on PostgreSQL, in its own database
   (``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/jinpin_bench_draw``), which
   it creates, migrates and fills with the same population (villages, households and their status
   history written with COPY): ``draw_propose`` (the registry query for the status on the registry
   date, the draw, the record saved; median of ``--runs``, each drawing again with a reason),
   ``draw_confirm`` (the frozen snapshots of the sample) and the coverage page's query count for the
   resulting sample. Wall-clock time and CPU time (this process
   plus the database server process serving it) are printed: on a shared machine the CPU time says
   what the work costs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jinpin_bench_draw"
PARAMS = {"rate": "0.1069", "minimum": 1, "rounding": "half_up"}


def synthetic(households: int, villages: int, seed: int = 7):
    rnd = random.Random(seed)
    sizes = [rnd.randint(20, 100) for _ in range(villages)]
    scale = households / sum(sizes)
    sizes = [max(1, round(s * scale)) for s in sizes]
    sizes[-1] += households - sum(sizes)
    pop, ident = [], 1
    for v, n in enumerate(sizes):
        for _ in range(n):
            pop.append((f"3799{v:08d}", ident))
            ident += 1
    rnd.shuffle(pop)
    return pop, sizes


def bench_pure(households, villages, runs):
    from inspections.verify_draw import stratified_draw, verify

    pop, _sizes = synthetic(households, villages)
    draws, checks, cpu = [], [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        got = stratified_draw(pop, "20161024", PARAMS)
        draws.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        record = {"method": "sha256-stratified-v1", "params": PARAMS, "seed": "20161024", **got}
        t = time.perf_counter()
        ok, _ = verify(record)
        checks.append(time.perf_counter() - t)
        assert ok
    print(
        f"pure draw: {len(pop):,} households in {len(got['strata']):,} villages -> sample {len(got['sample']):,} "
        f"({len(got['sample']) / len(pop):.2%}); draw median {statistics.median(draws):.2f} s "
        f"(runs {', '.join(f'{x:.2f}' for x in draws)}; CPU time median {statistics.median(cpu):.2f} s); "
        f"verify median {statistics.median(checks):.2f} s"
    )


def ensure_database(url):
    import subprocess

    name = url.rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(households, villages):
    """Counties/towns from the demo, V synthetic villages and N verified households (COPY)."""
    from django.core.management import call_command
    from django.utils import timezone

    from schools.models import County, Town, Village
    from subsidies.demo import HOUSEHOLD_COLUMNS, _copy, _next_id, _reset_sequence
    from subsidies.models import Household, HouseholdStatus

    if Household.objects.filter(number__startswith="BD").count() >= households:
        return
    call_command("seed_demo", only="seed_places,seed_users", verbosity=0, stdout=open(os.devnull, "w"))
    county = County.objects.get(code="370830")
    town = Town.objects.get_or_create(county=county, code="370830999", defaults={"name": "基准镇"})[0]
    Village.objects.bulk_create(
        [Village(town=town, county=county, code=f"3799{v:08d}", name=f"基准村{v}") for v in range(villages)],
        batch_size=5000,
        ignore_conflicts=True,
    )
    ids = dict(Village.objects.filter(code__startswith="3799").values_list("code", "pk"))
    pop, _ = synthetic(households, villages)
    now = timezone.now().isoformat()
    first = _next_id(Household)
    rows = sorted(pop, key=lambda p: p[1])
    _copy(
        Household._meta.db_table,
        HOUSEHOLD_COLUMNS,
        (
            (str(first + i), f"BD{i:08d}", f"户主{i}", "", str(ids[s]), "3", "f", "f", "", now, now)
            for i, (s, _h) in enumerate(rows)
        ),
    )
    _copy(
        HouseholdStatus._meta.db_table,
        ["household_id", "status", "effective_on", "reason", "recorded_at"],
        ((str(first + i), "verified", "2016-01-15", "", now) for i in range(len(rows))),
    )
    _reset_sequence(Household)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def _backend_pid(connection) -> int | None:
    """The PostgreSQL server process of this connection, when the server runs on this machine."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def _cpu(backend: int | None) -> float:
    """CPU seconds used so far by this process and the database server process serving it (the
    machine is shared: CPU time says what the work costs whatever the other load)."""
    total = time.process_time()
    if backend:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def bench_db(households, villages, runs=1):
    import datetime as dt

    ensure_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inspections import services
    from inspections.models import Assignment, Campaign, Draw, Group
    from jinpin.scope import get_scope
    from schools.models import County

    t = time.perf_counter()
    build(households, villages)
    print(f"database ready in {time.perf_counter() - t:.1f} s")
    admin = get_user_model().objects.get(username="admin")
    for earlier in Draw.objects.order_by("-pk"):  # the latest first: a draw protects the one it superseded
        earlier.delete()
    Campaign.objects.filter(name="bench").delete()
    campaign = Campaign.objects.create(
        name="bench",
        kind="registry",
        starts_on=dt.date(2016, 10, 24),
        ends_on=dt.date(2016, 10, 28),
        registry_date=dt.date(2016, 10, 20),
        status="running",
        created_by=admin,
    )
    group = Group.objects.create(campaign=campaign, name="第九组")
    Assignment.objects.create(group=group).counties.add(County.objects.get(code="370830"))
    backend = _backend_pid(connection)
    walls, cpus = [], []
    for run in range(runs):  # drawing again supersedes the earlier draw, with a reason
        t, c = time.perf_counter(), _cpu(backend)
        draw = services.draw_propose(
            group=group,
            kind="households",
            params=PARAMS,
            seed="20161024",
            reason=f"benchmark run {run + 1}" if run else "",
            acting_user=admin,
            scope=get_scope(admin),
        )
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu(backend) - c)
    propose, propose_cpu = statistics.median(walls), statistics.median(cpus)
    t, c = time.perf_counter(), _cpu(backend)
    services.draw_confirm(draw=draw, acting_user=admin)
    confirm, confirm_cpu = time.perf_counter() - t, _cpu(backend) - c
    print(
        f"jinpin draw_propose: {draw.population_size:,} households, {len(draw.strata):,} villages -> "
        f"{draw.sample_size:,}; median of {runs}: {propose:.2f} s (registry query + draw + record; CPU {propose_cpu:.2f} s; "
        f"runs {', '.join(f'{w:.2f}/{c:.2f}' for w, c in zip(walls, cpus, strict=True))} wall/CPU); "
        f"draw_confirm {confirm:.2f} s (CPU {confirm_cpu:.2f} s)"
    )
    from inspections.models import Draw as DrawModel

    t = time.perf_counter()
    ok, _notes = services.draw_verify(draw=DrawModel.objects.get(pk=draw.pk))
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    print(
        f"verify from the stored record (verify_draw.py): {'MATCH' if ok else 'MISMATCH'} in {time.perf_counter() - t:.2f} s"
    )
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host is allowed
    c = Client()
    c.force_login(admin)
    url = f"/inspections/campaigns/{campaign.pk}/coverage/"
    c.get(url)
    with CaptureQueriesContext(connection) as q:
        t = time.perf_counter()
        r = c.get(url)
        took = time.perf_counter() - t
    print(
        f"coverage page ({draw.sample_size:,} drawn households): {r.status_code}, {len(q)} queries, {took * 1000:.0f} ms"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--households", type=int, default=300_000)
    p.add_argument("--villages", type=int, default=5_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--db", action="store_true")
    a = p.parse_args()
    bench_pure(a.households, a.villages, a.runs)
    if a.db:
        bench_db(a.households, a.villages, a.runs)


if __name__ == "__main__":
    main()
