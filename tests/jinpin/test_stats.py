"""jinpin.stats: planner statistics refreshed after a bulk change, inside the transaction that made it, where
the role may."""

import pytest
from django.db import connection

from jinpin.stats import refresh_statistics
from schools.models import County
from tests.dbroles import as_app_role

pytestmark = pytest.mark.django_db


def _stats(table: str, column: str):
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        (tuples,) = cur.fetchone()
        cur.execute(
            "SELECT n_distinct FROM pg_stats WHERE schemaname = ANY(current_schemas(false)) AND tablename = %s "
            "AND attname = %s",
            [table, column],
        )
        row = cur.fetchone()
    return tuples, row[0] if row else None


def test_a_bulk_insert_is_counted_by_the_statistics_inside_its_own_transaction():
    table = County._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {table}")  # the statistics of the table as it was before the bulk step
    before = County.objects.count()
    County.objects.bulk_create(County(code=f"99{i:04d}", name=f"县{i}") for i in range(3000))
    assert refresh_statistics(County) == [table]
    tuples, distinct = _stats(table, "code")
    # the 3,000 uncommitted rows of this transaction are in the sample: every code distinct
    assert tuples >= before + 3000
    assert distinct == -1


def test_a_quick_refresh_counts_the_rows_and_restores_the_statistics_target():
    table = County._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {table}")
        cur.execute("SHOW default_statistics_target")
        (target,) = cur.fetchone()
    before = County.objects.count()
    County.objects.bulk_create(County(code=f"98{i:04d}", name=f"县{i}") for i in range(5000))
    assert refresh_statistics(County, quick=True) == [table]
    tuples, _distinct = _stats(table, "code")
    assert tuples >= 0.9 * (before + 5000)  # estimated from a sample of 3,000 rows
    with connection.cursor() as cur:
        cur.execute("SHOW default_statistics_target")
        assert cur.fetchone() == (target,)


def test_the_application_role_analyzes_where_the_server_lets_it_and_never_the_audit_log():
    """PostgreSQL 17+ (the embedded 18): setup_db_roles grants MAINTAIN (statistics, no rows), except on the audit
    log. PostgreSQL 15 (CI) has no such right: the tables the role does not own are left to autovacuum."""
    from auditlog.models import LogEntry

    with as_app_role():
        expected = [County._meta.db_table] if connection.pg_version >= 170000 else []
        assert refresh_statistics(County) == expected
        assert refresh_statistics(LogEntry) == []
