"""A draw record of 300,000 households is a jsonb of megabytes: compress it with lz4 (PostgreSQL 14+),
several times cheaper to write than the default pglz (benchmarks/bench_draw.py --db).

Only where the server was built with lz4 (Debian's PostgreSQL 15 is; the embedded PostgreSQL 18 wheel
is not): elsewhere the columns keep the default pglz, which stores the same values."""

from django.db import migrations

COLUMNS = ("population", "sample", "strata")


def has_lz4(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if has_lz4(cursor):
            for c in COLUMNS:
                cursor.execute(f"ALTER TABLE inspections_draw ALTER COLUMN {c} SET COMPRESSION lz4")


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for c in COLUMNS:
            cursor.execute(f"ALTER TABLE inspections_draw ALTER COLUMN {c} SET COMPRESSION default")


class Migration(migrations.Migration):
    dependencies = [("inspections", "0003_draw_record_fields_deferred")]

    operations = [migrations.RunPython(forwards, backwards)]
