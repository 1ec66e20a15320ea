"""Registry imports (households, pupils, allocations) and the weekly re-match page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from jinpin import imports
from jinpin.scope import Role, role_required

from ..exporters import FULL_ID_ROLES
from ..forms import (
    UploadForm,
)
from .common import PAGE_SIZE, PAYOUT_ROLES


def _importer_cls(kind):
    from ..importers import IMPORTERS

    cls = IMPORTERS.get(kind)
    if cls is None:
        raise PermissionDenied
    return cls


@role_required()
def import_template(request, kind):
    from django.http import HttpResponse

    cls = _importer_cls(kind)
    response = HttpResponse(
        imports.template(cls), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{kind}-template.xlsx"
    return response


@role_required(write=True)
def import_upload(request, kind):
    from .. import importers
    from ..models import Household, Student

    cls = _importer_cls(kind)
    request.scope.require_write(Household if kind == "households" else Student)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = importers.run(cls(scope=request.scope, user=request.user, request=request), form.cleaned_data["file"])
        if report.ok:
            messages.success(request, imports.IMPORT_DONE % report.__dict__)
            return redirect("subsidies:award_list")
    return render(
        request, "subsidies/import.html", {"form": form, "report": report, "title": cls.verbose_name, "kind": kind}
    )


@role_required(*PAYOUT_ROLES, Role.PRINCIPAL)
def matching_page(request):
    from ..models import MatchItem, MatchRun

    run = MatchRun.objects.select_related("period").first()
    items = (
        request.scope.filter(MatchItem).filter(run=run).select_related("student", "scheme", "school")
        if run
        else MatchItem.objects.none()
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "subsidies/matching.html", {"run": run, "page": page, "full_ids": request.scope.role in FULL_ID_ROLES}
    )
