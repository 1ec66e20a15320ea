"""The database itself refuses two overlapping full-time periods of one teacher.

An exclusion constraint over half-open date ranges. ``int8range(teacher_id, teacher_id, '[]')``
with ``=`` lets the range GiST operator class compare teachers, so no ``btree_gist``
extension (which needs a superuser) is required.
"""

from django.db import migrations

CONSTRAINT = "service_period_no_full_time_overlap"


def forward(apps, schema_editor):
    schema_editor.execute(
        f"ALTER TABLE teachers_serviceperiod ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist ("
        " int8range(teacher_id, teacher_id, '[]') WITH =,"
        " daterange(start, \"end\", '[)') WITH &&"
        ") WHERE (full_time)"
    )


def backward(apps, schema_editor):
    schema_editor.execute(f"ALTER TABLE teachers_serviceperiod DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("teachers", "0002_seed_reference_data")]
    operations = [migrations.RunPython(forward, backward)]
