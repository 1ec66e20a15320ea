"""One policy for resident IDs, bank accounts and phone numbers (jinpin.privacy): every page kind and
every export, as every role, shows a full value only where the table says so, and every full
value shown is audited. Also: no-store on personal pages and downloads, the Chinese error pages."""

import re

import pytest
from auditlog.models import LogEntry
from django.test import Client, RequestFactory
from django.urls import reverse

from jinpin import exports, privacy
from jinpin.scope import Role, get_scope

from .conftest import ROLES
from .test_fuzz import fill, patterns, real_values

pytestmark = [pytest.mark.django_db]

#: the pages that are not "a page" in the table's sense
PLACE_OF_PAGE = {
    "teachers:teacher_edit": privacy.FORM,
    "teachers:movement_create": privacy.FORM,
    "subsidies:award_detail": privacy.AUDIT_TRACE,
    "subsidies:anomalies": privacy.AUDIT_TRACE,
    "audit_log": privacy.AUDIT_TRACE,  # changes to IDs and accounts: the auditor traces them
}
PLACE_OF_EXPORT = {"subsidies.bank_file": privacy.BANK_FILE, "subsidies.anomalies": privacy.AUDIT_TRACE}


def secrets(w):
    """field -> the full values that must not appear unless the table allows it."""
    from subsidies.models import PayoutLine, Student
    from teachers.models import Teacher

    return {
        privacy.PUPIL_ID: set(Student.objects.values_list("id_number", flat=True)),
        privacy.TEACHER_ID: set(Teacher.objects.values_list("id_number", flat=True)),
        privacy.BANK_ACCOUNT: set(Student.objects.exclude(bank_account="").values_list("bank_account", flat=True))
        | set(PayoutLine.objects.values_list("bank_account", flat=True)),
        privacy.PHONE: set(Teacher.objects.exclude(phone="").values_list("phone", flat=True)),
    }


def found(text: str, values) -> int:
    return sum(text.count(v) for v in values)


def test_the_table_gives_full_values_only_where_the_work_needs_them():
    # nobody reads a full ID or account on a list or in a report
    for field in privacy.FIELDS:
        assert not privacy.full_roles(field, privacy.EXPORT)
    assert not privacy.full_roles(privacy.PUPIL_ID, privacy.PAGE)
    assert not privacy.full_roles(privacy.TEACHER_ID, privacy.PAGE)
    assert not privacy.full_roles(privacy.BANK_ACCOUNT, privacy.PAGE)
    # the bank file, the auditor's trace, the edit form
    assert privacy.full_roles(privacy.BANK_ACCOUNT, privacy.BANK_FILE) == {
        Role.CITY_ADMIN,
        Role.COUNTY_OFFICER,
        Role.AUDITOR,
    }
    assert privacy.full_roles(privacy.PUPIL_ID, privacy.AUDIT_TRACE) == {Role.AUDITOR}
    assert Role.INSPECTOR not in set().union(
        *(privacy.full_roles(f, p) for f in privacy.FIELDS for p in privacy.PLACES)
    )
    assert privacy.mask(privacy.PUPIL_ID, "370830200805010014") == "3708********0014"
    assert privacy.mask(privacy.BANK_ACCOUNT, "6228000000000000123") == "*" * 15 + "0123"
    assert privacy.mask(privacy.PHONE, "13800138000") == "138****8000"


def test_every_page_as_every_role_shows_full_values_only_where_the_table_says(populated):
    w = populated
    values = real_values(w)
    hidden = secrets(w)
    assert all(hidden.values())
    pages = [
        (name, fill(route, conv, values.get(name, {}), w.jobs["admin"])[0])
        for name, route, conv in patterns()
        if name and not route.startswith("admin/") and ("<" not in route or name in values)
    ]
    pages.append(("teachers:movement_create", reverse("teachers:movement_create")[1:] + f"?teacher={w.teacher.pk}"))
    seen, problems, revealed = 0, [], {}
    for role in ROLES:
        c = Client()
        c.force_login(getattr(w, role))
        scope = get_scope(getattr(w, role))
        for name, path in pages:
            if name in ("logout", "job_download") or name.endswith("bank_file"):
                continue
            r = c.get("/" + path)
            if r.status_code != 200 or r.get("Content-Disposition"):
                continue
            seen += 1
            body = r.content.decode()
            place = PLACE_OF_PAGE.get(name, privacy.PAGE)
            for field, secret in hidden.items():
                n = found(body, secret)
                if n and not privacy.is_full(scope.role, field, place):
                    problems.append((role, name, field, place, n))
                if n:
                    revealed[(role, name, field)] = n
    assert seen > 100
    assert not problems, problems
    # what the table allows does happen: the auditor traces a payment, an officer edits a teacher
    assert revealed.get(("auditor", "subsidies:award_detail", privacy.PUPIL_ID))
    assert revealed.get(("auditor", "subsidies:award_detail", privacy.BANK_ACCOUNT))
    assert revealed.get(("officer_a", "teachers:teacher_edit", privacy.TEACHER_ID))
    assert revealed.get(("principal_a", "teachers:teacher_edit", privacy.PHONE))
    assert not any(k[0] == "inspector" for k in revealed)


def test_every_export_as_every_role_shows_full_values_only_where_the_table_says(populated):
    w = populated
    hidden = secrets(w)
    params = {
        "subsidies.bank_file": {"batch": w.payout.pk},
        "subsidies.anomalies": {"period": w.period.pk},
        "subsidies.reconciliation": {"year": 2016},
    }
    ran, problems, revealed = 0, [], {}
    for identifier, cls in sorted(exports._exporters.items()):
        for role in ROLES:
            scope = get_scope(getattr(w, role))
            p = params.get(identifier, {})
            if not cls.permission(scope, p):
                continue
            text = "\n".join("\t".join("" if v is None else str(v) for v in row) for row in cls(scope, p).rows())
            ran += 1
            place = PLACE_OF_EXPORT.get(identifier, privacy.EXPORT)
            for field, secret in hidden.items():
                n = found(text, secret)
                if n and not privacy.is_full(scope.role, field, place):
                    problems.append((role, identifier, field, place, n))
                if n:
                    revealed[(role, identifier, field)] = n
    assert ran >= 40
    assert not problems, problems
    # the bank file carries the full ID and account for the people who send it
    assert revealed[("officer_a", "subsidies.bank_file", privacy.BANK_ACCOUNT)]
    assert revealed[("officer_a", "subsidies.bank_file", privacy.PUPIL_ID)]
    # and the roster, compliance and honours exports no longer carry teachers' IDs for anyone
    assert not any(k[2] == privacy.TEACHER_ID for k in revealed)


def reveals(**lookup):
    return LogEntry.objects.filter(additional_data__event="reveal", **lookup)


def test_every_full_reveal_is_audited(populated):
    w = populated
    c = Client()
    c.force_login(w.auditor)
    before = reveals().count()
    award = w.payout.lines.order_by("pk").first().award  # an award with a payment
    assert c.get(reverse("subsidies:award_detail", args=[award.pk])).status_code == 200
    entry = reveals(actor=w.auditor, object_pk=str(award.student.pk)).get()
    assert entry.additional_data["fields"] == [privacy.PUPIL_ID] and entry.additional_data["place"] == "audit_trace"
    assert reveals(actor=w.auditor).count() == before + 2  # the pupil, and the payout line's account
    # a list shows masked values: nothing to audit
    c.get(reverse("subsidies:award_list"))
    assert reveals(actor=w.auditor).count() == before + 2
    # an edit form with the full ID
    c = Client()
    c.force_login(w.officer_a)
    c.get(reverse("teachers:teacher_edit", args=[w.teacher.pk]))
    entry = reveals(actor=w.officer_a, object_pk=str(w.teacher.pk)).get()
    assert entry.additional_data["fields"] == [privacy.PHONE, privacy.TEACHER_ID]
    # the bank file: one entry per file on the batch, with how many values it held
    from subsidies.exporters import BankFileExporter

    rows = list(BankFileExporter(get_scope(w.officer_a), {"batch": w.payout.pk}).rows())
    entries = reveals(object_pk=str(w.payout.pk), actor=w.officer_a)
    assert {tuple(e.additional_data["fields"]) for e in entries} == {(privacy.PUPIL_ID,), (privacy.BANK_ACCOUNT,)}
    assert all(e.additional_data["count"] == len(rows) for e in entries)


def test_personal_pages_and_downloads_are_never_cached(populated, client_for):
    w = populated
    c = client_for(w.officer_a)
    for url in (reverse("home"), reverse("subsidies:award_list"), reverse("teachers:teacher_list")):
        assert "no-store" in c.get(url)["Cache-Control"]
    job = w.jobs["officer_a"]
    r = client_for(w.officer_a).get(reverse("job_download", args=[job.pk]))
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert "no-store" in c.get(reverse("subsidies:payout_detail", args=[w.payout.pk]))["Cache-Control"]


def test_error_pages_are_chinese_with_the_site_navigation(world, client_for):
    c = client_for(world.principal_a)
    r = c.get("/subsidies/payouts/")  # a principal sends no payout batches
    assert r.status_code == 403
    body = r.content.decode()
    assert "无权访问" in body and 'class="menu"' in body and "返回首页" in body
    r = c.get("/no/such/page/")
    assert r.status_code == 404
    body = r.content.decode()
    assert "页面不存在" in body and 'class="menu"' in body


@pytest.mark.urls("tests.jinpin.urls_boom")
def test_the_500_page_renders_even_when_the_request_context_cannot(world, client_for):
    c = client_for(world.officer_a)
    c.raise_request_exception = False
    r = c.get("/boom/")
    assert r.status_code == 500
    body = r.content.decode()
    assert "服务器错误" in body and 'class="menu"' in body  # with the navigation

    from django.db import DatabaseError

    from jinpin.views import server_error

    class Broken:
        """A request whose user cannot be loaded (the database is what failed)."""

        def __getattr__(self, name):
            return getattr(self._request, name)

        @property
        def user(self):
            raise DatabaseError("gone")

    broken = Broken()
    broken._request = RequestFactory().get("/")
    r = server_error(broken)
    assert r.status_code == 500 and "服务器错误" in r.content.decode()


def test_only_the_policy_masks():
    """No other masking helper or role list is left in the code: one ID mask (jinpin.idcard, which the
    models' ``masked_id`` and the policy call) and the policy's table."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"FULL_ID_ROLES|def id_shown|def mask\(|def mask_\w+\(|\*\*\*\*", text) and path.name not in (
            "privacy.py",
            "idcard.py",
        ):
            offenders.append(str(path.relative_to(root)))
    assert not offenders
