"""Database helpers of the teachers app."""

from contextlib import contextmanager

from django.db import connection, transaction


def log_many(model, entries, *, action, actor, request=None, **data) -> int:
    """Audit entries for rows written in bulk, in one INSERT (``audit.log`` writes one per call).

    ``entries`` are ``(pk, text, changes)``: the row's id, how it reads in the log, and
    ``{field: [before, after]}``; ``data`` goes into every entry's ``additional_data``.
    """
    from django.contrib.contenttypes.models import ContentType

    from jinpin import audit

    ct = ContentType.objects.get_for_model(model)
    addr = audit.remote_addr(request)
    rows = [
        audit.LogEntry(
            content_type=ct, object_pk=str(pk), object_id=pk, object_repr=text, action=action, changes=changes or {},
            actor=actor, remote_addr=addr, additional_data=data or None,
        )
        for pk, text, changes in entries
    ]
    audit.LogEntry.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


@contextmanager
def no_jit():
    """Run the block in a transaction with PostgreSQL's JIT compiler off.

    The compliance and honours queries scan ~100,000 teachers: PostgreSQL then decides to
    JIT-compile them, which costs 0.5–2 s and saves nothing (benchmarks/bench_teachers.py:
    the honours count goes from 2.5 s to 0.4 s). ``SET LOCAL`` ends with the transaction.
    A project-wide ``-c jit=off`` in the database OPTIONS would make this unnecessary.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL jit = off")
        yield
