"""The reference date (``jinpin.reference``): pages open on the latest period with records, not on the
server clock's year, while what is about now (missed, overdue, "not in the future") keeps the real clock;
and the twinning compliance figure and its chart by county."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from jinpin import dashboard, figures
from jinpin.reference import reference_date, school_year_start
from pairing import compliance
from pairing.models import SchoolYear
from tests.pairing.factories import agreement, log
from tests.teachers.factories import TeacherFactory

pytestmark = pytest.mark.django_db

CLOCK = dt.date(2026, 12, 2)  # the server's today in these tests, explicitly


def test_without_records_the_reference_is_today(world):
    assert reference_date(CLOCK) == CLOCK
    assert reference_date() == timezone.localdate()


def test_records_of_2016_make_the_reference_their_last_day(world, django_capture_on_commit_callbacks):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2016, 10, 12))
    assert reference_date(CLOCK) == dt.date(2016, 10, 12)
    with django_capture_on_commit_callbacks(execute=True):
        log(a, "seminar", dt.date(2017, 3, 8))
    assert reference_date(CLOCK) == dt.date(2017, 3, 8)  # a new record moves it at once (the stamp moved)


def test_records_in_the_current_school_year_keep_today(world):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2016, 10, 12))
    # the clock in the same school year as the records: today (a quiet week does not turn the pages back)
    assert reference_date(dt.date(2017, 1, 5)) == dt.date(2017, 1, 5)
    assert school_year_start(dt.date(2017, 1, 5)) == dt.date(2016, 9, 1)
    assert school_year_start(dt.date(2016, 9, 1)) == dt.date(2016, 9, 1)


def test_future_dated_records_do_not_move_it_past_today(world):
    from teachers.models import ServiceKind, ServicePeriod

    t = TeacherFactory(school=world.weak_a)
    ServicePeriod.objects.create(teacher=t, school=world.weak_a, start=dt.date(2016, 9, 1), kind=ServiceKind.HIRE)
    assert reference_date(dt.date(2016, 9, 20)) == dt.date(2016, 9, 20)
    assert reference_date(dt.date(2016, 8, 20)) == dt.date(2016, 8, 20)  # the hire is after that day: today


def test_pages_with_2016_records_open_on_2016_17_while_the_clock_says_2026(world, client_for):
    """The compliance page, the home work item and the dashboard default to the records' year; what is missed
    is judged against the real clock (a 2016 semester is over)."""
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2016, 10, 12))
    assert timezone.localdate().year >= 2026  # the clock is not the records' year
    year_2016 = SchoolYear.objects.get(starts_on=dt.date(2016, 9, 1))
    c = client_for(world.officer_a)
    r = c.get(reverse("pairing:compliance"))
    assert r.context["year"] == year_2016
    assert r.context["totals"][compliance.MISSED] > 0  # the year's other minimums: missed, by today
    assert r.context["totals"][compliance.NOT_YET] == 0
    assert c.get(reverse("dashboard")).context["as_of"] == dt.date(2016, 10, 12)
    # the officer's work item: the agreement's 2016–17 minimums not met, and its list agrees
    home = c.get(reverse("home"))
    item = next(i for i in home.context["waiting"] if i["item"].key == "agreements_due")
    assert item["count"] == 1
    listing = c.get(item["url"])
    assert listing.context["page"].paginator.count == 1
    # a year chosen explicitly still wins
    later = SchoolYear.objects.get(starts_on=dt.date(2017, 9, 1))
    assert c.get(reverse("pairing:compliance"), {"year": later.pk}).context["year"] == later


def test_staffing_and_honours_default_to_the_records_year(world, client_for):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2017, 3, 8))
    c = client_for(world.officer_a)
    assert c.get(reverse("teachers:vacancies")).context["year"] == 2017
    assert c.get(reverse("teachers:honours")).context["year"] == 2017


# -- the twinning compliance figure and its chart --------------------------------------------------------------
def test_compliance_figure_at_its_boundaries(world):
    w = world
    on_time = agreement(w.strong_a, w.weak_a, signed_on=dt.date(2016, 9, 1))
    late = agreement(w.strong_b, w.weak_b, signed_on=dt.date(2016, 9, 1))
    log(on_time, "joint_research", dt.date(2016, 9, 26))  # on the as-of date: counts
    log(late, "seminar", dt.date(2016, 9, 27))  # the day after: not yet on the 26th
    log(late, "online_evaluation", dt.date(2016, 9, 20), online_link="https://x.example.cn/r/1")  # not a meeting
    f = figures.get("pairing_compliance")
    v = figures.compute(f, figures.Area(), dt.date(2016, 9, 26))
    assert (v["value"], v["denominator"], v["rate"]) == (1, 2, 50)
    v = figures.compute(f, figures.Area(), dt.date(2016, 9, 27))
    assert (v["value"], v["rate"]) == (2, 100)
    # a county: only its agreements
    v = figures.compute(f, figures.Area(county_id=w.county_b.pk), dt.date(2016, 9, 26))
    assert (v["value"], v["denominator"]) == (0, 1)
    # the new semester starts from nothing; in the winter holiday, the semester just ended still counts
    assert figures.compute(f, figures.Area(), dt.date(2017, 3, 1))["value"] == 0
    assert figures.compute(f, figures.Area(), dt.date(2017, 2, 1))["value"] == 2
    # and it agrees with the compliance engine on the semester's minimum once the semester is over
    semester_cells = [
        c
        for c in compliance.cells(
            compliance_agreements(),
            years=[SchoolYear.objects.get(starts_on=dt.date(2016, 9, 1))],
            today=dt.date(2017, 1, 20),
        )
        if c.period_kind == "semester" and c.starts_on == dt.date(2016, 9, 1)
    ]
    met = {c.agreement_id for c in semester_cells if c.state == compliance.MET}
    assert met == set(figures.records(f, figures.Area(), dt.date(2017, 1, 20)).values_list("pk", flat=True))


def compliance_agreements():
    from pairing.models import Agreement

    return Agreement.objects.all()


def test_an_ended_agreement_leaves_the_compliance_figure(world):
    from pairing.models import Agreement, AgreementStatus

    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2016, 9, 10))
    Agreement.objects.filter(pk=a.pk).update(status=AgreementStatus.ENDED, ended_on=dt.date(2016, 10, 1))
    f = figures.get("pairing_compliance")
    assert figures.compute(f, figures.Area(), dt.date(2016, 9, 30))["value"] == 1
    assert figures.compute(f, figures.Area(), dt.date(2016, 10, 2))["denominator"] == 0


def test_the_compliance_chart_is_each_countys_figure(world, client_for):
    w = world
    log(agreement(w.strong_a, w.weak_a, signed_on=dt.date(2016, 9, 1)), "joint_research", dt.date(2016, 9, 12))
    agreement(w.strong_b, w.weak_b, signed_on=dt.date(2016, 9, 1))
    as_of = dt.date(2016, 9, 26)
    r = client_for(w.admin).get(reverse("dashboard"), {"as_of": as_of.isoformat()})
    charts = r.context["charts"]
    f = figures.get("pairing_compliance")
    from schools.models import County

    for name, rate in zip(charts["counties"], charts["compliance"], strict=True):
        county = County.objects.get(name=name)
        assert rate == float(figures.compute(f, figures.Area(county_id=county.pk), as_of)["rate"])
    assert charts["compliance"] == [100.0, 0.0]
    assert charts["labels"]["compliance"]
    card = next(c for c in r.context["cards"] if c["key"] == "pairing_compliance")
    assert card["value"] == 1 and client_for(w.admin).get(card["url"]).context["page"].paginator.count == 1
    assert b'data-chart="twinning"' in r.content


def test_the_warmer_fills_what_the_default_dashboards_read(world, client_for, django_assert_num_queries):
    a = agreement(world.strong_a, world.weak_a, signed_on=dt.date(2016, 9, 1))
    log(a, "joint_research", dt.date(2016, 10, 12))
    dashboard.warm()
    c = client_for(world.admin)
    c.get(reverse("home"))  # the session and the scope
    # every figure and chart of the city dashboard comes from the cache: the page reads only the user (its
    # membership joined; the session is in the cache) and the counties (the charts' axis and the picker)
    with django_assert_num_queries(3):
        r = c.get(reverse("dashboard"))
    assert r.context["as_of"] == dt.date(2016, 10, 12)


def test_the_workbooks_twinning_sheet_is_the_dashboards_compliance(
    world, client_for, django_capture_on_commit_callbacks
):
    from tests.jinpin.test_dashboard import _workbook

    w = world
    log(agreement(w.strong_a, w.weak_a, signed_on=dt.date(2016, 9, 1)), "joint_research", dt.date(2016, 9, 12))
    agreement(w.strong_b, w.weak_b, signed_on=dt.date(2016, 9, 1))
    as_of = dt.date(2016, 9, 26)
    c = client_for(w.admin)
    cards = {card["key"]: card for card in c.get(reverse("dashboard"), {"as_of": as_of.isoformat()}).context["cards"]}
    wb = _workbook(c, as_of, django_capture_on_commit_callbacks)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    header, counties, city = rows[0], rows[1:-1], rows[-1]
    met, in_force = header.index("本学期达标"), header.index("有效结对协议")
    assert (city[met], city[in_force]) == (
        cards["pairing_compliance"]["value"],
        cards["pairing_compliance"]["denominator"],
    )
    assert [r[met] for r in counties] == [1, 0]


def _moves_teachers(job, scope, progress):
    from jinpin import cache

    cache._move("teachers")  # what the job's committed bulk write does (e.g. the training-hours import)
    return jobs_result()


def _reads_only(job, scope, progress):
    return jobs_result()


def jobs_result():
    from jinpin.jobs import JobResult

    return JobResult(summary="ok")


def test_a_job_that_changed_data_rewarms_the_dashboards_and_one_that_did_not_does_not(world, monkeypatch):
    from jinpin import cache, jobs
    from jinpin.models import Job

    jobs.register("test.moves_teachers", _moves_teachers)
    jobs.register("test.reads_only", _reads_only)
    sent = []
    monkeypatch.setattr(jobs, "rewarm_dashboards", lambda: sent.append(1) or dashboard.warm())
    dashboard.warm()
    as_of = reference_date()
    training = figures.get("teachers_training")
    parts = ("figure", training.key, None, None, None, as_of.isoformat())
    assert cache.is_cached(training.cache_area, parts)
    job = Job.objects.create(kind="test.reads_only", params={}, title="read", created_by=world.admin)
    jobs.execute(str(job.pk), beat=False)
    assert sent == []
    job = Job.objects.create(kind="test.moves_teachers", params={}, title="write", created_by=world.admin)
    jobs.execute(str(job.pk), beat=False)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and sent == [1]
    assert cache.is_cached(training.cache_area, parts)  # recomputed under the new stamp before anyone looked
