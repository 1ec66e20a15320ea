"""Registry imports (households, pupils, allocations) and the weekly re-match page."""

from django.core.paginator import Paginator
from django.shortcuts import render

from jinpin import imports
from jinpin.scope import role_required

from ..scoping import ACCESS
from .common import PAGE_SIZE


@role_required()
def import_template(request, kind):
    from ..importers import IMPORTERS

    return imports.template_response(imports.importer_for(IMPORTERS, kind))


@role_required(write=True)
def import_upload(request, kind):
    """Households and pupils: through the import jobs (a large file is checked and saved on a worker)."""
    from django.urls import reverse

    from ..importers import IMPORTERS
    from ..models import Household, Student

    cls = imports.importer_for(IMPORTERS, kind)
    request.scope.require_write(Household if kind == "households" else Student)
    return imports.upload_view(
        request,
        cls,
        template_name="subsidies/import.html",
        success_url=reverse("subsidies:award_list"),
        context={"title": cls.verbose_name, "kind": kind},
    )


@role_required(*ACCESS["matching"])
def matching_page(request):
    from ..models import MatchItem, MatchRun

    run = MatchRun.objects.select_related("period").first()
    items = (
        request.scope.filter(MatchItem).filter(run=run).select_related("student", "scheme", "school")
        if run
        else MatchItem.objects.none()
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "subsidies/matching.html", {"run": run, "page": page})
