"""Inspectors and auditors read teachers and 结对帮扶 records but write none: every write URL is 403."""

import datetime as dt

import pytest
from django.urls import reverse

from pairing import services
from teachers.models import Movement, ServiceKind
from teachers.services import service_period_open
from tests.teachers.factories import CourseFactory

from .factories import teacher

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(world, pair):
    t = teacher(world.weak_a)
    period = service_period_open(
        teacher=t,
        school=world.weak_a,
        start=dt.date(2010, 9, 1),
        full_time=True,
        kind=ServiceKind.RECORD,
        acting_user=world.admin,
    )
    movement = Movement.objects.create(
        teacher=t,
        kind="support_teaching",
        from_school=world.weak_a,
        to_school=world.strong_a,
        start=dt.date(2017, 9, 1),
    )
    sec = services.secondment_record(
        agreement=pair, direction="to_helped", starts_on=dt.date(2017, 3, 1), person_name="李", acting_user=world.admin
    )
    don = services.donation_record(
        agreement=pair,
        recipient=world.weak_a,
        item="图书",
        category="books",
        quantity=1,
        value="1",
        donated_on=dt.date(2017, 3, 1),
        acting_user=world.admin,
    )
    return {
        "t": t,
        "period": period,
        "movement": movement,
        "course": CourseFactory(),
        "sec": sec,
        "don": don,
        "pair": pair,
    }


def write_urls(world, r):
    return [
        reverse("teachers:teacher_create"),
        reverse("teachers:teacher_edit", args=[r["t"].pk]),
        reverse("teachers:period_add", args=[r["t"].pk]),
        reverse("teachers:period_close", args=[r["t"].pk, r["period"].pk]),
        reverse("teachers:movement_create"),
        reverse("teachers:movement_transition", args=[r["movement"].pk, "start"]),
        reverse("teachers:movement_transition", args=[r["movement"].pk, "cancel"]),
        reverse("teachers:establishment_edit", args=[world.weak_a.pk]),
        reverse("teachers:course_create"),
        reverse("teachers:attendance_create") + f"?teacher={r['t'].pk}",
        reverse("teachers:import_hours"),
        reverse("teachers:honour_issue"),
        reverse("pairing:agreement_create"),
        reverse("pairing:agreement_edit", args=[r["pair"].pk]),
        reverse("pairing:agreement_activate", args=[r["pair"].pk]),
        reverse("pairing:agreement_end", args=[r["pair"].pk]),
        reverse("pairing:activity_create", args=[r["pair"].pk]),
        reverse("pairing:secondment_create", args=[r["pair"].pk]),
        reverse("pairing:secondment_end", args=[r["sec"].pk]),
        reverse("pairing:project_create", args=[r["pair"].pk]),
        reverse("pairing:donation_create", args=[r["pair"].pk]),
        reverse("pairing:donation_confirm", args=[r["don"].pk]),
        reverse("pairing:milestone_set", args=[r["pair"].pk, world.weak_a.pk]),
    ]


@pytest.mark.parametrize("role", ["inspector", "auditor"])
def test_read_only_roles_get_403_on_every_write(world, records, client_for, role):
    from auditlog.models import LogEntry

    c = client_for(getattr(world, role))
    before = LogEntry.objects.count()
    for url in write_urls(world, records):
        r = c.post(
            url,
            {
                "end": "2020-01-01",
                "on": "2017-09-01",
                "posts": 9,
                "teacher": [records["t"].pk],
                "year": 2016,
                "issued_on": "2016-12-31",
                "ended_on": "2017-01-01",
                "received_on": "2017-03-02",
                "ends_on": "2017-04-01",
            },
        )
        assert r.status_code == 403, (role, url, r.status_code)
    assert LogEntry.objects.count() == before
