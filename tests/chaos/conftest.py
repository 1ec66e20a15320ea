"""Chaos fixtures: a test-owned PostgreSQL cluster and test-owned Redis servers that the tests kill and
restart, a real Celery worker and a real beat pointed at them, and the Django ORM of the test process
switched to the private cluster for the test's duration.

Everything here is self-contained: the shared database and broker of the other tests are never touched.
The PostgreSQL server binaries are found by one function, ``pg_bindir`` (an embedded PostgreSQL can
be plugged in there).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as dj_settings

from jinpin import celery_app

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    """Where initdb / pg_ctl / postgres live: $JINPIN_PG_BINDIR, ``pg_config --bindir``, or the newest
    /usr/lib/postgresql/*/bin. The one place to change to use another PostgreSQL distribution."""
    candidates = []
    if os.environ.get("JINPIN_PG_BINDIR"):
        candidates.append(Path(os.environ["JINPIN_PG_BINDIR"]))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions]
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def _as_server_user():
    """PostgreSQL refuses to run as root: run its binaries as the ``postgres`` account then."""
    if os.geteuid() != 0:
        return [], None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' account to run a private PostgreSQL server")
    return ["runuser", "-u", "postgres", "--"], pw


class PgServer:
    """A throwaway PostgreSQL cluster on a free port, in a temporary directory."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.prefix, pw = _as_server_user()
        self.root = Path(tempfile.mkdtemp(prefix="jinpin-chaos-pg-"))
        if pw is not None:
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()

    def _run(self, *args, check=True):
        return subprocess.run(
            [*self.prefix, str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True, check=check
        )

    def init(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N")
        return self

    def start(self):
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c jit=off -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")
        return self

    def stop(self, mode="immediate"):
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart_after(self, seconds: float):
        """Stop the server the hard way (``-m immediate``: no checkpoint, every connection cut), stay down, start."""
        self.stop("immediate")
        time.sleep(seconds)
        self.start()

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db="postgres"):
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A private redis-server on a free port, with or without persistence (append-only file)."""

    def __init__(self, *, appendonly: bool):
        self.appendonly = appendonly
        self.dir = Path(tempfile.mkdtemp(prefix="jinpin-chaos-redis-"))
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "always",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        """SIGKILL: no shutdown save; only what the append-only file already holds survives."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def url(self, db=0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def destroy(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def chaos_pg(django_db_blocker):
    """The private cluster with a migrated template database (migrated once per session)."""
    bindir = pg_bindir()
    if bindir is None or not shutil.which("redis-server"):
        pytest.skip("needs PostgreSQL server binaries (pg_config --bindir) and redis-server; CI installs both")
    server = PgServer(bindir).init().start()
    server.psql("CREATE DATABASE chaos_template")
    env = dict(os.environ, DATABASE_URL=server.url("chaos_template"), CELERY_BROKER_URL="")
    out = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, capture_output=True
    )
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    yield server
    server.destroy()


@pytest.fixture
def chaos_db(chaos_pg, django_db_blocker):
    """A fresh database copied from the template; the test process's ORM talks to it for the test."""
    from django.db import connections

    name = f"chaos_{uuid.uuid4().hex[:10]}"
    chaos_pg.psql(f"CREATE DATABASE {name} TEMPLATE chaos_template")
    conn = connections["default"]
    with django_db_blocker.unblock():
        saved = dict(conn.settings_dict)
        conn.close()
        conn.settings_dict.update(NAME=name, HOST="127.0.0.1", PORT=str(chaos_pg.port), USER="postgres", PASSWORD="")
        try:
            yield name
        finally:
            conn.close()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)
    try:
        chaos_pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except Exception:
        pass


def _reset_broker_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Celery:
    """A real ``celery worker`` (and optionally ``celery beat``) on the chaos database and a private Redis."""

    def __init__(self, *, db_url: str, redis: RedisServer, private_root: Path):
        self.redis = redis
        self.queue = f"chaos-{uuid.uuid4().hex[:8]}"
        self.dir = Path(tempfile.mkdtemp(prefix="jinpin-chaos-celery-"))
        self.env = dict(
            os.environ,
            DATABASE_URL=db_url,
            CELERY_BROKER_URL=redis.url(),
            CELERY_TASK_ALWAYS_EAGER="0",
            CELERY_TASK_DEFAULT_QUEUE=self.queue,
            PRIVATE_ROOT=str(private_root),
            CONN_MAX_AGE="0",
            JOB_HEARTBEAT_SECONDS="1",
            JOB_STALE_SECONDS="10",
            JOB_RESEND_SECONDS="20",
            JOB_REAP_SECONDS="2",
            JOB_DB_RETRY_SECONDS="90",
        )
        self.procs = []

    def start_worker(self):
        log = open(self.dir / "worker.log", "a")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jinpin", "worker", "-Q", self.queue, "-c", "2", "--pool",
             "prefork", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{self.queue}@%h"],
            cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if " ready." in (self.dir / "worker.log").read_text(errors="replace"):
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("celery worker did not start:\n" + self.log_tail())

    def start_beat(self):
        log = open(self.dir / "beat.log", "a")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jinpin", "beat", "-l", "info",
             "-s", str(self.dir / "beat-schedule"), "--pidfile", str(self.dir / "beat.pid")],
            cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def log_tail(self, n=4000) -> str:
        out = ""
        for name in ("worker.log", "beat.log"):
            path = self.dir / name
            if path.exists():
                out += f"--- {name}\n" + path.read_text(errors="replace")[-n:]
        return out

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def chaos_celery(chaos_pg, chaos_db, tmp_path_factory):
    """``make(redis)`` → a Celery set-up on the chaos database and ``redis``; the test process sends there too."""
    made = []
    old = (celery_app.conf.broker_write_url, celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    private_root = dj_settings.PRIVATE_ROOT

    def make(redis: RedisServer) -> Celery:
        c = Celery(db_url=chaos_pg.url(chaos_db), redis=redis, private_root=private_root)
        celery_app.conf.broker_write_url = redis.url()
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_default_queue = c.queue
        _reset_broker_pools()
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()
    celery_app.conf.broker_write_url, celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
    _reset_broker_pools()


@pytest.fixture
def redis_factory():
    servers = []

    def make(*, appendonly: bool) -> RedisServer:
        r = RedisServer(appendonly=appendonly).start()
        servers.append(r)
        return r

    yield make
    for r in servers:
        r.destroy()
