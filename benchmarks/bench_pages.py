"""Pages under load: gunicorn serving the schools list on scale data, 20 concurrent clients.

Builds a dedicated database (``jinpin_bench`` on the local PostgreSQL, or $BENCH_DATABASE_URL)
with ``seed_demo --scale N --only seed_places,seed_users`` (N=10: 10,000 extra schools), starts
gunicorn on 127.0.0.1 (one sync worker per core by default), logs 20 clients in as a county officer and as the city administrator,
and reports latency percentiles. Loopback only; bounded in requests and time.

    .venv/bin/python benchmarks/bench_pages.py [--scale 10] [--requests 600]
"""

import argparse
import http.cookiejar
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


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
    args = ap.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jinpin_bench")
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", url.rsplit("/", 1)[1]], stderr=subprocess.DEVNULL)
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="bench-" + "x" * 40, ALLOWED_HOSTS="127.0.0.1")
    env.pop("CELERY_BROKER_URL", None)
    sh("migrate", "--noinput", env=env)
    sh("seed_demo", "--scale", str(args.scale), "--only", "seed_places,seed_users", env=env)
    sh("collectstatic", "--noinput", env=env)
    # fresh planner statistics, as autovacuum would have them on a live database
    subprocess.run(["psql", "-q", url, "-c", "ANALYZE"], check=True)
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
            "--log-level",
            "warning",
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


if __name__ == "__main__":
    main()
