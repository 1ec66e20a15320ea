"""The schools export can be edited and imported back (towns and villages by the names the lists show),
and an import reports every problem of every row at once."""

import io

import pytest
from django.urls import reverse
from django.utils.translation import override
from openpyxl import Workbook, load_workbook

from jinpin.models import Job
from schools.models import School

pytestmark = pytest.mark.django_db


def _export(c, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("schools:school_export"), {})
    job = Job.objects.filter(kind="export").latest("created_at")
    r = c.get(reverse("job_download", args=[job.pk]))
    return load_workbook(io.BytesIO(b"".join(r.streaming_content)))


def _upload(c, wb):
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "学校.xlsx"
    return c.post(reverse("schools:import", args=["schools"]), {"file": buf})


def test_export_edit_import_round_trip(world, client_for, django_capture_on_commit_callbacks):
    c = client_for(world.officer_a)
    world.weak_a.town = world.town_a
    world.weak_a.save()
    wb = _export(c, django_capture_on_commit_callbacks)
    ws = wb.worksheets[0]
    header = [cell.value for cell in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    weak = rows[world.weak_a.code]
    assert weak[header.index("乡镇")].value == world.town_a.name  # the export names the town, no code
    weak[header.index("在校生数")].value = 444
    weak[header.index("学校名称")].value = "汶上李庄小学（改）"
    ws.append([world.weak_a.code[:-1] + "9", "汶上新增小学", "汶上县", world.town_a.name, world.village_a.name])
    new = ws.max_row
    for col, value in (("学段", "小学"), ("办学地点类别", "农村"), ("薄弱学校", "是"), ("在校生数", 90)):
        if col in header:
            ws.cell(row=new, column=header.index(col) + 1, value=value)
    r = _upload(c, wb)
    assert r.status_code == 302, r.content.decode()[:3000]
    world.weak_a.refresh_from_db()
    assert world.weak_a.pupils == 444 and world.weak_a.name == "汶上李庄小学（改）"
    added = School.objects.get(name="汶上新增小学")
    assert added.town == world.town_a and added.village == world.village_a and added.pupils == 90


def test_every_error_of_every_row_at_once(world, client_for):
    from schools.importers import SchoolImporter

    wb = Workbook()
    ws = wb.active
    with override("zh-hans"):
        ws.append([str(col.header) for col in SchoolImporter.columns])
    # one row, four problems: an unreadable stage, a county not managed, an unknown town, a negative pupil count
    ws.append(["0830000401", "错误小学", "泗水县", "不存在镇", "", "大学", "农村", "是", "", -5])
    ws.append(["0830000402", "错误中学", "汶上县", "不存在镇", "", "初中", "农村", "也许", "", 30])
    r = _upload(client_for(world.officer_a), wb)
    assert r.status_code == 200
    report = r.context["report"]
    found = {(e.row, e.column) for e in report.errors}
    assert {(2, "学段"), (2, "县（市、区）"), (2, "在校生数")} <= found, found
    assert {(3, "乡镇"), (3, "薄弱学校")} <= found, found
    assert not School.objects.filter(code__in=["0830000401", "0830000402"]).exists()
