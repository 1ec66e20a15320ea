"""The auditors' anomaly report (PostgreSQL for the reverse check)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from jinpin.scope import get_scope
from subsidies.exporters import AnomalyExporter, HeadlineExporter
from subsidies.models import Award, AwardStatus, EnrolmentConflict, HouseholdStatus
from subsidies.services import anomaly_results
from subsidies.services.anomalies import anomalies

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def test_each_kind_of_anomaly_is_found(places, period):
    w = places
    h_lifted_later = household(w.village_a, ("verified", "2016-01-15"))
    lifted = pupil(w.weak_a, household=h_lifted_later, is_boarder=True)
    orphan = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")), is_orphan=True)
    forgotten = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_batch(period)
    # a lower exclusive category paid to an orphan (set before approval: afterwards the database refuses it)
    Award.objects.filter(student=orphan, scheme__code="nutrition").update(amount=Decimal("600.00"))
    Award.objects.exclude(student=forgotten).update(status=AwardStatus.APPROVED)
    Award.objects.filter(student=forgotten).update(status=AwardStatus.REJECTED)
    # the registry is corrected: lifted out before the decisive date
    HouseholdStatus.objects.create(household=h_lifted_later, status="lifted", effective_on=dt.date(2016, 8, 15))
    EnrolmentConflict.objects.create(
        id_number=lifted.id_number, school_year=2016, school=w.strong_a, existing_school=w.weak_a
    )
    with translation.override("en"):
        rows = list(anomalies(get_scope(w.auditor), period))
    kinds = {(r[0], r[3]) for r in rows}
    assert ("Household not a verified poor household on the decisive date", lifted.name) in kinds
    assert ("Exclusive categories: a different category paid", orphan.name) in kinds
    assert ("Verified poor household, eligible, received nothing", forgotten.name) in kinds
    assert any(r[0] == "Same ID enrolled in two schools" and r[4] == lifted.id_number for r in rows)
    # masked for a county officer, and the other county sees none of it
    officer_rows = list(anomalies(get_scope(w.officer_a), period))
    assert officer_rows and all(lifted.id_number not in r for r in officer_rows)
    assert list(anomalies(get_scope(w.officer_b), period)) == []
    assert len(list(AnomalyExporter(get_scope(w.auditor), {"period": period.pk}).rows())) == len(rows)


def test_headline_figures(places, period):
    w = places
    for _i in range(3):
        pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_batch(period)
    Award.objects.update(status=AwardStatus.APPROVED)
    rows = list(HeadlineExporter(get_scope(w.auditor), {}).rows())
    total = rows[-1]
    assert total[3] == 3 and total[5] == Decimal("1800.00")


def test_anomaly_page_roles(places, period, client_for):
    assert client_for(places.auditor).get(reverse("subsidies:anomalies")).status_code == 200
    assert client_for(places.principal_a).get(reverse("subsidies:anomalies")).status_code == 403


def test_paid_twice_rows_name_the_student_school_scheme_and_period(places, period, client_for):
    """Both checks are guarded by constraints; dropped here (inside the test's transaction) to make the rows appear."""
    from subsidies.models import PayoutBatch, PayoutLine

    w = places
    child = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    run_batch(period)
    award = Award.objects.get(student=child, scheme__code="nutrition")
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending deferred checks before the ALTER
        cur.execute(f'ALTER TABLE "{Award._meta.db_table}" DROP CONSTRAINT one_award_per_student_scheme_period')
        cur.execute("DROP INDEX award_paid_at_most_once")
    twin = Award.objects.create(
        student=child,
        scheme=award.scheme,
        period=period,
        school=award.school,
        county=award.county,
        amount=award.amount,
        rate_version=award.rate_version,
        facts=award.facts,
        status=AwardStatus.PAID,
    )
    batch = PayoutBatch.objects.create(
        county=w.county_a, period=period, funding_source="central", created_by=w.officer_a
    )
    for _i in range(2):
        PayoutLine.objects.create(
            batch=batch,
            award=award,
            amount=award.amount,
            payee_name="监护人",
            bank_account="6228",
            status=PayoutLine.Status.PAID,
        )
    assert twin.pk
    with translation.override("en"):
        rows = [
            r
            for r in anomalies(get_scope(w.officer_a), period)
            if r[0] in ("Award paid twice", "Student awarded twice for one scheme and period")
        ]
        full = [r for r in anomalies(get_scope(w.auditor), period) if r[0] == "Award paid twice"]
    assert len(rows) == 2
    for r in rows:
        assert r[1:4] == (w.county_a.name, w.weak_a.name, child.name)
        assert r[4] != child.id_number and r[4][-4:] == child.id_number[-4:]  # masked for a county officer
        assert r[5] == award.scheme.name and period.name in r[7]
    paid = next(r for r in rows if r[0] == "Award paid twice")
    assert paid[6] == award.amount * 2 and "2" in paid[7]
    assert full[0][4] == child.id_number  # the auditor sees the full ID
    assert str(award.pk) not in [str(v) for v in paid]
    anomaly_results.refresh(period=period)  # the page reads the stored report
    page = client_for(w.officer_a).get(reverse("subsidies:anomalies")).content.decode()
    assert child.name in page and child.id_number not in page


def test_the_page_reads_the_report_stored_after_the_batch_and_recomputes_on_request(
    places, period, client_for, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """The checks run in a job (after the batch, on request), not per request; the page says when."""
    from subsidies.models import AnomalySnapshot

    w = places
    child = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
    with django_capture_on_commit_callbacks(execute=True):
        run_batch(period)  # queues the anomaly check of the period (eager here)
    snap = AnomalySnapshot.objects.get(period=period)
    assert snap.rows == 0
    Award.objects.filter(student=child).update(status=AwardStatus.REJECTED)
    url = reverse("subsidies:anomalies")
    officer = client_for(w.officer_a)
    officer.get(url)  # session and membership warm
    with django_assert_num_queries(7):  # constant: the stored rows, never the checks
        page = officer.get(url).content.decode()
    assert child.name not in page and "anomaly-computed" in page  # the stored report, not a live check
    with django_capture_on_commit_callbacks(execute=True):
        r = officer.post(url, {"report": "recompute"})
    assert r.status_code == 302
    assert AnomalySnapshot.objects.get(period=period).rows >= 1
    with django_assert_num_queries(8):  # constant: the stored rows, never the checks; +1 the hits' findings
        page = officer.get(url).content.decode()
    assert child.name in page and child.id_number not in page  # masked for a county officer
    assert child.id_number in client_for(w.auditor).get(url).content.decode()
    assert child.name not in client_for(w.officer_b).get(url).content.decode()
