"""The teacher list pages by key in any of its orders (jinpin.paging.ordered_keyset_page): every teacher
once, in the order of the whole sorted list, forwards from the first page and backwards from the last."""

import datetime as dt

import pytest
from django.urls import reverse

from jinpin import paging
from teachers.models import Teacher

from .factories import TeacherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world):
    # ties in every sort column, teachers without a school (NULL in the default order's first column)
    for i in range(23):
        TeacherFactory(
            name=f"同名{i % 3}", school=[world.weak_a, world.strong_a, None][i % 3], birth=dt.date(1980, 1, 1 + i % 4)
        )


def walk(c, url, params, *, backwards=False):
    seen, pages = [], 0
    q = dict(params, last="1") if backwards else dict(params)
    while pages < 50:
        page = c.get(url, q).context["page"]
        pages += 1
        rows = [t.pk for t in page]
        seen = rows + seen if backwards else seen + rows
        if backwards and page.has_previous:
            q = dict(params, before=page.previous_before)
        elif not backwards and page.has_next:
            q = dict(params, after=page.next_after)
        else:
            return seen, pages
    raise AssertionError("no end")


@pytest.mark.parametrize(
    "o, order",
    [
        ("", ["school_id", "name", "pk"]),
        ("name", ["name", "pk"]),
        ("-name", ["-name", "pk"]),
        ("birth_date", ["birth_date", "pk"]),
        ("-school", ["-school__code", "pk"]),
        ("school", ["school__code", "pk"]),
    ],
)
def test_every_teacher_once_in_order_both_ways(world, many, client_for, monkeypatch, o, order):
    monkeypatch.setattr("teachers.views.registry.PAGE_SIZE", 4)
    c = client_for(world.admin)
    expected = list(Teacher.objects.order_by(*order).values_list("pk", flat=True))
    assert Teacher.objects.filter(school__isnull=True).exists()
    params = {"o": o} if o else {}
    forwards, pages = walk(c, reverse("teachers:teacher_list"), params)
    assert forwards == expected and pages == -(-len(expected) // 4)
    backwards, _pages = walk(c, reverse("teachers:teacher_list"), params, backwards=True)
    assert backwards == expected


def test_a_cursor_that_does_not_fit_gives_the_first_page(world, many, client_for):
    c = client_for(world.admin)
    first = [t.pk for t in c.get(reverse("teachers:teacher_list")).context["page"]]
    for bad in [
        "x",
        "[1]",
        '[1,"a","b"]',
        '[{"a":1},"a",1]',
        '[99999999999999999999,"a",1]',
        '["1980-13-01",1]',
        '[true,"a",1]',
    ]:
        r = c.get(reverse("teachers:teacher_list"), {"after": bad})
        assert r.status_code == 200
        assert [t.pk for t in r.context["page"]] == first, bad


def test_deep_pages_do_not_use_offset(world, many, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(world.admin)
    page = c.get(reverse("teachers:teacher_list")).context["page"]
    with CaptureQueriesContext(connection) as ctx:
        c.get(reverse("teachers:teacher_list"), {"after": page.next_after})
    assert not any("OFFSET" in q["sql"] for q in ctx.captured_queries)


def test_cursor_round_trip_of_a_null_and_a_date():
    qs = Teacher.objects.order_by("school__code", "birth_date")
    order = paging.ordering_of(qs)
    assert order == ["school__code", "birth_date", "pk"]
    assert paging._parse_cursor('[null,"1980-01-02",7]', Teacher, order) == [None, dt.date(1980, 1, 2), 7]
