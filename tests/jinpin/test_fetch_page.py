"""A page's keys from the filtered list, its rows by key (jinpin.paging.fetch_page): the same rows in the same
order as the one-query page, nothing outside the filter, a row gone between the two queries left out."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jinpin import paging
from schools.models import School
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schools(world):
    a = [SchoolFactory(county=world.county_a, name=f"甲校{i:02d}") for i in range(7)]
    b = [SchoolFactory(county=world.county_b, name=f"乙校{i:02d}") for i in range(7)]
    return a, b


@pytest.mark.parametrize("order", [("pk",), ("-pk",), ("-name", "pk"), ("name", "-pk")])
def test_the_rows_are_the_one_query_pages_rows_in_its_order(world, schools, order):
    qs = School.objects.filter(county=world.county_a)
    rows_from = School.objects.select_related("county").only("name", "county__name")
    for n in (1, 3, 7, 20):
        expected = list(qs.order_by(*order)[:n])
        with CaptureQueriesContext(connection) as q:
            got = paging.fetch_page(qs, order, n, rows_from)
            assert [s.county.name for s in got]  # the rows' join came with them: no query per row
        assert [s.pk for s in got] == [s.pk for s in expected]
        assert len(q.captured_queries) == 2
        assert "county_id" not in q.captured_queries[1]["sql"].split("WHERE", 1)[1]  # the rows: by key alone
    assert all(s.county_id == world.county_a.pk for s in paging.fetch_page(qs, ("pk",), 50, rows_from))


def test_no_keys_no_second_query_and_without_rows_from_one_query(world, schools):
    with CaptureQueriesContext(connection) as q:
        assert paging.fetch_page(School.objects.filter(name="无此校"), ("pk",), 5, School.objects.all()) == []
    assert len(q.captured_queries) == 1
    qs = School.objects.filter(county=world.county_b)
    with CaptureQueriesContext(connection) as q:
        assert [s.pk for s in paging.fetch_page(qs, ("-pk",), 3)] == [s.pk for s in schools[1][::-1][:3]]
    assert len(q.captured_queries) == 1


def test_a_row_gone_between_the_keys_and_the_rows_is_left_out(world, schools):
    qs = School.objects.filter(county=world.county_a)
    first = list(qs.order_by("pk").values_list("pk", flat=True)[:5])
    gone = first[2]

    class Vanishing:  # the rows' query runs after another request deleted one of the page's rows
        def filter(self, **kw):
            return School.objects.exclude(pk=gone).filter(**kw)

    got = paging.fetch_page(qs, ("pk",), 5, Vanishing())
    assert [s.pk for s in got] == [pk for pk in first if pk != gone]
