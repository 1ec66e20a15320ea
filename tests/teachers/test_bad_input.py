"""Forged or absurd input gets a 404 or a clear message, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world, client_for):
    c = client_for(world.officer_a)
    c.raise_request_exception = False
    return c


@pytest.mark.parametrize("name", ["movement_create", "attendance_create"])
@pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999999"])
def test_a_nonsense_teacher_id_in_the_query_string_is_a_404(officer, name, value):
    assert officer.get(reverse(f"teachers:{name}") + f"?teacher={value}").status_code == 404


def test_a_nonsense_course_id_only_drops_the_preselection(officer):
    r = officer.get(reverse("teachers:attendance_create") + "?course=abc")
    assert r.status_code == 200 and not r.context["form"].initial.get("course")
