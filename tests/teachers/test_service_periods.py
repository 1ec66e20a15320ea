import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teachers.models import ServiceKind, ServicePeriod
from teachers.services import service_period_close, service_period_open

from .factories import TeacherFactory

D = dt.date


def test_open_sets_current_school_and_close(world):
    t = TeacherFactory()
    p = service_period_open(
        teacher=t,
        school=world.weak_a,
        start=D(2010, 9, 1),
        full_time=True,
        kind=ServiceKind.HIRE,
        acting_user=world.admin,
    )
    t.refresh_from_db()
    assert t.school == world.weak_a
    service_period_close(period=p, end=D(2015, 9, 1), acting_user=world.admin)
    p.refresh_from_db()
    assert p.end == D(2015, 9, 1)


def test_overlapping_full_time_posts_refused(world):
    t = TeacherFactory()
    service_period_open(
        teacher=t,
        school=world.weak_a,
        start=D(2010, 9, 1),
        full_time=True,
        kind="record",
        acting_user=world.admin,
        end=D(2015, 9, 1),
    )
    with pytest.raises(ValidationError) as e:
        service_period_open(
            teacher=t,
            school=world.strong_a,
            start=D(2015, 8, 31),
            full_time=True,
            kind="record",
            acting_user=world.admin,
        )
    assert "汶上李庄小学" in str(e.value)
    # the day the earlier post ends is free (half-open periods)
    service_period_open(
        teacher=t, school=world.strong_a, start=D(2015, 9, 1), full_time=True, kind="transfer", acting_user=world.admin
    )
    # a part-time period may overlap
    service_period_open(
        teacher=t, school=world.weak_b, start=D(2016, 3, 1), full_time=False, kind="secondment", acting_user=world.admin
    )
    assert ServicePeriod.objects.filter(teacher=t).count() == 3


def test_database_refuses_overlap(world):
    t = TeacherFactory()
    ServicePeriod.objects.create(teacher=t, school=world.weak_a, start=D(2010, 1, 1), full_time=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePeriod.objects.create(
            teacher=t, school=world.strong_a, start=D(2012, 1, 1), end=D(2013, 1, 1), full_time=True
        )
