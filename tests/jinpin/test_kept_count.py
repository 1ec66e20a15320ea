"""A list's row count kept in the shared cache while the tables it reads are unchanged (jinpin.paging.kept_count):
never stale after a write, kept per scope and filter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jinpin import paging
from pairing.models import Agreement
from tests.factories import SchoolFactory, rural_school
from tests.pairing.factories import agreement as make_agreement

pytestmark = pytest.mark.django_db


def _counts(client, url):
    with CaptureQueriesContext(connection) as q:
        r = client.get(url)
    assert r.status_code == 200
    return r, sum("SELECT COUNT(*)" in x["sql"].upper() for x in q.captured_queries)


def test_the_count_is_kept_until_its_table_is_written(world, client_for):
    for _i in range(3):
        make_agreement(
            SchoolFactory(county=world.county_a), rural_school(county=world.county_a, village=world.village_a)
        )
    c = client_for(world.officer_a)
    url = reverse("pairing:agreement_list")
    _r, n = _counts(c, url)
    assert n == 1  # counted, its tables noted
    _r, n = _counts(c, url)
    assert n == 1  # counted again and kept (the stamps read before this count)
    r, n = _counts(c, url)
    assert n == 0 and r.context["page"].paginator.count == 3
    # a new agreement: counted on the very next request
    make_agreement(SchoolFactory(county=world.county_a), rural_school(county=world.county_a, village=world.village_a))
    r, n = _counts(c, url)
    assert n == 1 and r.context["page"].paginator.count == 4
    # one ended in the database (not through the app's forms): the stamps move on any write
    Agreement.objects.filter(pk=Agreement.objects.order_by("pk").first().pk).delete()
    r, _n = _counts(c, url)
    assert r.context["page"].paginator.count == 3


def test_kept_counts_follow_the_scope_and_the_filter(world, client_for):
    make_agreement(SchoolFactory(county=world.county_a), rural_school(county=world.county_a, village=world.village_a))
    for c, expected in (
        (client_for(world.officer_a), 1),
        (client_for(world.officer_b), 0),
        (client_for(world.admin), 1),
    ):
        for _i in range(3):
            r = c.get(reverse("pairing:agreement_list"))
            assert r.context["page"].paginator.count == expected
    qs = Agreement.objects.all()
    for _i in range(3):
        assert paging.kept_count(qs) == 1
        assert paging.kept_count(qs.filter(county=world.county_b)) == 0
        assert paging.kept_count(qs.none()) == 0
        assert paging.capped_count(qs, cap=0).at_least
