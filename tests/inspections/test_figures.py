"""The supervision figure (inspections/figures.py): households of confirmed household draws of campaigns
begun by the as-of date, and the rate against the draws' populations."""

import datetime as dt
from decimal import Decimal

import pytest

from inspections import services
from jinpin import figures
from jinpin.scope import get_scope

pytestmark = pytest.mark.django_db


def test_households_sampled_and_the_rate(sv, django_capture_on_commit_callbacks):
    scope = get_scope(sv.inspector)
    draw = services.draw_propose(
        group=sv.group,
        kind="households",
        params={"rate": "0.1069", "minimum": 1, "rounding": "half_up"},
        seed="20161024",
        acting_user=sv.inspector,
        scope=scope,
    )
    f = figures.get("inspections_sampled")
    on = sv.campaign.starts_on
    assert figures.compute(f, figures.Area(), on)["value"] == 0  # proposed, not confirmed: not counted
    with django_capture_on_commit_callbacks(execute=True):  # the commit moves the cached figure's stamp
        services.draw_confirm(draw=draw, acting_user=sv.inspector)
    draw.refresh_from_db()
    result = figures.compute(f, figures.Area(), on)
    assert result["value"] == draw.sample_size > 0
    assert result["denominator"] == draw.population_size == 34
    assert result["rate"] == (Decimal(draw.sample_size) * 100 / 34).quantize(Decimal("0.01"))
    # the day before the campaign began: nothing; county B (not assigned): nothing
    assert figures.compute(f, figures.Area(), on - dt.timedelta(days=1))["value"] == 0
    assert figures.compute(f, figures.Area(county_id=sv.county_b.pk), on)["value"] == 0
    assert figures.compute(f, figures.Area(county_id=sv.county_a.pk), on)["value"] == draw.sample_size


def test_overdue_findings_per_county_link_to_that_many_rows(sv, client_for):
    from django.urls import reverse

    from inspections.models import Finding, FindingCategory

    def finding(county, village, deadline, status="open"):
        return Finding.objects.create(
            campaign=sv.campaign,
            county=county,
            source="village",
            village=village,
            category=FindingCategory.objects.first(),
            description="村内未张贴公示",
            responsible_level="village",
            responsible_unit="李庄村",
            deadline=deadline,
            status=status,
            created_by=sv.inspector,
        )

    past = dt.date(2016, 11, 30)
    finding(sv.county_a, sv.village_a, past)
    finding(sv.county_a, sv.village_a, past, status="returned")
    finding(sv.county_a, sv.village_a, past, status="closed")  # closed: not overdue
    finding(sv.county_b, sv.village_b, past)
    finding(sv.county_b, sv.village_b, dt.date(2099, 1, 1))  # not yet due
    c = client_for(sv.admin)
    rows = c.get(reverse("home")).context["overdue_by_county"]
    assert [(r["county"], r["n"]) for r in rows] == [("汶上县", 2), ("泗水县", 1)]
    for r in rows:
        assert c.get(r["url"]).context["page"].paginator.count == r["n"]
