"""Payout batches (发放), the bank file and its return, reconciliation, recoveries, loans, anomalies."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jinpin import cache, exports, imports, pagecache
from jinpin.forms import add_errors, parse_id, parse_year, show_errors
from jinpin.paging import KnownCountPaginator
from jinpin.scope import Role, role_required

from .. import invalidation
from ..forms import (
    LoanForm,
    PayoutPrepareForm,
    RecoveryForm,
    UploadForm,
)
from ..models import (
    Award,
    LoanApplication,
    PayoutBatch,
    PayoutLine,
    Recovery,
)
from ..scoping import ACCESS
from ..services import anomaly_results, payouts
from .common import PAGE_SIZE


@role_required(*ACCESS["payouts"])
def payout_list(request):
    can_write = request.scope.can_write(PayoutBatch)
    form = PayoutPrepareForm(request.POST or None, scope=request.scope) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                b = payouts.payout_prepare(
                    acting_user=request.user, scope=request.scope, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Payout batch prepared."))
                return redirect("subsidies:payout_detail", pk=b.pk)
    batches = list(request.scope.filter(PayoutBatch).select_related("county", "period", "created_by")[:100])
    ids = [b.pk for b in batches]

    def sums():
        rows = (
            PayoutLine.objects.filter(batch_id__in=ids)
            .order_by()
            .values("batch_id")
            .annotate(
                n=Count("pk"),
                total=Sum("amount"),
                paid=Sum("amount", filter=Q(status=PayoutLine.Status.PAID)),
                failed=Count("pk", filter=Q(status=PayoutLine.Status.FAILED)),
            )
        )
        return {r.pop("batch_id"): r for r in rows}

    # each batch's line count and sums: every line of every batch shown (the whole city's year) aggregated on each
    # request before; now kept while the payout lines are unchanged (jinpin.pagecache.kept)
    by_batch = pagecache.kept("payout-sums", ids, sums) if ids else {}
    for b in batches:
        for key, value in by_batch.get(b.pk, {"n": 0, "total": None, "paid": None, "failed": 0}).items():
            setattr(b, key, value)
    return render(request, "subsidies/payout_list.html", {"batches": batches, "form": form})


@role_required(*ACCESS["payouts"])
def payout_detail(request, pk):
    batch_ = request.scope.get_or_404(
        PayoutBatch.objects.select_related("county", "period", "created_by", "sent_by"), pk=pk
    )
    lines = (
        batch_.lines.select_related("award__student", "award__scheme")
        # only what a row shows (the student's ID and the account for their masked columns)
        .only(
            "batch",  # the related manager sets each line's batch from it
            "payee_name",
            "bank_account",
            "amount",
            "status",
            "failure_reason",
            "award__student__name",
            "award__student__id_number",
            "award__scheme__name",
        )
        .order_by("pk")
    )
    totals = batch_.lines.aggregate(
        n=Count("pk"),
        total=Sum("amount"),
        paid=Sum("amount", filter=Q(status=PayoutLine.Status.PAID)),
        failed=Sum("amount", filter=Q(status=PayoutLine.Status.FAILED)),
    )
    # the totals' count is the paginator's: the batch's lines are not counted twice
    page = KnownCountPaginator(lines, PAGE_SIZE, count=totals["n"]).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/payout_detail.html",
        {
            "batch": batch_,
            "page": page,
            "totals": totals,
            "can_write": request.scope.can_write(PayoutBatch, batch_),
            "upload": UploadForm(),
            # four eyes: the officer who prepared the batch does not send it (the city administrator may)
            "own_batch": batch_.created_by_id == request.user.pk and not request.scope.is_city_admin,
        },
    )


@role_required(*ACCESS["payouts_send"], write=True)
@require_POST
def payout_send(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, write=True, pk=pk)
    try:
        payouts.payout_send(batch=batch_, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Batch marked as sent to the bank."))
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("subsidies:payout_detail", pk=pk)


@role_required(*ACCESS["payouts"])
@require_POST
def payout_verify(request, pk):
    """Recompute the batch's seal and its lines' digests (auditors too: it writes nothing but the audit entry)."""
    from jinpin import audit

    from ..services import seals

    batch_ = request.scope.get_or_404(PayoutBatch, pk=pk)
    check = seals.seal_verify(batch_id=batch_.pk)
    audit.log(batch_, request=request, event="seal_verify", ok=check.ok, problems=check.problems[:20])
    if not check.sealed:
        messages.info(request, _("This batch is not sealed yet: it is sealed when it is marked as sent to the bank."))
    elif check.ok:
        messages.success(
            request,
            _("The seal holds: %(n)s lines, %(fen)s fen, SHA-256 %(sha)s recomputed from the lines.")
            % {"n": check.lines, "fen": check.total_fen, "sha": check.sha256},
        )
    else:
        for text in check.messages():
            messages.error(request, text)
    return redirect("subsidies:payout_detail", pk=pk)


@role_required(*ACCESS["payouts"])
@require_POST
def payout_bank_file(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, pk=pk)
    job = exports.start(request, "subsidies.bank_file", {"batch": batch_.pk})
    return redirect("job_detail", pk=job.pk)


@role_required(*ACCESS["payouts_send"], write=True)
def payout_return(request, pk):
    batch_ = request.scope.get_or_404(PayoutBatch, write=True, pk=pk)
    if batch_.status != PayoutBatch.Status.SENT:
        messages.error(request, _("Import the bank's return file once the batch has been sent."))
        return redirect("subsidies:payout_detail", pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = imports.run(
            payouts.BankReturnImporter(batch=batch_, scope=request.scope, user=request.user, request=request),
            form.cleaned_data["file"],
        )
        if report.ok:
            messages.success(request, imports.IMPORT_DONE % report.__dict__)
            return redirect("subsidies:payout_detail", pk=pk)
    return render(request, "subsidies/import.html", {"form": form, "report": report, "title": _("Bank return file")})


@role_required(*ACCESS["reconciliation"])
def reconciliation_page(request):
    year = parse_year(request.GET.get("year"), default=2016)
    county = parse_id(request.GET.get("county"))
    if request.method == "POST":
        job = exports.start(request, "subsidies.reconciliation", {"year": year, "county": county})
        return redirect("job_detail", pk=job.pk)
    scope = request.scope
    # a full pass over the year's awards: kept in the shared cache until a subsidy write commits
    rep = cache.cached(
        invalidation.AREA,
        ("recon", scope.role, scope.county_id, scope.school_id, year, county, get_language()),
        lambda: payouts.reconciliation(scope=scope, school_year=year, county_id=county),
    )
    return render(request, "subsidies/reconciliation.html", {"rep": rep, "year": year})


@role_required(*ACCESS["payouts_send"], write=True)
@require_POST
def award_recover(request, pk):
    award = request.scope.get_or_404(Award, write=True, pk=pk)
    form = RecoveryForm(request.POST)
    if form.is_valid():
        try:
            payouts.recovery_create(
                award=award, acting_user=request.user, scope=request.scope, request=request, **form.cleaned_data
            )
            messages.success(request, _("Recovery recorded; the reconciliation carries it until it is settled."))
        except ValidationError as exc:
            show_errors(request, exc)
    else:
        messages.error(request, _("Give the amount and the reason."))
    return redirect("subsidies:award_detail", pk=pk)


@role_required(*ACCESS["payouts"])
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
    return render(
        request,
        "subsidies/loan_list.html",
        {"loans": loans, "form": form},
    )


@role_required(*ACCESS["payouts_send"], write=True)
@require_POST
def loan_disburse(request, pk):
    loan = request.scope.get_or_404(LoanApplication, write=True, pk=pk)
    try:
        payouts.loan_disburse(loan=loan, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Loan disbursed."))
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("subsidies:loan_list")


@role_required(*ACCESS["anomalies"], Role.INSPECTOR)
def anomaly_page(request):
    """The stored anomaly report (computed by a job, see services/anomaly_results.py), its time, and
    buttons to recompute it and to export every anomaly live. Inspectors read the hits of their
    assigned counties (and turn them into findings, inspections/anomalies.py); they do not export."""
    from django.apps import apps

    from ..models import Period
    from ..services.anomalies import audit_reveal

    periods = Period.objects.all()
    period = periods.filter(pk=parse_id(request.GET.get("period"), default=0)).first() or periods.first()
    readonly_inspector = request.scope.role not in ACCESS["anomalies"]
    if request.method == "POST" and readonly_inspector:
        raise PermissionDenied
    if request.method == "POST":
        if request.POST.get("report") == "recompute" and period:
            job = anomaly_results.scan_start(period=period, request=request)
        else:
            job = exports.start(
                request,
                "subsidies.headline" if request.POST.get("report") == "subsidies.headline" else "subsidies.anomalies",
                {"period": period.pk if period else None},
            )
        return redirect("job_detail", pk=job.pk)
    snapshot, rows, counts = anomaly_results.stored(request.scope, period)
    audit_reveal(request.scope, period, len(rows), request=request)
    finding_of, can_find = {}, False
    if apps.is_installed("inspections"):  # 督查抽查: each hit's finding, or a link to record one
        from inspections import anomalies as hits

        finding_of = hits.findings_by_row(request.scope, [r[8] for r in rows])
        can_find = hits.can_turn(request.scope)
    rows = [(r[:8], r[8].pk, finding_of.get(r[8].pk)) for r in rows]
    return render(
        request,
        "subsidies/anomalies.html",
        {
            "rows": rows,
            "counts": counts,
            "period": period,
            "periods": periods,
            "snapshot": snapshot,
            "can_find": can_find,
            "can_run": not readonly_inspector,
        },
    )


@role_required(*ACCESS["payouts"])
def recovery_list(request):
    recoveries = request.scope.filter(Recovery).select_related(
        "award__student", "award__scheme", "award__school", "created_by"
    )
    return render(
        request,
        "subsidies/recovery_list.html",
        {
            "recoveries": recoveries[:200],
            "can_write": request.scope.can_write(Recovery),
        },
    )


@role_required(*ACCESS["payouts_send"], write=True)
@require_POST
def recovery_settle(request, pk):
    rec = request.scope.get_or_404(Recovery.objects.select_related("award"), write=True, pk=pk)
    try:
        payouts.recovery_settle(recovery=rec, acting_user=request.user, scope=request.scope, request=request)
        messages.success(request, _("Recovery settled."))
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("subsidies:recovery_list")
