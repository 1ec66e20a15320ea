"""Every page not pinned elsewhere issues the same number of queries with four times the rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subsidies.models import Allocation, Award, BatchRun, HouseholdStatus, LoanApplication, Recovery, Scheme
from subsidies.services import matching

from .conftest import run_batch
from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


def grow(w, period, h, start, n):
    """``n`` more paid awards, each with a recovery, a loan, a household status and an allocation."""
    nutrition = Scheme.objects.get(code="nutrition")
    schemes = list(Scheme.objects.order_by("pk"))
    for k in range(start, start + n):
        s = pupil(w.weak_a, household=h)
        a = Award.objects.create(
            student=s,
            scheme=nutrition,
            period=period,
            school=w.weak_a,
            county=w.county_a,
            amount=Decimal("600.00"),
            rate_version=nutrition.rates.get(),
            facts={},
            status="paid",
        )
        Recovery.objects.create(award=a, amount=Decimal("1.00"), reason="重复", created_by=w.officer_a)
        LoanApplication.objects.create(
            student=s,
            county=w.county_a,
            school_year=2016,
            level="undergraduate",
            institution="山东大学",
            amount=Decimal("100.00"),
        )
        HouseholdStatus.objects.create(
            household=h, status="verified", effective_on=dt.date(2015, 1, 1 + k), recorded_by=w.officer_a
        )
        Allocation.objects.create(
            scheme=schemes[k % len(schemes)], county=w.county_a, school_year=2016 + k, amount=Decimal("1.00")
        )
    run_batch(period)
    matching.rematch()


def test_list_pages_query_counts_do_not_grow_with_rows(places, period, client_for):
    w = places
    h = household(w.village_a, ("verified", "2016-01-15"))

    def urls():
        return [
            reverse("subsidies:award_detail", args=[Award.objects.order_by("pk").first().pk]),
            reverse("subsidies:run_detail", args=[BatchRun.objects.order_by("pk").first().pk]),
            reverse("subsidies:recovery_list"),
            reverse("subsidies:loan_list"),
            reverse("subsidies:matching"),
            reverse("subsidies:anomalies"),
            reverse("subsidies:household_detail", args=[h.pk]),
            reverse("subsidies:scheme_list"),
            reverse("subsidies:batch"),
            reverse("subsidies:allocation_list"),
            reverse("subsidies:reconciliation"),
        ]

    counts = {}
    for start, n in ((0, 1), (1, 4)):
        grow(w, period, h, start, n)
        cache.clear()  # the test's writes never commit, so they never move the cached figures' stamp
        for user in (w.admin, w.auditor):
            c = client_for(user)
            for url in urls():
                with CaptureQueriesContext(connection) as ctx:
                    assert c.get(url).status_code == 200, url
                counts.setdefault((user.username, url), []).append(len(ctx.captured_queries))
    grew = {k: v for k, v in counts.items() if v[0] != v[1] or v[1] > 40}
    assert not grew
