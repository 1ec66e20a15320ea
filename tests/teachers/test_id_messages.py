"""A message about a teacher's ID number never tells where in the city the ID is registered (issue 8, section 1):
looking an ID up gives one message for "registered in another county" and "registered nowhere"; registering it
again says neither the record, its school, its county, nor "outside your area"."""

import datetime as dt

from django.urls import reverse

from jinpin import idcard
from jinpin.scope import get_scope
from teachers.forms import AttendanceForm, MovementForm, TeacherForm

from .factories import CourseFactory
from .test_registry_views import new_teacher_data


def test_lookups_give_one_message_for_elsewhere_and_nowhere(world, staff):
    unknown = idcard.make("370831", dt.date(1980, 1, 1), 777, "F")
    course = CourseFactory(code="ID-1")
    for user in (world.principal_a, world.officer_a):
        scope = get_scope(user)
        messages = []
        for number in (staff.weak_b.id_number, unknown):
            form = AttendanceForm(
                {"teacher_id_number": number, "course": course.pk, "hours": "", "completed_on": ""}, scope=scope
            )
            assert not form.is_valid()
            move = MovementForm(
                {"teacher_id_number": number, "kind": "regular", "to_school": world.weak_a.pk, "start": "2017-09-01"},
                scope=scope,
            )
            assert not move.is_valid()
            messages.append((form.errors["teacher_id_number"], move.errors["teacher_id_number"]))
        assert messages[0] == messages[1]
        text = " ".join(str(m) for pair in messages for m in pair)
        for leak in (staff.weak_b.name, world.weak_b.name, world.county_b.name, "outside your area"):
            assert leak not in text


def test_registering_an_id_known_elsewhere_names_nothing(world, staff, client_for):
    for user in (world.principal_a, world.officer_a):
        form = TeacherForm(new_teacher_data(world, id_number=staff.weak_b.id_number), scope=get_scope(user))
        assert not form.is_valid()
        msg = " ".join(form.errors["id_number"])
        for leak in (staff.weak_b.name, world.weak_b.name, world.county_b.name, "outside your area", "county"):
            assert leak not in msg
    r = client_for(world.officer_a).post(
        reverse("teachers:teacher_create"),
        new_teacher_data(world, id_number=staff.weak_b.id_number),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert r.status_code == 200 and world.county_b.name not in r.content.decode()
