"""The demo city's dashboard "as of 2016-09-26" shows exactly the report's figures: 628 teachers,
48,140,000 yuan allocated, 7,864 pupils aided, 1,192 households at 10.69% — from its records."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.subsidies.conftest import seed_schemes

# transactional: the seal and the audit chain work at commit (as in tests/subsidies/test_demo_year.py)
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_the_demo_reproduces_the_report():
    import importlib

    from django.apps import apps

    seed_schemes()
    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    out = io.StringIO()
    call_command(
        "seed_demo",
        only="seed_places,seed_users,seed_teachers,seed_pairing,seed_inspections,seed_subsidies",
        stdout=out,
    )
    c = Client()
    c.force_login(get_user_model().objects.get(username="admin"))
    r = c.get(reverse("dashboard"), {"as_of": "2016-09-26"})
    assert r.status_code == 200, out.getvalue()
    cards = {card["key"]: card for card in r.context["cards"]}
    assert cards["teachers_into_poor"]["value"] == 628
    assert cards["subsidies_allocated"]["value"] == Decimal("48140000.00")
    assert cards["subsidies_aided"]["value"] == 7864
    assert cards["inspections_sampled"]["value"] == 1192
    assert cards["inspections_sampled"]["rate"] == Decimal("10.69")
    # each is the count of the list behind it
    page = c.get(cards["subsidies_aided"]["url"])
    assert page.context["page"].paginator.count == 7864
    page = c.get(cards["teachers_into_poor"]["url"])
    assert page.context["page"].paginator.count == 628

    # one coherent programme year: on the report's date the other figures and charts have real values too
    assert cards["pairing_key_coverage"]["value"] > 0 and cards["pairing_key_coverage"]["rate"] > 50
    assert cards["pairing_compliance"]["value"] > 0
    assert cards["teachers_training"]["value"] > 0
    charts = r.context["charts"]
    assert [m["name"] for m in charts["paid_by_month"]] == ["2016-09"]
    assert all(v > 0 for v in charts["coverage"]) and any(v > 0 for v in charts["compliance"])
    assert sum(f["value"] for f in charts["findings"]) > 0
    _the_end_of_the_year(c)


def _the_end_of_the_year(c):
    """Without a date the dashboard opens on the demo's last day (not the clock's 2026), and the year's
    work is all there: payments in four months, most agreements meeting the spring semester's minimum."""
    import datetime as dt

    from pairing.models import Activity
    from schools.demo import DEMO_LAST_DAY, DEMO_YEAR_START
    from subsidies.models import PayoutLine
    from teachers.models import TrainingAttendance

    r = c.get(reverse("dashboard"))
    assert r.context["as_of"] == DEMO_LAST_DAY
    cards = {card["key"]: card for card in r.context["cards"]}
    assert cards["pairing_compliance"]["rate"] > 50
    assert cards["teachers_training"]["value"] > 500
    assert len(r.context["charts"]["paid_by_month"]) == 4
    # nothing of the year's work lies outside the year
    end = dt.datetime.combine(DEMO_LAST_DAY + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    start = dt.datetime.combine(DEMO_YEAR_START, dt.time(), tzinfo=dt.UTC)
    assert not Activity.objects.exclude(held_on__range=(DEMO_YEAR_START, DEMO_LAST_DAY)).exists()
    assert not TrainingAttendance.objects.exclude(completed_on__range=(DEMO_YEAR_START, DEMO_LAST_DAY)).exists()
    assert not PayoutLine.objects.filter(settled_at__isnull=False).exclude(settled_at__range=(start, end)).exists()
    # the county officer's home page leads with a real count, and its list has that many rows
    officer = get_user_model().objects.get(username="officer_wenshang")
    c.force_login(officer)
    first = c.get(reverse("home")).context["waiting"][0]
    assert first["count"] > 0
    assert c.get(first["url"]).context["page"].paginator.count == first["count"]
