"""Search by part of a name or the last digits of a resident ID, on a million pupils: pg_trgm GIN
indexes on the expressions the list pages query (``UPPER(name) LIKE UPPER('%…%')`` from
``icontains``, ``id_number LIKE '%…'`` from ``endswith``). PostgreSQL only (the embedded SQLite
of ``make run`` has no pg_trgm and needs no index at its size)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("student_name_trgm", "subsidies_student", "UPPER(name) gin_trgm_ops"),
    ("student_id_number_trgm", "subsidies_student", "id_number gin_trgm_ops"),
    ("household_head_name_trgm", "subsidies_household", "UPPER(head_name) gin_trgm_ops"),
    ("household_head_id_trgm", "subsidies_household", "head_id_number gin_trgm_ops"),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, expr in INDEXES:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expr})")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _expr in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0013_anomaly_snapshot")]

    operations = [TrigramExtension(), migrations.RunPython(forward, backward)]
