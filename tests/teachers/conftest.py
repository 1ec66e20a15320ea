import datetime as dt

import pytest

from teachers.models import ServiceKind, TrainingRule
from teachers.services import service_period_open

from .factories import TeacherFactory


@pytest.fixture(autouse=True)
def _english(request, settings):
    """Assertions read English messages whatever the catalogue holds (test_chinese.py and the browser flow use Chinese)."""
    if "browser_page" in request.fixturenames or request.module.__name__.endswith("test_chinese"):
        yield
        return
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _reference_data(db):
    """The data migration's honour titles, tiers, rule and targets (a transactional test elsewhere may have flushed them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)


@pytest.fixture
def rule(db):
    """The seeded 60-hour rule (data migration): provincial poor villages, kindergartens and primary schools, 2016–2018."""
    return TrainingRule.objects.get()


@pytest.fixture
def staff(world):
    """One teacher in each school of the world, in post since 2010."""

    class S:
        pass

    s = S()
    for attr in ("weak_a", "strong_a", "weak_b", "strong_b"):
        t = TeacherFactory(name=f"{attr}老师")
        service_period_open(
            teacher=t,
            school=getattr(world, attr),
            start=dt.date(2010, 9, 1),
            full_time=True,
            kind=ServiceKind.RECORD,
            acting_user=world.admin,
        )
        t.refresh_from_db()
        setattr(s, attr, t)
    return s
