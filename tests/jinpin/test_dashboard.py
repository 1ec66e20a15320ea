"""The headline figures (jinpin.figures): each definition at its boundaries, each figure equal to the
count of the list it links to, and scope (a county officer's dashboard never includes another county)."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from jinpin import figures
from schools.models import Poverty, Stage
from subsidies.models import (
    Allocation,
    Award,
    AwardStatus,
    Enrolment,
    Household,
    HouseholdStatus,
    Period,
    RateVersion,
    Scheme,
    Student,
)
from teachers.models import ServiceKind, ServicePeriod
from tests.factories import VillageFactory, rural_school
from tests.teachers.factories import TeacherFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2016, 9, 26)


@pytest.fixture(autouse=True)
def _reference(db):
    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    for name in ("0002_seed_2016_schemes", "0008_scheme_stages_nine_year_nutrition"):
        importlib.import_module(f"subsidies.migrations.{name}").forward(apps, None)


def _arrive(school, start, kind=ServiceKind.HIRE, name=None):
    t = TeacherFactory(name=name or f"新教师{school.pk}{start}", school=school)
    ServicePeriod.objects.create(teacher=t, school=school, start=start, kind=kind)
    return t


def _value(key, area=None, as_of=AS_OF):
    return figures.compute(figures.get(key), area or figures.Area(), as_of)["value"]


def test_teachers_into_poor_villages_at_its_boundaries(world):
    w = world
    municipal = VillageFactory(town=w.town_a, code="370830003050", poverty=Poverty.MUNICIPAL)
    kinder = rural_school(county=w.county_a, village=municipal, code="0830000050", stage=Stage.KINDERGARTEN)
    junior = rural_school(county=w.county_a, village=w.village_a, code="0830000051", stage=Stage.JUNIOR)
    _arrive(w.weak_a, AS_OF)  # on the day: counts
    _arrive(w.weak_a, AS_OF + dt.timedelta(days=1))  # the day after: does not
    _arrive(kinder, dt.date(2016, 3, 1), kind=ServiceKind.MOVEMENT)  # kindergarten, municipal poor village: counts
    _arrive(junior, dt.date(2016, 3, 1))  # junior school: not the report's primary schools and kindergartens
    _arrive(w.strong_a, dt.date(2016, 3, 1))  # not in a poor village
    _arrive(w.weak_b, dt.date(2015, 12, 31))  # before the programme's first day (the 915 target's start)
    old = _arrive(w.weak_b, dt.date(2016, 5, 1), kind=ServiceKind.RECORD)  # earlier service on record: no arrival
    assert old.pk
    assert _value("teachers_into_poor") == 2
    assert _value("teachers_into_poor", figures.Area(county_id=w.county_b.pk)) == 0
    assert _value("teachers_into_poor", figures.Area(school_id=kinder.pk)) == 1
    # one teacher counted once though two periods count (hired, then moved to another poor school)
    t = _arrive(w.weak_b, dt.date(2016, 4, 1))
    ServicePeriod.objects.filter(teacher=t).update(end=dt.date(2016, 6, 1))
    ServicePeriod.objects.create(teacher=t, school=w.weak_a, start=dt.date(2016, 6, 1), kind=ServiceKind.MOVEMENT)
    assert _value("teachers_into_poor", as_of=dt.date(2016, 9, 27)) == 4


def _award(student, school, period, status, amount="600.00"):
    scheme = Scheme.objects.get(code="nutrition")
    return Award.objects.create(
        student=student,
        scheme=scheme,
        period=period,
        school=school,
        county=school.county,
        amount=Decimal(amount),
        rate_version=RateVersion.objects.filter(scheme=scheme).first(),
        status=status,
    )


def _pupil(n, school, household):
    s = Student.objects.create(
        id_number=f"37083020080101{n:03d}X"[:18],
        name=f"学生{n}",
        birth_date=dt.date(2008, 1, 1),
        sex="M",
        household=household,
    )
    Enrolment.objects.create(student=s, school=school, school_year=2016, stage=Stage.PRIMARY, grade=3)
    return s


def _household(number, village, *statuses):
    h = Household.objects.create(number=number, head_name="户主", village=village, members=3)
    for status, on in statuses:
        HouseholdStatus.objects.create(household=h, status=status, effective_on=on)
    return h


def test_pupils_aided_at_their_boundaries(world):
    w = world
    period = Period.objects.get(code="2016-2017")
    verified = ("verified", dt.date(2016, 1, 15))
    poor = _household("H1", w.village_a, verified)
    lifted = _household("H2", w.village_a, verified, ("lifted", dt.date(2016, 6, 30)))
    lifted_later = _household("H3", w.village_a, verified, ("lifted", dt.date(2016, 12, 31)))
    plain = _household("H4", VillageFactory(town=w.town_a, code="370830003098", poverty="none"), verified)
    a = _pupil(1, w.weak_a, poor)
    _award(a, w.weak_a, period, AwardStatus.PAID)
    _award(_pupil(2, w.weak_a, lifted), w.weak_a, period, AwardStatus.APPROVED)  # lifted before the decisive date
    _award(_pupil(3, w.weak_a, lifted_later), w.weak_a, period, AwardStatus.APPROVED)  # lifted after it: counts
    _award(_pupil(4, w.weak_a, plain), w.weak_a, period, AwardStatus.APPROVED)  # not a poor village
    _award(_pupil(5, w.weak_a, poor), w.weak_a, period, AwardStatus.REVIEWED)  # not approved yet
    assert _value("subsidies_aided") == 2
    assert _value("subsidies_aided", as_of=period.starts_on - dt.timedelta(days=1)) == 0
    assert _value("subsidies_aided", figures.Area(county_id=w.county_b.pk)) == 0


def test_funds_allocated_are_those_of_years_begun(world):
    w = world
    scheme = Scheme.objects.get(code="nutrition")
    Allocation.objects.create(scheme=scheme, county=w.county_a, school_year=2016, amount=Decimal("1000000.00"))
    Allocation.objects.create(scheme=scheme, county=w.county_b, school_year=2016, amount=Decimal("234.56"))
    Allocation.objects.create(scheme=scheme, county=w.county_a, school_year=2017, amount=Decimal("999.00"))
    assert _value("subsidies_allocated") == Decimal("1000234.56")
    assert _value("subsidies_allocated", figures.Area(county_id=w.county_b.pk)) == Decimal("234.56")
    assert not figures.get("subsidies_allocated").available(figures.Area(school_id=w.weak_a.pk))


def _seed_some(w):
    period = Period.objects.get(code="2016-2017")
    _arrive(w.weak_a, dt.date(2016, 9, 1))
    _arrive(w.weak_b, dt.date(2016, 9, 1))
    _arrive(w.weak_b, dt.date(2016, 9, 2))
    h = _household("H9", w.village_b, ("verified", dt.date(2016, 1, 15)))
    _award(_pupil(9, w.weak_b, h), w.weak_b, period, AwardStatus.PAID)
    scheme = Scheme.objects.get(code="nutrition")
    Allocation.objects.create(scheme=scheme, county=w.county_a, school_year=2016, amount=Decimal("100.00"))
    Allocation.objects.create(scheme=scheme, county=w.county_b, school_year=2016, amount=Decimal("50.00"))


def test_each_figure_equals_the_count_of_its_list(world, client_for):
    _seed_some(world)
    c = client_for(world.admin)
    r = c.get(reverse("dashboard"), {"as_of": AS_OF.isoformat()})
    assert r.status_code == 200
    cards = {card["key"]: card for card in r.context["cards"]}
    assert cards["teachers_into_poor"]["value"] == 3
    for key, card in cards.items():
        page = c.get(card["url"])
        assert page.status_code == 200, key
        if figures.get(key).sum_field:
            assert page.context["value"]["value"] == card["value"], key
            total = sum(obj.amount for obj in page.context["page"].paginator.object_list)
            assert total == card["value"], key
        else:
            assert page.context["page"].paginator.count == card["value"], key


def test_a_county_officer_sees_only_their_county(world, client_for):
    _seed_some(world)
    c = client_for(world.officer_a)
    r = c.get(reverse("dashboard"), {"as_of": AS_OF.isoformat(), "county": world.county_b.pk})
    assert r.status_code == 404  # another county is out of scope
    r = c.get(reverse("dashboard"), {"as_of": AS_OF.isoformat()})
    cards = {card["key"]: card for card in r.context["cards"]}
    assert cards["teachers_into_poor"]["value"] == 1
    assert cards["subsidies_allocated"]["value"] == Decimal("100.00")
    assert r.context["charts"]["counties"] == ["汶上县"]
    page = c.get(cards["teachers_into_poor"]["url"])
    assert {t.school.county_id for t in page.context["page"].object_list} == {world.county_a.pk}
    # a principal's view is their school, whatever the query string says
    p = client_for(world.principal_b).get(reverse("dashboard"), {"as_of": AS_OF.isoformat(), "school": world.weak_a.pk})
    assert p.status_code == 404
    p = client_for(world.principal_b).get(reverse("dashboard"), {"as_of": AS_OF.isoformat()})
    cards = {card["key"]: card for card in p.context["cards"]}
    assert cards["teachers_into_poor"]["value"] == 2
    assert "subsidies_allocated" not in cards  # allocations are made to counties, not schools
    assert client_for(world.inspector).get(reverse("dashboard")).status_code == 403


def test_the_dashboard_defaults_to_the_latest_date_with_data(world, client_for):
    _arrive(world.weak_a, dt.date(2016, 9, 1))
    r = client_for(world.admin).get(reverse("dashboard"))
    assert r.context["as_of"] < dt.date(2025, 1, 1)  # not the server clock's year
    assert r.context["as_of"] >= dt.date(2016, 9, 1)


def _workbook(c, as_of, capture):
    import io

    from openpyxl import load_workbook

    from jinpin.models import Job

    with capture(execute=True):
        r = c.post(reverse("workbook_export"), {"as_of": as_of.isoformat()})
    job = Job.objects.latest("created_at")
    assert r.status_code == 302 and job.status == Job.Status.SUCCEEDED, job.message
    got = c.get(reverse("job_download", args=[job.pk]))
    return load_workbook(io.BytesIO(b"".join(got.streaming_content)))


def test_the_year_end_workbook_equals_the_dashboard(world, client_for, django_capture_on_commit_callbacks):
    _seed_some(world)
    c = client_for(world.admin)
    cards = {card["key"]: card for card in c.get(reverse("dashboard"), {"as_of": AS_OF.isoformat()}).context["cards"]}
    wb = _workbook(c, AS_OF, django_capture_on_commit_callbacks)
    assert len(wb.worksheets) == 5
    sheets = {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    teachers = sheets["教师"]
    assert [r[0] for r in teachers[1:]] == ["汶上县", "泗水县", "全市合计"]
    assert teachers[-1][1] == cards["teachers_into_poor"]["value"] == 3
    assert [r[1] for r in teachers[1:3]] == [1, 2]
    subsidies = sheets["学生资助"]
    assert Decimal(str(subsidies[-1][1])) == cards["subsidies_allocated"]["value"] == Decimal("150.00")
    assert subsidies[-1][2] == cards["subsidies_aided"]["value"] == 1
    # a county officer's workbook: their county only, no city row
    wb = _workbook(client_for(world.officer_a), AS_OF, django_capture_on_commit_callbacks)
    assert [r[0] for r in list(wb.worksheets[1].iter_rows(values_only=True))[1:]] == ["汶上县"]


def test_the_warmer_recomputes_only_what_a_write_invalidated(world):
    from jinpin import cache
    from jinpin.tasks import warm_dashboards

    _seed_some(world)
    first = warm_dashboards()
    assert first == sum(
        1
        for area in [
            figures.Area(),
            figures.Area(county_id=world.county_a.pk),
            figures.Area(county_id=world.county_b.pk),
        ]
        for f in figures.all_figures()
        if f.available(area)
    )
    assert warm_dashboards() == 0  # nothing changed: all read from the cache
    cache._move("teachers")  # what a committed write to teachers does
    teachers = [f for f in figures.all_figures() if f.cache_area == "teachers"]
    assert warm_dashboards() == 3 * len(teachers)


def test_key_school_coverage_counts_one_to_one_agreements_in_force(world):
    from pairing.models import AgreementStatus
    from tests.pairing.factories import agreement

    w = world
    agreement(w.strong_a, w.weak_a, signed_on=dt.date(2016, 9, 1))  # in force on the date: counts
    agreement(
        w.strong_b, w.weak_b, signed_on=dt.date(2016, 3, 1), status=AgreementStatus.ENDED, ended_on=dt.date(2016, 9, 1)
    )  # ended before the date: does not
    result = figures.compute(figures.get("pairing_key_coverage"), figures.Area(), AS_OF)
    assert (result["value"], result["denominator"], result["rate"]) == (1, 2, Decimal("50.00"))
    # the day before the agreement began, nothing was paired in 汶上县
    assert _value("pairing_key_coverage", figures.Area(county_id=w.county_a.pk), dt.date(2016, 8, 31)) == 0
