"""The programme's headline figures: one registry, each figure defined once by the app that owns its data.

A figure is the answer to "how many … as of a date (截至日期), in an area (city / county / town /
school)". Its app registers a ``Figure`` in ``AppConfig.ready()`` (this module imports no app):

* ``facts(as_of)`` — the rows it counts or sums, unscoped, as of the date (the one definition);
* ``paths`` — how those rows narrow to a county, town or school (a level without a path means the
  figure is not defined there, e.g. money allocated to counties has no school);
* ``listing(facts)`` — the records a person sees behind the figure (default: the facts themselves);
  the figure's value is computed from the same queryset, so the list's count is the figure;
* ``sum_field`` — for money: the figure is the sum of this field over the listing;
* ``denominator(as_of)`` / ``target(as_of)`` — for a rate (sampling rate, coverage, compliance) or a
  target (915, 3,138, 100%);
* ``note`` — "how this is counted", shown beside the figure;
* ``latest()`` — the latest date the figure has records for (``jinpin.reference``: the day pages
  open on when the records stop before the current school year).

``compute(figure, scope, area, as_of)`` is what pages, the year-end workbook and tests call; it is
cached under the figure's cache area stamp (``jinpin/cache.py``: a committed write to the owning
app moves the stamp, so a cached figure is never stale), see ``benchmarks/bench_dashboard.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from . import cache

LEVELS = ("county", "town", "school")
#: a cached figure lives this long at most (a backstop: every write to its app moves its stamp first)
WARM_TIMEOUT = 3600


@dataclass(frozen=True)
class Area:
    """Where a figure is computed: the city (all ids None), a county, a town or a school."""

    county_id: int | None = None
    town_id: int | None = None
    school_id: int | None = None

    @property
    def level(self) -> str:
        if self.school_id:
            return "school"
        if self.town_id:
            return "town"
        if self.county_id:
            return "county"
        return "city"

    def key(self) -> tuple:
        return (self.county_id, self.town_id, self.school_id)


@dataclass
class Figure:
    key: str
    label: str
    note: str
    unit: str  # "person", "yuan", "household", "school"
    facts: Callable
    paths: dict
    cache_area: str
    order: int = 100
    listing: Callable | None = None
    sum_field: str | None = None
    denominator: Callable | None = None  # (as_of) -> queryset narrowed like facts, or None
    denominator_value: Callable | None = None  # (qs) -> number; default count
    denominator_paths: dict | None = None  # default: ``paths``
    target: Callable | None = None  # (as_of) -> number or None (a count target or a percentage)
    target_is_rate: bool = False
    columns: list = field(default_factory=list)  # [(label, callable(obj) -> value)] of the list page
    latest: Callable | None = None  # () -> the latest date with data, or None
    list_url: Callable | None = None  # (obj) -> url of one record

    def available(self, area: Area) -> bool:
        return area.level == "city" or area.level in self.paths


_figures: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    _figures[figure.key] = figure
    return figure


def all_figures() -> list[Figure]:
    return sorted(_figures.values(), key=lambda f: f.order)


def get(key: str) -> Figure | None:
    return _figures.get(key)


def narrow(qs, paths: dict, area: Area):
    """``qs`` narrowed to ``area`` through ``paths``; ``qs.none()`` if the figure has no such level."""
    for level, value in (("county", area.county_id), ("town", area.town_id), ("school", area.school_id)):
        if value is None:
            continue
        path = paths.get(level)
        if path is None:
            return qs.none()
        qs = qs.filter(**{path: value})
    return qs


def records(figure: Figure, area: Area, as_of: dt.date):
    """The records behind the figure (the list a figure links to), in ``area``."""
    facts = narrow(figure.facts(as_of), figure.paths, area)
    return figure.listing(facts) if figure.listing else facts


def _value(figure: Figure, qs):
    if figure.sum_field:
        return qs.aggregate(v=Sum(figure.sum_field))["v"] or Decimal("0.00")
    return qs.count()


def _compute(figure: Figure, area: Area, as_of: dt.date) -> dict:
    value = _value(figure, records(figure, area, as_of))
    out = {"key": figure.key, "value": value, "denominator": None, "rate": None, "target": None, "percent": None}
    if figure.denominator:
        qs = narrow(figure.denominator(as_of), figure.denominator_paths or figure.paths, area)
        d = figure.denominator_value(qs) if figure.denominator_value else qs.count()
        out["denominator"] = d
        out["rate"] = (Decimal(value) * 100 / Decimal(d)).quantize(Decimal("0.01")) if d else None
    if figure.target:
        t = figure.target(as_of)
        out["target"] = t
        if t and not figure.target_is_rate:
            out["percent"] = (Decimal(value) * 100 / Decimal(t)).quantize(Decimal("0.1"))
    return out


def _parts(figure: Figure, area: Area, as_of: dt.date) -> tuple:
    return ("figure", figure.key, *area.key(), as_of.isoformat())


def compute(figure: Figure, area: Area, as_of: dt.date) -> dict:
    """The figure's value (and rate, target) in ``area`` on ``as_of``; cached until its app's data changes."""
    return cache.cached(
        figure.cache_area, _parts(figure, area, as_of), lambda: _compute(figure, area, as_of), timeout=WARM_TIMEOUT
    )


def compute_each(figs: list[Figure], area: Area, as_of: dt.date) -> list[dict]:
    """``[compute(f, area, as_of) for f in figs]`` in two cache reads (``jinpin.cache.cached_each``), not one or two
    per figure."""
    return cache.cached_each(
        [(f.cache_area, _parts(f, area, as_of), lambda f=f: _compute(f, area, as_of)) for f in figs],
        timeout=WARM_TIMEOUT,
    )


def warm(as_of: dt.date, county_ids) -> int:
    """Compute, into the cache, every figure of the default dashboards (the city and each county on
    ``as_of``, the reference date) whose cached value is gone because its app's stamp moved. Called by
    ``jinpin.dashboard.warm`` (with the charts). Returns how many figures were computed."""
    done = 0
    for area in [Area(), *(Area(county_id=c) for c in county_ids)]:
        for f in all_figures():
            if f.available(area) and not cache.is_cached(f.cache_area, _parts(f, area, as_of)):
                compute(f, area, as_of)
                done += 1
    return done


def by_county(figure: Figure, as_of: dt.date, county_ids) -> dict[int, dict]:
    """The figure for each county of ``county_ids`` (the same computation as the county's own dashboard)."""
    if "county" not in figure.paths:
        return {}
    areas = [Area(county_id=cid) for cid in county_ids]
    values = cache.cached_many(
        figure.cache_area,
        [_parts(figure, area, as_of) for area in areas],
        lambda i: _compute(figure, areas[i], as_of),
        timeout=WARM_TIMEOUT,
    )
    return {area.county_id: value for area, value in zip(areas, values, strict=True)}


def group_count(qs, path: str) -> dict:
    """``{value of path: count}`` in one query (charts)."""
    return {r[path]: r["n"] for r in qs.values(path).annotate(n=Count("pk")).order_by()}
