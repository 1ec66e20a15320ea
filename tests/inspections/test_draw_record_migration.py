"""Migrations inspections.0006/0007 store a draw's population compactly (ids as ``bigint[]``, runs of
strata): records written before in the JSON form are converted, keep their content exactly, and verify
as before -- a good one matches, a tampered one (even one out of canonical order) still fails."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inspections import services
from inspections.models import Draw, compact, expand
from inspections.verify_draw import METHOD, stratified_draw

BEFORE = ("inspections", "0005_finding_from_anomaly")
AFTER = ("inspections", "0007_remove_draw_population")
PARAMS = {"rate": "0.25", "minimum": 1, "rounding": "half_up"}


def migrate_to(target):
    call_command("migrate", target[0], target[1], verbosity=0, stdout=io.StringIO())


def test_compact_form_is_lossless_for_any_list():
    pairs = [["b", 3], ["a", 1], ["a", 2], ["b", 4], ["中", 9], ["a", 5]]  # not canonical: runs repeat
    runs, ids = compact(pairs)
    assert runs == [["b", 1], ["a", 2], ["b", 1], ["中", 1], ["a", 1]] and ids == [3, 1, 2, 4, 9, 5]
    assert expand(runs, ids) == pairs and expand(*compact([])) == []


@pytest.mark.django_db(transaction=True)
def test_records_in_the_old_json_form_are_converted_and_still_verify(sv):
    population = [(f"3708300030{v:02d}", 1000 + 7 * v + i) for v in range(4) for i in range(1 + 3 * v)]
    good = stratified_draw(population, "0537", PARAMS)
    tampered = [list(p) for p in good["population"]]
    tampered[0], tampered[1] = tampered[1], tampered[0]  # out of canonical order
    migrate_to(BEFORE)
    try:
        OldDraw = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("inspections", "Draw")

        def old(pop, kind):
            return OldDraw.objects.create(
                group_id=sv.group.pk,
                kind=kind,
                status="proposed" if kind == "departments" else "superseded",
                method=METHOD,
                params=PARAMS,
                seed="0537",
                seed_source="typed",
                population=[list(p) for p in pop],
                population_size=len(pop),
                population_hash=good["population_hash"],
                sample=[list(p) for p in good["sample"]],
                sample_size=len(good["sample"]),
                sample_hash=good["sample_hash"],
                strata=good["strata"],
                created_by_id=sv.inspector.pk,
            ).pk

        ok_pk, bad_pk = old(good["population"], "departments"), old(tampered, "households")
    finally:
        migrate_to(AFTER)  # the conversion itself, then every later migration: the next test needs today's schema
        call_command("migrate", "inspections", verbosity=0, stdout=io.StringIO())

    converted = Draw.objects.get(pk=ok_pk)
    assert converted.population == [list(p) for p in good["population"]]
    assert converted.population_runs == [[s, n] for s, n, _k in good["strata"]]
    ok, notes = services.draw_verify(draw=converted)
    assert ok, notes
    bad = Draw.objects.get(pk=bad_pk)
    assert bad.population == tampered  # kept as it was, so it still fails
    ok, notes = services.draw_verify(draw=bad)
    assert not ok and any("规范顺序" in n or "canonical order" in n for n in notes), notes
