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
    call_command("seed_demo", only="seed_places,seed_users,seed_teachers,seed_inspections,seed_subsidies", stdout=out)
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
