"""In a real headless Chromium, per role: sign in, follow the home page's first waiting item, and find a
list with as many rows as the item said; the dashboard draws its charts under the strict CSP."""

import pytest

from .test_home_work import _awards

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(world):
    import importlib

    from django.apps import apps

    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    for name in ("0002_seed_2016_schemes", "0008_scheme_stages_nine_year_nutrition"):
        importlib.import_module(f"subsidies.migrations.{name}").forward(apps, None)
    _awards(world)
    return world


@pytest.mark.parametrize(
    "username,expected",
    [
        ("t_officer_a", 2),  # two awards reviewed by the school wait for approval
        ("t_principal_a", 1),
        ("t_admin", 0),
        ("t_inspector", 0),
        ("t_auditor", 0),
    ],
)
def test_the_first_item_links_to_that_many_rows(seeded, browser_page, username, expected):
    page = browser_page
    page.login(username)
    first = page.locator(".work-items a.work-count").first
    count = int(first.get_attribute("data-count"))
    assert count == expected
    first.click()
    page.wait_for_selector(".work-total")
    assert page.locator("table.records tbody tr").count() == count


def test_the_dashboard_draws_its_charts_without_inline_script(seeded, browser_page):
    page = browser_page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "script" in m.text.lower() else None)
    page.set_viewport_size({"width": 390, "height": 844})
    page.login("t_admin")
    page.goto(page.base + "/dashboard/?as_of=2016-09-26")
    page.wait_for_selector("[data-chart=teachers][data-drawn='1'] svg")
    assert page.locator("[data-chart][data-drawn='1']").count() >= 5
    # readable on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    page.click("#figure-teachers_into_poor a.stat")
    page.wait_for_selector("table.records")
