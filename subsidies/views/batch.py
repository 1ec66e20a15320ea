"""The batch (批量测算), its runs, allocations, schemes and rates."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jinpin.scope import Role, role_required

from ..forms import (
    AllocationForm,
    BatchForm,
    RateVersionForm,
    SchemeForm,
)
from ..models import (
    Allocation,
    Award,
    AwardStatus,
    BatchRun,
    Scheme,
)
from ..scoping import ACCESS
from ..services import batch
from .common import PAGE_SIZE


@role_required(*ACCESS["batch"])
def batch_page(request):
    can_run = request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER)
    form = BatchForm(request.POST or None, scope=request.scope) if can_run else None
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        if form.is_valid():
            job = batch.batch_start(
                period=form.cleaned_data["period"], county=form.cleaned_data["county"], request=request
            )
            return redirect("job_detail", pk=job.pk)
    runs = request.scope.filter(BatchRun).select_related("period", "county", "job", "job__created_by")[:20]
    return render(request, "subsidies/batch.html", {"form": form, "runs": runs})


@role_required(*ACCESS["batch"])
def run_detail(request, pk):
    run = request.scope.get_or_404(BatchRun.objects.select_related("period", "county", "job"), pk=pk)
    changes = run.changes.select_related("award__student", "award__scheme", "award__school", "resolved_by").order_by(
        "applied", "kind", "pk"
    )
    state = request.GET.get("state", "")
    if state == "open":
        changes = changes.filter(applied=False, resolution="")
    elif state == "resolved":
        changes = changes.filter(applied=False).exclude(resolution="")
    counts = (
        run.changes.filter(applied=False)
        .order_by()
        .aggregate(open=Count("pk", filter=Q(resolution="")), resolved=Count("pk", filter=~Q(resolution="")))
    )
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/run_detail.html",
        {"run": run, "page": page, "counts": counts, "state": state},
    )


@role_required(*ACCESS["funds"])
def allocation_list(request):
    allocations = request.scope.filter(Allocation).select_related("scheme", "county")
    used = {
        (r["scheme_id"], r["county_id"], r["period__school_year"]): r
        for r in request.scope.filter(Award)
        .filter(status__in=[AwardStatus.APPROVED, AwardStatus.PAID])
        .values("scheme_id", "county_id", "period__school_year")
        .annotate(
            approved=Sum("amount"),
            paid=Sum("amount", filter=Q(status=AwardStatus.PAID)),
        )
    }
    rows = []
    for a in allocations:
        u = used.get((a.scheme_id, a.county_id, a.school_year), {})
        approved = u.get("approved") or 0
        rows.append({"a": a, "approved": approved, "paid": u.get("paid") or 0, "left": a.amount - approved})
    can_write = request.scope.can_write(Allocation)
    form = AllocationForm(request.POST or None, scope=request.scope) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, _("Allocation saved."))
            return redirect("subsidies:allocation_list")
    return render(request, "subsidies/allocation_list.html", {"rows": rows, "form": form})


@role_required(*ACCESS["schemes"])
def scheme_list(request):
    schemes = Scheme.objects.prefetch_related("rates").order_by("order", "code")
    return render(
        request, "subsidies/scheme_list.html", {"schemes": schemes, "can_write": request.scope.can_write(Scheme)}
    )


@role_required(write=True)
def scheme_edit(request, pk=None):
    scheme = request.scope.get_or_404(Scheme, write=True, pk=pk) if pk else None
    if scheme is None:
        request.scope.require_write(Scheme)
    form = SchemeForm(request.POST or None, instance=scheme, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        scheme = form.save()
        messages.success(request, _("Scheme “%(name)s” saved.") % {"name": scheme.name})
        return redirect("subsidies:scheme_list")
    return render(request, "subsidies/form.html", {"form": form, "title": scheme.name if scheme else _("New scheme")})


@role_required(write=True)
def rate_create(request, pk):
    scheme = request.scope.get_or_404(Scheme, write=True, pk=pk)
    form = RateVersionForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        rate = form.save(commit=False)
        rate.created_by = request.user
        rate.save()
        messages.success(
            request,
            _("New rates of %(scheme)s from %(date)s saved; awards of earlier periods keep theirs.")
            % {"scheme": scheme.name, "date": rate.effective_from},
        )
        return redirect("subsidies:scheme_list")
    return render(
        request,
        "subsidies/rate_form.html",
        {"form": form, "scheme": scheme, "title": _("New rates: %(scheme)s") % {"scheme": scheme.name}},
    )
