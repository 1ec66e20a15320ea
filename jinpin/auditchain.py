"""The audit log's hash chain: its canonical form, its verification, and its export for auditors.

**The chain.** Every audit entry (``auditlog_logentry``) has one link in ``jinpin_auditchain``: its
position ``seq`` (1, 2, 3, ... without gaps) and ``hash = SHA-256(prev + "\\n" + canonical)``, hex, where
``prev`` is the previous link's hash (64 zeros before the first) and ``canonical`` is the entry as JSON.
A database trigger writes the links (migration ``jinpin.0004``): whatever inserts an entry -- auditlog's
signals, ``audit.log``, ``audit.log_many``'s bulk INSERT, raw SQL -- the entry is chained in the same
transaction, so an entry never exists without its link.

**Canonical form.** A JSON object with the keys of ``FIELDS`` (every column of the entry), each value a
string or null, keys sorted, no whitespace (``separators=(",", ":")``), non-ASCII written as itself,
encoded as UTF-8. Values: numbers in decimal; ``changes``, ``additional_data`` and ``serialized_data``
as PostgreSQL prints the stored jsonb; ``remote_addr`` as the bare address; ``timestamp`` in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

**Order and concurrency.** One chain for the whole log. Each INSERT notes its entries' ids; a trigger
deferred to the commit then takes a transaction-level advisory lock, reads the head and appends the
transaction's links in id order (its insertion order); the lock is released when the commit ends. So transactions append
one after the other, each holding the lock only while it commits (a long import does not stop everyone
else's audit entries), and a transaction that rolls back leaves neither entries nor links. Positions
follow commit order, not id order: that is why the position is stored. The application connects at READ
COMMITTED (Django's default), so the trigger's read of the head, made after it got the lock, sees the
previous writer's committed links. ``link_pending()`` chains the current transaction's entries at once
(``SET CONSTRAINTS … IMMEDIATE``), for a check inside the writing transaction (tests).

**Verification** recomputes every link from the entries in Python (this module, independently of the
trigger's SQL) and names the first entry that does not match; ``scripts/verify_audit_export.py`` does the
same on an exported copy with nothing but Python's standard library.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64

#: (key, SQL over the entry ``entry``): the canonical JSON's members, in key order (migration jinpin.0004 holds a copy)
FIELDS = [
    ("action", "entry.action::text"),
    ("actor_email", "entry.actor_email::text"),
    ("actor_id", "entry.actor_id::text"),
    ("additional_data", "entry.additional_data::text"),
    ("changes", "entry.changes::text"),
    ("changes_text", "entry.changes_text"),
    ("cid", "entry.cid::text"),
    ("content_type_id", "entry.content_type_id::text"),
    ("id", "entry.id::text"),
    ("object_id", "entry.object_id::text"),
    ("object_pk", "entry.object_pk::text"),
    ("object_repr", "entry.object_repr"),
    ("remote_addr", "host(entry.remote_addr)"),
    ("remote_port", "entry.remote_port::text"),
    ("serialized_data", "entry.serialized_data::text"),
    ("timestamp", """to_char(entry."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""),
]
KEYS = [k for k, _sql in FIELDS]

MESSAGES = {
    "changed": _("Entry %(entry)s (position %(seq)s) no longer matches its hash: it was changed after it was written."),
    "deleted": _("Entry %(entry)s (position %(seq)s) is missing: it was deleted."),
    "gap": _("Position %(seq)s is missing from the chain: the link before entry %(entry)s was removed."),
    "unlinked": _(
        "Entry %(entry)s has no place in the chain (and %(more)s more): it was written while the chain trigger was off."
    ),
}


def canonical(entry: dict) -> str:
    """The entry (``{key: str | None}`` for every key of ``FIELDS``) as canonical JSON."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link_hash(prev: str, entry: dict) -> str:
    return hashlib.sha256((prev + "\n" + canonical(entry)).encode("utf-8")).hexdigest()


def _rows_sql() -> str:
    cols = ", ".join(sql for _k, sql in FIELDS)
    return (
        f"SELECT link.seq, link.entry_id, link.hash, entry.id IS NOT NULL, {cols} "
        "FROM jinpin_auditchain link LEFT JOIN auditlog_logentry entry ON entry.id = link.entry_id ORDER BY link.seq"
    )


def chain_rows():
    """``(seq, entry_id, stored_hash, entry_dict_or_None)`` for every link, in chain order (a server-side cursor)."""
    with connection.chunked_cursor() as cur:
        cur.execute(_rows_sql())
        while True:
            batch = cur.fetchmany(5000)
            if not batch:
                return
            for seq, entry_id, stored, exists, *values in batch:
                yield seq, entry_id, stored, dict(zip(KEYS, values, strict=True)) if exists else None


@dataclass
class ChainResult:
    ok: bool = True
    checked: int = 0
    head_seq: int | None = None
    head_hash: str = ""
    first_bad_entry: int | None = None
    first_bad_seq: int | None = None
    problems: list[dict] = field(default_factory=list)


def link_pending() -> None:
    """Chain the entries this transaction wrote so far now rather than at commit (then for the rest of it)."""
    if connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS jinpin_audit_chain IMMEDIATE")


def verify_chain(progress=None) -> ChainResult:
    """Recompute the whole chain; stop at the first link that does not match and name its entry.

    One pass over a server-side cursor: memory stays flat, about a second per 100,000 entries.
    """
    link_pending()  # in the writing transaction (tests), its own entries are checked too
    res = ChainResult()
    prev, expected_seq = GENESIS, 1
    for seq, entry_id, stored, entry in chain_rows():
        bad = None
        if seq != expected_seq:
            bad = {"code": "gap", "seq": expected_seq, "entry": entry_id}
        elif entry is None:
            bad = {"code": "deleted", "seq": seq, "entry": entry_id}
        elif link_hash(prev, entry) != stored:
            bad = {"code": "changed", "seq": seq, "entry": entry_id}
        if bad:
            res.ok, res.first_bad_entry, res.first_bad_seq = False, entry_id, seq
            res.problems.append({"check": "audit_chain", **bad})
            break
        prev, expected_seq = stored, seq + 1
        res.checked += 1
        res.head_seq, res.head_hash = seq, stored
        if progress is not None and not res.checked % 10000:
            progress(res.checked)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT min(entry.id), count(*) FROM auditlog_logentry entry "
            "WHERE NOT EXISTS (SELECT 1 FROM jinpin_auditchain link WHERE link.entry_id = entry.id)"
        )
        first_unlinked, n = cur.fetchone()
    if n:
        res.problems.append({"check": "audit_chain", "code": "unlinked", "entry": first_unlinked, "more": n - 1})
        if res.ok:
            res.ok, res.first_bad_entry = False, first_unlinked
    return res


def describe(problem: dict) -> str:
    """A stored problem as a sentence in the user's language."""
    from . import registry

    messages = {**MESSAGES, **registry.integrity_messages()}
    template = messages.get(problem.get("code"))
    if template is None:
        return str(problem)
    try:
        return str(template) % problem
    except (KeyError, TypeError, ValueError):
        return str(problem)


def verify(*, source: str, user=None, progress=None):
    """Verify the chain and run every registered integrity check (sealed payout batches, ...); store the result.

    Returns the new ``AuditVerification`` row. Read-only apart from that row.
    """
    from . import registry
    from .models import AuditVerification

    started = timezone.now()
    chain = verify_chain(progress=progress)
    problems = list(chain.problems)
    for check in registry.integrity_checks():
        problems.extend(check())
    return AuditVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=not problems,
        checked=chain.checked,
        head_seq=chain.head_seq,
        head_hash=chain.head_hash,
        first_bad_entry=chain.first_bad_entry,
        first_bad_seq=chain.first_bad_seq,
        problems=problems[:1000],
        source=source,
        run_by=user,
    )


def export_lines():
    """The log with its chain as JSON Lines: ``{"seq", "hash", "entry": {canonical members}}`` per line."""
    link_pending()
    for seq, _entry_id, stored, entry in chain_rows():
        yield json.dumps({"seq": seq, "hash": stored, "entry": entry}, ensure_ascii=False) + "\n"


# -- jobs (started from /audit/verify/) and the home panel -----------------------------------------
def _may_verify(scope, params) -> bool:
    from .scope import Role

    return scope.role in (Role.AUDITOR, Role.CITY_ADMIN)


def _run_verify(job, scope, progress):
    from . import jobs

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM jinpin_auditchain")
        n = cur.fetchone()[0]
    progress(0, n, force=True)
    result = verify(source="page", user=job.created_by, progress=progress)
    summary = _("Intact: %(n)s entries recomputed.") if result.ok else _("Broken: %(problem)s")
    return jobs.JobResult(
        rows=result.checked,
        summary=str(summary)
        % {"n": result.checked, "problem": describe(result.problems[0]) if result.problems else ""},
    )


def _run_export(job, scope, progress):
    from . import jobs

    target = jobs.result_dir() / f"{job.pk}.jsonl"
    n = 0
    with open(target, "w", encoding="utf-8") as f:
        for line in export_lines():
            f.write(line)
            n += 1
            if not n % 10000:
                progress(n)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return jobs.JobResult(file_path=target, filename=_("audit chain %(stamp)s.jsonl") % {"stamp": stamp}, rows=n)


def home_panel(request):
    """The auditor's (and city administrator's) home: the last verification's result."""
    from .models import AuditVerification

    if not _may_verify(request.scope, {}):
        return None
    return {
        "title": _("Audit trail verification"),
        "template": "jinpin/audit_verify_panel.html",
        "last": AuditVerification.objects.select_related("run_by").first(),
    }


def _verify_link(job):
    from django.urls import reverse

    if not job.is_finished:
        return None
    return reverse("audit_verify"), str(_("Open the verification results"))


def register() -> None:
    from . import jobs, registry

    jobs.register("audit.verify", _run_verify, permission=_may_verify, result_link=_verify_link)
    jobs.register("audit.export_chain", _run_export, permission=_may_verify)
    registry.home_panel(home_panel, order=5)
    from .scope import Role

    registry.menu(_("Audit verification"), "audit_verify", roles={Role.CITY_ADMIN, Role.AUDITOR}, order=901)
