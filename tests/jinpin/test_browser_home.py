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
    assert page.locator("[data-chart][data-drawn='1']").count() >= 6
    assert page.locator("[data-chart=twinning][data-drawn='1'] svg").count() == 1  # coverage and compliance
    # readable on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    page.click("#figure-teachers_into_poor a.stat")
    page.wait_for_selector("table.records")


@pytest.mark.usefixtures("reference_data")
def test_in_the_demo_city_each_roles_first_item_is_a_real_count_with_that_many_rows(browser_page):
    """The demo's one year (2016–17) under today's clock: every role's home page leads with work that is
    really waiting (a count above zero) and the list behind it has exactly that many rows (the first page of
    a long list holds 100)."""
    import importlib
    import io

    from django.apps import apps
    from django.core.management import call_command

    from schools.demo import DEMO_PASSWORD
    from tests.subsidies.conftest import seed_schemes

    seed_schemes()
    importlib.import_module("teachers.migrations.0002_seed_reference_data").forward(apps, None)
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    for username in ("officer_wenshang", "principal_weak", "inspector", "auditor", "admin"):
        page.context.clear_cookies()
        page.login(username, DEMO_PASSWORD)
        first = page.locator(".work-items a.work-count").first
        count = int(first.get_attribute("data-count"))
        assert count > 0, username
        first.click()
        page.wait_for_selector(".work-total")
        assert page.locator("table.records tbody tr").count() == min(count, 100), username
