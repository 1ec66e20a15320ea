"""A draw's population, stored compactly: the ids in canonical order as a ``bigint[]`` and the runs of
equal strata as ``[stratum, count]`` (a few thousand for 300,000 households), instead of a JSON list of
``[stratum, id]`` pairs (megabytes to parse and compress at every draw; benchmarks/bench_draw.py --db).

Existing records are converted here, losslessly for any list (a record that was not in canonical order
stays so, and still fails verification); ``0007`` then drops the JSON column. Backwards rebuilds it."""

import django.contrib.postgres.fields
from django.db import migrations, models


def compact(pairs):
    runs, ids = [], []
    for stratum, ident in pairs:
        if runs and runs[-1][0] == stratum:
            runs[-1][1] += 1
        else:
            runs.append([stratum, 1])
        ids.append(int(ident))
    return runs, ids


def forwards(apps, schema_editor):
    Draw = apps.get_model("inspections", "Draw")
    for pk in Draw.objects.values_list("pk", flat=True).order_by("pk"):
        population = Draw.objects.values_list("population", flat=True).get(pk=pk)
        runs, ids = compact(population or [])
        Draw.objects.filter(pk=pk).update(population_runs=runs, population_ids=ids)


def backwards(apps, schema_editor):
    Draw = apps.get_model("inspections", "Draw")
    for pk, runs, ids in Draw.objects.values_list("pk", "population_runs", "population_ids").order_by("pk"):
        strata = [s for s, n in runs for _ in range(n)]
        Draw.objects.filter(pk=pk).update(population=[[s, i] for s, i in zip(strata, ids, strict=False)])


class Migration(migrations.Migration):
    dependencies = [("inspections", "0005_finding_from_anomaly")]

    operations = [
        migrations.AddField(
            model_name="draw",
            name="population_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), default=list, size=None, verbose_name="population ids"
            ),
        ),
        migrations.AddField(
            model_name="draw",
            name="population_runs",
            field=models.JSONField(default=list, verbose_name="population strata"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
