"""乡村教师荣誉: years of rural teaching from the service history; nobody gets a tier twice."""

import datetime as dt

from django.urls import reverse

from teachers import honours as hon
from teachers import services
from teachers.models import RuralHonourCertificate, ServicePeriod, Teacher

from .factories import TeacherFactory

D = dt.date


def rural_teacher(world, start, end=None, school=None, full_time=True):
    t = TeacherFactory()
    ServicePeriod.objects.create(teacher=t, school=school or world.weak_a, start=start, end=end, full_time=full_time)
    Teacher.objects.filter(pk=t.pk).update(school=school or world.weak_a)
    return t


def owed(year, **kw):
    return {r["teacher_id"]: r["tier_years"] for r in hon.owed(Teacher.objects.all(), year, **kw)}


def test_ten_years_reached_exactly_on_the_honour_date(world):
    # [2007-01-01, 2016-12-31] inclusive is 3653 days = ceil(10 x 365.25)
    t = rural_teacher(world, D(2007, 1, 1))
    assert owed(2016) == {t.pk: 10}
    assert owed(2015) == {}


def test_period_straddling_the_honour_date_counts_only_up_to_it(world):
    # started 2007-01-02: on 2016-12-31 one day short; the rest of the still-open period does not count
    t = rural_teacher(world, D(2007, 1, 2))
    assert owed(2016) == {}
    assert owed(2017) == {t.pk: 10}
    # a closed period ending after the honour date: also cut at the date
    u = rural_teacher(world, D(1990, 1, 1), end=D(2030, 1, 1))
    days = hon.annotate_rural_days(Teacher.objects.filter(pk=u.pk), D(2016, 12, 31)).get().rural_days
    assert days == (D(2017, 1, 1) - D(1990, 1, 1)).days


def test_only_full_time_rural_service_counts_and_periods_add_up(world):
    t = rural_teacher(world, D(1996, 9, 1), end=D(2006, 9, 1))  # 10 rural years
    ServicePeriod.objects.create(teacher=t, school=world.strong_a, start=D(2006, 9, 1), end=D(2010, 9, 1))  # urban
    ServicePeriod.objects.create(teacher=t, school=world.weak_b, start=D(2010, 9, 1))  # rural again
    ServicePeriod.objects.create(
        teacher=t, school=world.weak_a, start=D(2011, 1, 1), full_time=False
    )  # part-time: ignored
    # 10 + (2010-09-01 .. 2020-12-31) = 20.33 years by the end of 2020
    assert owed(2020) == {t.pk: 20}
    assert owed(2019) == {t.pk: 10}


def test_highest_tier_owed_and_never_twice(world):
    t = rural_teacher(world, D(1986, 9, 1))
    assert owed(2016) == {t.pk: 30}
    n = services.certificates_issue(
        teachers=Teacher.objects.all(), year=2016, issued_on=D(2016, 9, 10), acting_user=world.admin
    )
    assert n == 1
    assert owed(2016) == {} and owed(2030) == {}  # 30 is the top tier: nothing more ever
    assert (
        services.certificates_issue(
            teachers=Teacher.objects.all(), year=2016, issued_on=D(2016, 9, 10), acting_user=world.admin
        )
        == 0
    )
    assert RuralHonourCertificate.objects.get().tier.years == 30


def test_lower_tier_then_next_tier(world):
    t = rural_teacher(world, D(2000, 9, 1))
    services.certificates_issue(
        teachers=Teacher.objects.all(), year=2011, issued_on=D(2011, 9, 10), acting_user=world.admin
    )
    assert owed(2015) == {}
    assert owed(2020) == {t.pk: 20}


def test_pages_issue_and_scope(world, client_for):
    a = rural_teacher(world, D(1990, 9, 1))
    b = rural_teacher(world, D(1990, 9, 1), school=world.weak_b)
    r = client_for(world.officer_a).get(reverse("teachers:honours") + "?year=2016")
    assert [row["teacher"] for row in r.context["page"]] == [a]
    assert (
        client_for(world.auditor).get(reverse("teachers:honours") + "?year=2016").context["page"].paginator.count == 2
    )
    # officer A ticks B (out of scope, forged): ignored; A gets the certificate
    client_for(world.officer_a).post(
        reverse("teachers:honour_issue"), {"year": 2016, "issued_on": "2016-09-10", "teacher": [a.pk, b.pk]}
    )
    assert list(RuralHonourCertificate.objects.values_list("teacher_id", "tier__years")) == [(a.pk, 20)]
    assert (
        client_for(world.auditor)
        .post(reverse("teachers:honour_issue"), {"year": 2016, "issued_on": "2016-09-10", "teacher": [b.pk]})
        .status_code
        == 403
    )
    assert (
        client_for(world.principal_a)
        .post(reverse("teachers:honour_issue"), {"year": 2016, "issued_on": "2016-09-10", "teacher": [a.pk]})
        .status_code
        == 403
    )


def test_issuing_many_certificates_costs_the_same_queries_as_a_few(world, django_assert_num_queries):
    """Certificates and their audit entries are written in bulk (no query per teacher)."""
    from auditlog.models import LogEntry

    # (the audit entries' content type is read before each counted block: tests/conftest.py)
    few = [rural_teacher(world, D(1990, 9, 1)) for _ in range(2)]
    with django_assert_num_queries(7) as few_q:
        assert (
            services.certificates_issue(
                teachers=Teacher.objects.filter(pk__in=[t.pk for t in few]),
                year=2016,
                issued_on=D(2016, 9, 10),
                acting_user=world.admin,
            )
            == 2
        )
    many = [rural_teacher(world, D(1990, 9, 1)) for _ in range(12)]
    with django_assert_num_queries(len(few_q.captured_queries)):
        assert (
            services.certificates_issue(
                teachers=Teacher.objects.filter(pk__in=[t.pk for t in many]),
                year=2016,
                issued_on=D(2016, 9, 10),
                acting_user=world.admin,
            )
            == 12
        )
    cert = RuralHonourCertificate.objects.get(teacher=many[0])
    entry = LogEntry.objects.get_for_object(cert).get()
    assert (
        entry.actor == world.admin
        and entry.additional_data["event"] == "rural_honour_issued"
        and entry.changes["tier"] == [None, 20]
    )
