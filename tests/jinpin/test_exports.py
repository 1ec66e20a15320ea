"""The export writer and the export job (eager here; the real worker is in test_worker.py)."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jinpin.exports import Column, write_xlsx
from jinpin.models import Job


def test_writer_formats_and_never_writes_formulas(tmp_path):
    path = tmp_path / "x.xlsx"
    cols = [
        Column("名称", 20),
        Column("金额", 12, "money"),
        Column("日期", 12, "date"),
        Column("时间", 16, "datetime"),
        Column("数量", 8, "int"),
    ]
    evil = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("http://x")']
    when = timezone.make_aware(dt.datetime(2016, 9, 1, 8, 30))
    rows = [(e, Decimal("1200.50"), dt.date(2016, 9, 1), when, 3) for e in evil] + [
        ("bad\x07char", None, None, None, None)
    ]
    n = write_xlsx(path, cols, rows, sheet_title="测试")
    assert n == len(rows)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere
    wb = load_workbook(path)
    ws = wb["测试"]
    assert [c.value for c in ws[1]] == ["名称", "金额", "日期", "时间", "数量"]
    assert ws[1][0].font.b
    assert ws.freeze_panes == "A2"
    assert int(ws.column_dimensions["A"].width) == 20  # Excel stores 20 characters as 20.71 (cell padding)
    for i, e in enumerate(evil, start=2):
        # XlsxWriter writes a CR as Excel's escape _x000D_ (Excel shows a CR); openpyxl's reader leaves it as is
        assert ws.cell(i, 1).value.replace("_x000D_", "\r") == e
        assert ws.cell(i, 1).quotePrefix
        assert ws.cell(i, 1).data_type == "s"
    assert ws["B2"].value == 1200.5 and ws["B2"].number_format == "#,##0.00"
    assert ws["C2"].value == dt.datetime(2016, 9, 1) and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["D2"].value == dt.datetime(2016, 9, 1, 8, 30)  # Asia/Shanghai wall time
    assert ws.cell(len(rows) + 1, 1).value == "badchar"


def test_writer_continues_on_new_sheets_past_the_row_limit(tmp_path):
    path = tmp_path / "x.xlsx"
    rows = ((i,) for i in range(10))
    n = write_xlsx(path, [Column("n", 8, "int")], rows, sheet_title="列表", max_rows=4)
    assert n == 10
    wb = load_workbook(path)
    assert wb.sheetnames == ["列表", "列表 (2)", "列表 (3)", "列表 (4)"]
    counts = [ws.max_row for ws in wb.worksheets]
    assert counts == [4, 4, 4, 2]  # header + 3, header + 3, header + 3, header + 1
    assert [c.value for c in wb.worksheets[1][1]] == ["n"]
    values = [c.value for ws in wb.worksheets for c in list(ws.columns)[0][1:]]
    assert values == list(range(10))


@pytest.mark.django_db
def test_school_export_honours_filters_and_scope(world, client_for, django_capture_on_commit_callbacks):
    c = client_for(world.officer_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("schools:school_export"), {"is_weak": "true", "county": str(world.county_b.pk)})
    job = Job.objects.get(created_by=world.officer_a)
    assert r.status_code == 302 and r.url == reverse("job_detail", args=[job.pk])
    # a county outside the officer's scope is not a valid filter: nothing is exported
    assert job.status == Job.Status.SUCCEEDED and job.result_rows == 0
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("schools:school_export"), {"is_weak": "true"})
    job = Job.objects.filter(created_by=world.officer_a).latest("created_at")
    assert job.status == Job.Status.SUCCEEDED and job.result_rows == 1
    r = c.get(reverse("job_download", args=[job.pk]))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0]
    assert ws["A1"].value == "学校标识码"
    assert [row[1] for row in ws.iter_rows(min_row=2, values_only=True)] == ["汶上李庄小学"]
    # nobody else can fetch it, not even the city administrator
    assert client_for(world.admin).get(reverse("job_download", args=[job.pk])).status_code == 404
    assert client_for(world.officer_b).get(reverse("job_detail", args=[job.pk])).status_code == 404
    # downloads are in the audit log
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(object_pk=str(job.pk), additional_data__event="download").exists()


@pytest.mark.django_db
def test_expired_file_is_gone(world, client_for, django_capture_on_commit_callbacks):
    from jinpin import jobs

    c = client_for(world.officer_a)
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("schools:school_export"), {})
    job = Job.objects.get(created_by=world.officer_a)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert c.get(reverse("job_download", args=[job.pk])).status_code == 410
    assert jobs.purge_expired() == 1
    job.refresh_from_db()
    assert job.result_file == ""


@pytest.mark.django_db
def test_job_of_deactivated_user_fails_and_can_be_retried(world, client_for, django_capture_on_commit_callbacks):
    from jinpin import jobs

    c = client_for(world.officer_a)
    job = Job.objects.create(
        kind="export", params={"exporter": "schools.schools", "params": {}}, title="t", created_by=world.officer_a
    )
    world.officer_a.membership.is_active = False
    world.officer_a.membership.save()
    jobs.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message
    world.officer_a.membership.is_active = True
    world.officer_a.membership.save()
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("job_retry", args=[job.pk]))
    new = Job.objects.exclude(pk=job.pk).get(created_by=world.officer_a)
    assert r.url == reverse("job_detail", args=[new.pk]) and new.status == Job.Status.SUCCEEDED


@pytest.mark.django_db
def test_job_status_json(world, client_for, django_capture_on_commit_callbacks):
    c = client_for(world.officer_a)
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("schools:school_export"), {})
    job = Job.objects.get(created_by=world.officer_a)
    data = c.get(reverse("job_status", args=[job.pk])).json()
    assert data["finished"] and data["percent"] == 100 and data["download_url"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["job_detail", "job_status", "job_download", "job_retry"])
def test_every_job_url_is_404_for_anyone_else(world, client_for, name):
    job = Job.objects.create(
        kind="export",
        params={"exporter": "schools.schools", "params": {}},
        title="t",
        created_by=world.officer_a,
        status=Job.Status.FAILED,
    )
    url = reverse(name, args=[job.pk])
    for other in (world.officer_b, world.principal_a, world.admin, world.auditor):
        c = client_for(other)
        r = c.post(url) if name == "job_retry" else c.get(url)
        assert r.status_code == 404, (other, name)
