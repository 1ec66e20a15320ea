"""Pages under load: gunicorn serving jinpin's pages on scale data, 20 concurrent clients.

``--all`` measures every main page on its own (issue 14's table: page, role, queries, p50, p95,
req/s), on an existing database built with ``seed_demo --scale N`` plus the city-wide batch
(``--db NAME --no-seed`` to reuse one, e.g. the 1,004,556-pupil database of bench_subsidies.py):

    .venv/bin/python benchmarks/bench_pages.py --all --db jinpin_scale10 --no-seed --no-analyze [--per-page 60]

With a shared cache the pages in ``jinpin.pagecache.VIEWS`` are kept after their second request; run with
``PAGE_CACHE=0`` in the environment to measure every request rendered.

Each row also gives the queries and the time of one request alone (in-process, the best of three after a
warming request); ``--one-only`` prints only those, without gunicorn and the 20 clients.

Without ``--all``, the original mixed run over the schools, villages and home pages:

Builds a dedicated database (``jinpin_bench`` on the local PostgreSQL, or $BENCH_DATABASE_URL)
with ``seed_demo --scale N --only seed_places,seed_users`` (N=10: 10,000 extra schools), starts
gunicorn on 127.0.0.1 (one sync worker per core by default), logs 20 clients in as a county officer and as the city administrator,
and reports latency percentiles. Loopback only; bounded in requests and time.

    .venv/bin/python benchmarks/bench_pages.py [--scale 10] [--requests 600]
"""

import argparse
import http.cookiejar
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))


def sh(*args, env):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def client(username, password="Jinpin@2016"):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{PORT}"
    opener.open(base + "/accounts/login/").read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
    req = urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base + "/accounts/login/"})
    resp = opener.open(req)
    assert resp.geturl().endswith("/home/"), f"login failed for {username}"
    return opener


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--all", action="store_true", help="every main page on its own (the issue-14 table)")
    ap.add_argument("--db", default="", help="database name (default jinpin_bench or $BENCH_DATABASE_URL)")
    ap.add_argument("--no-seed", action="store_true", help="use the database as it is")
    ap.add_argument("--per-page", type=int, default=100, help="requests per page with --all")
    ap.add_argument("--no-analyze", action="store_true", help="skip the ANALYZE of the whole database")
    ap.add_argument(
        "--one-only", action="store_true", help="with --all: only queries and one request alone, no gunicorn load"
    )
    ap.add_argument(
        "--only", default="", help="with --all: only pages whose label contains one of these (comma-separated)"
    )
    ap.add_argument(
        "--generator",
        choices=("python", "wrk"),
        default="python",
        help="with --all: the load generator — 20 Python threads (urllib) or wrk (C, far less CPU of its own)",
    )
    ap.add_argument("--duration", type=int, default=10, help="with --generator wrk: seconds of load per page")
    ap.add_argument(
        "--warmup", type=int, default=2, help="with --generator wrk: seconds of the same load first, not measured"
    )
    ap.add_argument(
        "--gunicorn-args", default="", help="more gunicorn options, e.g. '--keep-alive 0' (split on spaces)"
    )
    args = ap.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jinpin_bench")
    if args.db:
        url = url.rsplit("/", 1)[0] + "/" + args.db
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", url.rsplit("/", 1)[1]], stderr=subprocess.DEVNULL)
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="bench-" + "x" * 40, ALLOWED_HOSTS="127.0.0.1")
    if not args.all:
        env.pop("CELERY_BROKER_URL", None)  # with --all the shared Redis cache is part of what is measured
    sh("migrate", "--noinput", env=env)
    if not args.no_seed:
        sh("seed_demo", "--scale", str(args.scale), "--only", "seed_places,seed_users", env=env)
    sh("collectstatic", "--noinput", env=env)
    # fresh planner statistics, as autovacuum would have them on a live database
    if not args.no_analyze:
        subprocess.run(["psql", "-q", url, "-c", "ANALYZE"], check=True)
    if args.all and args.one_only:
        every_page(args, env)
        return
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "jinpin.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
            *args.gunicorn_args.split(),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz").read()
                break
            except OSError:
                time.sleep(0.2)
        if args.all:
            every_page(args, env, gunicorn.pid)
            return
        pages = [
            "/schools/",
            "/schools/?is_weak=true",
            "/schools/?o=-pupils&page=20",
            "/schools/?stage=primary&poverty=provincial",
            "/schools/villages/",
            "/home/",
        ]
        openers = [client("officer_wenshang" if i % 2 else "admin") for i in range(args.clients)]
        latencies, errors, by_path = [], [], {}
        lock = threading.Lock()
        per_client = args.requests // args.clients
        deadline = time.monotonic() + 300

        def run(opener, k):
            for j in range(per_client):
                if time.monotonic() > deadline:
                    return
                path = pages[(k + j) % len(pages)]
                t0 = time.perf_counter()
                try:
                    with opener.open(f"http://127.0.0.1:{PORT}{path}") as r:
                        r.read()
                        ok = r.status == 200
                except OSError as exc:
                    ok = False
                    errors.append(str(exc))
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(dt)
                    by_path.setdefault(path, []).append(dt)
                    if not ok:
                        errors.append(path)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(o, k)) for k, o in enumerate(openers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
        print(
            f"{len(latencies)} requests, {args.clients} concurrent clients, {wall:.1f} s, {len(latencies) / wall:.0f} req/s, errors {len(errors)}"
        )
        for path, values in sorted(by_path.items()):
            values.sort()
            print(f"  {path:<45} p50 {values[len(values) // 2]:.0f} ms  p95 {values[int(0.95 * len(values))]:.0f} ms")
        print(
            f"latency ms: p50 {p(0.5):.0f}  p95 {p(0.95):.0f}  p99 {p(0.99):.0f}  max {latencies[-1]:.0f}  mean {statistics.mean(latencies):.0f}  (target p95 < 300)"
        )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)


# -- every main page on its own ------------------------------------------------------------------
CITY, COUNTY = "admin", "officer_wenshang"
PAGES = [
    ("home", "/home/", (CITY, COUNTY)),
    ("dashboard", "/dashboard/", (CITY, COUNTY)),
    ("schools", "/schools/", (CITY, COUNTY)),
    ("teachers", "/teachers/", (CITY, COUNTY)),
    ("teachers, search by name", "/teachers/?q=%E5%90%88%E6%88%90%E6%95%99%E5%B8%88999", (CITY,)),
    ("training compliance", "/teachers/training/compliance/", (CITY, COUNTY)),
    ("agreements", "/pairing/", (CITY, COUNTY)),
    ("activities", "/pairing/activities/", (CITY, COUNTY)),
    ("activities, last page", "/pairing/activities/?last=1", (CITY,)),
    ("twinning compliance", "/pairing/compliance/", (CITY, COUNTY)),
    ("coverage", "/pairing/coverage/", (CITY,)),
    ("households", "/subsidies/households/", (CITY, COUNTY)),
    ("households, search", "/subsidies/households/?q=%E6%88%B7%E4%B8%BB2999", (CITY,)),
    ("pupils", "/subsidies/students/", (CITY, COUNTY)),
    ("pupils, search by name", "/subsidies/students/?q=%E5%AD%A6%E7%94%9F9999", (CITY, COUNTY)),
    ("pupils, last digits of an ID", "/subsidies/students/?q=99981", (CITY, COUNTY)),
    ("pupils, last page", "/subsidies/students/?last=1", (CITY,)),
    ("awards, no filter", "/subsidies/", (CITY, COUNTY)),
    ("awards, by scheme", "/subsidies/?scheme=4", (CITY, COUNTY)),
    ("awards, deep page", "/subsidies/?after=900000", (CITY,)),
    ("awards, last page", "/subsidies/?last=1", (CITY,)),
    ("payout batches", "/subsidies/payouts/", (CITY, COUNTY)),
    ("payout lines (largest batch)", "/subsidies/payouts/{payout}/", (CITY,)),
    ("reconciliation", "/subsidies/reconciliation/", (CITY,)),
    ("anomalies", "/subsidies/anomalies/", (CITY,)),
    ("audit log", "/audit/", (CITY,)),
    ("audit log, last page", "/audit/?last=1", (CITY,)),
    ("inspection campaigns", "/inspections/", (CITY,)),
    ("inspection coverage", "/inspections/campaigns/{campaign}/coverage/", (CITY,)),
    ("inspection findings", "/inspections/findings/", (CITY,)),
]


def _resolve(pages):
    """Fill the ids a path needs from the database (the largest payout batch, the latest campaign)."""
    from django.db import connection

    ids = {}
    with connection.cursor() as cur:
        cur.execute("SELECT batch_id FROM subsidies_payoutline GROUP BY batch_id ORDER BY count(*) DESC LIMIT 1")
        row = cur.fetchone()
        ids["payout"] = row[0] if row else 0
        cur.execute("SELECT max(id) FROM inspections_campaign")
        ids["campaign"] = cur.fetchone()[0] or 0
    return [(label, path.format(**ids), roles) for label, path, roles in pages]


def _setup(env):
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")})
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    import django

    django.setup()


def _query_counts(targets):
    """Queries of one request alone, in-process (Django's test client on the same database), and its time
    (the best of three, after a warming request): what one request costs without the load."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[CITY, COUNTY])}
    out = {}
    for user, path in targets:
        c = Client()
        c.force_login(users[user])
        c.get(path)  # warm: session, caches
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            status = c.get(path).status_code
        times = []
        for _i in range(3):
            t0 = time.perf_counter()
            c.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        out[(user, path)] = (len(queries), status, min(times))
    return out


def _children_cpu(pid):
    """CPU seconds (user + system) used so far by the children of ``pid`` (gunicorn's workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for kid in kids:
        try:
            fields = Path(f"/proc/{kid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _loadavg():
    return float(Path("/proc/loadavg").read_text().split()[0])


WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "max": %f, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _load_python(args, opener_list, path):
    """20 Python threads (urllib), ``--per-page`` requests in all: (latencies ms, errors, wall s, generator CPU s)."""
    latencies, errors = [], []
    lock = threading.Lock()
    per_client = max(1, args.per_page // args.clients)

    def run(opener):
        for _ in range(per_client):
            t0 = time.perf_counter()
            try:
                with opener.open(f"http://127.0.0.1:{PORT}{path}", timeout=60) as r:
                    r.read()
                    ok = r.status == 200
            except OSError as exc:
                ok = False
                errors.append(str(exc))
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    errors.append(path)

    cpu0, t0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=run, args=(o,)) for o in opener_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return (
        {
            "requests": len(latencies),
            "p50": latencies[len(latencies) // 2],
            "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
            "errors": len(errors),
        },
        wall,
        time.process_time() - cpu0,
    )


def _load_wrk(args, cookie, path, script):
    """wrk: ``--clients`` connections on 2 threads for ``--duration`` seconds, every response checked for 200."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.clients}",
            f"-d{args.duration}s",
            "--timeout",
            "60s",
            "-s",
            script,
            "-H",
            f"Cookie: {cookie}",
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    r = json.loads(line[4:])
    # a read error is gunicorn's sync worker closing the connection after each response (no keep-alive):
    # wrk reconnects; only non-2xx answers and timeouts are failures
    r["errors"] = r["status"] + r["timeout"] + r["connect"]
    gen_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return r, wall, gen_cpu


def _warm(path, cookie=None, opener_list=None):
    url = f"http://127.0.0.1:{PORT}{path}"
    try:
        if opener_list:
            opener_list[0].open(url, timeout=120).read()
        else:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=120).read()
    except OSError:
        pass


def every_page(args, env, gunicorn_pid=None):
    wanted = [w for w in args.only.split(",") if w] or [""]
    _setup(env)
    pages = [(label, path, roles) for label, path, roles in _resolve(PAGES) if any(w in label for w in wanted)]
    targets = [(u, path) for _label, path, roles in pages for u in roles]
    counts = _query_counts(targets)
    if args.one_only:
        print(f"{'page':<32} {'role':<7} {'queries':>7} {'1 req ms':>8}")
        for label, path, roles in pages:
            for user in roles:
                n_q, status, one = counts[(user, path)]
                role = "city" if user == CITY else "county"
                print(f"{label:<32} {role:<7} {n_q:>7} {one:>8.0f}{'' if status == 200 else f' (status {status})'}")
        return
    openers = {}
    if args.generator == "wrk":
        if not shutil.which("wrk"):
            sys.exit("wrk is not installed (Debian: apt-get install wrk)")
        script = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_pages_{os.getpid()}.lua"
        script.write_text(WRK_SCRIPT)
        cookies = {}
        for u in (CITY, COUNTY):
            jar_opener = client(u)
            jar = next(h for h in jar_opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
            cookies[u] = "; ".join(f"{c.name}={c.value}" for c in jar)
    else:
        openers = {u: [client(u) for _ in range(args.clients)] for u in (CITY, COUNTY)}
    print(
        f"generator {args.generator}, {args.clients} clients, gunicorn {args.workers} workers x {args.threads} threads;"
        f" load average {_loadavg():.2f} at the start",
        flush=True,
    )
    print(
        f"{'page':<32} {'role':<7} {'queries':>7} {'1 req ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6} "
        f"{'app ms/req':>10} {'gen ms/req':>10} errors"
    )
    for label, path, roles in pages:
        for user in roles:
            # one request first, as a live site's shared cache would be warm (a cached figure that expired
            # between the in-process warm-up and this page would otherwise be computed by all 20 clients at once)
            _warm(
                path,
                cookies[user] if args.generator == "wrk" else None,
                openers.get(user) if args.generator != "wrk" else None,
            )
            if args.generator == "wrk" and args.warmup > 0:
                # then a short load, not measured: every worker process has served the page (its templates
                # compiled, its per-process tables filled) and what is kept is kept, as on a site in use
                _load_wrk(
                    argparse.Namespace(**{**vars(args), "duration": args.warmup}), cookies[user], path, str(script)
                )
            app0 = _children_cpu(gunicorn_pid) if gunicorn_pid else 0.0
            if args.generator == "wrk":
                r, wall, gen_cpu = _load_wrk(args, cookies[user], path, str(script))
            else:
                r, wall, gen_cpu = _load_python(args, openers[user], path)
            app_cpu = (_children_cpu(gunicorn_pid) - app0) if gunicorn_pid else 0.0
            n = max(1, r["requests"])
            n_q, status, one = counts.get((user, path), ("?", "?", 0))
            role = "city" if user == CITY else "county"
            print(
                f"{label:<32} {role:<7} {n_q:>7} {one:>8.0f} {r['p50']:>7.0f} {r['p95']:>7.0f} {n / r.get('seconds', wall):>6.1f} "
                f"{app_cpu * 1000 / n:>10.1f} {gen_cpu * 1000 / n:>10.1f} "
                f"{r['errors']}{'' if status == 200 else f' (status {status})'}",
                flush=True,
            )
    print(f"load average {_loadavg():.2f} at the end", flush=True)


if __name__ == "__main__":
    main()
