"""Benchmark: the 60-hour training compliance at 100,000 teachers / 1,000,000 training records.

    .venv/bin/python benchmarks/bench_teachers.py [--scale 10] [--runs 3] [--reseed]

Works in its own PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/jinpin_bench_teachers``), which it creates, migrates
and fills with ``seed_demo``'s places and teachers seeders at ``--scale`` (10 -> 10,000
synthetic schools, 100,000 synthetic teachers, 1,000,000 training records, written with
COPY). The data is kept between runs; ``--reseed`` starts from an empty database.

Prints the median of ``--runs`` runs of each query the compliance pages and export make:
the city-wide summary per county, a county's summary per school, a school's shortfall
list, and the rows of the one-row-per-teacher Excel export (the query and the Python rows, not the xlsx writing), both for the seeded rule (provincial
poor-village kindergartens and primary schools) and for a rule covering every teacher.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jinpin_bench_teachers"


def ensure_database(url: str, reseed: bool) -> None:
    from urllib.parse import urlparse

    import psycopg2

    u = urlparse(url)
    name = u.path.lstrip("/")
    conn = psycopg2.connect(
        host=u.hostname, port=u.port or 5432, user=u.username or "postgres", password=u.password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        if reseed:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url, args.reseed)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    from jinpin.scope import Role, Scope
    from schools.demo import seed_places
    from teachers import training_compliance as comp
    from teachers.demo import seed_teachers
    from teachers.exporters import ComplianceExporter
    from teachers.models import Teacher, TrainingAttendance, TrainingRule

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    out = io.StringIO()
    with transaction.atomic():
        seed_places(out, args.scale)
    with transaction.atomic():
        seed_teachers(out, args.scale)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    seeding = time.perf_counter() - t0
    n_teachers, n_att = Teacher.objects.count(), TrainingAttendance.objects.count()
    print(f"database: {connection.settings_dict['NAME']} on PostgreSQL {connection.pg_version // 10000}")
    print(f"data: {n_teachers:,} teachers, {n_att:,} training records (seeding/checking took {seeding:.1f} s)")

    seeded = comp.active_rule()
    everyone, _ = TrainingRule.objects.get_or_create(
        name="bench: every teacher",
        defaults={
            "threshold": seeded.threshold,
            "levels": seeded.levels,
            "period_start": seeded.period_start,
            "period_end": seeded.period_end,
            "posts": ["kindergarten_director", "principal", "teacher", "other"],
            "poverty": [],
            "stages": [],
            "is_active": False,
        },
    )
    city_scope = Scope(user_id=None, role=Role.CITY_ADMIN)
    teachers = Teacher.objects.all()
    busiest_county = (
        Teacher.objects.values("school__county_id")
        .order_by()
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("school__county_id", flat=True)
        .first()
    )
    school_id = (
        comp.target_group(seeded, teachers)
        .filter(school__county_id=busiest_county)
        .values_list("school_id", flat=True)
        .first()
    )

    rows = []
    for label, rule in (
        ("seeded rule (provincial poor villages, kindergarten + primary)", seeded),
        ("rule over every teacher", everyone),
    ):
        t_city, city = timed(lambda r=rule: list(comp.summary_by(r, teachers, "school__county_id")), args.runs)
        t_tot, tot = timed(lambda r=rule: comp.totals(r, teachers), args.runs)
        t_county, county = timed(
            lambda r=rule: list(comp.summary_by(r, teachers.filter(school__county_id=busiest_county), "school_id")),
            args.runs,
        )
        t_school, short = timed(
            lambda r=rule: list(comp.short_of(r, teachers.filter(school_id=school_id))[:50]), args.runs
        )
        t_export, n_rows = timed(
            lambda r=rule: sum(1 for _ in ComplianceExporter(city_scope, {"rule": r.pk}).rows()),
            args.runs,
        )
        rows.append((label, tot, t_city, t_tot, t_county, len(county), t_school, len(short), t_export, n_rows))

    print()
    for label, tot, t_city, t_tot, t_county, n_county, t_school, n_short, t_export, n_rows in rows:
        print(
            f"{label}: {tot['n']:,} teachers in the group, {tot['ok']:,} compliant, {tot['short']:,} short, {tot['missing']:,} hours missing"
        )
        print(f"  city summary per county (11 rows)          {t_city * 1000:8.0f} ms")
        print(f"  city totals                                {t_tot * 1000:8.0f} ms")
        print(f"  one county per school ({n_county:,} rows)         {t_county * 1000:8.0f} ms")
        print(f"  one school's shortfall list ({n_short} rows)      {t_school * 1000:8.0f} ms")
        print(f"  export rows, one per teacher ({n_rows:,})   {t_export * 1000:8.0f} ms")
    from teachers import honours as hon

    def owed_count():
        return hon.owed(teachers, 2016).count()

    def owed_page():
        return hon.with_teachers(hon.owed(teachers, 2016)[:50])

    t_owed, n_owed = timed(owed_count, args.runs)
    t_page, _page = timed(owed_page, args.runs)
    print(f"rural-service honours 2016: {n_owed:,} owed a certificate")
    print(f"  count owed, city-wide                      {t_owed * 1000:8.0f} ms")
    print(f"  first page of the list, city-wide          {t_page * 1000:8.0f} ms")
    print(f"\nmedian of {args.runs} runs each")


if __name__ == "__main__":
    main()
