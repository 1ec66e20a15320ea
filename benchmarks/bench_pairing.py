"""Benchmark: 结对帮扶 compliance at 10,000 agreements / 1,000,000 activities.

    .venv/bin/python benchmarks/bench_pairing.py [--scale 10] [--runs 3] [--reseed] [--load 600]

Works in its own PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/jinpin_bench_pairing``), which it creates, migrates
and fills with ``seed_demo --only seed_places,seed_users,seed_pairing --scale N`` (N=10:
10,000 synthetic agreements and 1,000,000 activities written with COPY, plus the demo
city's). The data is kept between runs; ``--reseed`` starts from an empty database.

Prints the median of ``--runs`` runs of: the county compliance page (the county officer of
the county with most agreements, and the city administrator over the whole city) through
Django's test client with its query count; the ranking query alone; the compliance matrix
export (every agreement x minimum x period of the last two school years) written to an xlsx
by the export framework's writer, with its rows and peak memory; and the activity log list.
With ``--load N`` it then serves the pages with gunicorn and sends N requests from 20
concurrent clients (county officer, city administrator, demo principal), with percentiles.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jinpin_bench_pairing"

from benchmarks.bench_teachers import ensure_database, timed  # noqa: E402 - one copy of the helpers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        metavar="REQUESTS",
        help="also serve with gunicorn and send REQUESTS requests from 20 concurrent clients",
    )
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url, args.reseed)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from jinpin import exports
    from jinpin.scope import get_scope
    from pairing import compliance
    from pairing.exporters import ComplianceExporter
    from pairing.models import Activity, Agreement

    call_command("migrate", verbosity=0)
    want = args.scale * 1000
    if Agreement.objects.filter(content__startswith="【合成】").count() < want:
        t0 = time.perf_counter()
        call_command("seed_demo", scale=args.scale, only="seed_places,seed_users,seed_pairing")
        print(f"seeded in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as c:  # what autovacuum does on a live database after a bulk load
        for table in (
            "pairing_activity",
            "pairing_agreement",
            "pairing_agreementschool",
            "pairing_secondment",
            "pairing_jointproject",
            "schools_school",
        ):
            c.execute(f"VACUUM ANALYZE {table}")
    n_agreements, n_activities = Agreement.objects.count(), Activity.objects.count()
    print(
        f"data: {n_agreements:,} agreements, {n_activities:,} activities (scale {args.scale}); PostgreSQL "
        f"{connection.cursor().connection.server_version}"
    )
    setup_test_environment()
    User = get_user_model()
    county_id = Agreement.objects.values("county_id").annotate(n=Count("pk")).order_by("-n")[0]["county_id"]
    officer = User.objects.filter(membership__role="county_officer", membership__county_id=county_id).first()
    admin = User.objects.get(username="admin")
    years = compliance.years_upto(last=2)

    from django.core.cache import cache

    def page(user, url, cold=False):
        """Median time of ``url``; ``cold`` empties the cache before each request (no cached compliance)."""
        c = Client()
        c.force_login(user)
        c.get(url)  # warm: session, scope, plan cache

        def run():
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as q:
                r = c.get(url)
            assert r.status_code == 200, r.status_code
            return len(q)

        return timed(run, args.runs)

    n_county = Agreement.objects.filter(county_id=county_id).count()
    for label, user, url in [
        (f"county compliance page ({n_county:,} agreements, current year), officer", officer, "/pairing/compliance/"),
        ("county compliance page, only missed, page 2", officer, "/pairing/compliance/?missed=1&page=2"),
        (f"city compliance page ({n_agreements:,} agreements), admin", admin, "/pairing/compliance/"),
        (f"city compliance page, previous year {years[0].name}", admin, f"/pairing/compliance/?year={years[0].pk}"),
    ]:
        t_cold, q_cold = page(user, url, cold=True)
        t, q = page(user, url)
        print(
            f"{label}: median {t_cold * 1000:.0f} ms computed ({q_cold} queries), {t * 1000:.0f} ms cached ({q} queries)"
        )
    t, q = page(admin, "/pairing/activities/")
    print(f"activity log list (all {n_activities:,}), admin: median {t * 1000:.0f} ms, {q} queries")
    t, q = page(officer, "/pairing/activities/")
    print(f"activity log list, officer: median {t * 1000:.0f} ms, {q} queries")
    t, q = page(admin, "/pairing/")
    print(f"agreements list, admin: median {t * 1000:.0f} ms, {q} queries")
    busiest = Activity.objects.values("agreement_id").annotate(n=Count("pk")).order_by("-n")[0]
    t, q = page(admin, f"/pairing/{busiest['agreement_id']}/")
    print(
        f"agreement detail ({busiest['n']} activities, every year since it began): median {t * 1000:.0f} ms, {q} queries"
    )
    t, q = page(officer, "/pairing/coverage/")
    print(f"coverage page, officer: median {t * 1000:.0f} ms, {q} queries")

    scope = get_scope(admin)
    t, res = timed(lambda: compliance.ranking(Agreement.objects.all(), years=years, limit=50), args.runs)
    print(
        f"ranking SQL alone, city, two school years: median {t * 1000:.0f} ms ({res[1]:,} agreements, "
        f"{sum(res[2].values()):,} cells: {res[2]})"
    )

    def export():
        exporter = ComplianceExporter(scope, {})
        with tempfile.TemporaryDirectory() as d:
            return exports.write_xlsx(Path(d) / "c.xlsx", exporter.columns, exporter.rows(), sheet_title="c")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t, rows = timed(export, args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"compliance matrix export, city, {len(years)} school years: median {t:.1f} s for {rows:,} rows "
        f"({rows / t:,.0f} rows/s); peak RSS {peak / 1024:.0f} MB (was {before / 1024:.0f} MB before)"
    )
    t, _ = timed(lambda: sum(1 for _ in compliance.stream(Agreement.objects.all(), years=years)), args.runs)
    print(f"  of which the streamed SQL alone: median {t:.1f} s")
    built = list(ComplianceExporter(scope, {}).rows())
    t_rows, _ = timed(lambda: sum(1 for _ in ComplianceExporter(scope, {}).rows()), args.runs)

    def raw_openpyxl():
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("c")
        for r in built:
            ws.append(r)
        with tempfile.TemporaryDirectory() as d:
            wb.save(Path(d) / "raw.xlsx")

    def ours_prebuilt():
        with tempfile.TemporaryDirectory() as d:
            exports.write_xlsx(Path(d) / "c.xlsx", ComplianceExporter.columns, iter(built), sheet_title="c")

    t_raw, _ = timed(raw_openpyxl, args.runs)
    t_ours, _ = timed(ours_prebuilt, args.runs)
    print(
        f"  rows generator alone (SQL + names): median {t_rows:.1f} s; on the same pre-built rows: jinpin writer "
        f"{t_ours:.1f} s vs raw openpyxl write-only {t_raw:.1f} s ({t_raw / t_ours:.2f}x its speed)"
    )
    if args.load:
        from schools.demo import COUNTIES
        from schools.models import County

        code = County.objects.get(pk=county_id).code
        slug = next(s for c, _n, s, _x in COUNTIES if c == code)
        connection.close()
        under_load(url, args.load, f"officer_{slug}")


def under_load(url, n_requests, officer, clients=20, port=8766):
    """gunicorn (4 workers x 2 threads) on loopback; ``clients`` threads log in (officers, the
    city administrator, the demo principal) and fetch the twinning pages; latency percentiles."""
    import http.cookiejar
    import subprocess
    import threading
    import urllib.parse
    import urllib.request

    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="bench-" + "x" * 40, ALLOWED_HOSTS="127.0.0.1")
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "jinpin.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "4",
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )

    def login(username):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(base + "/accounts/login/").read()
        token = next(c.value for c in jar if c.name == "csrftoken")
        data = urllib.parse.urlencode(
            {"username": username, "password": "Jinpin@2016", "csrfmiddlewaretoken": token}
        ).encode()
        resp = opener.open(
            urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base + "/accounts/login/"})
        )
        assert resp.geturl().endswith("/home/"), f"login failed for {username}"
        return opener

    pages = {
        officer: [
            "/pairing/compliance/",
            "/pairing/compliance/?missed=1",
            "/pairing/",
            "/pairing/activities/",
            "/pairing/coverage/",
            "/home/",
        ],
        "admin": [
            "/pairing/compliance/",
            "/pairing/",
            "/pairing/activities/",
            "/pairing/donations/",
            "/pairing/coverage/",
        ],
        "principal_weak": ["/home/", "/pairing/", "/pairing/activities/"],
    }
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz").read()
                break
            except OSError:
                time.sleep(0.2)
        users = [officer, "admin", "principal_weak"]
        openers = [(users[i % 3], login(users[i % 3])) for i in range(clients)]
        latencies, errors, by_page = [], [], {}
        lock = threading.Lock()
        deadline = time.monotonic() + 300

        def run(user, opener, k):
            for j in range(n_requests // clients):
                if time.monotonic() > deadline:
                    return
                path = pages[user][(k + j) % len(pages[user])]
                t0 = time.perf_counter()
                try:
                    with opener.open(base + path) as r:
                        r.read()
                        ok = r.status == 200
                except OSError as exc:
                    ok = False
                    errors.append(f"{path}: {exc}")
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    by_page.setdefault(f"{user.split('_')[0]} {path}", []).append(ms)
                    if not ok:
                        errors.append(path)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(u, o, k)) for k, (u, o) in enumerate(openers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies.sort()

        def pct(values, q):
            values = sorted(values)
            return values[min(len(values) - 1, int(q * len(values)))]

        print(
            f"under load: {len(latencies)} requests, {clients} concurrent clients, {wall:.1f} s, "
            f"{len(latencies) / wall:.0f} req/s, errors {len(errors)}"
        )
        print(
            f"  latency ms: p50 {pct(latencies, 0.5):.0f}  p95 {pct(latencies, 0.95):.0f}  p99 {pct(latencies, 0.99):.0f}  "
            f"max {latencies[-1]:.0f}  (target p95 < 300)"
        )
        for name, values in sorted(by_page.items()):
            print(f"  {name:<45} n={len(values):<4} p50 {pct(values, 0.5):>5.0f}  p95 {pct(values, 0.95):>5.0f}")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
