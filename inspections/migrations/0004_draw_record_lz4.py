"""A draw record of 300,000 households is a jsonb of megabytes: compress it with lz4 (PostgreSQL 14+),
several times cheaper to write than the default pglz (benchmarks/bench_draw.py --db)."""

from django.db import migrations

COLUMNS = ("population", "sample", "strata")


class Migration(migrations.Migration):
    dependencies = [("inspections", "0003_draw_record_fields_deferred")]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE inspections_draw ALTER COLUMN {c} SET COMPRESSION lz4" for c in COLUMNS],
            [f"ALTER TABLE inspections_draw ALTER COLUMN {c} SET COMPRESSION default" for c in COLUMNS],
        )
    ]
