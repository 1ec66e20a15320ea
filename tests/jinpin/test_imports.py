"""The import base: file safety, spreadsheet traps, all-or-nothing, idempotency (through the schools importers)."""

import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from jinpin import imports
from schools.importers import SchoolImporter, VillageImporter
from schools.models import School, Village

pytestmark = pytest.mark.django_db

SCHOOL_HEADER = [
    "学校标识码",
    "学校名称",
    "县（市、区）",
    "乡镇代码",
    "村代码",
    "学段",
    "办学地点类别",
    "薄弱学校",
    "地址",
    "在校生数",
]


def xlsx(rows, header=None, number_formats=None):
    wb = Workbook()
    ws = wb.active
    ws.append(header or SCHOOL_HEADER)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(data, name="schools.xlsx"):
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def run(importer_cls, user, scope_user_world, data):
    from jinpin.scope import get_scope

    return imports.run(importer_cls(scope=get_scope(user), user=user), upload(data))


def good_rows(world):
    return [
        ["0830000101", "汶上新建小学", "汶上县", "370830003", "370830003001", "小学", "农村", "是", "李庄", 180],
        ["0830000102", "汶上新建幼儿园", "汶上县", "", "", "幼儿园", "县镇", "否", "", None],
    ]


def test_template_has_every_column_and_text_format(world, client_for):
    r = client_for(world.officer_a).get(reverse("schools:import_template", args=["schools"]))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    # towns and villages by the names the lists show (SCHOOL_HEADER's earlier code headers are still read)
    assert [c.value for c in ws[1]] == [*SCHOOL_HEADER[:3], "乡镇", "村", *SCHOOL_HEADER[5:]]
    assert ws.column_dimensions["A"].number_format == "@"  # codes kept as text
    assert ws.max_row == 1  # no pre-created rows: appended data starts at row 2
    assert len(wb.worksheets) == 2  # the instructions sheet


def test_import_all_then_reimport_changes_nothing(world):
    data = xlsx(good_rows(world))
    report = run(SchoolImporter, world.officer_a, world, data)
    assert report.ok, report.errors or report.file_error
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    s = School.objects.get(code="0830000101")
    assert s.village == world.village_a and s.town == world.town_a and s.is_weak and s.pupils == 180
    again = run(SchoolImporter, world.officer_a, world, data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert School.objects.filter(code__startswith="08300001").count() == 2


def test_one_bad_row_saves_nothing_and_names_row_and_column(world):
    rows = good_rows(world) + [["0830000103", "汶上坏小学", "汶上县", "", "", "大学", "农村", "是", "", 10]]
    report = run(SchoolImporter, world.officer_a, world, xlsx(rows))
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(4, "学段")]
    assert "大学" in report.errors[0].message and "小学" in report.errors[0].message
    assert not School.objects.filter(code__startswith="08300001").exists()


def test_other_county_rows_are_refused(world):
    rows = [["0831000101", "泗水新小学", "泗水县", "", "", "小学", "农村", "是", "", 10]]
    report = run(SchoolImporter, world.officer_a, world, xlsx(rows))
    assert [(e.row, e.column) for e in report.errors] == [(2, "县（市、区）")]
    assert not School.objects.filter(code="0831000101").exists()


def test_code_used_in_other_county_does_not_leak(world):
    rows = [[world.weak_b.code, "汶上冒名小学", "汶上县", "", "", "小学", "农村", "是", "", 10]]
    report = run(SchoolImporter, world.officer_a, world, xlsx(rows))
    assert report.errors[0].column == "学校标识码"
    assert world.weak_b.name not in report.errors[0].message


@pytest.mark.parametrize(
    "cell, fragment",
    [
        (370830200805010129, "15"),  # an 18-digit number: Excel kept 15 digits
        ("０８３０００００１１", "全角"),  # full-width digits
        (" 0830000111", "空格"),  # stray space
        ("3.70830E+17", "科学计数"),  # scientific notation typed as text
    ],
)
def test_spreadsheet_traps_in_code_column(world, cell, fragment):
    rows = [[cell, "汶上陷阱小学", "汶上县", "", "", "小学", "农村", "是", "", 10]]
    report = run(SchoolImporter, world.officer_a, world, xlsx(rows))
    assert report.errors and report.errors[0].column == "学校标识码"
    assert fragment in report.errors[0].message, report.errors[0].message


def test_date_stored_as_text_is_named(world):
    header = ["县（市、区）", "乡镇代码", "乡镇名称", "村代码", "村名称", "贫困村类别", "认定日期"]
    rows = [["汶上县", "370830003", "测试镇", "370830003099", "新村", "省定贫困村", "2016/3/1"]]
    report = run(VillageImporter, world.officer_a, world, xlsx(rows, header))
    assert [(e.row, e.column) for e in report.errors] == [(2, "认定日期")]
    assert "文本" in report.errors[0].message and "2016-03-01" in report.errors[0].message
    assert not Village.objects.filter(code="370830003099").exists()


def test_duplicate_rows_in_one_file(world):
    rows = good_rows(world) + [good_rows(world)[0]]
    report = run(SchoolImporter, world.officer_a, world, xlsx(rows))
    assert report.errors[0].row == 4 and "第 2 行" in report.errors[0].message


# -- hostile and malformed files -------------------------------------------------------
def zipped(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def minimal_parts():
    data = xlsx([])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rejected(world, data, **kw):
    t0 = time.monotonic()
    report = run(SchoolImporter, world.officer_a, world, data)
    assert time.monotonic() - t0 < 5
    assert report.file_error, report
    return report.file_error


def test_not_xlsx(world):
    assert "xlsx" in rejected(world, "学校标识码,学校名称\n1,2\n".encode())


def test_old_xls(world):
    assert ".xls" in rejected(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)


def test_damaged_zip(world):
    assert rejected(world, b"PK\x03\x04garbage")


def test_zip_that_is_not_a_workbook(world):
    assert rejected(world, zipped({"hello.txt": b"hi"}))


def test_macros_refused(world):
    parts = minimal_parts()
    parts["xl/vbaProject.bin"] = b"\0" * 100
    assert "宏" in rejected(world, zipped(parts))


def test_zip_bomb_refused(world):
    parts = minimal_parts()
    parts["xl/worksheets/sheet1.xml"] = b"<x>" + b"0" * (50 * 2**20) + b"</x>"
    assert "zip" in rejected(world, zipped(parts)).lower() or "压缩" in rejected(world, zipped(parts))


def test_xml_bomb_refused(world):
    parts = minimal_parts()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
    )
    parts["xl/worksheets/sheet1.xml"] = bomb
    assert "XML" in rejected(world, zipped(parts))


def test_oversized_file(world, settings):
    settings.IMPORT_MAX_BYTES = 1000
    assert "MB" in rejected(world, xlsx(good_rows(world)))


def test_too_many_rows(world, settings):
    settings.IMPORT_MAX_ROWS = 1
    assert "2" in rejected(world, xlsx(good_rows(world)))


def test_upload_view_shows_errors_in_chinese_and_saves_nothing(world, client_for):
    c = client_for(world.officer_a)
    rows = good_rows(world) + [["0830000103", "汶上坏小学", "汶上县", "", "", "大学", "农村", "是", "", 10]]
    r = c.post(reverse("schools:import", args=["schools"]), {"file": upload(xlsx(rows))})
    assert r.status_code == 200
    body = r.content.decode()
    assert "没有导入任何数据" in body and "学段" in body
    assert not School.objects.filter(code__startswith="08300001").exists()
    r = c.post(reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world)))})
    assert r.status_code == 302
    assert School.objects.filter(code__startswith="08300001").count() == 2


def test_auditor_cannot_import(world, client_for):
    r = client_for(world.auditor).post(
        reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world)))}
    )
    assert r.status_code == 403
