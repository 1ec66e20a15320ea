"""A running campaign over the ``world``: group 第九组 (t_inspector) assigned county A, with poor
households in three villages of county A and one of county B."""

import datetime as dt
import importlib
import io

import pytest
from django.apps import apps
from PIL import Image

from inspections.models import Assignment, Campaign, ChecklistItem, Group
from tests.factories import VillageFactory
from tests.subsidies.factories import household


def seed_reference_data():
    """The data migration's checklist, categories and departments (a transactional test's flush removes them)."""
    if not ChecklistItem.objects.exists():
        importlib.import_module("inspections.migrations.0002_seed_checklist_categories_departments").forward(apps, None)


def jpeg_bytes(size=(64, 48), exif_gps=True) -> bytes:
    """A small real JPEG whose EXIF carries a capture time and a GPS position."""
    img = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x0132] = "2016:10:25 10:30:00"
    if exif_gps:
        exif[0x8825] = {1: "N", 2: (35.0, 43.0, 30.0), 3: "E", 4: (116.0, 29.0, 15.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


VERIFIED = ("verified", "2016-01-15")


@pytest.fixture
def sv(world):
    seed_reference_data()
    w = world
    w.campaign = Campaign.objects.create(
        name="2016 年精准扶贫督查抽查",
        kind=Campaign.Kind.REGISTRY,
        starts_on=dt.date(2016, 10, 24),
        ends_on=dt.date(2016, 10, 28),
        registry_date=dt.date(2016, 10, 20),
        status=Campaign.Status.RUNNING,
        created_by=w.admin,
    )
    w.group = Group.objects.create(campaign=w.campaign, name="第九组")
    w.group.members.add(w.inspector)
    w.assignment = Assignment.objects.create(group=w.group, departments_to_draw=5)
    w.assignment.counties.add(w.county_a)
    w.village_a2 = VillageFactory(town=w.town_a, code="370830003002")
    w.village_a3 = VillageFactory(town=w.town_a, code="370830003003")
    w.households_a = []
    for v, n in ((w.village_a, 23), (w.village_a2, 9), (w.village_a3, 2)):
        for _ in range(n):
            w.households_a.append(household(v, VERIFIED))
    # not in the population: lifted before the registry date, and a county-B household
    w.lifted_a = household(w.village_a, VERIFIED, ("lifted", "2016-06-30"))
    w.household_b = household(w.village_b, VERIFIED)
    return w


from tests.subsidies.conftest import period, places  # noqa: E402, F401 - the subsidies fixtures, reused
