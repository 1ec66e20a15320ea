"""Teachers found by part of a name or digits of the resident ID on 100,000 teachers: pg_trgm GIN
indexes on the expressions the list pages query (``UPPER(name) LIKE UPPER('%…%')`` from
``icontains``, ``id_number LIKE '…%'`` / ``'%…'``). PostgreSQL only (the embedded SQLite
of ``make run`` has no pg_trgm and needs no index at its size)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("teacher_name_trgm", "teachers_teacher", "UPPER(name) gin_trgm_ops"),
    ("teacher_id_number_trgm", "teachers_teacher", "id_number gin_trgm_ops"),
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
    dependencies = [("teachers", "0003_service_period_no_overlap")]

    operations = [TrigramExtension(), migrations.RunPython(forward, backward)]
