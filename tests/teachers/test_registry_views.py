"""The teacher registry: scope, duplicates by ID number, ID validation, service history."""

import datetime as dt

from auditlog.models import LogEntry
from django.urls import reverse

from jinpin import idcard
from teachers.models import HonourTitle, ServicePeriod, Teacher

from .factories import TeacherFactory

D = dt.date


def new_teacher_data(world, **over):
    number = idcard.make("370830", D(1988, 3, 4), 211, "M")
    data = {
        "id_number": number,
        "name": "赵 建国",
        "sex": "",
        "birth_date": "",
        "school": world.weak_a.pk,
        "post": "teacher",
        "subject": "数学",
        "professional_title": "second",
        "phone": "",
        "in_post_since": "2016-09-01",
        "hire": "on",
    }
    data.update(over)
    return data


def test_principal_registers_a_teacher_birth_and_sex_from_id(world, client_for):
    r = client_for(world.principal_a).post(reverse("teachers:teacher_create"), new_teacher_data(world))
    assert r.status_code == 302, r.context["form"].errors
    t = Teacher.objects.get()
    assert (t.name, t.sex, t.birth_date, t.school) == ("赵 建国", "M", D(1988, 3, 4), world.weak_a)
    p = ServicePeriod.objects.get(teacher=t)
    assert (p.school, p.start, p.end, p.kind, p.full_time) == (world.weak_a, D(2016, 9, 1), None, "hire", True)
    assert LogEntry.objects.get_for_object(t).get().actor == world.principal_a


def test_bad_checksum_is_a_clear_error(world, client_for):
    number = idcard.make("370830", D(1988, 3, 4), 211, "M")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    r = client_for(world.officer_a).post(reverse("teachers:teacher_create"), new_teacher_data(world, id_number=wrong))
    assert r.status_code == 200
    assert "check character" in " ".join(r.context["form"].errors["id_number"])
    assert not Teacher.objects.exists()


def test_birth_date_must_agree_with_id(world, client_for):
    r = client_for(world.officer_a).post(
        reverse("teachers:teacher_create"), new_teacher_data(world, birth_date="1988-03-05")
    )
    assert r.status_code == 200
    assert "birth_date" in r.context["form"].errors


def test_duplicate_in_scope_names_the_record(world, client_for, staff):
    data = new_teacher_data(world, id_number=staff.weak_a.id_number, school=world.strong_a.pk)
    r = client_for(world.officer_a).post(reverse("teachers:teacher_create"), data)
    msg = " ".join(r.context["form"].errors["id_number"])
    assert staff.weak_a.name in msg and reverse("teachers:teacher_detail", args=[staff.weak_a.pk]) in msg


def test_duplicate_outside_scope_does_not_leak(world, client_for, staff):
    data = new_teacher_data(world, id_number=staff.weak_b.id_number)
    r = client_for(world.officer_a).post(reverse("teachers:teacher_create"), data)
    msg = " ".join(r.context["form"].errors["id_number"])
    # neither the record, its school or county, nor "outside your area" (which says where it is not)
    assert "cannot be registered from here" in msg and "outside your area" not in msg
    assert staff.weak_b.name not in msg and world.weak_b.name not in msg and world.county_b.name not in msg
    assert Teacher.objects.filter(id_number=staff.weak_b.id_number).count() == 1


def test_principal_cannot_register_into_another_school(world, client_for):
    r = client_for(world.principal_a).post(
        reverse("teachers:teacher_create"), new_teacher_data(world, school=world.strong_a.pk)
    )
    assert "school" in r.context["form"].errors


def test_access_rules(world, client_for, staff):
    t = staff.weak_a
    detail, edit = reverse("teachers:teacher_detail", args=[t.pk]), reverse("teachers:teacher_edit", args=[t.pk])
    for user in (world.admin, world.officer_a, world.principal_a, world.auditor, world.inspector):
        assert client_for(user).get(detail).status_code == 200
    for user in (world.officer_b, world.principal_b, world.principal_strong_a):
        assert client_for(user).get(detail).status_code == 404
        assert client_for(user).get(edit).status_code == 404
    auditor = client_for(world.auditor)
    assert auditor.get(edit).status_code == 403
    assert auditor.post(edit, {"name": "x"}).status_code == 403
    assert auditor.get(reverse("teachers:teacher_create")).status_code == 403
    assert auditor.post(reverse("teachers:period_add", args=[t.pk]), {}).status_code == 403


def test_list_scope_and_constant_queries(world, client_for, staff, django_assert_num_queries):
    honour = HonourTitle.objects.get(name="骨干教师")
    for _ in range(25):
        TeacherFactory(school=world.weak_a).honours.add(honour)
    c = client_for(world.officer_a)
    with django_assert_num_queries(6):
        r = c.get(reverse("teachers:teacher_list"))
    names = {t.school_id for t in r.context["page"]}
    assert names == {world.weak_a.pk, world.strong_a.pk}
    r = c.get(reverse("teachers:teacher_list") + "?backbone=true")
    assert r.context["page"].count.n == 25
    r = c.get(reverse("teachers:teacher_list") + f"?county={world.county_b.pk}")
    assert r.context["filter"].errors  # another county is not a valid choice


def test_edit_retire_closes_service(world, client_for, staff):
    t = staff.weak_a
    data = {
        "id_number": t.id_number,
        "name": t.name,
        "sex": t.sex,
        "birth_date": t.birth_date.isoformat(),
        "post": "teacher",
        "subject": "语文",
        "professional_title": "none",
        "phone": "",
        "status": "retired",
        "left_on": "2024-07-01",
        "honours": [HonourTitle.objects.get(name="教学能手").pk],
    }
    r = client_for(world.principal_a).post(reverse("teachers:teacher_edit", args=[t.pk]), data)
    assert r.status_code == 302, r.context["form"].errors
    t.refresh_from_db()
    assert t.status == "retired" and t.is_backbone
    assert t.service_periods.get().end == D(2024, 7, 1)


def test_period_add_refuses_overlap_with_message(world, client_for, staff):
    url = reverse("teachers:period_add", args=[staff.weak_a.pk])
    r = client_for(world.officer_a).post(
        url,
        {"school_code": world.strong_a.code, "start": "2012-01-01", "full_time": "on", "kind": "record"},
        follow=True,
    )
    assert any("two full-time posts" in str(m) for m in r.context["messages"])
    assert staff.weak_a.service_periods.count() == 1
    r = client_for(world.officer_a).post(
        url,
        {
            "school_code": world.strong_b.code,
            "start": "2005-09-01",
            "end": "2010-09-01",
            "full_time": "on",
            "kind": "record",
        },
    )
    assert staff.weak_a.service_periods.count() == 2


def test_period_add_cannot_move_a_teacher_out_of_the_users_area(world, client_for, staff):
    """An open full-time period becomes the current school: outside the user's area it is a movement, not history."""
    t = staff.weak_a
    c = client_for(world.principal_a)
    period = t.service_periods.get()
    c.post(reverse("teachers:period_close", args=[t.pk, period.pk]), {"end": "2020-01-01"})
    url = reverse("teachers:period_add", args=[t.pk])
    r = c.post(
        url, {"school_code": world.weak_b.code, "start": "2020-01-01", "full_time": "on", "kind": "record"}, follow=True
    )
    assert any("in your area" in str(m) for m in r.context["messages"])
    t.refresh_from_db()
    assert t.school == world.weak_a and t.service_periods.count() == 1
    assert client_for(world.principal_b).get(reverse("teachers:teacher_detail", args=[t.pk])).status_code == 404
    # earlier service anywhere in the city stays recordable
    r = c.post(
        url,
        {
            "school_code": world.weak_b.code,
            "start": "2001-09-01",
            "end": "2005-09-01",
            "full_time": "on",
            "kind": "record",
        },
    )
    assert t.service_periods.filter(school=world.weak_b).count() == 1


def test_edit_is_all_or_nothing(world, client_for, staff, monkeypatch):
    """The fields and the honour titles are saved in one transaction: a failure keeps the old record whole."""
    t = staff.weak_a
    manager_cls = type(t.honours)  # one class per relation (cached on the descriptor)

    def boom(self, *a, **kw):
        raise RuntimeError("honours could not be written")

    monkeypatch.setattr(manager_cls, "set", boom)
    c = client_for(world.principal_a)
    c.raise_request_exception = False
    data = {
        "id_number": t.id_number,
        "name": "改名",
        "sex": t.sex,
        "birth_date": t.birth_date.isoformat(),
        "post": "teacher",
        "subject": "语文",
        "professional_title": "none",
        "phone": "",
        "status": "active",
        "left_on": "",
        "honours": [HonourTitle.objects.get(name="教学能手").pk],
    }
    assert c.post(reverse("teachers:teacher_edit", args=[t.pk]), data).status_code == 500
    t.refresh_from_db()
    assert t.name != "改名" and not t.honours.exists()


def test_history_outside_the_users_area_does_not_count_towards_its_targets(world, client_for, staff):
    """A hire or movement period at another county's school would raise that county's target progress."""
    from jinpin.scope import get_scope
    from teachers.models import Target
    from teachers.selectors import target_progress

    def progress():
        return {p["target"].metric: p["city"] for p in target_progress(Target.objects.all(), get_scope(world.admin))}

    before = progress()
    url = reverse("teachers:period_add", args=[staff.weak_a.pk])
    c = client_for(world.principal_a)
    for kind in ("hire", "movement", "transfer"):
        r = c.post(
            url,
            {
                "school_code": world.weak_b.code,
                "start": "2017-01-01",
                "end": "2017-06-01",
                "full_time": "on",
                "kind": kind,
            },
            follow=True,
        )
        assert any("outside your area" in str(m) for m in r.context["messages"]), kind
    assert progress() == before
    assert not ServicePeriod.objects.filter(school=world.weak_b, teacher=staff.weak_a).exists()
    # as earlier service it is kept
    c.post(
        url,
        {
            "school_code": world.weak_b.code,
            "start": "2007-01-01",
            "end": "2008-06-01",
            "full_time": "on",
            "kind": "record",
        },
    )
    assert ServicePeriod.objects.filter(school=world.weak_b, teacher=staff.weak_a).count() == 1
