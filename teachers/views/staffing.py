"""Replenishment (补充): establishment and vacancies per school, and the programme's targets."""

import datetime as dt
import functools
import operator

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jinpin.forms import parse_id
from jinpin.scope import role_required
from schools.models import County, Poverty, School

from .. import honours as hon
from ..forms import EstablishmentForm
from ..models import Establishment, ServiceKind, ServicePeriod, Target, TargetMetric, Teacher, TeacherStatus
from .registry import PAGE_SIZE

POOR = [Poverty.PROVINCIAL, Poverty.MUNICIPAL]


def _count(qs):
    return Coalesce(
        Subquery(qs.order_by().values("school_id").annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def staffing(schools, year: int):
    """Schools annotated with approved posts, teachers in post, vacancies, and this year's hires and departures.

    Subqueries per school (no join fan-out); ``poverty_rank`` puts provincial, then
    municipal poor-village schools first.
    """
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    in_post = _count(Teacher.objects.filter(school_id=OuterRef("pk"), status=TeacherStatus.ACTIVE))
    hires = _count(
        ServicePeriod.objects.filter(school_id=OuterRef("pk"), kind=ServiceKind.HIRE, start__range=(start, end))
    )
    departures = _count(
        Teacher.objects.filter(
            school_id=OuterRef("pk"),
            status__in=[TeacherStatus.RETIRED, TeacherStatus.LEFT],
            left_on__range=(start, end),
        )
    )
    return schools.annotate(
        posts=F("establishment__posts"),
        in_post=in_post,
        hires=hires,
        departures=departures,
        poverty_rank=Case(
            When(village__poverty=Poverty.PROVINCIAL, then=Value(0)),
            When(village__poverty=Poverty.MUNICIPAL, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    ).annotate(vacancies=F("posts") - F("in_post"))


@role_required()
def vacancies(request):
    year = hon.year_from(request.GET.get("year"), dt.date.today().year)
    show_all = request.GET.get("all") == "1"
    qs = staffing(request.scope.filter(School).select_related("county", "village"), year).filter(
        establishment__isnull=False
    )
    if not show_all:
        qs = qs.filter(vacancies__gt=0)
    county = parse_id(request.GET.get("county"))
    if county is not None:
        qs = qs.filter(county_id=county)
    qs = qs.order_by("poverty_rank", "-vacancies", "county__order", "code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teachers/vacancies.html",
        {
            "page": page,
            "year": year,
            "show_all": show_all,
            "counties": request.scope.filter(County),
            "can_write": request.scope.can_write(Establishment),
            "missing": request.scope.filter(School).filter(establishment__isnull=True).count(),
        },
    )


@role_required()
def establishment_edit(request, school_pk):
    school = request.scope.get_or_404(School, pk=school_pk)
    request.scope.require_write(Establishment)
    instance = Establishment.objects.filter(school=school).first() or Establishment(school=school)
    form = EstablishmentForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        if form.has_changed() or instance.pk is None:
            try:
                with transaction.atomic():
                    if instance.pk is None:
                        form.save()
                    else:
                        e = form.save(commit=False)
                        e.save(update_fields=[*form.changed_data, "updated_at"])
            except IntegrityError:  # created meanwhile (a double submit): one establishment per school
                form.add_error(None, _("The establishment of this school was just recorded; reload the page."))
                return render(request, "teachers/establishment_form.html", {"form": form, "school": school})
            messages.success(request, _("Establishment of %(school)s saved.") % {"school": school.name})
        return redirect("teachers:vacancies")
    return render(request, "teachers/establishment_form.html", {"form": form, "school": school})


def target_q(target: Target) -> Q:
    """The service periods a target counts (a condition on ServicePeriod): one per teacher move or hire in its window."""
    q = Q(start__gte=target.start, start__lte=target.end)
    if target.metric == TargetMetric.INTO_POOR_VILLAGES:
        q &= Q(
            kind__in=[ServiceKind.HIRE, ServiceKind.MOVEMENT, ServiceKind.TRANSFER, ServiceKind.SECONDMENT],
            school__village__poverty__in=POOR,
        )
    else:
        q &= Q(kind=ServiceKind.HIRE)
    if target.stages:
        q &= Q(school__stage__in=target.stages)
    if target.county_id:
        q &= Q(school__county_id=target.county_id)
    return q


def target_progress(targets, scope) -> list[dict]:
    """Distinct teachers counted by each target, city-wide (if the user reads the city) and per county in scope.

    Two queries however many targets: one conditional ``COUNT(DISTINCT teacher) FILTER (...)`` per
    target, grouped by county, and the same aggregated over the city.
    """
    targets = list(targets)
    if not targets:
        return []
    conds = {f"t{t.pk}": target_q(t) for t in targets}
    periods = ServicePeriod.objects.filter(functools.reduce(operator.or_, conds.values())).order_by()
    counts = {k: Count("teacher_id", distinct=True, filter=q) for k, q in conds.items()}
    by_county = list(
        periods.filter(school__county__in=scope.filter(County))
        .values("school__county_id", "school__county__name", "school__county__order")
        .annotate(**counts)
        .order_by("school__county__order")
    )
    city = periods.aggregate(**counts) if (scope.city_wide or scope.is_inspector) else {}
    out = []
    for t in targets:
        k = f"t{t.pk}"
        n = city.get(k)
        rows = [
            {
                "school__county_id": r["school__county_id"],
                "school__county__name": r["school__county__name"],
                "school__county__order": r["school__county__order"],
                "n": r[k],
            }
            for r in by_county
            if r[k]
        ]
        percent = round(100 * n / t.value, 1) if n is not None and t.value else None
        out.append({"target": t, "city": n, "percent": percent, "counties": rows})
    return out


@role_required()
def targets(request):
    ts = request.scope.filter(Target).select_related("county")
    return render(request, "teachers/targets.html", {"progress": target_progress(ts, request.scope)})
