"""One flow in a real browser with a real Celery worker: a county officer runs the batch, watches the
progress bar, approves the list and downloads the bank file."""

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from jinpin.scope import get_scope
from subsidies.models import Allocation, Award, AwardStatus, PayoutLine, Period, Scheme
from subsidies.services.workflow import award_transition

from .conftest import seed_schemes
from .factories import household, pupil

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_officer_runs_batch_approves_and_downloads_bank_file(world, celery_worker_process, browser_page):
    seed_schemes()
    w, page = world, browser_page
    period = Period.objects.get(code="2016-2017")
    kids = [
        pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")), is_boarder=i % 2 == 0)
        for i in range(12)
    ]
    for scheme in Scheme.objects.filter(kind="cash"):
        Allocation.objects.create(scheme=scheme, county=w.county_a, school_year=2016, amount=Decimal("100000.00"))

    page.login("t_officer_a")
    page.goto(page.base + "/subsidies/batch/")
    page.select_option("#id_period", str(period.pk))
    page.click("#run-batch")
    page.wait_for_url("**/jobs/**")
    page.wait_for_selector("#job-progress")
    page.wait_for_selector("#job[data-finished='succeeded']", timeout=60_000)
    assert page.eval_on_selector("#job-progress", "e => e.value") == 100
    assert "12" in page.inner_text("#job-message")
    cash = Award.objects.filter(scheme__kind="cash")
    assert cash.count() == 18  # 12 nutrition + 6 boarding allowances

    # the school applies and reviews (its own pages; done here through the service)
    for action in ("apply", "review"):
        award_transition(
            awards=Award.objects.all(), action=action, acting_user=w.principal_a, scope=get_scope(w.principal_a)
        )

    page.goto(page.base + "/subsidies/?status=reviewed")
    page.select_option("#id_action", "approve")
    page.check("#id_all_matching")
    page.click("#action-button")
    page.wait_for_selector(".messages li")
    assert Award.objects.filter(status=AwardStatus.APPROVED).count() == Award.objects.count()

    page.goto(page.base + "/subsidies/payouts/")
    page.select_option("#id_period", str(period.pk))
    page.select_option("#id_funding_source", "central")
    page.click("#prepare-button")
    page.wait_for_selector("#bank-file-button")
    page.click("#bank-file-button")
    page.wait_for_selector("#job-download:not([hidden])", timeout=60_000)
    with page.expect_download() as info:
        page.click("#job-download-link")
    data = open(info.value.path(), "rb").read()
    ws = load_workbook(BytesIO(data), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == PayoutLine.objects.count() == 18
    assert {r[3] for r in rows} == {k.id_number for k in kids}  # full resident IDs for the bank
    assert sum(Decimal(str(r[5])) for r in rows) == sum(a.amount for a in cash)
