"""年度工作情况统计表: the year-end workbook, one sheet per part of the report (twinning, teachers, training,
subsidies, supervision), a row per county and the city's totals.

Every cell is a headline figure (``jinpin.figures.compute``) for that county or the city, on the as-of
date: the very numbers the dashboard shows, so the workbook and the page agree to the yuan and the
person. A county officer's workbook has their county only.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import exports, figures
from .exports import Column
from .reference import reference_date
from .scope import Role

ROLES = frozenset({Role.CITY_ADMIN, Role.AUDITOR, Role.COUNTY_OFFICER})


def _date(params) -> dt.date:
    try:
        return dt.date.fromisoformat(str(params.get("as_of") or ""))
    except ValueError:
        return reference_date()


#: (sheet title, [(column header, figure key, which part of the result, column kind)])
SHEETS = [
    (
        gettext_lazy("Twinning"),
        [
            (gettext_lazy("Key poor-village schools"), "pairing_key_coverage", "denominator", "int"),
            (gettext_lazy("Paired one-to-one"), "pairing_key_coverage", "value", "int"),
            (gettext_lazy("Coverage (%)"), "pairing_key_coverage", "rate", "money"),
            (gettext_lazy("Agreements in force"), "pairing_compliance", "denominator", "int"),
            (gettext_lazy("Meeting this semester's minimums"), "pairing_compliance", "value", "int"),
            (gettext_lazy("Compliance (%)"), "pairing_compliance", "rate", "money"),
        ],
    ),
    (
        gettext_lazy("Teachers"),
        [
            (gettext_lazy("Into poor-village primary schools and kindergartens"), "teachers_into_poor", "value", "int"),
            (gettext_lazy("Into poor-village schools (915 target)"), "teachers_target_poor", "value", "int"),
            (gettext_lazy("New hires (the year's target)"), "teachers_target_hires", "value", "int"),
        ],
    ),
    (
        gettext_lazy("Training"),
        [
            (gettext_lazy("Staff the rule applies to"), "teachers_training", "denominator", "int"),
            (gettext_lazy("Meeting the minimum hours"), "teachers_training", "value", "int"),
            (gettext_lazy("Compliance (%)"), "teachers_training", "rate", "money"),
        ],
    ),
    (
        gettext_lazy("Subsidies"),
        [
            (gettext_lazy("Funds allocated (yuan)"), "subsidies_allocated", "value", "money"),
            (gettext_lazy("Pupils aided"), "subsidies_aided", "value", "int"),
        ],
    ),
    (
        gettext_lazy("Supervision"),
        [
            (gettext_lazy("Households sampled"), "inspections_sampled", "value", "int"),
            (gettext_lazy("Population drawn from"), "inspections_sampled", "denominator", "int"),
            (gettext_lazy("Sampling rate (%)"), "inspections_sampled", "rate", "money"),
        ],
    ),
]


def sheet_rows(scope, as_of: dt.date, spec) -> list[tuple]:
    """One sheet's rows: each county in scope, then the city's totals (city-wide readers only)."""
    from django.apps import apps

    County = apps.get_model("schools", "County")
    areas = [(c.name, figures.Area(county_id=c.pk)) for c in scope.filter(County).order_by("order", "code")]
    if scope.city_wide:
        areas.append((_("City total"), figures.Area()))
    out = []
    for name, area in areas:
        row = [name]
        for _header, key, part, _kind in spec:
            f = figures.get(key)
            value = figures.compute(f, area, as_of)[part] if f and f.available(area) else None
            row.append("" if value is None else value)
        out.append(tuple(row))
    return out


def _columns(spec):
    return [Column(_("County"), 12)] + [Column(str(h), 18, kind) for h, _k, _p, kind in spec]


@exports.register
class YearbookExporter(exports.Exporter):
    identifier = "jinpin.yearbook"
    verbose_name = gettext_lazy("Annual work statistics (年度工作情况统计表)")

    @classmethod
    def permission(cls, scope, params) -> bool:
        return scope.role in ROLES

    @property
    def sheet_title(self):
        return str(SHEETS[0][0])

    @property
    def columns(self):
        return _columns(SHEETS[0][1])

    def rows(self):
        yield from sheet_rows(self.scope, _date(self.params), SHEETS[0][1])

    def extra_sheets(self):
        as_of = _date(self.params)
        return [(str(title), _columns(spec), sheet_rows(self.scope, as_of, spec)) for title, spec in SHEETS[1:]]
