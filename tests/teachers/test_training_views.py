"""Courses and attendance pages: scope, read-only roles, validation; home panel and menus."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from teachers.models import TrainingAttendance, TrainingCourse

from .factories import CourseFactory


def test_course_create_and_access(world, client_for):
    data = {
        "code": "wx2017-9",
        "name": "汶上县班主任培训",
        "provider": "汶上县教师进修学校",
        "level": "county",
        "mode": "centralised",
        "hours": "12",
        "start": "2017-07-01",
        "end": "2017-07-03",
    }
    r = client_for(world.officer_a).post(reverse("teachers:course_create"), data)
    assert r.status_code == 302
    course = TrainingCourse.objects.get()
    assert (course.code, course.county) == ("WX2017-9", world.county_a)  # a county's own course
    assert client_for(world.officer_b).get(reverse("teachers:course_detail", args=[course.pk])).status_code == 404
    assert client_for(world.principal_a).get(reverse("teachers:course_detail", args=[course.pk])).status_code == 200
    assert client_for(world.auditor).post(reverse("teachers:course_create"), data).status_code == 403
    assert client_for(world.principal_a).post(reverse("teachers:course_create"), data).status_code == 403
    bad = dict(data, code="X2", end="2017-06-01")
    r = client_for(world.admin).post(reverse("teachers:course_create"), bad)
    assert r.status_code == 200 and r.context["form"].errors


def test_attendance_rules(world, staff, client_for):
    course = CourseFactory(hours=Decimal("30"))
    url = reverse("teachers:attendance_create")
    c = client_for(world.principal_a)
    r = c.post(
        url + f"?teacher={staff.weak_a.pk}",
        {"course": course.pk, "hours": "31", "completed_on": "", "certificate_no": ""},
    )
    assert "hours" in r.context["form"].errors  # more than the course offers
    r = c.post(
        url + f"?teacher={staff.weak_a.pk}",
        {"course": course.pk, "hours": "-1", "completed_on": "", "certificate_no": ""},
    )
    assert "hours" in r.context["form"].errors
    r = c.post(
        url + f"?teacher={staff.weak_a.pk}",
        {"course": course.pk, "hours": "", "completed_on": "", "certificate_no": "A1"},
    )
    assert r.status_code == 302
    a = TrainingAttendance.objects.get()
    assert (a.hours, a.completed_on, a.recorded_by) == (Decimal("30"), course.end, world.principal_a)
    r = c.post(
        url + f"?teacher={staff.weak_a.pk}",
        {"course": course.pk, "hours": "", "completed_on": "", "certificate_no": ""},
    )
    assert "course" in r.context["form"].errors  # never twice
    # by ID number: only teachers in scope
    r = c.post(
        url,
        {
            "teacher_id_number": staff.strong_a.id_number,
            "course": course.pk,
            "hours": "",
            "completed_on": "",
            "certificate_no": "",
        },
    )
    assert "teacher_id_number" in r.context["form"].errors
    assert c.get(url + f"?teacher={staff.strong_a.pk}").status_code == 404
    assert client_for(world.officer_b).get(url + f"?teacher={staff.weak_a.pk}").status_code == 404
    assert client_for(world.auditor).get(url + f"?teacher={staff.weak_a.pk}").status_code == 403
    assert TrainingAttendance.objects.count() == 1


def test_home_panel_and_menu(world, staff, client_for):
    for user in (world.admin, world.officer_a, world.principal_a, world.auditor, world.inspector):
        r = client_for(user).get(reverse("home"))
        assert r.status_code == 200
        panels = [p for p in r.context["panels"] if p["template"] == "teachers/home_panel.html"]
        assert len(panels) == 1
    panel = next(
        p
        for p in client_for(world.officer_a).get(reverse("home")).context["panels"]
        if p["template"] == "teachers/home_panel.html"
    )
    assert panel["stats"]["total"] == 2 and panel["training"]["short"] == 1
    from jinpin import registry
    from jinpin.scope import get_scope

    labels = [m.url_name for m in registry.menu_for(get_scope(world.inspector))]
    assert "teachers:teacher_list" in labels and "teachers:vacancies" not in labels


def test_movement_and_honours_lists_constant_queries(world, staff, client_for, django_assert_num_queries):
    from teachers.models import Movement, ServicePeriod

    for _i in range(20):
        Movement.objects.create(
            teacher=staff.strong_a,
            kind="support_teaching",
            from_school=world.strong_a,
            to_school=world.weak_a,
            start=dt.date(2017, 9, 1),
        )
    ServicePeriod.objects.filter(teacher=staff.weak_a).update(start=dt.date(1990, 9, 1))
    c = client_for(world.officer_a)
    with django_assert_num_queries(4):
        assert c.get(reverse("teachers:movement_list")).context["page"].paginator.count == 20
    with django_assert_num_queries(9):
        r = c.get(reverse("teachers:honours") + "?year=2016")
    assert [row["tier_years"] for row in r.context["page"]] == [20]
