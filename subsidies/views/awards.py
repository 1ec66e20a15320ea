"""精准救助 award pages: the list with bulk steps, one award, differences, the export, the home panel."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import cache, exports, privacy
from jinpin.forms import parse_id, show_errors
from jinpin.paging import keyset_page
from jinpin.scope import Role, role_required

from .. import eligibility, invalidation
from ..filters import FILTER_KEYS, AwardFilter
from ..forms import (
    AwardActionForm,
    RecoveryForm,
    ResolveDifferenceForm,
)
from ..models import (
    Award,
    AwardStatus,
    BatchChange,
)
from ..models.awards import OPEN_DIFFERENCE
from ..scoping import ACCESS
from ..services import workflow
from .common import PAGE_SIZE, _filtered

#: the award list's rows: what the table shows (the student's ID for its masked column)
ROW_PARENTS = ("student", "scheme", "school", "period")
ROW_FIELDS = (
    "amount",
    "status",
    "student__name",
    "student__id_number",
    "scheme__name",
    "school__name",
    "period__name",
)


def _award_filter(request, data):
    qs = request.scope.filter(Award).select_related("student", "scheme", "school", "county", "period").order_by("pk")
    return AwardFilter(data or None, queryset=qs, scope=request.scope)


@role_required(*ACCESS["awards"])
def award_list(request):
    f = _award_filter(request, request.GET)
    qs = _filtered(f)
    # the header's count and sum over every matching award (a million city-wide): kept in the shared
    # cache until a subsidy write commits; the page itself is reached by key, never by OFFSET
    scope = request.scope
    filters = sorted((k, v) for k, v in request.GET.items() if k in FILTER_KEYS and v)
    totals = cache.cached(
        invalidation.AREA,
        ("awards", scope.role, scope.county_id, scope.school_id, f.is_valid() if f.is_bound else None, filters),
        lambda: qs.order_by().aggregate(n=Count("*"), amount=Sum("amount")),
    )
    # the page's keys from the filtered, scoped list, then its rows by key with only what a row shows (50 rows of
    # five joined models cost more to build than to read; jinpin.paging.fetch_page)
    page = keyset_page(
        qs,
        request.GET,
        per_page=PAGE_SIZE,
        rows_from=Award.objects.select_related(*ROW_PARENTS).only(*ROW_FIELDS),
    )
    actions = workflow.allowed_actions(request.scope)
    # the page's awards with a batch difference nobody has resolved (they cannot be approved yet): one query
    open_ids = set(
        BatchChange.objects.filter(OPEN_DIFFERENCE, award_id__in=[a.pk for a in page])
        .order_by()  # a set: without the model's ordering, which joins four tables to sort
        .values_list("award_id", flat=True)
    )
    return render(
        request,
        "subsidies/award_list.html",
        {
            "filter": f,
            "page": page,
            "totals": totals,
            "open_ids": open_ids,
            "action_form": AwardActionForm(actions=actions) if actions else None,
            "query": urlencode({k: v for k, v in request.GET.items() if k in FILTER_KEYS and v}),
            "can_import": not request.scope.read_only
            and request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL),
        },
    )


@role_required(*ACCESS["awards"])
def award_detail(request, pk):
    award = request.scope.get_or_404(
        Award.objects.select_related(
            "student__household__village", "scheme", "school", "county", "period", "rate_version"
        ),
        pk=pk,
    )
    steps = award.steps.select_related("actor")
    difference = workflow.open_difference(award)
    can_resolve = (
        difference is not None
        and request.scope.role in workflow.RESOLVERS
        and not request.scope.read_only
        and request.scope.can_write(Award, award)
    )
    return render(
        request,
        "subsidies/award_detail.html",
        {
            "award": award,
            "facts": eligibility.facts_display(
                award.facts or {}, school=award.school, household=award.student.household
            ),
            "steps": steps,
            "difference": difference,
            "resolve_form": ResolveDifferenceForm() if can_resolve else None,
            "resolved": BatchChange.objects.filter(award=award)
            .exclude(resolution="")
            .exclude(resolution="superseded")
            .select_related("run", "resolved_by")
            .order_by("-resolved_at"),
            "can_recover": award.status == AwardStatus.PAID
            and request.scope.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER)
            and request.scope.can_write(Award, award),
            "recover_form": RecoveryForm(initial={"amount": award.amount}),
            # one payment traced: the auditor sees the ID and the accounts paid to (jinpin.privacy)
            "pii_place": privacy.AUDIT_TRACE,
            "payments": award.payout_lines.select_related("batch").order_by("pk"),
        },
    )


@role_required(write=True)
@require_POST
def award_resolve(request, pk):
    """Resolve an award's open batch difference (accept the new amount / withdraw / keep as is), with a reason."""
    if request.scope.role not in workflow.RESOLVERS:
        raise PermissionDenied
    request.scope.get_or_404(Award, write=True, pk=pk)
    form = ResolveDifferenceForm(request.POST)
    if not form.is_valid():
        show_errors(request, form)
        return redirect("subsidies:award_detail", pk=pk)
    try:
        change = workflow.resolve_difference(
            award_id=pk,
            resolution=form.cleaned_data["resolution"],
            reason=form.cleaned_data["reason"],
            acting_user=request.user,
            scope=request.scope,
            request=request,
        )
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect("subsidies:award_detail", pk=pk)
    messages.success(
        request, _("Difference resolved: %(resolution)s.") % {"resolution": change.get_resolution_display()}
    )
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
        show_errors(request, form)
        return redirect(back)
    if form.cleaned_data["all_matching"]:
        from django.http import QueryDict

        f = _award_filter(request, QueryDict(query))
        awards = _filtered(f)
    else:
        ids = [n for n in (parse_id(i) for i in request.POST.getlist("ids")) if n is not None]
        if not ids:
            messages.error(request, _("Select at least one award."))
            return redirect(back)
        awards = Award.objects.filter(pk__in=ids)
    try:
        out = workflow.award_transition(
            awards=awards,
            action=form.cleaned_data["action"],
            acting_user=request.user,
            scope=request.scope,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect(back)
    messages.success(request, _("%(n)s awards moved.") % {"n": out.moved})
    if out.refused_own:
        messages.warning(
            request,
            _(
                "%(n)s awards were not approved: you applied for them yourself, and nobody approves their own submission."
            )
            % {"n": out.refused_own},
        )
    if out.open_difference:
        messages.error(
            request,
            _(
                "%(n)s awards were not approved: a batch rerun found them no longer eligible or their amount changed, "
                "and nobody has resolved that difference yet. Resolve it on the award's page (accept the new amount, "
                "withdraw the award, or keep it as is with a justification), then approve."
            )
            % {"n": out.open_difference},
        )
    if out.in_payout:
        messages.warning(
            request,
            _(
                "%(n)s awards were left approved: they are in a payout batch. A line that fails at the bank frees its award."
            )
            % {"n": out.in_payout},
        )
    if out.skipped:
        messages.warning(
            request,
            _("%(n)s awards were left as they are: this step does not apply to their status.") % {"n": out.skipped},
        )
    return redirect(back)


@role_required(*ACCESS["awards"])
@require_POST
def award_export(request):
    params = {k: v for k, v in request.POST.items() if k in FILTER_KEYS and v}
    job = exports.start(request, "subsidies.awards", params)
    return redirect("job_detail", pk=job.pk)


HOME_TITLE = gettext_lazy("Student subsidies")


def home_panel(request):
    scope = request.scope
    if scope.role not in ACCESS["awards"]:
        return None
    # a pass over every award in scope: kept in the shared cache until a subsidy write commits
    stats = cache.cached(
        invalidation.AREA,
        ("home", scope.role, scope.county_id, scope.school_id),
        lambda: (
            scope.filter(Award)
            .filter(status__in=[AwardStatus.APPLIED, AwardStatus.REVIEWED, AwardStatus.APPROVED, AwardStatus.PAID])
            .aggregate(
                students=Count("student", distinct=True, filter=Q(status__in=[AwardStatus.APPROVED, AwardStatus.PAID])),
                pending=Count("pk", filter=Q(status__in=[AwardStatus.APPLIED, AwardStatus.REVIEWED])),
                paid=Sum("amount", filter=Q(status=AwardStatus.PAID)),
            )
        ),
    )
    return {"title": HOME_TITLE, "template": "subsidies/home_panel.html", "stats": stats}
