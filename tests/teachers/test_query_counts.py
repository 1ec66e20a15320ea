"""Training, vacancy and compliance pages run a constant number of queries, however many rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from teachers.models import Establishment, Movement, ServiceKind
from teachers.services import attendance_record, service_period_open

from .factories import CourseFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def grow(world, course, n):
    for _ in range(n):
        t = TeacherFactory()
        service_period_open(
            teacher=t,
            school=world.weak_a,
            start=dt.date(1985, 9, 1),
            full_time=True,
            kind=ServiceKind.HIRE,
            acting_user=world.admin,
        )
        attendance_record(
            teacher=t, course=course, hours=Decimal("10"), completed_on=course.end, acting_user=world.admin
        )
        Movement.objects.create(
            teacher=t,
            kind="support_teaching",
            from_school=world.weak_a,
            to_school=world.strong_a,
            start=dt.date(2017, 9, 1),
        )
        CourseFactory(level="city")


PAGES = [
    ("course_list", "", 3),
    ("course_detail", "", 4),
    ("vacancies", "", 11),  # 5, and the reference date's six maxima on a cold cache (its default year)
    ("compliance", "", 6),
    ("compliance", "?county={county}", 6),
    ("compliance", "?school={school}&short=0", 7),
]


@pytest.mark.parametrize("name, query, queries", PAGES)
def test_pages_constant_queries(world, rule, client_for, django_assert_num_queries, name, query, queries):
    course = CourseFactory(level="city")
    Establishment.objects.create(school=world.weak_a, posts=50)
    Establishment.objects.create(school=world.strong_a, posts=50)
    grow(world, course, 12)
    url = reverse(f"teachers:{name}", args=[course.pk] if name == "course_detail" else []) + query.format(
        county=world.county_a.pk, school=world.weak_a.pk
    )
    c = client_for(world.officer_a)
    with django_assert_num_queries(queries):
        r = c.get(url)
    assert r.status_code == 200


def test_teacher_detail_constant_queries(world, rule, client_for, django_assert_num_queries):
    """The teacher page lists the whole history, training and certificates without a query per row."""
    from teachers.models import HonourTitle, ServicePeriod

    t = TeacherFactory()
    service_period_open(
        teacher=t,
        school=world.weak_a,
        start=dt.date(2015, 9, 1),
        full_time=True,
        kind=ServiceKind.HIRE,
        acting_user=world.admin,
    )
    t.honours.set(HonourTitle.objects.all())
    c = client_for(world.officer_a)

    years = iter(range(1970, 2010))

    def add(n):
        for _ in range(n):
            i = next(years) - 1990
            course = CourseFactory(level="city")
            attendance_record(
                teacher=t, course=course, hours=Decimal("5"), completed_on=course.end, acting_user=world.admin
            )
            ServicePeriod.objects.create(
                teacher=t, school=world.strong_b, start=dt.date(1990 + i, 9, 1), end=dt.date(1990 + i, 12, 1)
            )
            Movement.objects.create(
                teacher=t,
                kind="support_teaching",
                from_school=world.weak_a,
                to_school=world.strong_a,
                start=dt.date(2016, 9, 1),
                full_time=False,
            )

    add(2)
    c.get(reverse("teachers:teacher_detail", args=[t.pk]))  # the reference date (honours year), then cached
    with django_assert_num_queries(10) as few:
        assert c.get(reverse("teachers:teacher_detail", args=[t.pk])).status_code == 200
    add(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert c.get(reverse("teachers:teacher_detail", args=[t.pk])).status_code == 200
