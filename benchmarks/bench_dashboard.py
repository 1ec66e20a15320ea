"""The city dashboard on scale data: server time of the view (no network), cold (empty cache) and warm.

Reads an existing database only (it writes nothing to it: no login, no session; the figures are cached
in Redis, in the cache of CELERY_BROKER_URL / CACHE_URL), e.g. the scale-10 database built by
``seed_demo --scale 10`` (1,000,000 pupils, 100,000 teachers, 1,000,000 activities):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python benchmarks/bench_dashboard.py --db jinpin_scale10

Cold: the cache is emptied first (as after a write to every area: each figure's stamp moved).
Warm: the same request again (the figures and the charts' rows are read from the cache).

``--areas``: also, for each area of data (teachers, twinning, subsidies, supervision), what one write there
costs: the stamp is moved (as a committed write does), then the page is timed as the first person after
the write would see it if nobody had re-warmed (``page_after_write``); then the warmer that the jobs and
beat run (``jinpin.dashboard.warm``: the city and every county) is timed (``warmer``), and the page after
it (``page_after_warmer``).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="jinpin_scale10")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--as-of", default="")
    ap.add_argument("--areas", action="store_true", help="also time a write to each area and the warmer")
    args = ap.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    from _util import django_setup

    django_setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from jinpin import dashboard
    from jinpin.scope import get_scope
    from schools.models import Membership

    def request_as(username):
        user = get_user_model().objects.get(username=username)
        params = {"as_of": args.as_of} if args.as_of else {}
        req = RequestFactory().get("/dashboard/", params)
        req.user = user
        req.scope = get_scope(user)
        return req

    def timed(username):
        req = request_as(username)
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            r = dashboard.dashboard(req)
            ms = (time.perf_counter() - t) * 1000
        assert r.status_code == 200
        return ms, len(q)

    officer = (
        Membership.objects.filter(role="county_officer", county__code="370830").values_list("user__username", flat=True)
    ).first()
    out = {"db": args.db}
    for who in ("admin", officer):
        cold, warm = [], []
        for _ in range(args.runs):
            cache.clear()
            cold.append(timed(who))
            warm.append(timed(who))
        out[who] = {
            "cold_ms_median": round(statistics.median(m for m, _ in cold)),
            "cold_ms_max": round(max(m for m, _ in cold)),
            "cold_queries": cold[0][1],
            "warm_ms_median": round(statistics.median(m for m, _ in warm)),
            "warm_ms_max": round(max(m for m, _ in warm)),
            "warm_queries": warm[0][1],
        }
    if args.areas:
        from jinpin import cache as stamps
        from jinpin import figures

        dashboard.warm()
        for area in sorted({f.cache_area for f in figures.all_figures()}):
            stamps._move(area)  # what a committed write to that area does
            after_write = timed("admin")
            stamps._move(area)
            t = time.perf_counter()
            computed = dashboard.warm()
            warmer = (time.perf_counter() - t) * 1000
            out[f"write_to_{area}"] = {
                "page_after_write_ms": round(after_write[0]),
                "warmer_ms": round(warmer),
                "warmer_figures": computed,
                "page_after_warmer_ms": round(timed("admin")[0]),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
