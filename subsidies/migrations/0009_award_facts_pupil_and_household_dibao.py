"""Frozen facts keep the pupil's and the household's 低保 flags apart.

The facts used to hold one ``dibao`` (pupil's flag OR household's flag), from which the 低保 group
(the pupil's flag, or the household's while it is poor) cannot be told again: the anomaly report
re-judges every award from its facts with the batch's own rules (``subsidies.eligibility``), so
awards already made get ``pupil_dibao`` and ``household_dibao`` from the student and household
they name. PostgreSQL only (awards are only made there).
"""

from django.db import migrations

SQL = """
UPDATE {table} t SET {column} = (t.{column} - 'dibao') || jsonb_build_object(
    'pupil_dibao', st.is_dibao,
    'household_dibao', COALESCE(h.is_dibao, FALSE))
FROM subsidies_award a
JOIN subsidies_student st ON st.id = a.student_id
LEFT JOIN subsidies_household h ON h.id = (a.facts->>'household')::bigint
WHERE {join} AND t.{column} ? 'dibao'
"""


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute(SQL.format(table="subsidies_award", column="facts", join="a.id = t.id"))
        for column in ("old_facts", "new_facts"):
            cur.execute(SQL.format(table="subsidies_batchchange", column=column, join="a.id = t.award_id"))


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0008_scheme_stages_nine_year_nutrition")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
