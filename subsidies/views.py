"""精准救助 pages: the award list with bulk steps, the batch, allocations, schemes and rates."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import exports
from jinpin.scope import Role, role_required

from .exporters import FULL_ID_ROLES
from .filters import FILTER_KEYS, AwardFilter
from .forms import AllocationForm, AwardActionForm, BatchForm, RateVersionForm, ResolveDifferenceForm, SchemeForm
from .models import Allocation, Award, AwardStatus, BatchChange, BatchRun, Scheme
from .models.awards import OPEN_DIFFERENCE
from .services import batch, workflow

PAGE_SIZE = 50


class CountedPaginator(Paginator):
    """A paginator told its count (from an aggregate already needed, or a cheaper queryset):
    on a million rows each COUNT is a full scan, so a page must not do it twice."""

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @property
    def count(self):
        return self._known_count


def _int_param(value, *, default=None, max_value=2**63 - 1):
    """A positive id or number from a query string or a forged POST; ``default`` for anything else."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19 or not 0 < int(value) <= max_value:
        return default
    return int(value)


def _search_text(request) -> str:
    """The search box's text, without the NUL characters PostgreSQL refuses in a string."""
    return (request.GET.get("q") or "").replace("\x00", "").strip()


def _award_filter(request, data):
    qs = request.scope.filter(Award).select_related("student", "scheme", "school", "county", "period").order_by("pk")
    return AwardFilter(data or None, queryset=qs, scope=request.scope)


def _filtered(f):
    """The filter's rows: all when nothing is filtered, none when a filter value is invalid."""
    if not f.is_bound:
        return f.queryset
    return f.qs if f.is_valid() else f.queryset.none()


@role_required()
def award_list(request):
    f = _award_filter(request, request.GET)
    qs = _filtered(f)
    totals = qs.order_by().aggregate(n=Count("*"), amount=Sum("amount"))  # COUNT(*): an index-only scan
    page = CountedPaginator(qs, PAGE_SIZE, count=totals["n"]).get_page(request.GET.get("page"))
    actions = workflow.allowed_actions(request.scope)
    # the page's awards with a batch difference nobody has resolved (they cannot be approved yet): one query
    open_ids = set(BatchChange.objects.filter(OPEN_DIFFERENCE, award_id__in=[a.pk for a in page]).values_list("award_id", flat=True))
    return render(request, "subsidies/award_list.html", {
        "filter": f, "page": page, "totals": totals, "full_ids": request.scope.role in FULL_ID_ROLES, "open_ids": open_ids,
        "action_form": AwardActionForm(actions=actions) if actions else None,
        "query": urlencode({k: v for k, v in request.GET.items() if k in FILTER_KEYS and v}),
        "can_import": not request.scope.read_only and request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL),
    })


@role_required()
def award_detail(request, pk):
    award = request.scope.get_or_404(
        Award.objects.select_related("student__household__village", "scheme", "school", "county", "period", "rate_version"), pk=pk
    )
    steps = award.steps.select_related("actor")
    difference = workflow.open_difference(award)
    can_resolve = (difference is not None and request.scope.role in workflow.RESOLVERS and not request.scope.read_only
                   and request.scope.can_write(Award, award))
    return render(request, "subsidies/award_detail.html", {
        "award": award, "steps": steps, "full_ids": request.scope.role in FULL_ID_ROLES,
        "difference": difference, "resolve_form": ResolveDifferenceForm() if can_resolve else None,
        "resolved": BatchChange.objects.filter(award=award).exclude(resolution="").exclude(resolution="superseded")
        .select_related("run", "resolved_by").order_by("-resolved_at"),
        "can_recover": award.status == AwardStatus.PAID and request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER)
        and request.scope.can_write(Award, award),
        "recover_form": RecoveryForm(initial={"amount": award.amount}),
    })


@role_required(write=True)
@require_POST
def award_resolve(request, pk):
    """Resolve an award's open batch difference (accept the new amount / withdraw / keep as is), with a reason."""
    if request.scope.role not in workflow.RESOLVERS:
        raise PermissionDenied
    request.scope.get_or_404(Award, write=True, pk=pk)
    form = ResolveDifferenceForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect("subsidies:award_detail", pk=pk)
    try:
        change = workflow.resolve_difference(award_id=pk, resolution=form.cleaned_data["resolution"], reason=form.cleaned_data["reason"],
                                             acting_user=request.user, scope=request.scope, request=request)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
        return redirect("subsidies:award_detail", pk=pk)
    messages.success(request, _("Difference resolved: %(resolution)s.") % {"resolution": change.get_resolution_display()})
    return redirect("subsidies:award_detail", pk=pk)


@role_required(write=True)
@require_POST
def award_action(request):
    actions = workflow.allowed_actions(request.scope)
    if not actions:
        raise PermissionDenied
    form = AwardActionForm(request.POST, actions=actions)
    query = request.POST.get("query", "")
    back = reverse("subsidies:award_list") + (f"?{query}" if query else "")
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect(back)
    if form.cleaned_data["all_matching"]:
        from django.http import QueryDict

        f = _award_filter(request, QueryDict(query))
        awards = _filtered(f)
    else:
        ids = [n for n in (_int_param(i) for i in request.POST.getlist("ids")) if n is not None]
        if not ids:
            messages.error(request, _("Select at least one award."))
            return redirect(back)
        awards = Award.objects.filter(pk__in=ids)
    try:
        out = workflow.award_transition(awards=awards, action=form.cleaned_data["action"], acting_user=request.user,
                                        scope=request.scope, reason=form.cleaned_data["reason"], request=request)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
        return redirect(back)
    messages.success(request, _("%(n)s awards moved.") % {"n": out.moved})
    if out.refused_own:
        messages.warning(request, _("%(n)s awards were not approved: you applied for them yourself, and nobody approves their own submission.")
                         % {"n": out.refused_own})
    if out.open_difference:
        messages.error(request, _("%(n)s awards were not approved: a batch rerun found them no longer eligible or their amount changed, "
                                  "and nobody has resolved that difference yet. Resolve it on the award's page (accept the new amount, "
                                  "withdraw the award, or keep it as is with a justification), then approve.") % {"n": out.open_difference})
    if out.in_payout:
        messages.warning(request, _("%(n)s awards were left approved: they are in a payout batch. A line that fails at the bank frees its award.")
                         % {"n": out.in_payout})
    if out.skipped:
        messages.warning(request, _("%(n)s awards were left as they are: this step does not apply to their status.") % {"n": out.skipped})
    return redirect(back)


@role_required()
@require_POST
def award_export(request):
    params = {k: v for k, v in request.POST.items() if k in FILTER_KEYS and v}
    job = exports.start(request, "subsidies.awards", params)
    return redirect("job_detail", pk=job.pk)


@role_required()
def batch_page(request):
    can_run = request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER)
    form = BatchForm(request.POST or None, scope=request.scope) if can_run else None
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        if form.is_valid():
            job = batch.batch_start(period=form.cleaned_data["period"], county=form.cleaned_data["county"], request=request)
            return redirect("job_detail", pk=job.pk)
    runs = request.scope.filter(BatchRun).select_related("period", "county", "job", "job__created_by")[:20]
    return render(request, "subsidies/batch.html", {"form": form, "runs": runs})


@role_required()
def run_detail(request, pk):
    run = request.scope.get_or_404(BatchRun.objects.select_related("period", "county", "job"), pk=pk)
    changes = run.changes.select_related("award__student", "award__scheme", "award__school", "resolved_by").order_by("applied", "kind", "pk")
    state = request.GET.get("state", "")
    if state == "open":
        changes = changes.filter(applied=False, resolution="")
    elif state == "resolved":
        changes = changes.filter(applied=False).exclude(resolution="")
    counts = run.changes.filter(applied=False).order_by().aggregate(
        open=Count("pk", filter=Q(resolution="")), resolved=Count("pk", filter=~Q(resolution="")))
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "subsidies/run_detail.html", {"run": run, "page": page, "full_ids": request.scope.role in FULL_ID_ROLES,
                                                         "counts": counts, "state": state})


@role_required()
def allocation_list(request):
    allocations = request.scope.filter(Allocation).select_related("scheme", "county")
    used = {
        (r["scheme_id"], r["county_id"], r["period__school_year"]): r
        for r in request.scope.filter(Award).filter(status__in=[AwardStatus.APPROVED, AwardStatus.PAID])
        .values("scheme_id", "county_id", "period__school_year").annotate(
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


@role_required()
def scheme_list(request):
    schemes = Scheme.objects.prefetch_related("rates").order_by("order", "code")
    return render(request, "subsidies/scheme_list.html", {"schemes": schemes, "can_write": request.scope.can_write(Scheme)})


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
        messages.success(request, _("New rates of %(scheme)s from %(date)s saved; awards of earlier periods keep theirs.")
                         % {"scheme": scheme.name, "date": rate.effective_from})
        return redirect("subsidies:scheme_list")
    return render(request, "subsidies/form.html", {"form": form, "title": _("New rates: %(scheme)s") % {"scheme": scheme.name}})


HOME_TITLE = gettext_lazy("Student subsidies")


def home_panel(request):
    scope = request.scope
    if scope.role is None or scope.is_inspector:
        return None
    stats = scope.filter(Award).filter(status__in=[AwardStatus.APPLIED, AwardStatus.REVIEWED, AwardStatus.APPROVED, AwardStatus.PAID]).aggregate(
        students=Count("student", distinct=True, filter=Q(status__in=[AwardStatus.APPROVED, AwardStatus.PAID])),
        pending=Count("pk", filter=Q(status__in=[AwardStatus.APPLIED, AwardStatus.REVIEWED])),
        paid=Sum("amount", filter=Q(status=AwardStatus.PAID)),
    )
    return {"title": HOME_TITLE, "template": "subsidies/home_panel.html", "stats": stats}


__all__ = ["BatchChange"]


# -- payouts, reconciliation, recoveries, loans -------------------------------------------
from jinpin import imports  # noqa: E402

from .forms import LoanForm, PayoutPrepareForm, RecoveryForm, UploadForm  # noqa: E402
from .models import LoanApplication, PayoutBatch, PayoutLine, Recovery  # noqa: E402
from .services import payouts  # noqa: E402

PAYOUT_ROLES = (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR)


@role_required(*PAYOUT_ROLES)
def payout_list(request):
    can_write = request.scope.can_write(PayoutBatch)
    form = PayoutPrepareForm(request.POST or None, scope=request.scope) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                b = payouts.payout_prepare(acting_user=request.user, scope=request.scope, request=request, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Payout batch prepared."))
                return redirect("subsidies:payout_detail", pk=b.pk)
    batches = request.scope.filter(PayoutBatch).select_related("county", "period", "created_by").annotate(
        n=Count("lines"), total=Sum("lines__amount"),
        paid=Sum("lines__amount", filter=Q(lines__status=PayoutLine.Status.PAID)),
        failed=Count("lines", filter=Q(lines__status=PayoutLine.Status.FAILED)),
    )[:100]
    return render(request, "subsidies/payout_list.html", {"batches": batches, "form": form})


@role_required(*PAYOUT_ROLES)
def payout_detail(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch.objects.select_related("county", "period", "created_by", "sent_by"), pk=pk)
    lines = batch_.lines.select_related("award__student", "award__scheme", "award__school").order_by("pk")
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = batch_.lines.aggregate(n=Count("pk"), total=Sum("amount"), paid=Sum("amount", filter=Q(status=PayoutLine.Status.PAID)),
                                    failed=Sum("amount", filter=Q(status=PayoutLine.Status.FAILED)))
    return render(request, "subsidies/payout_detail.html", {
        "batch": batch_, "page": page, "totals": totals, "can_write": request.scope.can_write(PayoutBatch, batch_),
        "upload": UploadForm(), "full_ids": request.scope.role in FULL_ID_ROLES,
        # four eyes: the officer who prepared the batch does not send it (the city administrator may)
        "own_batch": batch_.created_by_id == request.user.pk and not request.scope.is_city_admin,
    })


@role_required(*PAYOUT_ROLES)
@require_POST
def payout_send(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, write=True, pk=pk)
    try:
        payouts.payout_send(batch=batch_, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Batch marked as sent to the bank."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("subsidies:payout_detail", pk=pk)


@role_required(*PAYOUT_ROLES)
@require_POST
def payout_bank_file(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, pk=pk)
    job = exports.start(request, "subsidies.bank_file", {"batch": batch_.pk})
    return redirect("job_detail", pk=job.pk)


@role_required(*PAYOUT_ROLES)
def payout_return(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, write=True, pk=pk)
    if batch_.status != PayoutBatch.Status.SENT:
        messages.error(request, _("Import the bank's return file once the batch has been sent."))
        return redirect("subsidies:payout_detail", pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = imports.run(payouts.BankReturnImporter(batch=batch_, scope=request.scope, user=request.user, request=request),
                             form.cleaned_data["file"])
        if report.ok:
            messages.success(request, imports.IMPORT_DONE % report.__dict__)
            return redirect("subsidies:payout_detail", pk=pk)
    return render(request, "subsidies/import.html", {"form": form, "report": report, "title": _("Bank return file")})


@role_required(*PAYOUT_ROLES)
def reconciliation_page(request):
    year = _int_param(request.GET.get("year"), default=2016, max_value=9999)
    county = _int_param(request.GET.get("county"))
    rep = payouts.reconciliation(scope=request.scope, school_year=year, county_id=county)
    if request.method == "POST":
        job = exports.start(request, "subsidies.reconciliation", {"year": year, "county": county})
        return redirect("job_detail", pk=job.pk)
    return render(request, "subsidies/reconciliation.html", {"rep": rep, "year": year})


@role_required(Role.CITY_ADMIN, Role.COUNTY_OFFICER, write=True)
@require_POST
def award_recover(request, pk):
    award = request.scope.get_or_404(Award, write=True, pk=pk)
    form = RecoveryForm(request.POST)
    if form.is_valid():
        try:
            payouts.recovery_create(award=award, acting_user=request.user, scope=request.scope, request=request, **form.cleaned_data)
            messages.success(request, _("Recovery recorded; the reconciliation carries it until it is settled."))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
    else:
        messages.error(request, _("Give the amount and the reason."))
    return redirect("subsidies:award_detail", pk=pk)


@role_required(*PAYOUT_ROLES)
def loan_list(request):
    can_write = request.scope.can_write(LoanApplication)
    form = LoanForm(request.POST or None, scope=request.scope) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            loan = form.save(commit=False)
            loan.status = LoanApplication.Status.APPROVED
            loan.save()
            messages.success(request, _("Loan approved."))
            return redirect("subsidies:loan_list")
    loans = request.scope.filter(LoanApplication).select_related("student", "county")[:200]
    return render(request, "subsidies/loan_list.html", {"loans": loans, "form": form, "full_ids": request.scope.role in FULL_ID_ROLES})


@role_required(Role.CITY_ADMIN, Role.COUNTY_OFFICER, write=True)
@require_POST
def loan_disburse(request, pk):
    loan = request.scope.get_or_404(LoanApplication, write=True, pk=pk)
    try:
        payouts.loan_disburse(loan=loan, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Loan disbursed."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("subsidies:loan_list")


__all__ += ["Recovery"]


@role_required(*PAYOUT_ROLES)
def anomaly_page(request):
    import itertools

    from .models import Period
    from .services.anomalies import anomalies

    periods = Period.objects.all()
    period = periods.filter(pk=_int_param(request.GET.get("period"), default=0)).first() or periods.first()
    if request.method == "POST":
        job = exports.start(request, request.POST.get("report") if request.POST.get("report") == "subsidies.headline" else "subsidies.anomalies",
                            {"period": period.pk if period else None})
        return redirect("job_detail", pk=job.pk)
    rows = list(itertools.islice(anomalies(request.scope, period), 200)) if period else []
    counts: dict = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    return render(request, "subsidies/anomalies.html", {"rows": rows, "counts": counts, "period": period, "periods": periods})


def _importer_cls(kind):
    from .importers import IMPORTERS

    cls = IMPORTERS.get(kind)
    if cls is None:
        raise PermissionDenied
    return cls


@role_required()
def import_template(request, kind):
    from django.http import HttpResponse

    cls = _importer_cls(kind)
    response = HttpResponse(imports.template(cls), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{kind}-template.xlsx"
    return response


@role_required(write=True)
def import_upload(request, kind):
    from . import importers
    from .models import Household, Student

    cls = _importer_cls(kind)
    request.scope.require_write(Household if kind == "households" else Student)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = importers.run(cls(scope=request.scope, user=request.user, request=request), form.cleaned_data["file"])
        if report.ok:
            messages.success(request, imports.IMPORT_DONE % report.__dict__)
            return redirect("subsidies:award_list")
    return render(request, "subsidies/import.html", {"form": form, "report": report, "title": cls.verbose_name, "kind": kind})


@role_required(*PAYOUT_ROLES, Role.PRINCIPAL)
def matching_page(request):
    from .models import MatchItem, MatchRun

    run = MatchRun.objects.select_related("period").first()
    items = request.scope.filter(MatchItem).filter(run=run).select_related("student", "scheme", "school") if run else MatchItem.objects.none()
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "subsidies/matching.html", {"run": run, "page": page, "full_ids": request.scope.role in FULL_ID_ROLES})


# -- the registry ------------------------------------------------------------------------
@role_required()
def household_list(request):
    from django.utils import timezone

    from .models import Household

    plain = request.scope.filter(Household)
    q = _search_text(request)
    if q:
        plain = plain.filter(Q(number__startswith=q) | Q(head_name__icontains=q))
    qs = plain.select_related("village__town", "village__county").with_status_on(timezone.localdate())
    from .models import Student

    n_students = Subquery(Student.objects.filter(household=OuterRef("pk")).order_by().values("household").annotate(n=Count("pk")).values("n")[:1])
    page = CountedPaginator(qs.annotate(n_students=n_students).order_by("number"), PAGE_SIZE, count=plain.count()).get_page(request.GET.get("page"))
    return render(request, "subsidies/household_list.html", {"page": page, "q": q})


@role_required()
def household_detail(request, pk):
    from .forms import HouseholdStatusForm
    from .models import Household

    household = request.scope.get_or_404(Household.objects.select_related("village__county"), pk=pk)
    can_write = request.scope.can_write(Household, household)
    form = HouseholdStatusForm(request.POST or None) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            st = form.save(commit=False)
            st.household, st.recorded_by = household, request.user
            st.save()
            messages.success(request, _("Status recorded; awards already made keep the facts they were based on."))
            return redirect("subsidies:household_detail", pk=pk)
    students = request.scope.filter(household.students.all())
    return render(request, "subsidies/household_detail.html", {
        "household": household, "statuses": household.statuses.select_related("recorded_by"), "form": form,
        "students": students, "full_ids": request.scope.role in FULL_ID_ROLES,
    })


@role_required()
def student_list(request):
    from .models import Enrolment, Student

    year = _int_param(request.GET.get("year"), max_value=9999)
    qs = request.scope.filter(Enrolment).select_related("student__household", "school").order_by("pk")
    if year:
        qs = qs.filter(school_year=year)
    q = _search_text(request)
    if q:
        qs = qs.filter(Q(student__name__icontains=q) | Q(student__id_number=q.upper()))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "subsidies/student_list.html", {"page": page, "q": q, "year": year or "",
                                                            "full_ids": request.scope.role in FULL_ID_ROLES, "Student": Student})


@role_required(*PAYOUT_ROLES)
def recovery_list(request):
    recoveries = request.scope.filter(Recovery).select_related("award__student", "award__scheme", "award__school", "created_by")
    return render(request, "subsidies/recovery_list.html", {
        "recoveries": recoveries[:200], "can_write": request.scope.can_write(Recovery),
        "full_ids": request.scope.role in FULL_ID_ROLES,
    })


@role_required(Role.CITY_ADMIN, Role.COUNTY_OFFICER, write=True)
@require_POST
def recovery_settle(request, pk):
    rec = request.scope.get_or_404(Recovery.objects.select_related("award"), write=True, pk=pk)
    try:
        payouts.recovery_settle(recovery=rec, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Recovery settled."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("subsidies:recovery_list")
