"""Rendered list pages kept in the shared cache, valid exactly as long as the rows they were made from.

The long lists and the home pages cost 15–35 ms of Python a request at city scale (the queries' model
instances, the filter form, 50 rows); twenty colleagues of one county opening the same list — or one
officer paging back and forth — would pay it each time. A page named in ``VIEWS`` is therefore kept,
HTML and all, in the shared (Redis) cache and served again while nothing it was made from has changed.

**What a kept page depends on is recorded, not declared.** While a page renders, every SQL statement
the request runs is read for the jinpin tables it names (``_tables_in``), and every cached figure it
reads records its area's stamp (``jinpin.cache.stamp``). The page is kept with the stamp of each of
those tables and areas; it is served again only while every one of them is unchanged.

**Every write moves its table's stamp.** An execute wrapper on every database connection of every
process (web and Celery, installed in ``JinpinConfig.ready``) reads each writing statement —
``INSERT INTO``, ``UPDATE``, ``DELETE FROM``, ``TRUNCATE``, ``COPY`` — for its target tables, the
ORM's and hand-written SQL alike, including set-based writes that send no signal (the batch, bulk status
moves, imports). The stamp moves at once (so a reader in the same transaction sees its own write) and
again when the transaction commits (so a page rendered by another process from the rows as they were
before the commit is never served after it). Writes a trigger makes in other tables are listed in
``TRIGGERED``; bulk loads through ``COPY … FROM STDIN`` (psycopg's ``copy_expert``, which bypasses
Django's cursor) call ``wrote()``. A restore clears the cache.

**Shared by scope, personal bits filled in per request.** A page is kept per role, county, school,
language, day and full URL (``"scope"``), or per user where it shows the user's own items (``"user"``:
the home page's recent downloads, a payout batch's "your own batch"). It is rendered with
placeholders for the user's name and the CSRF token, which every response — kept or not — replaces
with this user's own (a fresh masked token each time, as Django's ``{% csrf_token %}`` gives).

**Only pages that had no side effects are kept**: a GET answered 200 with HTML, no flash message
pending or added, the session unchanged, no full personal value revealed (``jinpin.privacy``: those
are audited per view), and no SQL write while rendering. A page is kept on its second request within
the timeout (the first only records which tables it reads), so a crawler walking 20,000 deep pages
once each fills the cache with small dependency notes, not 20,000 pages. Entries expire after
``TIMEOUT`` seconds whatever happens (a backstop for a write made outside jinpin, e.g. in ``psql``).

Only with a shared cache (Redis: ``PAGE_CACHE``, on by default when one is configured); with the
per-process LocMem cache one process could not see another's writes, so nothing is kept and writes are not
read either. Web and worker processes must agree on it (they do by default: the same cache settings).
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.html import escape

from . import cache as jcache

log = logging.getLogger(__name__)

#: view name -> "scope" (the same page for everyone of one role, county and school) or "user"
VIEWS: dict[str, str] = {
    "home": "user",  # the user's own recent downloads
    "dashboard": "scope",
    "audit_log": "scope",
    "schools:school_list": "scope",
    "teachers:teacher_list": "scope",
    "teachers:compliance": "scope",
    "pairing:agreement_list": "scope",
    "pairing:activity_list": "scope",
    "pairing:compliance": "scope",
    "pairing:coverage": "scope",
    "subsidies:household_list": "scope",
    "subsidies:student_list": "scope",
    "subsidies:award_list": "scope",
    "subsidies:payout_list": "scope",
    "subsidies:payout_detail": "user",  # "your own batch" for the officer who made it
    "subsidies:reconciliation": "scope",
    "subsidies:anomalies": "scope",
    "inspections:campaign_list": "scope",
    "inspections:coverage": "scope",
    "inspections:finding_list": "scope",
}

#: writes a database trigger makes in other tables (jinpin/migrations/0004_audit_hash_chain.py)
TRIGGERED: dict[str, tuple[str, ...]] = {
    "auditlog_logentry": ("jinpin_auditpending", "jinpin_auditchain"),
    "jinpin_auditpending": ("jinpin_auditchain",),
}

TIMEOUT = 600
PH_CSRF = "\ue000jinpin-csrf\ue001"
PH_WHO = "\ue000jinpin-who\ue001"
_PH_CSRF_B = PH_CSRF.encode()
_PH_WHO_B = PH_WHO.encode()

_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY|MERGE\s+INTO)\s+(?:ONLY\s+)?"
    r'(?:"?public"?\.)?"?([A-Za-z_][A-Za-z0-9_]*)"?',
    re.IGNORECASE,
)

#: the page being rendered in this context (its reads and writes are recorded), or None
_capture: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar("jinpin_page_capture", default=None)
#: bumped whenever a page reads table stamps: a transaction's repeated writes to one table move its stamp at
#: once only the first time unless a page has looked in between (see ``_note_write``)
_epoch = [0]
_known: frozenset | None = None
_release: str | None = None


def enabled() -> bool:
    return bool(getattr(settings, "PAGE_CACHE", False))


def tracking() -> bool:
    """Whether writes move their tables' stamps: with kept pages, and whenever the cache is shared (Redis), where
    values other than pages are kept by the same rule (``kept``) even with ``PAGE_CACHE`` off."""
    return enabled() or settings.CACHES["default"]["BACKEND"] == "jinpin.cache.PrefixedRedisCache"


def known_tables() -> frozenset:
    """Every table of a jinpin model (and Django's and the libraries' own), lower case."""
    global _known
    if _known is None:
        _known = frozenset(m._meta.db_table.lower() for m in apps.get_models(include_auto_created=True))
    return _known


def _area(table: str) -> str:
    return "t:" + table


def _tables_in(sql: str) -> set:
    known = known_tables()
    return {t for t in _IDENT.findall(sql.lower()) if t in known}


def _written(sql: str) -> set:
    """The tables a statement writes, or an empty set for a statement that writes none of jinpin's."""
    known = known_tables()
    head = sql.lstrip()[:8].upper()
    if head.startswith("TRUNCATE"):  # TRUNCATE a, b, c
        return _tables_in(sql)
    found = {t.lower() for t in _WRITE.findall(sql)}
    found &= known
    for t in list(found):
        found.update(TRIGGERED.get(t, ()))
    return found


class _Capture:
    __slots__ = ("tables", "areas", "wrote")

    def __init__(self):
        self.tables: set = set()
        self.areas: dict = {}
        self.wrote = False


class _MoveOnCommit:
    """One per transaction: moves the stamps of every table the transaction wrote, after it commits."""

    __slots__ = ("areas",)

    def __init__(self):
        self.areas: set = set()

    def __call__(self):
        _safe_move(self.areas)


def _safe_move(areas) -> None:
    if not areas:
        return
    try:
        jcache._move(*areas)
    except Exception:  # noqa: BLE001 - the cache down must not fail a write; kept pages expire by TIMEOUT
        log.warning("page cache: could not move the stamps of %s", sorted(areas), exc_info=True)


def _note_write(conn, tables: set) -> None:
    areas = {_area(t) for t in tables}
    if not conn.in_atomic_block:  # autocommit: the statement is committed
        _safe_move(areas)
        return
    state = conn.__dict__.get("_jinpin_pagecache")
    if state is None or state[0] is not conn.run_on_commit:
        # a new transaction (Django gives every transaction, and every savepoint rollback, a new list)
        cb = _MoveOnCommit()
        conn.on_commit(cb)
        state = conn.__dict__["_jinpin_pagecache"] = [conn.run_on_commit, cb, {}]
    state[1].areas.update(areas)
    moved = state[2]
    now = [a for a in areas if moved.get(a) != _epoch[0]]
    if now:
        _safe_move(now)
        for a in now:
            moved[a] = _epoch[0]


def watch(execute, sql, params, many, context):
    """The execute wrapper on every connection: notes writes (always) and reads (while a page renders)."""
    result = execute(sql, params, many, context)
    cap = _capture.get()
    if sql.lstrip()[:6].upper() == "SELECT":
        if cap is not None:
            cap.tables.update(_tables_in(sql))
        return result
    written = _written(sql) if tracking() else None
    if written:
        if cap is not None:
            cap.wrote = True
        _note_write(context["connection"], written)
    elif cap is not None:
        cap.tables.update(_tables_in(sql))
    return result


def wrote(*tables: str, using: str = "default") -> None:
    """For writes Django's cursor does not see (``COPY … FROM STDIN`` through psycopg): the tables written."""
    from django.db import connections

    if not tracking():
        return
    found = {t.lower() for t in tables}
    for t in list(found):
        found.update(TRIGGERED.get(t, ()))
    _note_write(connections[using], found)


def install(sender=None, connection=None, **kwargs) -> None:
    """``connection_created`` receiver: the wrapper first in the list, so that a test's or a benchmark's own
    ``execute_wrapper`` (pushed and popped around it) never removes it."""
    if connection is not None and watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watch)


def recording_areas() -> dict | None:
    """The dict ``jinpin.cache.stamp`` records the areas a rendering page reads in, or None."""
    cap = _capture.get()
    return cap.areas if cap is not None else None


# -- values kept by the same rule -----------------------------------------------------
def _store(key: str, deps: list | None, before: dict, cap: _Capture, value) -> str:
    """Keep ``value`` (made while ``cap`` recorded) with the stamps of what it read, or note its tables first:
    a value is kept from its second computation on, with the stamps read before that computation started, so a
    write committed while it was computed is never hidden. Returns what was done ("stored" or "noted")."""
    tables = {_area(t) for t in cap.tables}
    if deps and tables <= set(before):
        stamps = {a: before[a] for a in tables}
        stamps.update(cap.areas)
        cache.set(key, {"stamps": stamps, "value": value}, TIMEOUT)
        return "stored"
    cache.set(key + ":deps", sorted(tables | set(deps or ())), TIMEOUT)
    return "noted"


def kept(kind: str, parts, compute):
    """``compute()``'s value (plain data), kept in the shared cache while every table it read is unchanged — the
    rule of kept pages, for a piece of a page that is rendered anyway (a filter's choices). ``parts`` is what the
    value depends on besides the tables (the scope, the language, the query; ``repr``-able): the key is ``kind``
    and a digest of them and of the release. Read tables are recorded, not declared; a page being recorded around
    it learns them too (on a hit as on a miss). Without a shared cache, or with the cache down, ``compute()`` each
    time."""
    if not tracking():
        return compute()
    key = f"{kind}:" + hashlib.sha1(repr((release(), parts)).encode()).hexdigest()
    outer = _capture.get()
    try:
        got = cache.get_many([key, key + ":deps"])
        entry, deps = got.get(key), got.get(key + ":deps")
        if entry is not None and _stamps(entry["stamps"]) == entry["stamps"]:
            if outer is not None:
                outer.tables.update(a[2:] for a in entry["stamps"] if a.startswith("t:"))
                outer.areas.update((a, v) for a, v in entry["stamps"].items() if not a.startswith("t:"))
            return entry["value"]
        before = _stamps(deps) if deps else {}
    except Exception:  # noqa: BLE001 - the cache down: compute as if nothing were kept
        log.warning("kept value %s: cache unavailable", key, exc_info=True)
        return compute()
    cap = _Capture()
    token = _capture.set(cap)
    try:
        value = compute()
    finally:
        _capture.reset(token)
    if outer is not None:
        outer.tables |= cap.tables
        outer.areas.update(cap.areas)
        outer.wrote = outer.wrote or cap.wrote
    if not cap.wrote:
        try:
            _store(key, deps, before, cap, value)
        except Exception:  # noqa: BLE001
            log.warning("kept value %s: could not keep it", key, exc_info=True)
    return value


# -- the middleware ---------------------------------------------------------------
def release() -> str:
    """What this deployment's pages are made by: the code, templates and translations (names, sizes and
    times of change), so that a new release never serves a page its predecessor rendered."""
    global _release
    if _release is None:
        base = Path(settings.BASE_DIR)
        h = hashlib.sha1()
        for pattern in ("*/*.py", "*/*/*.py", "templates/**/*", "locale/**/*.mo", "*/templates/**/*"):
            for p in sorted(base.glob(pattern)):
                if ".venv" in p.parts or not p.is_file():
                    continue
                st = p.stat()
                h.update(f"{p.relative_to(base)}:{st.st_size}:{st.st_mtime_ns};".encode())
        _release = h.hexdigest()[:12]
    return _release


def _pending_messages(request) -> int:
    storage = getattr(request, "_messages", None)
    return len(storage) if storage is not None else 0


def _plan(request):
    """The kept page's key for this request, or None when it may not be served from or kept in the cache."""
    if request.method != "GET" or not enabled():
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    kind = VIEWS.get(match.view_name)
    if kind is None or _pending_messages(request):
        return None
    scope = request.scope
    if not scope.role:
        return None
    who = (
        scope.role,
        scope.county_id,
        scope.school_id,
        tuple(sorted(scope.inspector_county_ids)),
        user.is_staff,
        user.is_superuser,
        user.pk if kind == "user" else None,
    )
    raw = repr(
        (release(), match.view_name, translation.get_language(), who, timezone.localdate(), request.get_full_path())
    )
    return "page:" + hashlib.sha1(raw.encode()).hexdigest()


def _personal(request, body: bytes) -> bytes:
    from django.middleware.csrf import get_token

    if _PH_WHO_B in body:
        user = request.user
        body = body.replace(_PH_WHO_B, escape(user.get_full_name() or user.get_username()).encode())
    if _PH_CSRF_B in body:
        body = body.replace(_PH_CSRF_B, get_token(request).encode())
    return body


def context_processor(request):
    """The user's name for the layout; placeholders for it and the CSRF token while a page is recorded."""
    if request.__dict__.get("_jinpin_page_capture"):
        return {"csrf_token": PH_CSRF, "who": PH_WHO}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"who": user.get_full_name() or user.get_username()}


def _stamps(areas) -> dict:
    _epoch[0] += 1
    return jcache.stamps(areas)


class PageCacheMiddleware:
    """Serves a kept page while every table and figure it was made from is unchanged (the module's docstring).
    Last in ``MIDDLEWARE``: every other middleware (session, user, scope, language, messages, CSRF, the
    private-response headers, the reveal audit) still runs for a kept page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = _plan(request)
        if key is None:
            return self.get_response(request)
        deps_key = key + ":deps"
        try:
            got = cache.get_many([key, deps_key])
            entry, deps = got.get(key), got.get(deps_key)
            if entry is not None and _stamps(entry["stamps"]) == entry["stamps"]:
                page = entry["value"]
                response = HttpResponse(_personal(request, page["body"]), content_type=page["type"])
                response["X-Page-Cache"] = "hit"
                return response
            before = _stamps(deps) if deps else {}
        except Exception:  # noqa: BLE001 - the cache down: render as if nothing were kept
            log.warning("page cache unavailable", exc_info=True)
            return self.get_response(request)
        cap = _Capture()
        token = _capture.set(cap)
        request._jinpin_page_capture = True
        try:
            response = self.get_response(request)
        finally:
            _capture.reset(token)
            request._jinpin_page_capture = False
        if getattr(response, "streaming", False):
            return response
        raw = response.content
        response.content = _personal(request, raw)
        if not self._keepable(request, response, cap):
            response["X-Page-Cache"] = "miss"
            return response
        try:
            # the first request (or a new branch) notes what it reads; the page is kept from the next one
            response["X-Page-Cache"] = _store(key, deps, before, cap, {"body": raw, "type": response["Content-Type"]})
        except Exception:  # noqa: BLE001
            log.warning("page cache: could not keep %s", request.path, exc_info=True)
        return response

    def _keepable(self, request, response, cap) -> bool:
        if response.status_code != 200 or cap.wrote or not response.get("Content-Type", "").startswith("text/html"):
            return False
        if request.__dict__.get("_jinpin_reveals") or _pending_messages(request):
            return False
        session = request.__dict__.get("session")
        if session is not None and session.modified:
            return False
        return True


def copy_expert(cursor, sql: str, buf) -> None:
    """``cursor.copy_expert(sql, buf)`` (psycopg's raw cursor: Django's wrapper does not see it), noting the table
    written for the page cache."""
    cursor.copy_expert(sql, buf)
    if sql.lstrip()[:4].upper() == "COPY" and "FROM STDIN" in sql.upper():
        wrote(*_written(sql))
