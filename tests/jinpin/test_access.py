"""People and access: login, throttling, deactivation, home routing, audit log, language, deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse

from schools.models import School

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[2]


def test_root_sends_anonymous_to_login_and_users_home(world, client_for):
    r = Client().get("/")
    assert r.status_code == 302 and r.url == reverse("login")
    r = client_for(world.officer_a).get("/")
    assert r.url == reverse("home")
    r = client_for(world.principal_a).get(reverse("home"))
    assert r.status_code == 200
    assert "汶上李庄小学" in r.content.decode()  # the principal's own school first


def test_login_page_is_chinese_by_default_and_english_switchable():
    c = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # Chinese whatever the browser prefers
    assert "登录" in c.get(reverse("login")).content.decode()
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Log in" in c.get(reverse("login")).content.decode()


def test_login_and_throttling(world):
    c = Client()
    r = c.post(reverse("login"), {"username": "t_officer_a", "password": "pw-Jinpin-2016"})
    assert r.status_code == 302
    c = Client()
    for _ in range(5):
        r = c.post(reverse("login"), {"username": "t_officer_b", "password": "wrong"})
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="t_officer_b").exists()  # failures are logged
    r = c.post(reverse("login"), {"username": "t_officer_b", "password": "pw-Jinpin-2016"})
    assert r.status_code == 429  # locked out even with the right password
    assert "登录失败次数过多" in r.content.decode()


def test_deactivating_a_user_ends_their_sessions_at_once(world):
    c = Client()
    c.post(reverse("login"), {"username": "t_officer_a", "password": "pw-Jinpin-2016"})
    assert c.get(reverse("schools:school_list")).status_code == 200
    world.officer_a.is_active = False
    world.officer_a.save(update_fields=["is_active"])
    r = c.get(reverse("schools:school_list"))
    assert r.status_code == 302 and r.url.startswith(reverse("login"))


def test_password_change(world):
    c = Client()
    c.post(reverse("login"), {"username": "t_officer_a", "password": "pw-Jinpin-2016"})
    r = c.post(
        reverse("password_change"),
        {"old_password": "pw-Jinpin-2016", "new_password1": "Zq9!long-pass", "new_password2": "Zq9!long-pass"},
    )
    assert r.status_code == 302
    world.officer_a.refresh_from_db()
    assert world.officer_a.check_password("Zq9!long-pass")


def test_menu_groups_pages_by_module(world, client_for):
    body = client_for(world.officer_a).get(reverse("schools:school_list")).content.decode()
    assert 'class="subnav"' in body and "学校名录" in body
    assert "审计日志" not in body  # the audit log is for auditors and the city
    assert "审计日志" in client_for(world.auditor).get(reverse("home")).content.decode()


def test_user_without_role_sees_nothing(client_for):
    from tests.factories import UserFactory

    c = client_for(UserFactory(username="nobody"))
    assert "尚未分配角色" in c.get(reverse("home")).content.decode()
    assert c.get(reverse("schools:school_list")).status_code == 403


@pytest.mark.parametrize("name", ["school_detail", "school_edit"])
def test_every_school_url_is_404_outside_scope(world, client_for, name):
    url = reverse(f"schools:{name}", args=[world.weak_a.pk])
    assert client_for(world.officer_b).get(url).status_code == 404
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.officer_a).get(url).status_code == 200


def test_principal_cannot_edit_own_school_registry_record(world, client_for):
    assert client_for(world.principal_a).get(reverse("schools:school_edit", args=[world.weak_a.pk])).status_code == 403


def test_school_list_query_count_is_constant(world, client_for, django_assert_num_queries):
    from tests.factories import SchoolFactory

    c = client_for(world.admin)
    c.get(reverse("schools:school_list"))
    c.get(reverse("schools:school_list"))  # the filter's choices and the count kept from the second request
    with django_assert_num_queries(2) as small:  # the user, the page's rows
        c.get(reverse("schools:school_list"))
    n = len(small.captured_queries)  # (each request clears the connection's query log)
    for _n in range(60):
        SchoolFactory(county=world.county_a, village=world.village_a, town=world.town_a)
    with django_assert_num_queries(3):  # the schools changed: the count is not kept any more, counted again
        c.get(reverse("schools:school_list") + "?o=-pupils")
    c.get(reverse("schools:school_list") + "?o=-pupils")  # kept again from the second count
    with django_assert_num_queries(n):
        r = c.get(reverse("schools:school_list") + "?o=-pupils")
    assert len(r.context["page"]) == 50


def test_audit_log_readable_by_auditor_only(world, client_for):
    world.weak_a.name = "改名"
    world.weak_a.save()
    assert client_for(world.auditor).get(reverse("audit_log")).status_code == 200
    assert client_for(world.officer_a).get(reverse("audit_log")).status_code == 403


def test_audit_log_cannot_be_edited_in_the_database(world):
    from auditlog.models import LogEntry

    School.objects.filter(pk=world.weak_a.pk)
    world.weak_a.name = "改名"
    world.weak_a.save()
    entry = LogEntry.objects.latest("timestamp")
    for statement in (
        f"UPDATE auditlog_logentry SET object_repr='x' WHERE id={entry.pk}",
        f"DELETE FROM auditlog_logentry WHERE id={entry.pk}",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement)


def test_audit_admin_is_read_only(world, client_for):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    c = client_for(world.admin)
    from auditlog.models import LogEntry

    world.weak_a.save()
    entry = LogEntry.objects.latest("timestamp")
    r = c.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"})
    assert r.status_code in (403, 302) and LogEntry.objects.filter(pk=entry.pk).exists()


def test_content_security_policy_is_sent(client):
    r = client.get(reverse("login"))
    assert "script-src 'self'" in r["Content-Security-Policy"]


def test_check_deploy_is_clean():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        SECURE="1",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789!@#$",
        ALLOWED_HOSTS="jinpin.example",
    )
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    env["SECRET_KEY"] = ""
    env.pop("SECRET_KEY")
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert r.returncode != 0 and "jinpin.E001" in r.stdout + r.stderr


def test_parse_id_takes_only_plain_ids():
    from jinpin.forms import parse_id

    assert parse_id("42") == 42 and parse_id(7) == 7
    for bad in ("", None, "²", "4a", "-1", "9" * 19, " 1"):
        assert parse_id(bad) is None


@pytest.mark.parametrize("query", ["county=²", "county=" + "9" * 25, "town=%00", "page=" + "9" * 30])
def test_schools_list_survives_nonsense_in_the_query_string(world, client_for, query):
    assert client_for(world.admin).get(reverse("schools:school_list") + "?" + query).status_code == 200
