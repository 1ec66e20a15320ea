"""Rural-service honours (乡村教师荣誉): who is owed which tier this year, and issuing certificates."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jinpin import exports
from jinpin.forms import parse_id
from jinpin.reference import reference_year
from jinpin.scope import role_required

from .. import honours as hon
from .. import services
from ..filters import SchoolScopeFilter
from ..forms import HonourIssueForm
from ..models import RuralHonourCertificate, RuralHonourTier, Teacher
from .registry import PAGE_SIZE, export_params


def _year(request) -> int:
    return hon.year_from(request.GET.get("year") or request.POST.get("year"), reference_year)


@role_required()
def honours(request):
    year = _year(request)
    f = SchoolScopeFilter(request.GET or None, queryset=request.scope.filter(Teacher), scope=request.scope)
    page = Paginator(hon.owed(f.qs, year), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = hon.with_teachers(page.object_list)
    issued = (
        request.scope.filter(RuralHonourCertificate)
        .filter(year=year)
        .select_related("teacher__school", "tier")
        .order_by("tier__years", "pk")
    )
    return render(
        request,
        "teachers/honours.html",
        {
            "year": year,
            "filter": f,
            "page": page,
            "issued": issued[:200],
            "issued_count": issued.count(),
            "tiers": RuralHonourTier.objects.all(),
            "can_write": request.scope.can_write(RuralHonourCertificate),
            "form": HonourIssueForm(initial={"year": year}),
        },
    )


@role_required(write=True)
@require_POST
def honour_issue(request):
    request.scope.require_write(RuralHonourCertificate)
    form = HonourIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the honour year and the date of issue."))
        return redirect("teachers:honours")
    ids = [i for i in map(parse_id, request.POST.getlist("teacher")) if i is not None]
    if not ids:
        messages.error(request, _("Tick the teachers to certify."))
    else:
        n = services.certificates_issue(
            teachers=request.scope.filter(Teacher).filter(pk__in=ids),
            year=form.cleaned_data["year"],
            issued_on=form.cleaned_data["issued_on"],
            acting_user=request.user,
        )
        messages.success(request, _("%(n)s certificates issued.") % {"n": n})
    return redirect(reverse("teachers:honours") + f"?year={form.cleaned_data['year']}")


@role_required()
@require_POST
def honour_export(request):
    params = export_params(request, ("county", "school_code"))
    params["year"] = _year(request)
    job = exports.start(request, "teachers.honours", params)
    return redirect("job_detail", pk=job.pk)
