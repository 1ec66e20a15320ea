"""Registry imports (households, pupils, allocations) and the weekly re-match page."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from jinpin import imports
from jinpin.scope import role_required

from ..scoping import ACCESS
from .common import PAGE_SIZE


def _importer_cls(kind):
    from ..importers import IMPORTERS

    cls = IMPORTERS.get(kind)
    if cls is None:
        raise PermissionDenied
    return cls


@role_required()
def import_template(request, kind):
    return imports.template_response(_importer_cls(kind))


@role_required(write=True)
def import_upload(request, kind):
    """Households and pupils: through the import jobs (a large file is checked and saved on a worker)."""
    from django.urls import reverse

    from ..models import Household, Student

    cls = _importer_cls(kind)
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
