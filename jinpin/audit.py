"""The audit log: every write by a person, every export and download.

Built on django-auditlog: models registered with ``audit.register(Model)`` get
a log entry (actor, time, field changes, remote address) written by signals in
the same transaction as the change; ``AuditlogMiddleware`` supplies the actor
and address. What signals cannot see -- bulk writes by services, exports,
downloads, imports -- is written with ``audit.log(...)``.

Entries are read-only for everyone: the admin offers no change or delete, and
on PostgreSQL a trigger (migration ``jinpin.0002``) refuses UPDATE and DELETE.
Every entry, however written, is hash-chained at commit (``jinpin/auditchain.py``).
"""

from __future__ import annotations

from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog

register = auditlog.register
Action = LogEntry.Action

__all__ = ["register", "log", "log_many", "log_changes", "log_reveal", "Action", "LogEntry", "set_actor", "remote_addr"]


def remote_addr(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR")


def log(instance, *, action: int = Action.ACCESS, actor=None, request=None, changes=None, **data):
    """Write one audit entry about ``instance``.

    ``changes`` is ``{field: [before, after]}`` (auditlog's format); ``data`` goes
    into ``additional_data`` (what was exported, how many rows, ...). Runs in the
    caller's transaction.
    """
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=action,
        actor=actor,
        remote_addr=remote_addr(request),
        changes=changes or {},
        additional_data=data or None,
    )


def log_many(model, entries, *, action: int, actor, request=None, **data) -> int:
    """Audit entries for rows written in bulk, in one INSERT (``log`` writes one per call).

    ``entries`` are ``(pk, text, changes)``: the row's id, how it reads in the log, and
    ``{field: [before, after]}``; ``data`` goes into every entry's ``additional_data``.
    Runs in the caller's transaction.
    """
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(model)
    addr = remote_addr(request)
    rows = [
        LogEntry(
            content_type=ct,
            object_pk=str(pk),
            object_id=pk,
            object_repr=text,
            action=action,
            changes=changes or {},
            actor=actor,
            remote_addr=addr,
            additional_data=data or None,
        )
        for pk, text, changes in entries
    ]
    LogEntry.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def log_changes(changed, *, actor, request=None, action: int = Action.UPDATE, **data) -> int:
    """Before/after entries for objects of one model changed by ``bulk_update`` (which signals do not see).

    ``changed`` is ``[(obj, {field: (before, after)})]``; objects without a change are skipped. Writes
    through ``log_many``; returns the entries written.
    """
    from django.utils.encoding import smart_str

    def text(value) -> str:
        return "None" if value is None else smart_str(value)

    rows = [(obj, diff) for obj, diff in changed if diff]
    if not rows:
        return 0
    entries = [
        (obj.pk, smart_str(obj)[:200], {k: [text(before), text(after)] for k, (before, after) in diff.items()})
        for obj, diff in rows
    ]
    return log_many(type(rows[0][0]), entries, action=action, actor=actor, request=request, **data)


def log_reveal(instance, *, fields, place: str, request=None, user_id=None, count: int = 1, **data):
    """A resident ID, bank account or phone number of ``instance`` was shown in full (jinpin.privacy):
    who saw which fields where. ``user_id`` names the person when there is no request (an export
    written by a worker); ``count`` is how many values a file held."""
    actor = None
    if request is None and user_id is not None:
        from django.contrib.auth import get_user_model

        actor = get_user_model()._default_manager.filter(pk=user_id).first()
    return log(
        instance, request=request, actor=actor, event="reveal", fields=list(fields), place=place, count=count, **data
    )
