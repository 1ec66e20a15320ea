"""1- and 2-character name searches (a Chinese surname or given name), which trigrams cannot serve:
GIN indexes on the name's characters, ``regexp_split_to_array(UPPER(name), '')`` (jinpin/search.py).
PostgreSQL only."""

from django.db import migrations

INDEXES = [
    ("student_name_chars", "subsidies_student", "name"),
    ("household_head_name_chars", "subsidies_household", "head_name"),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (regexp_split_to_array(UPPER({column}), ''))"
            )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0014_search_trigram_indexes")]

    operations = [migrations.RunPython(forward, backward)]
