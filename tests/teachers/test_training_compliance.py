"""The 60-hour training rule at its boundaries, computed in the database, and its pages."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from teachers import training_compliance as comp
from teachers.models import Post, Teacher, TrainingAttendance, TrainingLevel

from .factories import CourseFactory, TeacherFactory

D = dt.date


MAY_DAY_2017 = D(2017, 5, 1)


def attend(teacher, hours, level=TrainingLevel.CITY, on=MAY_DAY_2017):
    course = CourseFactory(level=level, hours=Decimal("100"), start=on, end=on)
    return TrainingAttendance.objects.create(teacher=teacher, course=course, hours=Decimal(hours), completed_on=on)


def hours_of(rule, teacher):
    hours = comp.compliance(rule, Teacher.objects.filter(pk=teacher.pk)).values_list("hours", flat=True).get()
    return hours, comp.shortfall(rule, hours)


def test_exactly_sixty_hours_complies(staff, rule):
    attend(staff.weak_a, "40")
    attend(staff.weak_a, "20", level=TrainingLevel.NATIONAL)
    assert hours_of(rule, staff.weak_a) == (Decimal("60"), Decimal("0"))
    assert not comp.short_of(rule, Teacher.objects.all()).filter(pk=staff.weak_a.pk).exists()


def test_half_an_hour_short(staff, rule):
    attend(staff.weak_a, "59.5", level=TrainingLevel.PROVINCIAL)
    assert hours_of(rule, staff.weak_a) == (Decimal("59.5"), Decimal("0.5"))
    # the largest shortfall first: weak_b has no training at all
    assert list(comp.short_of(rule, Teacher.objects.all()).values_list("pk", flat=True)) == [
        staff.weak_b.pk,
        staff.weak_a.pk,
    ]


def test_non_qualifying_levels_do_not_count(staff, rule):
    attend(staff.weak_a, "40", level=TrainingLevel.COUNTY)
    attend(staff.weak_a, "30", level=TrainingLevel.SCHOOL)
    attend(staff.weak_a, "10", level=TrainingLevel.CITY)
    assert hours_of(rule, staff.weak_a) == (Decimal("10"), Decimal("50"))


def test_only_hours_inside_the_period_count(staff, rule):
    attend(staff.weak_a, "50", on=D(2015, 12, 31))
    attend(staff.weak_a, "5", on=D(2016, 1, 1))
    attend(staff.weak_a, "5", on=D(2018, 12, 31))
    attend(staff.weak_a, "50", on=D(2019, 1, 1))
    assert hours_of(rule, staff.weak_a)[0] == Decimal("10")


def test_target_group_is_data(staff, rule, world):
    group = set(comp.target_group(rule, Teacher.objects.all()).values_list("pk", flat=True))
    assert group == {staff.weak_a.pk, staff.weak_b.pk}  # strong urban schools are not in poor villages
    other = TeacherFactory(post=Post.OTHER, school=world.weak_a)
    assert other.pk not in set(comp.target_group(rule, Teacher.objects.all()).values_list("pk", flat=True))
    # the administrator widens the rule to every school and lowers the threshold
    rule.poverty, rule.stages, rule.threshold, rule.levels = [], [], Decimal("10"), ["county"]
    rule.save()
    attend(staff.strong_a, "10", level=TrainingLevel.COUNTY)
    totals = comp.totals(rule, Teacher.objects.all())
    assert totals["n"] == 4 and totals["ok"] == 1 and totals["missing"] == Decimal("30")


def test_summary_per_school_is_one_query(staff, rule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    attend(staff.weak_a, "60")
    with CaptureQueriesContext(connection) as ctx:
        rows = list(comp.summary_by(rule, Teacher.objects.all(), "school_id"))
    assert len([q for q in ctx.captured_queries if q["sql"].startswith("SELECT")]) == 1
    by_school = {r["school_id"]: r for r in rows}
    assert by_school[staff.weak_a.school_id]["ok"] == 1
    assert by_school[staff.weak_b.school_id]["short"] == 1
    assert by_school[staff.weak_b.school_id]["missing"] == Decimal("60")


def test_compliance_pages_follow_scope(staff, rule, world, client_for):
    attend(staff.weak_b, "60")
    url = reverse("teachers:compliance")
    r = client_for(world.admin).get(url)
    assert r.context["level"] == "city" and r.context["totals"]["n"] == 2
    r = client_for(world.officer_a).get(url)
    assert r.context["level"] == "county" and r.context["county"] == world.county_a
    assert [row["school_id"] for row in r.context["rows"]] == [world.weak_a.pk]
    r = client_for(world.principal_a).get(url + f"?school={world.weak_b.pk}")  # forced to their own school
    assert r.context["school"] == world.weak_a
    assert [t.pk for t in r.context["page"]] == [staff.weak_a.pk]
    assert r.context["page"][0].shortfall == Decimal("60")
    assert client_for(world.officer_a).get(url + f"?school={world.weak_b.pk}").status_code == 404
    assert client_for(world.officer_b).get(url + f"?county={world.county_a.pk}").context["county"] == world.county_b


def test_school_page_query_count_is_constant(staff, rule, world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(world.officer_a)
    url = reverse("teachers:compliance") + f"?school={world.weak_a.pk}"
    with CaptureQueriesContext(connection) as one:
        c.get(url)
    for _ in range(30):
        TeacherFactory(school=world.weak_a)
    with CaptureQueriesContext(connection) as many:
        r = c.get(url)
    assert r.context["page"].paginator.count == 31
    assert len(many) == len(one) == 7
