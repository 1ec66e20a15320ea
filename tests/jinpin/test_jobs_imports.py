"""Imports as jobs: a large upload is validated and saved by a job (progress, errors by row and column on
the job page, paginated), a per-user cap on waiting imports, and no executable part ever accepted or kept."""

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import Workbook

from jinpin.models import Job
from schools.models import School

from .test_imports import SCHOOL_HEADER, good_rows, rejected, upload, xlsx

pytestmark = pytest.mark.django_db


def bad_rows(n):
    return [[f"08301{i:05d}", f"坏学校{i}", "汶上县", "", "", "大学", "农村", "是", "", 10] for i in range(n)]


def files_under(root, folder):
    path = Path(root) / folder
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_a_large_import_runs_as_a_job_with_errors_paginated_on_its_page(
    world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 0  # every file goes to a worker (eager here)
    c = client_for(world.officer_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world) + bad_rows(250)))}
        )
    job = Job.objects.get(created_by=world.officer_a)
    assert r.status_code == 302 and r.url == reverse("job_detail", args=[job.pk])
    assert job.kind == "import" and job.status == Job.Status.FAILED
    assert "252" in job.message and "250" in job.message and "没有导入任何数据" in job.message
    assert job.row_errors.count() == 250 and job.progress_total == 252
    assert not School.objects.filter(code__startswith="08301").exists()
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "学段" in page and "大学" in page and "第 1 页，共 3 页" in page
    second = c.get(reverse("job_detail", args=[job.pk]), {"page": "2"}).content.decode()
    assert "<td>150</td>" in second and "<td>4</td>" not in second  # Excel rows 104-203
    assert files_under(settings.PRIVATE_ROOT, "imports") == []  # nothing kept for a refused file
    # the good file, also through a job: saved, copy kept for auditors, upload removed
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world)))})
    job = Job.objects.filter(created_by=world.officer_a).order_by("-created_at").first()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result_rows == 2 and "2" in job.message
    assert School.objects.filter(code__startswith="08300001").count() == 2
    assert len(files_under(settings.PRIVATE_ROOT, "imports")) == 1
    assert files_under(settings.PRIVATE_ROOT, "uploads") == []


def test_small_files_still_answer_on_the_same_page(world, client_for):
    c = client_for(world.officer_a)
    r = c.post(reverse("teachers:import_hours"), {"file": upload(xlsx([["x"]], header=["nonsense"]))})
    assert r.status_code == 200 and "没有导入任何数据" in r.content.decode()
    assert Job.objects.get(created_by=world.officer_a).status == Job.Status.FAILED


def test_per_user_cap_on_waiting_imports(world, client_for, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 0
    settings.IMPORT_MAX_QUEUED_PER_USER = 2
    for status in (Job.Status.QUEUED, Job.Status.RUNNING):
        Job.objects.create(kind="import", params={}, title="t", created_by=world.officer_a, status=status)
    Job.objects.create(kind="import", params={}, title="t", created_by=world.officer_b, status=Job.Status.QUEUED)
    c = client_for(world.officer_a)
    r = c.post(reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world)))})
    assert r.status_code == 200
    body = r.content.decode()
    assert "已有 2 个导入正在排队或运行" in body and "最多 2 个" in body
    assert Job.objects.filter(created_by=world.officer_a).count() == 2
    assert files_under(settings.PRIVATE_ROOT, "uploads") == []
    # someone else's waiting imports do not count against this user
    Job.objects.filter(created_by=world.officer_a).update(status=Job.Status.SUCCEEDED)
    r = c.post(reverse("schools:import", args=["schools"]), {"file": upload(xlsx(good_rows(world)))})
    assert r.status_code == 302


# -- executable parts, however they are named ---------------------------------------------
CT = "application/vnd.ms-office.vbaProject"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


def workbook_with(extra_parts=None, content_type_xml=None, extra_rel=None):
    wb = Workbook()
    wb.active.append(SCHOOL_HEADER)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml" and content_type_xml:
                data = data.replace(b"</Types>", content_type_xml + b"</Types>")
            if info.filename == "xl/_rels/workbook.xml.rels" and extra_rel:
                data = data.replace(b"</Relationships>", extra_rel + b"</Relationships>")
            z.writestr(info.filename, data)
        for name, data in (extra_parts or {}).items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "case",
    [
        # a VBA project under an innocent name, declared by its content type
        {
            "extra_parts": {"xl/styles2.xml": b"<x/>"},
            "content_type_xml": f'<Override PartName="/xl/styles2.xml" ContentType="{CT}"/>'.encode(),
        },
        # the same by a Default extension
        {
            "extra_parts": {"xl/data.dat": b"<x/>"},
            "content_type_xml": f'<Default Extension="dat" ContentType="{CT}"/>'.encode(),
        },
        # referenced by relationship type only
        {
            "extra_parts": {"xl/theme/extra.xml": b"<x/>"},
            "extra_rel": b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/'
            b'vbaProject" Target="theme/extra.xml"/>',
        },
        # an ActiveX control and an OLE object by relationship
        {
            "extra_parts": {"xl/media/a.xml": b"<x/>"},
            "extra_rel": b'<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/control" Target="media/a.xml"/><Relationship Id="rId97" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="media/a.xml"/>',
        },
        # a renamed compound file (what vbaProject.bin is), declared as nothing at all
        {"extra_parts": {"xl/media/image9.png": OLE}},
        # an Excel 4 macro sheet
        {
            "extra_parts": {"xl/macrosheets/sheet1.xml": b"<x/>"},
            "content_type_xml": b'<Override PartName="/xl/macrosheets/sheet1.xml" '
            b'ContentType="application/vnd.ms-excel.macrosheet+xml"/>',
        },
        # an ActiveX binary in its folder
        {"extra_parts": {"xl/activeX/activeX1.xml": b"<x/>"}},
    ],
)
def test_every_executable_part_is_refused(world, case):
    msg = rejected(world, workbook_with(**case))
    assert "宏" in msg or "程序" in msg


def test_a_plain_workbook_is_not_mistaken_for_one(world):
    from jinpin import imports

    imports.refuse_executable_parts(xlsx(good_rows(world)))  # no exception


def test_an_executable_upload_is_not_kept_anywhere(world, client_for, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_MAX_BYTES = 0
    data = workbook_with(extra_parts={"xl/media/image9.png": OLE})
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.officer_a).post(reverse("schools:import", args=["schools"]), {"file": upload(data)})
    job = Job.objects.get(created_by=world.officer_a)
    assert job.status == Job.Status.FAILED and "宏" in job.message
    assert files_under(settings.PRIVATE_ROOT, "imports") == [] and files_under(settings.PRIVATE_ROOT, "uploads") == []
