"""The JSON population column goes (its content is in ``population_runs`` / ``population_ids`` since
``0006``); the new columns are compressed with lz4 where the server has it, as ``0004`` did."""

from importlib import import_module

from django.db import migrations

lz4 = import_module("inspections.migrations.0004_draw_record_lz4")
COLUMNS = ("population_runs", "population_ids")


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if lz4.has_lz4(cursor):
            for c in COLUMNS:
                cursor.execute(f"ALTER TABLE inspections_draw ALTER COLUMN {c} SET COMPRESSION lz4")


class Migration(migrations.Migration):
    dependencies = [("inspections", "0006_draw_population_compact")]

    operations = [
        migrations.RemoveField(model_name="draw", name="population"),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
