"""The supervision pages: draw (shown before confirming), verify, record download, cards, coverage at a
constant number of queries, summary and its Excel export, the assistance ledger."""

import io
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from inspections.models import Draw, HouseholdResponsibility
from jinpin.models import Job

from .helpers import confirmed_draw

pytestmark = [pytest.mark.django_db]


def test_draw_page_shows_counts_before_confirming_then_verifies(sv, client_for):
    c = client_for(sv.inspector)
    assert c.get(f"/inspections/groups/{sv.group.pk}/draw/households/").status_code == 200
    r = c.post(
        f"/inspections/groups/{sv.group.pk}/draw/households/", {"seed": "20161024", "rate": "0.1069", "minimum": 1}
    )
    d = Draw.objects.get()
    assert r.status_code == 302 and r.url.endswith(f"/draws/{d.pk}/")
    page = c.get(r.url).content.decode()
    assert d.population_hash in page and 'id="draw-confirm"' in page
    assert "11.76%" in page  # 4 of 34
    assert not d.items.exists()
    c.post(f"/inspections/draws/{d.pk}/confirm/")
    d.refresh_from_db()
    assert d.status == "confirmed" and d.items.count() == 4
    page = c.post(f"/inspections/draws/{d.pk}/verify/", follow=True).content.decode()
    assert "Verified" in page or "核验通过" in page
    record = json.loads(c.get(f"/inspections/draws/{d.pk}/record.json").content)
    assert record["population_hash"] == d.population_hash and len(record["sample"]) == 4
    # drawing again without a reason is refused on the form
    r = c.post(f"/inspections/groups/{sv.group.pk}/draw/households/", {"rate": "0.1069", "minimum": 1})
    assert r.status_code == 200 and Draw.objects.count() == 1
    # the officer of the assigned county may read the draw but not draw
    assert client_for(sv.officer_a).get(f"/inspections/draws/{d.pk}/").status_code == 200
    assert client_for(sv.officer_a).post(f"/inspections/draws/{d.pk}/confirm/").status_code == 403


def test_cards_page_carries_its_data_without_inline_script(sv, client_for):
    confirmed_draw(sv)
    r = client_for(sv.inspector).get(f"/inspections/groups/{sv.group.pk}/cards/")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="field-data" type="application/json"' in html
    assert "<script>" not in html and "script-src 'self'" in r["Content-Security-Policy"]
    sw = client_for(sv.inspector).get("/inspections/sw.js")
    assert sw.status_code == 200 and sw["Content-Type"] == "application/javascript"


def _check(c, item, outcome="visited"):
    body = {"client_uuid": str(uuid.uuid4()), "item": item.pk, "outcome": outcome, "results": []}
    if outcome == "not_found":
        body["not_found_reason"] = "搬迁"
    c.post("/inspections/api/checks/", json.dumps(body), content_type="application/json")


def test_coverage_lists_what_is_missing_at_a_constant_number_of_queries(sv, client_for):
    d = confirmed_draw(sv)
    c = client_for(sv.inspector)
    url = f"/inspections/campaigns/{sv.campaign.pk}/coverage/"
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        page = c.get(url).content.decode()
    assert page.count('data-done="0"') == 1
    for item in d.items.all():
        _check(c, item)
    # more households drawn in a bigger sample: the same number of queries
    d2 = confirmed_draw_bigger(sv)
    with CaptureQueriesContext(connection) as big:
        c.get(url)
    assert len(small) == len(big), [q["sql"] for q in big.captured_queries]
    assert d2.sample_size > d.sample_size


def confirmed_draw_bigger(sv):
    from inspections import services
    from jinpin.scope import get_scope

    d = services.draw_propose(
        group=sv.group,
        kind="households",
        params={"rate": "0.5", "minimum": 1},
        seed="x",
        reason="扩大抽查比例",
        acting_user=sv.inspector,
        scope=get_scope(sv.inspector),
    )
    services.draw_confirm(draw=d, acting_user=sv.inspector)
    return d


def test_summary_and_its_export_with_the_draw_records(sv, client_for, django_capture_on_commit_callbacks):
    d = confirmed_draw(sv)
    c = client_for(sv.inspector)
    items = list(d.items.all())
    _check(c, items[0])
    _check(c, items[1], "not_found")
    page = c.get(f"/inspections/campaigns/{sv.campaign.pk}/summary/").content.decode()
    assert 'id="s-drawn">4<' in page and 'id="s-checked">2<' in page
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/inspections/campaigns/{sv.campaign.pk}/export/")
    job = Job.objects.get()
    assert r.status_code == 302 and job.status == Job.Status.SUCCEEDED, job.message
    download = c.get(f"/jobs/{job.pk}/download/")
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in rows)
    assert d.population_hash in text and d.seed in text
    # the population of the draw, one row per household, the drawn ones marked: re-runnable from the file
    population = [row for row in rows if row[3] and row[4] and str(row[3]).startswith("370830")]
    assert len(population) >= d.population_size
    assert len([row for row in population if row[8]]) == d.sample_size


def test_ledger_shows_the_responsible_unit_and_cadre(sv, client_for):
    h = sv.households_a[0]
    HouseholdResponsibility.objects.create(household=h, unit="汶上县教育局", cadre="王建国", phone="0537-7211234")
    page = client_for(sv.officer_a).get(f"/inspections/households/{h.pk}/ledger/").content.decode()
    assert "王建国" in page and "汶上县教育局" in page
    assert client_for(sv.officer_b).get(f"/inspections/households/{h.pk}/ledger/").status_code == 404
