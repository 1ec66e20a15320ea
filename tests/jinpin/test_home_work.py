"""The home page leads with the work waiting (jinpin.work): each item's count is the number of rows of
the list it links to, for every role, and counts only the person's scope."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from subsidies.models import AwardStatus, Period

from .test_dashboard import _award, _household, _pupil

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference(db):
    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    for name in ("0002_seed_2016_schemes", "0008_scheme_stages_nine_year_nutrition"):
        importlib.import_module(f"subsidies.migrations.{name}").forward(apps, None)


def _awards(w):
    period = Period.objects.get(code="2016-2017")
    h = _household("H1", w.village_a, ("verified", dt.date(2016, 1, 15)))
    for n, status in enumerate(
        [AwardStatus.REVIEWED, AwardStatus.REVIEWED, AwardStatus.APPLIED, AwardStatus.CANDIDATE]
    ):
        _award(_pupil(n, w.weak_a, h), w.weak_a, period, status)
    hb = _household("H2", w.village_b, ("verified", dt.date(2016, 1, 15)))
    _award(_pupil(10, w.weak_b, hb), w.weak_b, period, AwardStatus.REVIEWED)


def test_every_items_count_is_the_number_of_rows_of_its_list(world, client_for):
    _awards(world)
    users = [world.admin, world.officer_a, world.officer_b, world.principal_a, world.inspector, world.auditor]
    seen = set()
    for user in users:
        c = client_for(user)
        home = c.get(reverse("home"))
        assert home.status_code == 200
        for w in home.context["waiting"]:
            page = c.get(w["url"])
            assert page.status_code == 200, w["item"].key
            assert page.context["page"].paginator.count == w["count"], (user.username, w["item"].key)
            seen.add(w["item"].key)
    assert {"awards_to_approve", "batch_differences", "applications_to_review", "open_recoveries"} <= seen


def test_an_officer_counts_their_county_only(world, client_for):
    _awards(world)
    counts = {w["item"].key: w["count"] for w in client_for(world.officer_a).get(reverse("home")).context["waiting"]}
    assert counts["awards_to_approve"] == 2
    counts = {w["item"].key: w["count"] for w in client_for(world.officer_b).get(reverse("home")).context["waiting"]}
    assert counts["awards_to_approve"] == 1
    counts = {w["item"].key: w["count"] for w in client_for(world.principal_a).get(reverse("home")).context["waiting"]}
    assert counts["applications_to_review"] == 1
    assert counts["applications_to_submit"] == 1
    # an item of another role is 404, not an empty list
    assert client_for(world.principal_a).get(reverse("work_list", args=["awards_to_approve"])).status_code == 404


def test_cached_counts_follow_a_committed_write(world, client_for, django_capture_on_commit_callbacks):
    """The training and twinning counts are kept in the shared cache: a committed write of what they
    count moves their stamp, and the next home page counts again (no stale figure)."""
    from jinpin import work
    from jinpin.scope import get_scope
    from teachers.models import Teacher
    from tests.teachers.factories import TeacherFactory

    c = client_for(world.officer_a)

    def home_count(key):
        return {w["item"].key: w["count"] for w in c.get(reverse("home")).context["waiting"]}[key]

    item = work.get("short_of_training")
    assert item.cache_area and work.get("agreements_due").cache_area
    before = home_count("short_of_training")
    assert home_count("short_of_training") == before  # from the cache now
    with django_capture_on_commit_callbacks(execute=True):
        TeacherFactory(school=world.weak_a)
        TeacherFactory(school=world.weak_a)
    live = work.count(item.rows(get_scope(world.officer_a)))
    assert live == before + 2  # two new teachers without any training: both short
    assert home_count("short_of_training") == live
    with django_capture_on_commit_callbacks(execute=True):
        Teacher.objects.filter(school=world.weak_a).order_by("-pk").first().delete()
    assert home_count("short_of_training") == live - 1


def test_the_other_counts_are_kept_until_a_table_they_read_is_written(world, client_for):
    """The items without a cache area of their own are counted together and kept in the shared cache while every
    table their queries read is unchanged (jinpin.pagecache.kept): no COUNT query from the third home page on, and
    a write to a counted table is counted on the very next one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _awards(world)
    c = client_for(world.officer_a)

    def home():
        with CaptureQueriesContext(connection) as q:
            r = c.get(reverse("home"))
        counts = {w["item"].key: w["count"] for w in r.context["waiting"]}
        return counts, [x["sql"] for x in q.captured_queries]

    home()  # notes the tables read
    home()  # counts again with the stamps read first, and keeps the counts
    counts, sql = home()
    assert counts["awards_to_approve"] == 2
    assert not any('FROM "subsidies_award" WHERE' in s and "COUNT(*)" in s for s in sql)
    period = Period.objects.get(code="2016-2017")
    h = _household("H3", world.village_a, ("verified", dt.date(2016, 1, 15)))
    _award(_pupil(20, world.weak_a, h), world.weak_a, period, AwardStatus.REVIEWED)
    counts, sql = home()
    assert counts["awards_to_approve"] == 3
    # another county's officer keeps their own count
    assert {w["item"].key: w["count"] for w in client_for(world.officer_b).get(reverse("home")).context["waiting"]}[
        "awards_to_approve"
    ] == 1
