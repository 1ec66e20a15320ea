"""Before/after records of bulk writes (imports, the bank's return file), one audit entry per changed row.

django-auditlog's signals do not see ``bulk_update`` or ``QuerySet.update``; these entries are
what an auditor reads for such writes (who, when, which field from what to what), written in the
caller's transaction with one INSERT per 2,000 rows.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.encoding import smart_str

from jinpin import audit


def _text(value) -> str:
    return "None" if value is None else smart_str(value)


def log_changes(changed, *, actor, request=None, action=audit.Action.UPDATE, **data) -> int:
    """``changed``: ``[(obj, {field: (before, after)})]`` of one model. Returns the entries written."""
    rows = [(obj, diff) for obj, diff in changed if diff]
    if not rows:
        return 0
    ct = ContentType.objects.get_for_model(type(rows[0][0]))
    addr = audit.remote_addr(request)
    entries = [
        audit.LogEntry(
            content_type=ct,
            object_pk=str(obj.pk),
            object_id=obj.pk,
            object_repr=smart_str(obj)[:200],
            action=action,
            changes={k: [_text(before), _text(after)] for k, (before, after) in diff.items()},
            actor=actor,
            remote_addr=addr,
            additional_data=data or None,
        )
        for obj, diff in rows
    ]
    audit.LogEntry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)
