"""No input gives an HTTP 500: every URL pattern × every role × a fixed set of hostile values.

The URL patterns come from Django's resolver (nothing is listed by hand but how to fill a path
parameter with a real, in-scope id). The GET parameters each view reads are discovered by
recording which query-string keys it touches, plus the common ones; each hostile value is then
sent to all of them at once, and to each of them alone (for the values that break parsers). POST
bodies get the same values. GETs must change nothing: the row count of every table is the same
after them (the audit log aside: reads of personal data are audited by design).
"""

import io
import time
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from .conftest import ROLES

pytestmark = [pytest.mark.django_db]

HOSTILE = [
    "²",  # a superscript: "²".isdigit() is true, int("²") fails
    "٣",  # an Arabic-Indic digit: int("٣") == 3, but it is no ASCII digit
    "1" * 25,  # overflows a bigint
    "a\x00b",  # PostgreSQL refuses NUL in text
    "-1",
    "0",
    "' OR 1=1 --",
    "%",
    "x" * 5000,
    "2016-13-45",
    "",
]
#: the values that break parsers: sent by every further role the view admits, and as POST bodies
SHARP = ["²", "1" * 25, "a\x00b", "٣"]
#: and to each parameter alone
SINGLE = ["²\x00"]
COMMON = [
    "page", "q", "year", "county", "school", "scheme", "status", "kind", "order", "o", "format",
    "period", "teacher", "course", "rule", "level", "short", "all", "missed", "unpaired", "state",
    "actor", "model", "action", "report", "batch", "ids", "next", "village", "town", "stage",
]  # fmt: skip
JUNK_INT = ["0", "9" * 25]


# -- the URL patterns -----------------------------------------------------------------------
def patterns():
    """(name, route, {param: converter}) of every URL pattern, admin included."""
    out = []

    def walk(resolver, prefix, ns, converters):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(
                    p,
                    prefix + str(p.pattern),
                    ns + [p.namespace] if p.namespace else ns,
                    {**converters, **getattr(p.pattern, "converters", {})},
                )
            elif isinstance(p, URLPattern):
                name = ":".join(ns + [p.name]) if p.name else None
                out.append((name, prefix + str(p.pattern), {**converters, **getattr(p.pattern, "converters", {})}))

    walk(get_resolver(), "", [], {})
    return out


def real_values(w):
    """Path parameter values per URL name: a real, in-scope id first, then junk."""
    return {
        "schools:school_detail": {"pk": w.weak_a.pk},
        "schools:school_edit": {"pk": w.weak_a.pk},
        "schools:import": {"kind": "schools"},
        "schools:import_template": {"kind": "villages"},
        "teachers:teacher_detail": {"pk": w.teacher.pk},
        "teachers:teacher_edit": {"pk": w.teacher.pk},
        "teachers:period_add": {"pk": w.teacher.pk},
        "teachers:period_close": {"pk": w.teacher.pk, "period_pk": w.service_period.pk},
        "teachers:movement_detail": {"pk": w.movement.pk},
        "teachers:movement_transition": {"pk": w.movement.pk, "action": "start"},
        "teachers:establishment_edit": {"school_pk": w.weak_a.pk},
        "teachers:course_detail": {"pk": w.course.pk},
        "pairing:agreement_detail": {"pk": w.agreement.pk},
        "pairing:agreement_edit": {"pk": w.agreement.pk},
        "pairing:agreement_activate": {"pk": w.agreement.pk},
        "pairing:agreement_end": {"pk": w.agreement.pk},
        "pairing:agreement_document": {"pk": w.agreement.pk},
        "pairing:activity_create": {"pk": w.agreement.pk},
        "pairing:secondment_create": {"pk": w.agreement.pk},
        "pairing:project_create": {"pk": w.agreement.pk},
        "pairing:donation_create": {"pk": w.agreement.pk},
        "pairing:milestone_set": {"pk": w.agreement.pk, "school_pk": w.weak_a.pk},
        "pairing:secondment_end": {"pk": w.secondment.pk},
        "pairing:activity_detail": {"pk": w.activity.pk},
        "pairing:attachment_file": {"pk": w.attachment.pk},
        "pairing:milestone_document": {"pk": w.milestone.pk},
        "pairing:donation_confirm": {"pk": w.donation.pk},
        "pairing:export": {"kind": "agreements"},
        "subsidies:award_detail": {"pk": w.award.pk},
        "subsidies:award_resolve": {"pk": w.award.pk},
        "subsidies:award_recover": {"pk": w.award.pk},
        "subsidies:household_detail": {"pk": w.household.pk},
        "subsidies:run_detail": {"pk": w.run.pk},
        "subsidies:scheme_edit": {"pk": w.scheme.pk},
        "subsidies:rate_create": {"pk": w.scheme.pk},
        "subsidies:payout_detail": {"pk": w.payout.pk},
        "subsidies:payout_send": {"pk": w.payout.pk},
        "subsidies:payout_bank_file": {"pk": w.payout.pk},
        "subsidies:payout_return": {"pk": w.payout.pk},
        "subsidies:recovery_settle": {"pk": w.recovery.pk},
        "subsidies:import": {"kind": "students"},
        "subsidies:import_template": {"kind": "households"},
        "subsidies:loan_disburse": {"pk": w.loan.pk},
        "inspections:list_rows": {"kind": "departments"},
        "inspections:list_row_new": {"kind": "checklist"},
        "inspections:list_row_edit": {"kind": "categories", "pk": _category(w)},
    }


def _category(w) -> int:
    from inspections.models import FindingCategory

    return FindingCategory.objects.get_or_create(code="other", defaults={"name": "其他"})[0].pk


def fill(route, converters, values, job):
    """Concrete paths for a route: the real values, then each parameter in turn replaced by junk."""
    import re

    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if not params:
        return [route.replace("^", "").replace("$", "")]

    def build(vals):
        path = route
        for _conv, name in params:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(vals[name]), path)
        return path

    base = {}
    for conv, name in params:
        if name in values:
            base[name] = values[name]
        elif conv == "uuid":
            base[name] = job.pk
        elif conv in ("int", "") or conv is None:
            base[name] = 1
        elif conv == "path":
            base[name] = "x"
        else:
            base[name] = "x"
    out = [build(base)]
    for conv, name in params:
        junk = {"int": JUNK_INT, "uuid": [uuid.uuid4()], "slug": ["no-such-kind", "x" * 300]}.get(conv, ["%C2%B2"])
        for j in junk:
            out.append(build({**base, name: j}))
    return out


# -- which query-string keys a view reads ------------------------------------------------------
class Recorder:
    keys: set | None = None


def _record(fn):
    def wrapped(self, key, *args, **kwargs):
        if Recorder.keys is not None and isinstance(key, str):
            Recorder.keys.add(key)
        return fn(self, key, *args, **kwargs)

    return wrapped


@pytest.fixture
def recording(monkeypatch):
    for attr in ("__getitem__", "get", "getlist", "__contains__"):
        monkeypatch.setattr(QueryDict, attr, _record(getattr(QueryDict, attr)))
    yield Recorder


def table_counts():
    # the audit log and its hash chain's bookkeeping (entries waiting to be linked at commit) grow by design
    audit_tables = {"auditlog_logentry", "jinpin_auditpending", "jinpin_auditchain"}
    tables = sorted(t for t in connection.introspection.table_names() if t not in audit_tables)
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
    with connection.cursor() as cur:
        cur.execute(sql)
        return dict(cur.fetchall())


class BareClient(Client):
    """A test client that does not record each rendered template and a copy of its context (most of a
    small page's cost under the test runner): thousands of requests stay fast. Exceptions come back
    as the 500 responses a user would get."""

    def request(self, **request):
        response = self.handler(self._base_environ(**request))
        if response.cookies:
            self.cookies.update(response.cookies)
        return response


def test_no_input_gives_a_server_error(populated, recording, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"  # one query less a request
    w = populated
    values = real_values(w)
    clients = {}
    for name in ROLES:
        c = BareClient()
        c.force_login(getattr(w, name))
        clients[name] = c
    clients["anonymous"] = BareClient()
    pats = [(n, r, c) for n, r, c in patterns() if n not in ("logout",)]
    failures = []
    sent = {"get": 0, "post": 0}
    combos = set()  # (pattern, role, value) actually exercised
    started = time.monotonic()

    def send(method, who, path, data, name=None, value=None):
        c = clients[who]
        Recorder.keys = set()
        r = (c.get if method == "GET" else c.post)("/" + path, data)
        keys = Recorder.keys - {"_probe"}
        Recorder.keys = None
        sent[method.lower()] += 1
        if r.status_code >= 500:
            failures.append((method, who, path, {k: v[:30] for k, v in data.items()}, r.status_code))
        if name is not None and value is not None:
            combos.add((name, who, value))
        return r, keys

    # -- GET: discovery (which keys the view reads, which roles it admits); then every hostile value to
    #    all those keys and the common ones at once as the first role admitted, the sharpest values as
    #    every other role admitted; the sharpest values to each key alone
    before = table_counts()
    reads: dict = {}
    for name, route, conv in pats:
        paths = fill(route, conv, values.get(name, {}), w.jobs["admin"])
        admitted = []
        for who in clients if not route.startswith("admin/") else ("admin",):
            path = paths[0]
            if name == "job_download" and who != "anonymous":
                path = fill(route, conv, {}, w.jobs[who])[0]
            r, keys = send("GET", who, path, {"_probe": "1"})
            reads.setdefault(name, set()).update(keys)
            if r.status_code in (302, 403, 404, 405, 410) or r.get("Content-Disposition"):
                continue  # refused (or a file) before reading any parameter
            admitted.append(who)
            for v in HOSTILE if len(admitted) == 1 else SHARP[:3]:
                send("GET", who, path, dict.fromkeys(sorted(keys | set(COMMON)), v), name, v)
        if admitted:
            for k in sorted(reads[name]):
                for v in SINGLE:
                    send("GET", admitted[0], paths[0], {k: v})
        for path in paths[1:]:  # junk in the path: one role is enough
            send("GET", "admin", path, {})
    after = table_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after.get(t)}
    assert not changed, f"GET requests changed tables: {changed}"

    # -- POST: the sharpest values as form bodies (the keys the view reads, the common ones) as the first two
    #    roles the view admits, two of them as every other role
    for name, route, conv in pats:
        if route.startswith("admin/"):
            continue
        path = fill(route, conv, values.get(name, {}), w.jobs["admin"])[0]
        admitted = 0
        for who in clients:
            r, keys = send("POST", who, path, {"_probe": "1"})
            if r.status_code in (403, 404, 405) or (r.status_code == 302 and "/login/" in r.get("Location", "")):
                continue
            admitted += 1
            wanted = sorted(keys | reads.get(name, set()) | set(COMMON) | {"username", "password", "reason", "on"})
            for v in SHARP[:3] if admitted <= 2 else SHARP[:1]:
                send("POST", who, path, dict.fromkeys(wanted, v), name, v)
            if who != "anonymous":
                clients[who].force_login(getattr(w, who))  # a POST to the password form may end the session
    elapsed = time.monotonic() - started
    n_pats = len({n for n, _r, _c in pats})
    print(
        f"\nfuzz: {n_pats} URL patterns × {len(clients)} roles (anonymous included); {len(combos)} pattern × role × "
        f"value combinations reached a view ({len(HOSTILE)} values, 3 for further roles); "
        f"{sent['get']} GET and {sent['post']} POST requests in {elapsed:.1f} s"
    )
    assert not failures, failures[:20]


# -- damaged spreadsheets on every import endpoint ---------------------------------------------
def _xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["a", "b"])
    wb.active.append(["1", "2"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _central_entries(data: bytes):
    """(offset of the central directory entry, file name) of every part of a zip."""
    end = data.rfind(b"PK\x05\x06")
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    pos = int.from_bytes(data[end + 16 : end + 20], "little")
    for _ in range(count):
        n, m, k = (int.from_bytes(data[pos + i : pos + i + 2], "little") for i in (28, 30, 32))
        yield pos, data[pos + 46 : pos + 46 + n].decode()
        pos += 46 + n + m + k


def damaged_files() -> dict[str, bytes]:
    good = _xlsx()
    sheet = "xl/worksheets/sheet1.xml"
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo(sheet)
    data_at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = {}
    # a corrupt deflate stream inside a part
    data = bytearray(good)
    data[data_at : data_at + 8] = b"\xff" * 8
    out["corrupt deflate stream"] = bytes(data)
    # a part whose data inflates but whose CRC is wrong (in the local header and the central directory)
    data = bytearray(good)
    wrong = ((info.CRC ^ 0xFFFF) & 0xFFFFFFFF).to_bytes(4, "little")
    data[info.header_offset + 14 : info.header_offset + 18] = wrong
    for pos, name in _central_entries(bytes(data)):
        if name == sheet:
            data[pos + 16 : pos + 20] = wrong
    out["bad CRC"] = bytes(data)
    # sizes that lie: every part claims 3 bytes uncompressed
    data = bytearray(good)
    for pos, _name in _central_entries(bytes(data)):
        data[pos + 24 : pos + 28] = (3).to_bytes(4, "little")
    out["sizes that lie"] = bytes(data)
    # a part bigger than its entry says (which would slip past a ratio check on the declared size)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for i in src.infolist():
            dst.writestr(i, src.read(i.filename))
        dst.writestr("xl/media/image1.xml", b"\0" * (4 << 20))
    data = bytearray(buf.getvalue())
    for pos, name in _central_entries(bytes(data)):
        if name == "xl/media/image1.xml":
            data[pos + 24 : pos + 28] = (3).to_bytes(4, "little")
    out["a part bigger than it says"] = bytes(data)
    out["truncated"] = good[: len(good) // 2]
    out["random bytes after the signature"] = b"PK\x03\x04" + bytes(range(256)) * 4
    return out


IMPORTS = [
    ("schools:import", {"kind": "schools"}, "admin"),
    ("schools:import", {"kind": "villages"}, "admin"),
    ("subsidies:import", {"kind": "students"}, "officer_a"),
    ("subsidies:import", {"kind": "households"}, "officer_a"),
    ("teachers:import_hours", {}, "principal_a"),
]


def test_every_import_endpoint_refuses_damaged_files_with_a_message(populated, client_for):
    from django.urls import reverse

    w = populated
    clients = {who: client_for(getattr(w, who)) for *_rest, who in IMPORTS}
    names = {n for n, _r, _c in patterns() if n}
    assert {n for n in names if n.endswith(":import") or n.endswith("import_hours")} == {n for n, *_ in IMPORTS}
    before = table_counts()
    for name, kwargs, who in IMPORTS:
        c = clients[who]
        for label, data in damaged_files().items():
            r = c.post(reverse(name, kwargs=kwargs), {"file": SimpleUploadedFile("data.xlsx", data)})
            assert r.status_code in (200, 400), (name, label, r.status_code)
            body = r.content.decode()
            assert "damaged" in body or "损坏" in body, (name, label, body[-2000:])
    # an import runs as a job: the refused upload leaves its job (the user's record of the refusal and its
    # reason) and nothing else
    after = table_counts()
    assert after.pop("jinpin_job") > before.pop("jinpin_job")
    assert after == before


def test_an_over_long_or_nul_username_at_login_is_a_page():
    c = Client(raise_request_exception=False)
    for name in ("x" * 10_000, "a\x00b", "²" * 200):
        r = c.post("/accounts/login/", {"username": name, "password": "x"})
        assert r.status_code in (200, 403, 429), r.status_code


# -- the one way to parse, and codes in ASCII digits ---------------------------------------------
@pytest.mark.parametrize(
    "value,expected",
    [("12", 12), (" 7 ", None), ("²", None), ("٣", None), ("１２", None), ("1" * 25, None), ("\x00", None),
     ("-1", None), ("0", None), ("1e3", None), ("", None), (None, None), (5, 5)],
)  # fmt: skip
def test_parse_id_takes_ascii_digits_within_a_bigint(value, expected):
    from jinpin.forms import parse_id

    assert parse_id(value) == expected


def test_years_pages_and_choices_parse_the_same_way():
    from jinpin.forms import AsciiIntegerField, clean_text, parse_choice, parse_int, parse_year
    from teachers.honours import year_from

    assert parse_year("2016") == 2016 and parse_year("٢٠١٦") is None and parse_year("99999") is None
    assert year_from("²", 2020) == 2020 and year_from("٢٠١٦", 2020) == 2020 and year_from("2017", 2020) == 2017
    assert parse_int("-3") == -3 and parse_int("-3", min_value=0, default=0) == 0
    assert parse_choice("remote", [("remote", "x")]) == "remote" and parse_choice("\x00", [("remote", "x")]) is None
    assert clean_text(" a\x00b ") == "ab"
    with pytest.raises(Exception, match="0-9"):
        AsciiIntegerField().clean("٣")


def test_filters_refuse_non_ascii_ids_and_drop_nul(world):
    from jinpin.scope import get_scope
    from schools.filters import SchoolFilter
    from schools.models import School

    scope = get_scope(world.admin)
    qs = School.objects.all()
    county = str(world.county_a.pk)
    arabic = county.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert SchoolFilter({"county": county}, queryset=qs, scope=scope).is_valid()
    assert not SchoolFilter({"county": arabic}, queryset=qs, scope=scope).is_valid()  # int("٣") == 3: refused
    f = SchoolFilter({"q": "汶上\x00"}, queryset=qs, scope=scope)
    assert f.is_valid() and set(f.qs) == {world.strong_a, world.weak_a}


def test_registry_codes_are_ascii_digits_in_forms_and_imports(world, client_for):
    from django.urls import reverse
    from openpyxl import Workbook

    from jinpin import imports
    from jinpin.scope import get_scope
    from schools.forms import SchoolForm
    from schools.importers import SchoolImporter
    from schools.models import School

    data = {
        "code": "٠٨٣٠٠٠٠٠٠٩",
        "name": "新学校",
        "county": world.county_a.pk,
        "stage": "primary",
        "location": "rural",
        "pupils": 10,
    }
    form = SchoolForm(data, scope=get_scope(world.officer_a))
    assert not form.is_valid() and "0-9" in str(form.errors["code"])
    r = client_for(world.officer_a).post(reverse("schools:school_create"), data)
    assert r.status_code == 200 and not School.objects.filter(name="新学校").exists()
    # the same code in a spreadsheet
    wb = Workbook()
    ws = wb.active
    ws.append([str(c.header) for c in SchoolImporter.columns])
    row = {
        "code": "٠٨٣٠٠٠٠٠٠٩",
        "name": "新学校",
        "county": "汶上县",
        "stage": "小学",
        "location": "农村",
        "is_weak": "否",
    }
    ws.append([row.get(c.key, "") for c in SchoolImporter.columns])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    report = imports.run(SchoolImporter(scope=get_scope(world.officer_a), user=world.officer_a), buf)
    assert not report.ok and any("0-9" in e.message for e in report.errors)
    assert not School.objects.filter(name="新学校").exists()
