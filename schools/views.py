from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import exports, imports
from jinpin.paging import KeptCountPaginator
from jinpin.scope import role_required

from .filters import SchoolFilter, VillageFilter
from .forms import SchoolForm
from .importers import SchoolImporter, VillageImporter
from .models import Location, Poverty, School, Stage, Village

PAGE_SIZE = 50
IMPORTERS = {"schools": SchoolImporter, "villages": VillageImporter}


@role_required()
def school_list(request):
    qs = request.scope.filter(School).select_related("county", "town", "village")
    f = SchoolFilter(request.GET or None, queryset=qs, scope=request.scope)
    # Plain values, not model instances: a page of 50 schools would otherwise build 200
    # objects (school, county, town, village) only to print a few of their fields.
    values = f.qs.values(
        "pk",
        "code",
        "name",
        "county__name",
        "town__name",
        "village__name",
        "village__poverty",
        "stage",
        "location",
        "is_weak",
        "pupils",
    )
    page = KeptCountPaginator(values, PAGE_SIZE).get_page(request.GET.get("page"))  # the count kept (jinpin.paging)
    return render(
        request,
        "schools/school_list.html",
        {
            "filter": f,
            "page": page,
            "rows": _rows(page),
            "weak_label": _("Weak"),
            "can_write": request.scope.can_write(School),
        },
    )


def _rows(page):
    """The page's rows as plain strings: the template then only prints them (a list page
    renders several times faster than with per-row lookups, {% url %} and get_*_display)."""
    stages, locations, poverty = ({k: str(v) for k, v in choices.choices} for choices in (Stage, Location, Poverty))
    detail = reverse("schools:school_detail", args=[0])[: -len("0/")]
    return [
        {
            "code": s["code"],
            "url": f"{detail}{s['pk']}/",
            "name": s["name"],
            "county": s["county__name"],
            "town": s["town__name"] or "",
            "village": s["village__name"] or "",
            "poverty": poverty[s["village__poverty"]] if s["village__poverty"] not in (None, Poverty.NONE) else "",
            "stage": stages.get(s["stage"], s["stage"]),
            "location": locations.get(s["location"], s["location"]),
            "weak": s["is_weak"],
            "pupils": s["pupils"],
        }
        for s in page.object_list
    ]


@role_required()
def school_detail(request, pk):
    school = request.scope.get_or_404(School.objects.select_related("county", "town", "village"), pk=pk)
    return render(
        request, "schools/school_detail.html", {"school": school, "can_write": request.scope.can_write(School, school)}
    )


@role_required(write=True)
def school_create(request):
    request.scope.require_write(School)
    form = SchoolForm(request.POST or None, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        school = form.save()
        messages.success(request, _("School “%(name)s” created.") % {"name": school.name})
        return redirect("schools:school_detail", pk=school.pk)
    return render(request, "schools/school_form.html", {"form": form})


@role_required()
def school_edit(request, pk):
    school = request.scope.get_or_404(School, write=True, pk=pk)
    form = SchoolForm(request.POST or None, instance=school, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            form.save()
            messages.success(request, _("School “%(name)s” saved.") % {"name": school.name})
        return redirect("schools:school_detail", pk=school.pk)
    return render(request, "schools/school_form.html", {"form": form, "school": school})


@role_required()
@require_POST
def school_export(request):
    """Start the Excel export of the list with the filters currently applied."""
    params = {k: v for k, v in request.POST.items() if k in SchoolFilter.base_filters and v}
    job = exports.start(request, "schools.schools", params)
    return redirect("job_detail", pk=job.pk)


@role_required()
def village_list(request):
    # A correlated COUNT: computed for the page's 50 rows only, not grouped over every village.
    n_schools = (
        School.objects.filter(village=OuterRef("pk")).order_by().values("village").annotate(n=Count("pk")).values("n")
    )
    qs = (
        request.scope.filter(Village)
        .select_related("county", "town")
        .annotate(n_schools=Coalesce(Subquery(n_schools[:1]), 0))
        .order_by("code")
    )
    f = VillageFilter(request.GET or None, queryset=qs, scope=request.scope)
    page = KeptCountPaginator(f.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "schools/village_list.html", {"filter": f, "page": page})


@role_required()
def import_template(request, kind):
    return imports.template_response(imports.importer_for(IMPORTERS, kind))


@role_required(write=True)
def import_upload(request, kind):
    cls = imports.importer_for(IMPORTERS, kind)
    request.scope.require_write(School if kind == "schools" else Village)
    return imports.upload_view(
        request,
        cls,
        template_name="schools/import.html",
        success_url=reverse("schools:school_list" if kind == "schools" else "schools:village_list"),
        context={"kind": kind, "title": cls.verbose_name},
    )


HOME_TITLE = gettext_lazy("Schools in my area")


def home_panel(request):
    scope = request.scope
    if scope.role is None:
        return None
    from jinpin import cache
    from teachers import invalidation

    qs = scope.filter(School)
    poor = Q(village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])
    # counts over every school in scope (10,000 city-wide) kept in the shared cache until a school or a
    # village changes (their saves move the "teachers" stamp, teachers/invalidation.py)
    stats = cache.cached(
        invalidation.AREA,
        ("schools-home", scope.role, scope.county_id, scope.school_id),
        lambda: qs.aggregate(
            total=Count("pk"),
            weak=Count("pk", filter=Q(is_weak=True)),
            poor=Count("pk", filter=poor),
            provincial=Count("pk", filter=Q(village__poverty=Poverty.PROVINCIAL)),
        ),
    )
    school = None
    if scope.is_principal:
        school = qs.select_related("county", "village").first()
    return {"title": HOME_TITLE, "template": "schools/home_panel.html", "stats": stats, "school": school}
