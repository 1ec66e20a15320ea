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
