"""Backups: one dated archive with the database and the private files, and its restore.

The archive (``jinpin-YYYYmmdd-HHMMSS.tar``) holds:

* ``db.dump`` – ``pg_dump --format=custom`` of the database: one consistent snapshot;
* ``files/private/…`` and ``files/media/…`` – ``PRIVATE_ROOT`` (exports not yet purged, the
  copies of imported files kept for auditors, signed documents) and ``MEDIA_ROOT`` (photos);
* ``manifest.json`` – when, from which PostgreSQL, and the SHA-256 of every file.

``restore`` empties the database's ``public`` schema and restores the dump into it, then puts
the files back (the directories are emptied first) and checks every file's hash. The
PostgreSQL tools used are those of the server's major version: the embedded server's own,
or the system's ``/usr/lib/postgresql/<major>/bin`` (CI's PostgreSQL 15); a newer
``pg_dump`` is used only when no matching one exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection

FORMAT = 1
ROOTS = {"private": "PRIVATE_ROOT", "media": "MEDIA_ROOT"}


class BackupError(RuntimeError):
    pass


def _major(version_output: str) -> int:
    m = re.search(r"\(PostgreSQL\)\s+(\d+)", version_output)
    return int(m.group(1)) if m else 0


def server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def pg_tool(name: str, major: int) -> str:
    """The ``name`` program (pg_dump, pg_restore) of ``major``, else the newest one found."""
    from jinpin import pgserver

    candidates = []
    try:
        candidates.append(pgserver.bin_dir() / name)
    except pgserver.ServerError:
        pass
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    versions = []
    for path in candidates:
        if path.exists():
            out = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout
            versions.append((_major(out), str(path)))
    for v, path in versions:
        if v == major:
            return path
    newer = sorted(v for v in versions if v[0] > major)
    if newer:
        return newer[-1][1]
    raise BackupError(f"no {name} for PostgreSQL {major} found (apt-get install postgresql-client-{major})")


def _conn_args() -> tuple[list[str], dict]:
    db = connection.settings_dict
    args = ["--username", db["USER"] or "postgres", "--dbname", db["NAME"]]
    if db["HOST"]:
        args += ["--host", db["HOST"]]
    if db["PORT"]:
        args += ["--port", str(db["PORT"])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(root: Path) -> dict[str, str]:
    root = Path(root)
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def backup(directory: Path, *, now: dt.datetime | None = None) -> Path:
    """Write ``directory/jinpin-<timestamp>.tar``; returns its path."""
    now = now or dt.datetime.now()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"jinpin-{now:%Y%m%d-%H%M%S}.tar"
    major = server_major()
    with tempfile.TemporaryDirectory(prefix="jinpin-backup-") as tmp:
        dump = Path(tmp) / "db.dump"
        args, env = _conn_args()
        tool = pg_tool("pg_dump", major)
        proc = subprocess.run(
            [tool, "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
        manifest = {
            "format": FORMAT,
            "created": now.isoformat(timespec="seconds"),
            "postgresql": major,
            "pg_dump": tool,
            "files": {name: file_hashes(Path(getattr(settings, key))) for name, key in ROOTS.items()},
        }
        partial = target.with_suffix(".tar.partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname="db.dump")
            for name, key in ROOTS.items():
                root = Path(getattr(settings, key))
                for rel in manifest["files"][name]:
                    tar.add(root / rel, arcname=f"files/{name}/{rel}", recursive=False)
            data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mtime = int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        partial.rename(target)  # a backup killed half-way leaves a .partial, never a truncated .tar
    return target


def restore(archive: Path) -> dict:
    """Replace the database and the private files by the archive's. Returns the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    with tempfile.TemporaryDirectory(prefix="jinpin-restore-") as tmp:
        tmp = Path(tmp)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        manifest_path = tmp / "manifest.json"
        if not manifest_path.exists() or not (tmp / "db.dump").exists():
            raise BackupError(f"{archive} is not a jinpin backup (no manifest.json / db.dump)")
        manifest = json.loads(manifest_path.read_text())
        major = server_major()
        # pg_restore must be at least as new as the pg_dump that wrote the archive.
        tool = pg_tool("pg_restore", max(major, int(manifest.get("postgresql", major))))
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        connection.close()
        args, env = _conn_args()
        proc = subprocess.run(
            [tool, "--no-owner", "--no-privileges", "--exit-on-error", *args, str(tmp / "db.dump")],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_restore failed: {proc.stderr.strip()}")
        for name, key in ROOTS.items():
            root = Path(getattr(settings, key))
            root.mkdir(parents=True, exist_ok=True)
            for child in root.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            src = tmp / "files" / name
            if src.exists():
                shutil.copytree(src, root, dirs_exist_ok=True)
            got = file_hashes(root)
            if got != manifest["files"].get(name, {}):
                raise BackupError(f"restored files under {root} do not match the archive's manifest")
    # every cached figure and kept page was made from the data just replaced (jinpin/cache.py, jinpin/pagecache.py)
    from django.core.cache import cache

    cache.clear()
    return manifest
