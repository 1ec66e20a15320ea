"""Kept pages (``jinpin.pagecache``): served again only while nothing they were made from has changed, the same
bytes as a fresh render, shared by scope with the user's own name and CSRF token, never kept when making them
had an effect (a reveal, a message, a write)."""

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jinpin import cache, pagecache
from jinpin.scope import Role
from schools.models import School
from tests.factories import make_user

pytestmark = [pytest.mark.django_db]

SCHOOLS = "/schools/"


@pytest.fixture(autouse=True)
def _on(settings):
    settings.PAGE_CACHE = True


def csrf_free(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"CSRF", body)


def three(c, path=SCHOOLS):
    rs = [c.get(path) for _ in range(3)]
    return [r.headers.get("X-Page-Cache") for r in rs], rs


def test_a_list_is_kept_from_its_second_request_and_served_the_same(world, client_for, settings):
    c = client_for(world.officer_a)
    seen, rs = three(c)
    assert seen == ["noted", "stored", "hit"]
    settings.PAGE_CACHE = False
    fresh = c.get(SCHOOLS)
    assert fresh.headers.get("X-Page-Cache") is None
    assert csrf_free(rs[2].content) == csrf_free(fresh.content)
    assert "汶上李庄小学" in rs[2].content.decode()
    assert pagecache.PH_CSRF.encode() not in rs[2].content and pagecache.PH_WHO.encode() not in rs[2].content


def test_the_kept_page_carries_a_csrf_token_that_works(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.officer_a)
    seen, rs = three(c)
    assert seen[-1] == "hit"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', rs[2].content).group(1).decode()
    r = c.post(reverse("set_language"), {"csrfmiddlewaretoken": token, "language": "en", "next": SCHOOLS})
    assert r.status_code == 302
    bad = c.post(reverse("set_language"), {"csrfmiddlewaretoken": "x" * 64, "language": "en", "next": SCHOOLS})
    assert bad.status_code == 403


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda s: (setattr(s, "name", "改名小学"), s.save()), id="save"),
        pytest.param(lambda s: School.objects.filter(pk=s.pk).update(name="改名小学"), id="queryset-update"),
        pytest.param(
            lambda s: connection.cursor().execute(
                f"UPDATE {School._meta.db_table} SET name = %s WHERE id = %s", ["改名小学", s.pk]
            ),
            id="raw-sql",
        ),
    ],
)
def test_any_write_to_what_the_page_shows_is_seen_at_once(world, client_for, write):
    c = client_for(world.officer_a)
    assert three(c)[0][-1] == "hit"
    write(world.weak_a)
    r = c.get(SCHOOLS)
    assert r.headers["X-Page-Cache"] != "hit"
    assert "改名小学" in r.content.decode() and "汶上李庄小学" not in r.content.decode()
    assert three(c)[0][-1] == "hit"  # and kept again


def test_a_write_to_a_table_read_only_for_a_name_moves_the_page_too(world, client_for):
    """The schools list names each school's village: renaming the village is a write to another table."""
    c = client_for(world.officer_a)
    assert three(c)[0][-1] == "hit"
    world.village_a.__class__.objects.filter(pk=world.village_a.pk).update(name="新名村")
    r = c.get(SCHOOLS)
    assert r.headers["X-Page-Cache"] != "hit"
    assert "新名村" in r.content.decode()


def test_one_county_shares_a_kept_page_with_each_users_own_name_and_no_other_county_gets_it(world, client_for):
    a1 = client_for(world.officer_a)
    three(a1)
    colleague = make_user(Role.COUNTY_OFFICER, county=world.county_a, username="t_officer_a2", first_name="同事")
    r = client_for(colleague).get(SCHOOLS)
    assert r.headers["X-Page-Cache"] == "hit"
    body = r.content.decode()
    assert "同事" in body and "t_officer_a" not in body.replace("t_officer_a2", "")
    other = client_for(world.officer_b).get(SCHOOLS)
    assert other.headers["X-Page-Cache"] != "hit"
    assert "汶上李庄小学" not in other.content.decode() and "泗水王庄小学" in other.content.decode()
    admin = client_for(world.admin).get(SCHOOLS)
    assert admin.headers["X-Page-Cache"] != "hit"


def test_a_page_with_a_message_waiting_is_rendered_and_shows_it(world, client_for):
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    c = client_for(world.officer_a)
    assert three(c)[0][-1] == "hit"
    # a message left by the last POST ("saved"), waiting in its cookie as Django's messages framework keeps it
    c.cookies[CookieStorage.cookie_name] = CookieStorage(HttpRequest())._encode([Message(20, "已保存")])
    r = c.get(SCHOOLS)
    assert r.headers.get("X-Page-Cache") is None  # not even looked up
    assert "已保存" in r.content.decode()
    assert three(c)[0][-1] == "hit"  # shown once, then the kept page again


def test_a_page_that_reveals_full_values_is_never_kept_and_audits_every_view(populated):
    """The auditor's audit log shows changed IDs and accounts in full (the payment trace): each view is audited."""
    from jinpin import audit

    c = Client()
    c.force_login(populated.auditor)
    path = reverse("audit_log")
    counts, seen = [], []
    for _ in range(3):
        before = audit.LogEntry.objects.count()
        r = c.get(path)
        seen.append(r.headers.get("X-Page-Cache"))
        counts.append(audit.LogEntry.objects.count() - before)
    assert seen == ["miss", "miss", "miss"]
    assert counts[0] > 0 and counts == [counts[0]] * 3


def test_statements_are_read_for_the_tables_they_write():
    w = pagecache._written
    assert w('INSERT INTO "schools_school" ("name") VALUES (%s)') == {"schools_school"}
    assert w(
        'UPDATE "subsidies_award" SET "status" = %s WHERE "subsidies_award"."id" IN (SELECT U0."id" FROM "subsidies_student" U0)'
    ) == {"subsidies_award"}
    assert w('DELETE FROM "schools_village" WHERE id = 1') == {"schools_village"}
    assert w("WITH base AS (SELECT * FROM subsidies_student) INSERT INTO subsidies_award SELECT * FROM base") == {
        "subsidies_award"
    }
    assert w("TRUNCATE schools_school, schools_village RESTART IDENTITY") == {"schools_school", "schools_village"}
    assert w("COPY pairing_activity (kind) FROM STDIN") == {"pairing_activity"}
    assert w("SELECT id FROM subsidies_batchchunk FOR UPDATE SKIP LOCKED") == set()
    assert w("SAVEPOINT s1") == set()
    # the audit trail's triggers write the chain when an entry is added
    assert w('INSERT INTO "auditlog_logentry" ("action") VALUES (1)') == {
        "auditlog_logentry",
        "jinpin_auditpending",
        "jinpin_auditchain",
    }


def test_a_committed_write_moves_the_stamp_again_at_commit(world):
    """At once (a reader in the same transaction) and at commit (a page another process rendered from the rows
    as they were before the commit must not be served after it)."""
    area = "t:schools_school"
    first = pagecache._stamps([area])[area]
    with CaptureOnCommit() as callbacks:
        with transaction.atomic():
            School.objects.filter(pk=world.weak_a.pk).update(name="甲")
            School.objects.filter(pk=world.weak_a.pk).update(name="乙")
            at_once = cache.stamp(area)
    # one per transaction (the test's own, which the fixtures' writes opened), whatever the number of writes
    moves = [f for _sids, f, _robust in connection.run_on_commit if isinstance(f, pagecache._MoveOnCommit)]
    assert len(moves) == 1 and area in moves[0].areas
    assert not [cb for cb in callbacks if isinstance(cb, pagecache._MoveOnCommit)]
    assert at_once != first
    moves[0]()
    assert cache.stamp(area) not in (first, at_once)


class CaptureOnCommit:
    """The on-commit callbacks registered inside (the test's transaction never commits)."""

    def __enter__(self):
        self.start = len(connection.run_on_commit)
        self.callbacks = []
        return self.callbacks

    def __exit__(self, *exc):
        self.callbacks.extend(f for _sids, f, _robust in connection.run_on_commit[self.start :])


def test_the_watch_stays_on_the_connection_under_a_tests_own_wrapper(world):
    connection.ensure_connection()
    assert connection.execute_wrappers[0] is pagecache.watch
    with CaptureQueriesContext(connection):
        with connection.execute_wrapper(lambda execute, *a: execute(*a)):
            School.objects.count()
    assert connection.execute_wrappers.count(pagecache.watch) == 1


def test_a_bulk_load_through_copy_is_noted(world):
    import io

    area = "t:schools_town"
    before = pagecache._stamps([area])[area]  # as a page reads it
    with connection.cursor() as cur:
        pagecache.copy_expert(cur.cursor, "COPY schools_town (code, name, county_id) FROM STDIN", io.StringIO(""))
    assert cache.stamp(area) != before


def test_rendering_a_page_notes_a_write_made_while_rendering():
    cap = pagecache._Capture()
    token = pagecache._capture.set(cap)
    try:
        School.objects.filter(pk=-1).update(name="x")
        list(School.objects.filter(pk=-1))
    finally:
        pagecache._capture.reset(token)
    assert cap.wrote and "schools_school" in cap.tables


def _kept_paths(w):
    from inspections.models import Campaign

    campaign = Campaign.objects.order_by("pk").first()
    args = {"subsidies:payout_detail": [w.payout.pk], "inspections:coverage": [campaign.pk if campaign else 1]}
    return [(name, reverse(name, args=args.get(name, []))) for name in pagecache.VIEWS]


def _compare_all(w, settings, *, expect_hits: bool):
    from .conftest import ROLES

    compared = hits = 0
    for role in ROLES:
        c = Client()
        c.force_login(getattr(w, role))
        for name, path in _kept_paths(w):
            rs = [c.get(path) for _ in range(3)]
            if rs[0].status_code != 200:  # not this role's page: never a kept copy either
                assert all(r.status_code == rs[0].status_code and r.get("X-Page-Cache") != "hit" for r in rs), (
                    role,
                    name,
                )
                continue
            settings.PAGE_CACHE = False
            fresh = c.get(path)
            settings.PAGE_CACHE = True
            for r in rs:
                if r.get("X-Page-Cache") == "miss":  # not kept (a reveal, audited per view, changes the audit log)
                    continue
                assert csrf_free(r.content) == csrf_free(fresh.content), (role, name, r.get("X-Page-Cache"))
            compared += 1
            hits += rs[2].get("X-Page-Cache") == "hit"
    assert compared > 40
    if expect_hits:
        assert hits > 30
    return compared


def test_every_kept_page_as_every_role_is_a_fresh_render_before_and_after_writes_everywhere(populated, settings):
    """Every page of ``VIEWS`` as each of five roles: each of three requests (noted, kept, served) gives the bytes a
    render with the page cache off gives. Then one row of each main table changes through a set-based UPDATE (no
    signal) and every page again gives exactly what a fresh render does."""
    from pairing.models import Activity, Agreement
    from subsidies.models import FundingSource, Household, PayoutBatch, Student
    from teachers.models import Teacher

    w = populated
    _compare_all(w, settings, expect_hits=True)
    School.objects.filter(pk=w.weak_a.pk).update(name="改名李庄小学")
    Teacher.objects.filter(pk=w.teacher.pk).update(name="改名教师")
    Student.objects.filter(pk=w.pupil.pk).update(name="改名学生")
    Household.objects.filter(pk=w.household.pk).update(head_name="改名户主")
    Agreement.objects.filter(pk=w.agreement.pk).update(signed_on=w.agreement.signed_on - dt.timedelta(days=1))
    Activity.objects.filter(pk=w.activity.pk).update(summary="改过的活动")
    PayoutBatch.objects.filter(pk=w.payout.pk).update(funding_source=FundingSource.CITY)
    _compare_all(w, settings, expect_hits=False)
