"""Dashboards: the programme's headline figures (``jinpin.figures``) for an as-of date and an area, with
charts, and the list of records behind each figure (the same query, so its count is the figure).

The city dashboard is for the city administrator and auditors, the county dashboard for a county
officer (their county only, whatever the query string says), the school view for a principal (their
school). Chart data goes to the page with ``json_script``; ``static/jinpin/dashboard.js`` draws it
with the vendored Apache ECharts, so the page needs no inline script.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import cache, figures, work
from .forms import MAX_BIGINT
from .reference import reference_date
from .scope import Role, role_required

DASHBOARD_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.COUNTY_OFFICER, Role.PRINCIPAL)


class AreaForm(forms.Form):
    as_of = forms.DateField(label=gettext_lazy("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    county = forms.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    town = forms.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    school = forms.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)

    def clean_as_of(self):
        d = self.cleaned_data.get("as_of")
        if d and not (dt.date(2000, 1, 1) <= d <= dt.date(2100, 12, 31)):
            raise forms.ValidationError(_("Enter a valid date (YYYY-MM-DD)."))
        return d


def _models():
    return apps.get_model("schools", "County"), apps.get_model("schools", "Town"), apps.get_model("schools", "School")


def area_and_date(request) -> tuple[figures.Area, dt.date, AreaForm, dict]:
    """The area and as-of date of the request, inside the person's scope.

    A county officer is always in their county and a principal in their school; a county, town or
    school outside one's scope is 404. Without a date, the latest date with data (never the
    server clock's year when the records stop earlier)."""
    scope = request.scope
    County, Town, School = _models()
    form = AreaForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and not form.is_valid() and any(k in form.errors for k in ("county", "town", "school")):
        raise Http404
    county_id, town_id, school_id = data.get("county"), data.get("town"), data.get("school")
    if scope.is_county_officer:
        if county_id and county_id != scope.county_id:
            raise Http404
        county_id = scope.county_id
    if scope.is_principal:
        # their school only; a county or town given with it must be the school's (checked below), as the
        # dashboard's own links carry the school's county
        if school_id and school_id != scope.school_id:
            raise Http404
        school_id = scope.school_id
    names = {}
    if county_id:
        names["county"] = scope.get_or_404(County, pk=county_id)
    if town_id:
        town = scope.get_or_404(Town, pk=town_id)
        if county_id and town.county_id != county_id:
            raise Http404
        county_id = town.county_id
        names["town"] = town
    if school_id:
        school = scope.get_or_404(School, pk=school_id)
        if (county_id and school.county_id != county_id) or (town_id and school.town_id != town_id):
            raise Http404
        county_id = school.county_id
        names["school"] = school
    area = figures.Area(county_id=county_id, town_id=town_id, school_id=school_id)
    as_of = data.get("as_of") or reference_date()
    return area, as_of, form, names


def _query(area: figures.Area, as_of: dt.date) -> str:
    params = {"as_of": as_of.isoformat()}
    for k, v in (("county", area.county_id), ("town", area.town_id), ("school", area.school_id)):
        if v:
            params[k] = v
    return urlencode(params)


def figure_cards(area: figures.Area, as_of: dt.date) -> list[dict]:
    """Each figure available in ``area``: its value, rate, target, note and the link to its records."""
    q = _query(area, as_of)
    shown = [f for f in figures.all_figures() if f.available(area)]
    return [
        {"figure": f, **v, "url": reverse("figure_records", args=[f.key]) + "?" + q}
        for f, v in zip(shown, figures.compute_each(shown, area, as_of), strict=True)
    ]


def _scope_key(scope) -> tuple:
    """What a chart's rows depend on in the person's scope: the whole city, a county, or a school."""
    return ("city",) if scope.city_wide else (scope.role, scope.county_id, scope.school_id)


def _cached_rows(figure_key: str, name: str, scope, area: figures.Area, as_of: dt.date, compute):
    """A chart's grouped query, kept under the stamp of the app whose figure ``figure_key`` is (the
    same invalidation as the figures: any committed write to that app moves it)."""
    figure = figures.get(figure_key)
    if figure is None:
        return compute()
    parts = ("chart", name, *_scope_key(scope), *area.key(), as_of.isoformat())
    return cache.cached(figure.cache_area, parts, compute, timeout=figures.WARM_TIMEOUT)


def chart_data(scope, area: figures.Area, as_of: dt.date) -> dict:
    """Series for the charts, each one grouped query over the person's scope and the area, cached under the
    owning app's stamp like the figures (``_cached_rows``; the per-county series are the counties' figures)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    County = _models()[0]
    data: dict = {}
    counties = list(scope.filter(County).order_by("order", "code").values_list("pk", "name"))
    if area.level in ("city", "county"):
        ids = [pk for pk, _n in counties if not area.county_id or pk == area.county_id]
        names = [n for pk, n in counties if pk in ids]
        per = {}
        for key in (
            "teachers_into_poor",
            "teachers_target_poor",
            "pairing_key_coverage",
            "pairing_compliance",
            "teachers_training",
        ):
            f = figures.get(key)
            if f is not None:
                per[key] = figures.by_county(f, as_of, ids)
        data["counties"] = names
        data["teachers"] = {
            "into_poor": [per.get("teachers_into_poor", {}).get(i, {}).get("value", 0) for i in ids],
            "target_poor": [per.get("teachers_target_poor", {}).get(i, {}).get("value", 0) for i in ids],
        }
        # each county's bar is that county's figure (the county dashboard's card): the same computation
        data["coverage"] = [_num(per.get("pairing_key_coverage", {}).get(i, {}).get("rate")) for i in ids]
        data["compliance"] = [_num(per.get("pairing_compliance", {}).get(i, {}).get("rate")) for i in ids]
        data["training"] = [_num(per.get("teachers_training", {}).get(i, {}).get("rate")) for i in ids]
    if apps.is_installed("subsidies"):
        PayoutLine = apps.get_model("subsidies", "PayoutLine")
        end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
        lines = scope.filter(PayoutLine).filter(status="paid", settled_at__lt=end)
        lines = figures.narrow(
            lines,
            {"county": "award__county_id", "town": "award__school__town_id", "school": "award__school_id"},
            area,
        )

        def paid():
            return {
                "paid_by_scheme": [
                    {"name": r["award__scheme__name"], "value": _num(r["s"])}
                    for r in lines.values("award__scheme__name")
                    .annotate(s=Sum("amount"))
                    .order_by("award__scheme__name")
                ],
                "paid_by_county": [
                    {"name": r["award__county__name"], "value": _num(r["s"])}
                    for r in lines.values("award__county__name", "award__county__order")
                    .annotate(s=Sum("amount"))
                    .order_by("award__county__order")
                ],
                "paid_by_month": [
                    {"name": r["m"].strftime("%Y-%m"), "value": _num(r["s"])}
                    for r in lines.annotate(m=TruncMonth("settled_at"))
                    .values("m")
                    .annotate(s=Sum("amount"))
                    .order_by("m")
                ],
            }

        data.update(_cached_rows("subsidies_allocated", "paid", scope, area, as_of, paid))
    if apps.is_installed("inspections") and area.level in ("city", "county", "town"):
        Finding = apps.get_model("inspections", "Finding")
        findings = scope.filter(Finding).filter(campaign__starts_on__lte=as_of)
        findings = figures.narrow(findings, {"county": "county_id", "town": "village__town_id"}, area)
        labels = dict(Finding.Status.choices)
        rows = _cached_rows(
            "inspections_sampled",
            "findings",
            scope,
            area,
            as_of,
            lambda: list(findings.values("status").annotate(n=Count("pk")).order_by("status")),
        )
        # labels in the reader's language, after the cache (the rows are language-free)
        data["findings"] = [{"name": str(labels.get(r["status"], r["status"])), "value": r["n"]} for r in rows]
    data["labels"] = {
        "into_poor": _("Into poor-village primary schools and kindergartens"),
        "target_poor": _("Toward the 915 target"),
        "coverage": _("Key schools paired (%)"),
        "compliance": _("Agreements meeting this semester's minimums (%)"),
        "training": _("Training compliance (%)"),
        "yuan": _("yuan"),
    }
    return data


def _num(v):
    return float(v) if v is not None else None


@role_required(*DASHBOARD_ROLES)
def dashboard(request):
    area, as_of, form, names = area_and_date(request)
    scope = request.scope
    County, Town, School = _models()
    if scope.is_principal:
        title = _("School view")
    elif scope.is_county_officer:
        title = _("County dashboard")
    else:
        title = _("City dashboard")
    return render(
        request,
        "jinpin/dashboard.html",
        {
            "title": title,
            "area": area,
            "names": names,
            "as_of": as_of,
            "form": form,
            "cards": figure_cards(area, as_of),
            "charts": chart_data(scope, area, as_of),
            "counties": scope.filter(County).order_by("order", "code") if scope.city_wide else [],
            "towns": scope.filter(Town).filter(county_id=area.county_id).order_by("code") if area.county_id else [],
            "can_choose": not scope.is_principal,
            "can_export": scope.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.COUNTY_OFFICER),
        },
    )


@role_required(*DASHBOARD_ROLES)
def figure_records(request, key):
    figure = figures.get(key)
    if figure is None:
        raise Http404
    area, as_of, _form, names = area_and_date(request)
    if not figure.available(area):
        raise Http404
    qs = figures.records(figure, area, as_of)
    value = figures.compute(figure, area, as_of)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    rows = [
        {"cells": [fn(obj) for _label, fn in figure.columns], "url": figure.list_url(obj) if figure.list_url else None}
        for obj in page.object_list
    ]
    return render(
        request,
        "jinpin/figure_records.html",
        {
            "figure": figure,
            "value": value,
            "page": page,
            "rows": rows,
            "columns": [label for label, _fn in figure.columns],
            "as_of": as_of,
            "names": names,
            "query": _query(area, as_of),
            "back": reverse("dashboard") + "?" + _query(area, as_of),
        },
    )


def warm(today: dt.date | None = None) -> int:
    """Compute into the cache what the default dashboards show -- the city's and every county's figures and
    charts on the reference date -- wherever a write has moved the owning app's stamp, so that the next
    person reads the cache instead of paying for the aggregates. Run by beat (``jinpin.tasks.warm_dashboards``)
    and at the end of every job that moved a stamp (``jinpin.jobs``). Returns how many figures it computed."""
    from .scope import Scope

    County = _models()[0]
    as_of = reference_date(today)
    county_ids = list(County.objects.order_by("order", "code").values_list("pk", flat=True))
    done = figures.warm(as_of, county_ids)
    chart_data(Scope(role=Role.CITY_ADMIN), figures.Area(), as_of)
    for c in county_ids:
        chart_data(Scope(role=Role.COUNTY_OFFICER, county_id=c), figures.Area(county_id=c), as_of)
    return done


def city_home(request) -> dict:
    """The city administrator's home: the headline figures as of the latest date with data, and the
    overdue findings per county (each a link to that county's list)."""
    as_of = reference_date()
    area = figures.Area()
    out = {"cards": figure_cards(area, as_of), "as_of": as_of}
    overdue = work.get("findings_overdue")
    if overdue is not None and request.scope.role in overdue.roles:
        out["overdue_by_county"] = work.by_county(overdue, request.scope)
    return out


@require_POST
@role_required(Role.CITY_ADMIN, Role.AUDITOR, Role.COUNTY_OFFICER)
def workbook_export(request):
    """Queue the year-end workbook (年度工作情况统计表) for the dashboard's as-of date."""
    from . import exports

    form = AreaForm(request.POST)
    as_of = form.cleaned_data.get("as_of") if form.is_valid() else None
    as_of = as_of or reference_date()
    job = exports.start(request, "jinpin.yearbook", {"as_of": as_of.isoformat()})
    return redirect("job_detail", pk=job.pk)
