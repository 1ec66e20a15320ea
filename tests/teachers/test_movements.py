"""交流轮岗: status transitions keep the service history in step; never two full-time posts."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from teachers import services
from teachers.models import Movement, MovementStatus, ServicePeriod

D = dt.date


def plan(world, teacher, **kw):
    data = {
        "teacher": teacher,
        "kind": "support_teaching",
        "from_school": teacher.school,
        "to_school": world.weak_a,
        "start": D(2017, 9, 1),
        "end": D(2018, 7, 15),
        "full_time": True,
    }
    data.update(kw)
    return Movement.objects.create(**data)


def test_temporary_move_and_return(world, staff):
    t = staff.strong_a
    m = plan(world, t)
    services.movement_start(movement=m, on=D(2017, 9, 1), acting_user=world.officer_a)
    t.refresh_from_db()
    assert t.school == world.weak_a
    services.movement_complete(movement=m, on=D(2018, 7, 15), acting_user=world.officer_a)
    t.refresh_from_db()
    assert t.school == world.strong_a
    history = list(
        ServicePeriod.objects.filter(teacher=t).order_by("start").values_list("school_id", "start", "end", "kind")
    )
    assert history == [
        (world.strong_a.pk, D(2010, 9, 1), D(2017, 9, 1), "record"),
        (world.weak_a.pk, D(2017, 9, 1), D(2018, 7, 15), "movement"),
        (world.strong_a.pk, D(2018, 7, 15), None, "transfer"),
    ]
    m.refresh_from_db()
    assert m.status == MovementStatus.COMPLETED


def test_permanent_move_keeps_new_post(world, staff):
    t = staff.strong_a
    m = plan(world, t, kind="competitive", end=None)
    services.movement_start(movement=m, on=D(2017, 9, 1), acting_user=world.admin)
    services.movement_complete(movement=m, on=D(2018, 9, 1), acting_user=world.admin)
    assert ServicePeriod.objects.get(teacher=t, end__isnull=True).school == world.weak_a


def test_part_time_visit_keeps_home_post(world, staff):
    t = staff.strong_a
    m = plan(world, t, kind="famous_teacher_visit", full_time=False)
    services.movement_start(movement=m, on=D(2017, 9, 1), acting_user=world.admin)
    t.refresh_from_db()
    assert t.school == world.strong_a
    assert ServicePeriod.objects.filter(teacher=t, end__isnull=True).count() == 2


def test_transitions_are_one_way(world, staff):
    m = plan(world, staff.strong_a)
    with pytest.raises(ValidationError):
        services.movement_complete(movement=m, on=D(2018, 1, 1), acting_user=world.admin)
    services.movement_cancel(movement=m, acting_user=world.admin)
    with pytest.raises(ValidationError):
        services.movement_start(movement=Movement.objects.get(pk=m.pk), on=D(2017, 9, 1), acting_user=world.admin)
    assert ServicePeriod.objects.filter(teacher=staff.strong_a).count() == 1


def test_start_before_current_post_began_is_refused(world, staff):
    m = plan(world, staff.strong_a, start=D(2009, 9, 1), end=D(2010, 7, 1))
    with pytest.raises(ValidationError):
        services.movement_start(movement=m, on=D(2009, 9, 1), acting_user=world.admin)
    m.refresh_from_db()
    assert m.status == MovementStatus.PLANNED  # the whole transition rolled back


def test_views_plan_start_and_access(world, staff, client_for):
    c = client_for(world.officer_a)
    r = c.post(
        reverse("teachers:movement_create"),
        {
            "teacher_id_number": staff.strong_a.id_number,
            "kind": "regular_rotation",
            "to_school": world.weak_a.pk,
            "start": "2017-09-01",
            "end": "2019-07-01",
            "full_time": "on",
            "note": "",
        },
    )
    assert r.status_code == 302, r.context["form"].errors
    m = Movement.objects.get()
    assert m.from_school == world.strong_a and m.created_by == world.officer_a
    # a teacher of another county cannot be moved by this officer
    r = c.post(
        reverse("teachers:movement_create"),
        {
            "teacher_id_number": staff.strong_b.id_number,
            "kind": "regular_rotation",
            "to_school": world.weak_a.pk,
            "start": "2017-09-01",
        },
    )
    assert "teacher_id_number" in r.context["form"].errors
    detail = reverse("teachers:movement_detail", args=[m.pk])
    assert client_for(world.officer_b).get(detail).status_code == 404
    assert client_for(world.principal_b).get(detail).status_code == 404
    assert client_for(world.principal_a).get(detail).status_code == 200  # the receiving school sees it
    start = reverse("teachers:movement_transition", args=[m.pk, "start"])
    assert client_for(world.auditor).post(start, {"on": "2017-09-01"}).status_code == 403
    assert client_for(world.principal_a).post(start, {"on": "2017-09-01"}).status_code == 403
    assert client_for(world.officer_b).post(start, {"on": "2017-09-01"}).status_code == 404
    c.post(start, {"on": "2017-09-01"})
    m.refresh_from_db()
    assert m.status == MovementStatus.IN_POST
    staff.strong_a.refresh_from_db()
    assert staff.strong_a.school == world.weak_a
    r = c.get(reverse("teachers:movement_list") + "?poor_village=true")
    assert [x.pk for x in r.context["page"]] == [m.pk]
