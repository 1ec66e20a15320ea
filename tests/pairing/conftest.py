import pytest

from .factories import agreement, seed_reference_data


@pytest.fixture(autouse=True)
def _pairing_reference_data(db):
    """The calendar and the minimums come from a data migration; a transactional test elsewhere in
    the suite flushes them, so put them back (the migration's own function, idempotent)."""
    seed_reference_data()
    from django.core.cache import cache

    cache.clear()  # cached compliance is keyed by ids that a rolled-back test may hand out again


@pytest.fixture(autouse=True)
def _english(request, settings):
    """Assertions read English messages; the browser flow keeps its Chinese locale."""
    if "browser_page" in request.fixturenames:
        yield
        return
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def pair(world):
    """An active one-to-one agreement in 汶上县: 汶上实验小学 helps 汶上李庄小学 (since 2016-09-01)."""
    return agreement(world.strong_a, world.weak_a)


@pytest.fixture
def pair_b(world):
    return agreement(world.strong_b, world.weak_b)
