"""Bulk import of training hours: per-row errors, all or nothing, nothing added twice."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from jinpin import idcard, imports
from jinpin.scope import get_scope
from teachers.importers import TrainingHoursImporter
from teachers.models import TrainingAttendance

from .factories import CourseFactory

KEYS = ["id_number", "name", "course_code", "hours", "completed_on", "certificate_no"]


def xlsx(rows, header=KEYS):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("hours.xlsx", out.getvalue())


def run(user, rows):
    return imports.run(TrainingHoursImporter(scope=get_scope(user), user=user), xlsx(rows), keep_copy=False)


@pytest.fixture
def course(db):
    return CourseFactory(code="SD2017-01", hours=Decimal("30"), start=dt.date(2017, 3, 1), end=dt.date(2017, 3, 10))


def test_good_file_then_reimport_adds_nothing(world, staff, course):
    rows = [
        [staff.weak_a.id_number, staff.weak_a.name, "SD2017-01", 30, dt.date(2017, 3, 10), "C-1"],
        [staff.strong_a.id_number, staff.strong_a.name, "sd2017-01", 12.5, None, None],
    ]
    report = run(world.officer_a, rows)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    a = TrainingAttendance.objects.get(teacher=staff.strong_a)
    assert (a.hours, a.completed_on, a.source) == (Decimal("12.5"), dt.date(2017, 3, 10), "import")
    again = run(world.officer_a, rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert TrainingAttendance.objects.count() == 2
    rows[1][3] = 20  # the provider corrected its sheet
    third = run(world.officer_a, rows)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)


def test_every_bad_row_is_reported_and_nothing_is_saved(world, staff, course):
    CourseFactory(code="GP-2", hours=Decimal("1000"))
    good = staff.weak_a.id_number
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    unknown = idcard.make("370830", dt.date(1990, 1, 1), 555, "M")
    rows = [
        [good, staff.weak_a.name, "SD2017-01", 30, None, None],  # row 2: fine
        [bad_checksum, "某人", "SD2017-01", 10, None, None],  # row 3: checksum
        [unknown, "某人", "SD2017-01", 10, None, None],  # row 4: unknown ID
        [good, staff.weak_a.name, "SD2017-01", 30, None, None],  # row 5: duplicate of row 2
        [staff.strong_a.id_number, staff.strong_a.name, "SD2017-01", -3, None, None],  # row 6: negative
        [staff.strong_a.id_number, staff.strong_a.name, "NOPE", 10, None, None],  # row 7: unknown course
        [staff.weak_b.id_number, staff.weak_b.name, "SD2017-01", 10, None, None],  # row 8: another county
        [staff.strong_a.id_number, "别人", "GP-2", 900, None, None],  # row 9: name + absurd hours
    ]
    report = run(world.officer_a, rows)
    assert not report.ok
    by_row = {}
    for e in report.errors:
        by_row.setdefault(e.row, []).append(e.message)
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9}
    assert "check character" in by_row[3][0]
    assert "No teacher in your area has this ID number" in by_row[4][0]
    assert "Duplicates row 2" in by_row[5][0]
    assert "negative" in by_row[6][0]
    assert "No course has the code" in by_row[7][0]
    # registered in another county, or nowhere: one message, so the sheet cannot tell where anyone works
    assert by_row[8] == by_row[4] and staff.weak_b.name not in by_row[8][0]
    assert len(by_row[9]) == 2 and any("not plausible" in m for m in by_row[9])
    assert TrainingAttendance.objects.count() == 0


def template_header():
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(imports.template(TrainingHoursImporter))).worksheets[0]
    return [c.value for c in ws[1]]


def test_template_headers_and_view(world, staff, course, client_for):
    c = client_for(world.principal_a)
    HEADER = template_header()
    f = xlsx([[staff.weak_a.id_number, staff.weak_a.name, "SD2017-01", 30, None, "X1"]], header=HEADER)
    r = c.post(reverse("teachers:import_hours"), {"file": f})
    assert r.status_code == 302, r.context["report"].errors if r.context else r
    assert TrainingAttendance.objects.get().certificate_no == "X1"
    # a principal matches only their own school's teachers
    f = xlsx([[staff.strong_a.id_number, staff.strong_a.name, "SD2017-01", 30, None, None]], header=HEADER)
    r = c.post(reverse("teachers:import_hours"), {"file": f})
    assert r.status_code == 200 and r.context["report"].errors
    assert client_for(world.auditor).post(reverse("teachers:import_hours"), {"file": f}).status_code == 403
    t = client_for(world.auditor).get(reverse("teachers:import_template"))
    assert t.status_code == 200 and t["Content-Type"].startswith("application/vnd.openxmlformats")


def test_an_import_that_overwrites_hours_leaves_the_old_value_in_the_audit_log(world, staff, course):
    """A provider's corrected sheet may replace hours entered by hand: the audit log keeps what was replaced."""
    from auditlog.models import LogEntry

    from teachers.services import attendance_record

    a = attendance_record(
        teacher=staff.weak_a,
        course=course,
        hours=Decimal("30"),
        completed_on=dt.date(2017, 3, 10),
        acting_user=world.principal_a,
    )
    report = run(world.officer_a, [[staff.weak_a.id_number, staff.weak_a.name, "SD2017-01", 8, None, "P-9"]])
    assert report.ok and report.updated == 1, report.errors
    a.refresh_from_db()
    assert a.hours == Decimal("8.0")
    entry = LogEntry.objects.get_for_object(a).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == world.officer_a
    assert entry.changes["hours"] == ["30.0", "8.0"] and entry.changes["certificate_no"] == ["", "P-9"]
