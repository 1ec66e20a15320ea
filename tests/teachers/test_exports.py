"""The four Excel reports through the jobs/export framework: filters and scope honoured."""

import datetime as dt
import io
from decimal import Decimal

from django.urls import reverse
from openpyxl import load_workbook

from jinpin.models import Job
from teachers.models import Movement, ServicePeriod, Teacher, TrainingAttendance

from .factories import CourseFactory

D = dt.date


def export(client, url, data, captured):
    with captured(execute=True):
        r = client.post(url, data)
    assert r.status_code == 302
    job = Job.objects.filter(kind="export").latest("created_at")
    assert job.status == Job.Status.SUCCEEDED, job.message
    body = client.get(reverse("job_download", args=[job.pk]))
    ws = load_workbook(io.BytesIO(b"".join(body.streaming_content))).worksheets[0]
    return list(ws.iter_rows(min_row=2, values_only=True))


def test_roster_scope_and_filters(world, staff, client_for, django_capture_on_commit_callbacks):
    c = client_for(world.officer_a)
    rows = export(c, reverse("teachers:teacher_export"), {}, django_capture_on_commit_callbacks)
    assert {r[0] for r in rows} == {staff.weak_a.name, staff.strong_a.name}
    rows = export(c, reverse("teachers:teacher_export"), {"poor_village": "true"}, django_capture_on_commit_callbacks)
    assert [r[0] for r in rows] == [staff.weak_a.name]


def test_compliance_export_one_row_per_teacher(world, staff, client_for, django_capture_on_commit_callbacks):
    course = CourseFactory(hours=Decimal("80"))
    TrainingAttendance.objects.create(
        teacher=staff.weak_a, course=course, hours=Decimal("45"), completed_on=D(2017, 3, 10)
    )
    rows = export(
        client_for(world.auditor), reverse("teachers:compliance_export"), {}, django_capture_on_commit_callbacks
    )
    by_name = {r[3]: r for r in rows}
    assert set(by_name) == {staff.weak_a.name, staff.weak_b.name}
    assert by_name[staff.weak_a.name][6:9] == (45, 60, 15)
    c = client_for(world.principal_b)
    assert (
        export(
            c, reverse("teachers:compliance_export"), {"school": world.weak_a.pk}, django_capture_on_commit_callbacks
        )
        == []
    )
    rows = export(c, reverse("teachers:compliance_export"), {}, django_capture_on_commit_callbacks)
    assert [r[3] for r in rows] == [staff.weak_b.name]


def test_movements_and_honours_exports(world, staff, client_for, django_capture_on_commit_callbacks):
    Movement.objects.create(
        teacher=staff.strong_a,
        kind="support_teaching",
        from_school=world.strong_a,
        to_school=world.weak_a,
        start=D(2017, 9, 1),
    )
    Movement.objects.create(
        teacher=staff.strong_b,
        kind="support_teaching",
        from_school=world.strong_b,
        to_school=world.weak_b,
        start=D(2017, 9, 1),
    )
    rows = export(
        client_for(world.officer_a), reverse("teachers:movement_export"), {}, django_capture_on_commit_callbacks
    )
    assert [r[0] for r in rows] == [staff.strong_a.name]
    assert "*" in rows[0][1]  # ID numbers are masked in the movements report
    ServicePeriod.objects.filter(teacher=staff.weak_a).update(start=D(1995, 9, 1))
    rows = export(
        client_for(world.officer_a),
        reverse("teachers:honour_export"),
        {"year": 2016},
        django_capture_on_commit_callbacks,
    )
    assert [(r[2], r[4]) for r in rows] == [(staff.weak_a.name, 20)]
    assert Teacher.objects.count() == 4
