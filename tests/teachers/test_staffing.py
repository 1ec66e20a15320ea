"""补充: vacancies (poor-village schools first) and targets counted from the records."""

import datetime as dt

from django.urls import reverse

from teachers.models import Establishment, ServiceKind, ServicePeriod, Target
from teachers.services import service_period_open

from .factories import TeacherFactory

D = dt.date


def test_vacancies_poor_village_first(world, staff, client_for):
    Establishment.objects.create(school=world.strong_a, posts=5)
    Establishment.objects.create(school=world.weak_a, posts=2)
    r = client_for(world.officer_a).get(reverse("teachers:vacancies"))
    rows = [(s.pk, s.posts, s.in_post, s.vacancies) for s in r.context["page"]]
    assert rows == [(world.weak_a.pk, 2, 1, 1), (world.strong_a.pk, 5, 1, 4)]
    r = client_for(world.principal_a).get(reverse("teachers:vacancies"))
    assert [s.pk for s in r.context["page"]] == [world.weak_a.pk]


def test_establishment_edit_access(world, client_for):
    url = reverse("teachers:establishment_edit", args=[world.weak_a.pk])
    assert client_for(world.officer_a).post(url, {"posts": 9}).status_code == 302
    assert Establishment.objects.get(school=world.weak_a).posts == 9
    assert client_for(world.officer_b).post(url, {"posts": 1}).status_code == 404
    assert client_for(world.auditor).post(url, {"posts": 1}).status_code == 403
    assert client_for(world.principal_a).post(url, {"posts": 1}).status_code == 403
    assert Establishment.objects.get(school=world.weak_a).posts == 9


def test_targets_count_from_records(world, client_for):
    # two hires into poor-village schools in 2016 and 2018, one in 2019 (outside), one into a strong school
    for school, start in (
        (world.weak_a, D(2016, 9, 1)),
        (world.weak_b, D(2018, 9, 1)),
        (world.weak_a, D(2019, 9, 1)),
        (world.strong_a, D(2016, 9, 1)),
    ):
        service_period_open(
            teacher=TeacherFactory(),
            school=school,
            start=start,
            full_time=True,
            kind=ServiceKind.HIRE,
            acting_user=world.admin,
        )
    # one teacher exchanged into a poor-village school in 2017 (and counted once even with two periods)
    t = TeacherFactory()
    ServicePeriod.objects.create(
        teacher=t, school=world.weak_a, start=D(2017, 3, 1), end=D(2017, 7, 1), kind=ServiceKind.MOVEMENT
    )
    ServicePeriod.objects.create(
        teacher=t, school=world.weak_a, start=D(2017, 9, 1), end=D(2018, 7, 1), kind=ServiceKind.MOVEMENT
    )
    r = client_for(world.admin).get(reverse("teachers:targets"))
    by_name = {p["target"].metric: p for p in r.context["progress"]}
    into = by_name["into_poor_villages"]
    assert into["city"] == 3 and into["target"].value == 915
    assert {row["school__county__name"]: row["n"] for row in into["counties"]} == {"汶上县": 2, "泗水县": 1}
    assert by_name["hires"]["city"] == 2  # 2016 hires into primary schools (the seeded stages)
    r = client_for(world.officer_a).get(reverse("teachers:targets"))
    into = {p["target"].metric: p for p in r.context["progress"]}["into_poor_villages"]
    assert into["city"] is None and [row["n"] for row in into["counties"]] == [2]
    Target.objects.filter(metric="hires").update(value=1)  # targets are data
    assert {
        p["target"].metric: p for p in client_for(world.admin).get(reverse("teachers:targets")).context["progress"]
    }["hires"]["percent"] == 200.0


def test_targets_page_runs_a_constant_number_of_queries(world, client_for, django_assert_num_queries):
    """Progress of every target in two queries: adding targets adds none."""
    for start in (D(2016, 9, 1), D(2017, 9, 1)):
        service_period_open(
            teacher=TeacherFactory(),
            school=world.weak_a,
            start=start,
            full_time=True,
            kind=ServiceKind.HIRE,
            acting_user=world.admin,
        )
    c = client_for(world.admin)
    with django_assert_num_queries(4):
        r = c.get(reverse("teachers:targets"))
    before = {p["target"].pk: p["city"] for p in r.context["progress"]}
    for year in range(2010, 2020):
        Target.objects.create(name=f"{year}年补充", metric="hires", start=D(year, 1, 1), end=D(year, 12, 31), value=10)
    Target.objects.create(
        name="汶上县补充", metric="hires", start=D(2016, 1, 1), end=D(2018, 12, 31), value=5, county=world.county_a
    )
    with django_assert_num_queries(4):
        r = c.get(reverse("teachers:targets"))
    progress = {p["target"].name: p for p in r.context["progress"]}
    by_pk = {p["target"].pk: p["city"] for p in progress.values()}
    assert before and {pk: by_pk[pk] for pk in before} == before  # the targets already there count the same
    assert (
        progress["2016年补充"]["city"] == 1
        and progress["2015年补充"]["city"] == 0
        and progress["2015年补充"]["counties"] == []
    )
    assert progress["汶上县补充"]["city"] == 2 and progress["汶上县补充"]["counties"][0]["n"] == 2
