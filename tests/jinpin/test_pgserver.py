"""The embedded PostgreSQL server (jinpin/pgserver.py): start, stop, reuse, stale locks, clear errors.

Each test gets its own data directory under /tmp (so that, as root, the server's unprivileged
user can reach it) and never leaves a server running. These tests use no Django database.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from jinpin import pgserver
from jinpin.pgserver import Server, ServerError

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="jinpin-pgtest-", dir="/tmp"))
    home.chmod(0o755)
    return home


def _cleanup(srv: Server) -> None:
    srv.stop()
    shutil.rmtree(srv.data.parent, ignore_errors=True)
    shutil.rmtree(srv.socket_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def template():
    """One initialised data directory (initdb is the slow part), copied for each test."""
    srv = Server(_home() / "pg")
    assert srv.start() is True
    srv.stop()
    yield srv.data
    _cleanup(srv)


@pytest.fixture
def server(template):
    """A server on a fresh copy of an initialised data directory, stopped and removed afterwards."""
    srv = Server(_home() / "pg")
    subprocess.run(["cp", "-a", str(template), str(srv.data)], check=True)  # -a keeps the server user's ownership
    yield srv
    _cleanup(srv)


@pytest.fixture
def bare_server():
    """A server whose data directory does not exist yet."""
    srv = Server(_home() / "pg")
    yield srv
    _cleanup(srv)


def sql(srv, statement, db=pgserver.DB_NAME):
    conn = psycopg2.connect(host=str(srv.socket_dir), user="postgres", dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def gone(pid, timeout=20) -> bool:
    """The process has exited (or is a zombie waiting to be reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def env_without_services(srv):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["JINPIN_PG_DATA"] = str(srv.data)
    return env


def test_start_serves_postgresql_18_on_a_unix_socket_only_and_stop_ends_it(server):
    assert server.start() is True
    pid = server.pid()
    assert pid and server.accepts()
    assert len(str(server.socket_path)) <= pgserver.SOCKET_MAX
    version, listen = sql(
        server, "SELECT current_setting('server_version_num')::int, current_setting('listen_addresses')"
    )[0]
    assert version >= 180000 and listen == ""
    # the contrib modules the migrations may use ship with the wheel
    sql(server, "CREATE EXTENSION pg_trgm; CREATE EXTENSION btree_gist")
    assert {r[0] for r in sql(server, "SELECT extname FROM pg_extension")} >= {"pg_trgm", "btree_gist"}
    assert server.start() is False  # already running: reused, not started twice
    assert server.pid() == pid
    assert server.stop() is True
    assert server.pid() is None and not server.accepts()
    assert gone(pid)
    assert server.stop() is False


def test_data_survive_a_restart(server):
    server.start()
    sql(server, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (2016)")
    server.stop()
    assert server.start() is True
    assert sql(server, "SELECT n FROM kept") == [(2016,)]


def test_a_server_killed_with_its_run_leaves_a_stale_postmaster_pid_that_the_next_start_copes_with(server):
    server.start()
    sql(server, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
    pid = server.pid()
    os.kill(pid, signal.SIGKILL)
    assert gone(pid)
    time.sleep(0.5)  # its backends notice the postmaster's death and exit
    pidfile = server.data / "postmaster.pid"
    assert pidfile.exists()
    # After a reboot the old pid may belong to another live process: pid 1 here.
    lines = pidfile.read_text().split("\n")
    pidfile.write_text("\n".join(["1", *lines[1:]]))
    assert server.pid() is None
    assert server.start() is True
    assert sql(server, "SELECT n FROM kept") == [(7,)]  # crash recovery kept the committed row


def test_first_start_creates_the_data_directory(bare_server):
    assert not bare_server.data.exists()
    assert bare_server.start() is True
    assert (bare_server.data / "PG_VERSION").read_text().strip() == "18"
    assert not bare_server.data.with_name("pg.init").exists()
    assert sql(bare_server, "SELECT current_database()") == [("jinpin",)]


def test_a_full_disk_is_said_plainly(bare_server, monkeypatch):
    server = bare_server
    monkeypatch.setenv("JINPIN_PG_MIN_FREE_MB", str(10**12))
    with pytest.raises(ServerError, match="is full") as err:
        server.start()
    assert str(server.data) in str(err.value)
    assert server.pid() is None


def test_a_server_that_cannot_start_says_why_and_shows_its_log(server):
    server.start()
    server.stop()
    with open(server.data / "postgresql.conf", "a") as fh:
        fh.write("\nshared_buffers = 'lots'\n")
    with pytest.raises(ServerError) as err:
        server.start()
    message = str(err.value)
    assert "could not start PostgreSQL" in message
    assert "shared_buffers" in message  # the server log's own words
    assert "DATABASE_URL" in message  # and the way out
    assert server.pid() is None


def test_a_foreign_directory_is_not_overwritten(bare_server):
    server = bare_server
    server.data.mkdir()
    (server.data / "notes.txt").write_text("not a database")
    with pytest.raises(ServerError, match="no PostgreSQL data"):
        server.start()
    assert (server.data / "notes.txt").read_text() == "not a database"


def test_run_gives_the_command_a_database_and_stops_the_server_after(server):
    proc = subprocess.run(
        [sys.executable, "-m", "jinpin.pgserver", "run", "--", sys.executable, "-c"]
        + [
            "import os, psycopg2; psycopg2.connect(os.environ['DATABASE_URL']).close(); print(os.environ['DATABASE_URL'])"
        ],
        cwd=BASE_DIR,
        env=env_without_services(server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == server.url()
    assert server.pid() is None  # stopped when the command ended


def test_ctrl_c_stops_the_command_and_the_server(server):
    ready = server.data.parent / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jinpin.pgserver", "run", "--", sys.executable, "-c"]
        + [f"import time, pathlib; pathlib.Path({str(ready)!r}).touch(); time.sleep(120)"],
        cwd=BASE_DIR,
        env=env_without_services(server),
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the command did not start"
            time.sleep(0.1)
        assert server.pid()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group gets SIGINT
        assert proc.wait(timeout=60) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert server.pid() is None and not server.accepts()


def test_the_last_of_two_runs_stops_the_shared_server(server):
    release = server.data.parent / "release"
    ready = server.data.parent / "ready"
    script = (
        f"import time, pathlib; pathlib.Path({str(ready)!r}).touch()\n"
        f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.1)"
    )
    cmd = [sys.executable, "-m", "jinpin.pgserver", "run", "--", sys.executable]
    first = subprocess.Popen([*cmd, "-c", script], cwd=BASE_DIR, env=env_without_services(server))
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        second = subprocess.run(
            [*cmd, "-c", "pass"], cwd=BASE_DIR, env=env_without_services(server), capture_output=True, text=True
        )
        assert second.returncode == 0
        assert "leaving it running" in second.stderr
        assert server.pid()  # still serving the first command
        release.touch()
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert server.pid() is None


@pytest.mark.parametrize("url", ["sqlite:///var/jinpin.sqlite3", "mysql://root@localhost/jinpin"])
def test_settings_refuse_a_database_that_is_not_postgresql(url):
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "jinpin.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in proc.stderr
    assert "jinpin runs on PostgreSQL only" in proc.stderr


def test_without_database_url_the_settings_point_at_the_embedded_server():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; d = settings.DATABASES['default']; print(d['HOST'])"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "jinpin.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(Server().socket_dir)
