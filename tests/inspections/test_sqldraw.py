"""The draw computed in PostgreSQL (inspections/sqldraw.py) gives exactly what the reference method of
verify_draw.py gives: same canonical order, population hash, per-stratum quota and sample; and the
snapshots frozen by one INSERT … SELECT are those the ORM reads."""

import pytest
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Substr

from inspections import services, sqldraw
from inspections.models import CityDepartment, DrawItem
from inspections.verify_draw import stratified_draw

from .test_draws import propose

# strata of different lengths, cases, non-ASCII and a separator: code-point order must agree
PREFIXES = ["中", "a", "B", "é", "Z", "b", "/", "0"]


@pytest.fixture
def departments(db):
    CityDepartment.objects.all().delete()
    n = 0
    for j, p in enumerate(PREFIXES):
        for i in range(3 + 5 * j):
            n += 1
            CityDepartment.objects.create(code=f"T{n:04d}", name=f"{p}{i:03d}", order=n % 7)
    return CityDepartment.objects.order_by("?").values_list(Substr("name", 1, 1), "pk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "seed,params",
    [
        ("20161024", {"rate": "0.1069", "minimum": 1, "rounding": "half_up"}),
        ("x|y 中", {"rate": "0.25", "minimum": 0, "rounding": "half_up"}),  # some strata get 0
        ("7", {"rate": "0.5", "minimum": 2, "rounding": "half_up"}),
        ("000123", {"count": 4}),
    ],
)
def test_database_draw_equals_the_reference_method(departments, seed, params):
    reference = stratified_draw(list(departments), seed, params)
    with transaction.atomic():
        got = sqldraw.draw(departments, seed, params)
        with __import__("django").db.connection.cursor() as cur:
            cur.execute(f"SELECT stratum, id FROM {sqldraw.POP} ORDER BY stratum, id")
            canonical = [(s, int(i)) for s, i in cur.fetchall()]
    assert canonical == reference["population"]
    assert got["population_hash"] == reference["population_hash"]
    assert got["population_size"] == len(reference["population"])
    assert got["strata"] == reference["strata"]
    assert got["sample"] == reference["sample"] and got["sample_hash"] == reference["sample_hash"]


@pytest.mark.django_db
def test_an_empty_population_hashes_like_the_reference(db):
    empty = CityDepartment.objects.filter(pk__in=[]).values_list(F("name"), "pk")
    with transaction.atomic():
        got = sqldraw.draw(empty, "1", {"rate": "0.1", "minimum": 1})
    ref = stratified_draw([], "1", {"rate": "0.1", "minimum": 1})
    assert got["population_hash"] == ref["population_hash"] and got["sample"] == [] and got["population_size"] == 0


@pytest.mark.django_db
def test_frozen_snapshots_are_what_the_registry_said_on_the_registry_date(sv):
    d = propose(sv)
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    items = list(DrawItem.objects.filter(draw=d).order_by("position"))
    assert [(i.stratum, i.object_id) for i in items] == [tuple(p) for p in d.sample]
    expected = services.household_snapshots([i.object_id for i in items], date=sv.campaign.registry_date)
    for it in items:
        assert it.snapshot == expected[it.object_id]
        assert it.household_id == it.object_id and it.village_id == expected[it.object_id]["village_id"]
    assert services.draw_verify(draw=d)[0]


@pytest.mark.django_db
def test_set_based_household_population_is_the_registry_query(sv):
    import datetime as dt

    from subsidies.models import HouseholdStatus

    # a household lifted, then returned to poverty before the registry date; another lifted after it
    a, b = (it for it in services.population(group=sv.group, kind="households")[0][:2])
    HouseholdStatus.objects.create(household_id=a[1], status="lifted", effective_on=dt.date(2016, 3, 1))
    HouseholdStatus.objects.create(household_id=a[1], status="returned", effective_on=dt.date(2016, 6, 1))
    HouseholdStatus.objects.create(household_id=b[1], status="lifted", effective_on=dt.date(2016, 10, 21))
    orm, _filters = services.population(group=sv.group, kind="households")
    counties = [sv.county_a.pk]
    sql, params = sqldraw.poor_households(counties, sv.campaign.registry_date)
    with __import__("django").db.connection.cursor() as cur:
        cur.execute(sql, params)
        got = sorted((s, int(i)) for s, i in cur.fetchall())
    assert got == sorted(orm) and a in got and b in got and len(got) == 34


@pytest.mark.django_db
def test_the_draw_page_and_its_verification_speak_chinese(sv, client_for):
    from inspections.models import Draw

    d = propose(sv)
    c = client_for(sv.inspector)
    page = c.get(f"/inspections/draws/{d.pk}/").content.decode()
    assert "贫困户（已核实或返贫）" in page and "四舍五入" in page and "10.69%" in page
    assert "poor households (verified" not in page and "{&#x27;rate&#x27;" not in page
    page = c.post(f"/inspections/draws/{d.pk}/verify/", follow=True).content.decode()
    assert "核验通过" in page and "共 3 层，总体 34，样本 4" in page and "strata, population" not in page
    pop = Draw.objects.get(pk=d.pk).population
    pop[0][1] += 100000
    Draw.objects.filter(pk=d.pk).update(population_ids=[i for _s, i in pop])  # the stored ids
    page = c.post(f"/inspections/draws/{d.pk}/verify/", follow=True).content.decode()
    assert "核验未通过" in page and "总体哈希不一致" in page and "population hash" not in page
