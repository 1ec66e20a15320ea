"""Database helpers of the teachers app."""

from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def no_jit():
    """Run the block in a transaction with PostgreSQL's JIT compiler off.

    The compliance and honours queries scan ~100,000 teachers: PostgreSQL then decides to
    JIT-compile them, which costs 0.5–2 s and saves nothing (benchmarks/bench_teachers.py:
    the honours count goes from 2.5 s to 0.4 s). ``SET LOCAL`` ends with the transaction.
    A project-wide ``-c jit=off`` in the database OPTIONS would make this unnecessary.
    """
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
        yield
