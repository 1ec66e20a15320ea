"""Forged or absurd input gets a 404 or a clear message, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["movement_create", "attendance_create"])
@pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999999"])
def test_a_nonsense_teacher_id_in_the_query_string_is_a_404(officer, name, value):
    assert officer.get(reverse(f"teachers:{name}") + f"?teacher={value}").status_code == 404


def test_a_nonsense_course_id_only_drops_the_preselection(officer):
    r = officer.get(reverse("teachers:attendance_create") + "?course=abc")
    assert r.status_code == 200 and not r.context["form"].initial.get("course")


@pytest.mark.parametrize("year", ["99999", "0", "-5", "2016x"])
def test_an_absurd_year_on_the_vacancies_page_is_not_a_500(officer, year):
    r = officer.get(reverse("teachers:vacancies") + f"?year={year}")
    assert r.status_code == 200 and 1980 <= r.context["year"] <= 2100


def test_an_absurd_honours_export_year_still_gives_a_file(world, client_for, django_capture_on_commit_callbacks):
    from jinpin.models import Job

    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(world.officer_a).post(reverse("teachers:honour_export"), {"year": "99999"})
    assert r.status_code == 302
    job = Job.objects.get(kind="export")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert 1980 <= job.params["params"]["year"] <= 2100


def test_starting_a_movement_planned_in_year_one_is_a_message(world, staff, officer):
    from teachers.models import Movement, MovementStatus

    m = Movement.objects.create(
        teacher=staff.weak_a,
        kind="regular_rotation",
        from_school=world.weak_a,
        to_school=world.strong_a,
        start="0001-01-02",
    )
    r = officer.post(reverse("teachers:movement_transition", args=[m.pk, "start"]), {"on": "0001-01-02"}, follow=True)
    assert r.status_code == 200 and r.context["messages"]
    m.refresh_from_db()
    assert m.status == MovementStatus.PLANNED


@pytest.mark.parametrize("day", ["9999-12-31", "2017-02-28", "0001-01-01"])
def test_an_attendance_dated_outside_its_course_is_refused(world, staff, client_for, day):
    from teachers.models import TrainingAttendance

    from .factories import CourseFactory

    course = CourseFactory()  # 2017-03-01 – 2017-03-10
    r = client_for(world.principal_a).post(
        reverse("teachers:attendance_create") + f"?teacher={staff.weak_a.pk}",
        {"course": course.pk, "hours": "", "completed_on": day, "certificate_no": ""},
    )
    assert r.status_code == 200 and "completed_on" in r.context["form"].errors
    assert not TrainingAttendance.objects.exists()


def test_a_nul_character_in_the_course_search_is_not_a_500(officer):
    from .factories import CourseFactory

    CourseFactory(name="远程研修")
    r = officer.get(reverse("teachers:course_list") + "?q=%00%E8%BF%9C%E7%A8%8B")
    assert r.status_code == 200 and r.context["page"].paginator.count == 1


@pytest.mark.parametrize(
    "name, data",
    [
        ("teacher_export", {"county": "99999999999999999999", "honour": "abc", "school_code": "08\x00", "q": "\x00"}),
        ("movement_export", {"county": "abc", "start_from": "99999-01-01", "q": "张\x00"}),
        ("compliance_export", {"county": "99999999999999999999", "school": "\x00", "rule": "99999999999999999999"}),
        ("honour_export", {"year": "\x00", "county": "\x00", "school_code": "x"}),
    ],
)
def test_forged_export_forms_give_a_job_not_a_500(world, officer, django_capture_on_commit_callbacks, name, data):
    from jinpin.models import Job

    with django_capture_on_commit_callbacks(execute=True):
        r = officer.post(reverse(f"teachers:{name}"), data)
    assert r.status_code == 302
    job = Job.objects.get(kind="export")
    assert job.status == Job.Status.SUCCEEDED, job.message


def test_a_double_submitted_teacher_is_a_message_not_a_500(world, monkeypatch):
    """Both submits pass the form's duplicate check before either saves: the database's unique index decides."""
    import datetime as dt

    from django.core.exceptions import ValidationError
    from django.db.models import QuerySet

    from jinpin import idcard
    from teachers import services
    from teachers.models import Teacher

    data = {
        "id_number": idcard.make("370830", dt.date(1988, 3, 4), 211, "M"),
        "name": "赵建国",
        "sex": "M",
        "birth_date": dt.date(1988, 3, 4),
        "school": world.weak_a,
        "post": "teacher",
    }
    services.teacher_create(acting_user=world.principal_a, start=dt.date(2016, 9, 1), **data)
    real = QuerySet.exists
    # the second request checked before the first saved
    monkeypatch.setattr(QuerySet, "exists", lambda self: False if self.model is Teacher else real(self))
    with pytest.raises(ValidationError) as e:
        services.teacher_create(acting_user=world.principal_a, start=dt.date(2016, 9, 1), **data)
    monkeypatch.undo()
    assert "id_number" in e.value.error_dict
    assert Teacher.objects.count() == 1


def test_a_double_submitted_attendance_is_a_message_not_a_500(world, staff, monkeypatch):
    import datetime as dt
    from decimal import Decimal

    from django.core.exceptions import ValidationError
    from django.db.models import QuerySet

    from teachers import services
    from teachers.models import TrainingAttendance

    from .factories import CourseFactory

    course = CourseFactory()
    services.attendance_record(
        teacher=staff.weak_a,
        course=course,
        hours=Decimal("30"),
        completed_on=dt.date(2017, 3, 10),
        acting_user=world.principal_a,
    )
    real = QuerySet.exists
    # the second request checked before the first saved
    monkeypatch.setattr(QuerySet, "exists", lambda self: False if self.model is TrainingAttendance else real(self))
    with pytest.raises(ValidationError, match="already recorded"):
        services.attendance_record(
            teacher=staff.weak_a,
            course=course,
            hours=Decimal("30"),
            completed_on=dt.date(2017, 3, 10),
            acting_user=world.principal_a,
        )
    monkeypatch.undo()
    assert TrainingAttendance.objects.count() == 1


def test_a_double_submitted_course_is_a_message_not_a_500(world, client_for, monkeypatch):
    from django.db.models import QuerySet

    from teachers.models import TrainingCourse

    data = {
        "code": "SD2017-09",
        "name": "远程研修",
        "provider": "省教师教育网",
        "level": "city",
        "mode": "remote",
        "hours": "30",
        "start": "2017-03-01",
        "end": "2017-03-10",
    }
    c = client_for(world.officer_a)
    assert c.post(reverse("teachers:course_create"), data).status_code == 302
    real = QuerySet.exists
    # the second request checked before the first saved
    monkeypatch.setattr(QuerySet, "exists", lambda self: False if self.model is TrainingCourse else real(self))
    r = c.post(reverse("teachers:course_create"), data)
    monkeypatch.undo()
    assert r.status_code == 200 and "code" in r.context["form"].errors
    assert TrainingCourse.objects.count() == 1


def test_a_double_submitted_first_establishment_is_a_message_not_a_500(world, client_for, monkeypatch):
    from django.db.models import QuerySet

    from teachers.models import Establishment

    c = client_for(world.officer_a)
    url = reverse("teachers:establishment_edit", args=[world.weak_a.pk])
    assert c.post(url, {"posts": 9}).status_code == 302
    real_first, real_exists = QuerySet.first, QuerySet.exists
    # the second request looked before the first saved
    monkeypatch.setattr(QuerySet, "first", lambda self: None if self.model is Establishment else real_first(self))
    monkeypatch.setattr(QuerySet, "exists", lambda self: False if self.model is Establishment else real_exists(self))
    r = c.post(url, {"posts": 10})
    monkeypatch.undo()
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    assert Establishment.objects.get().posts == 9
