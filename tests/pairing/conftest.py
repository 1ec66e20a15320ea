import pytest

from .factories import agreement


@pytest.fixture
def pair(world):
    """An active one-to-one agreement in 汶上县: 汶上实验小学 helps 汶上李庄小学 (since 2016-09-01)."""
    return agreement(world.strong_a, world.weak_a)


@pytest.fixture
def pair_b(world):
    return agreement(world.strong_b, world.weak_b)
