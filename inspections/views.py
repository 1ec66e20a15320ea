"""Pages of 督查抽查. Views are short: scoped lookup → form → service → redirect."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import audit, exports, held_uploads
from jinpin.display import content_disposition
from jinpin.forms import show_errors
from jinpin.scope import Role, role_required
from schools.models import Village
from subsidies.models import Household, HouseholdStatus

from . import lists, scoping, selectors, services
from .forms import (
    AnomalyFindingForm,
    CampaignForm,
    CheckSubmissionForm,
    DrawForm,
    FindingForm,
    GroupForm,
    MeasuresForm,
    PhotoUploadForm,
    ReviewForm,
    TraceForm,
)
from .models import (
    Assignment,
    Campaign,
    ChecklistItem,
    CheckResult,
    Draw,
    DrawItem,
    Finding,
    FindingCategory,
    Group,
    HouseholdCheck,
    HouseholdResponsibility,
    Photo,
    light,
)

READERS = (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.INSPECTOR, Role.AUDITOR)
DRAWERS = (Role.CITY_ADMIN, Role.INSPECTOR)


# -- campaigns ---------------------------------------------------------------------------------------
@role_required(*READERS)
def campaign_list(request):
    campaigns = request.scope.filter(Campaign).annotate(n_groups=Count("groups", distinct=True))
    return render(
        request,
        "inspections/campaign_list.html",
        {"campaigns": campaigns, "can_create": request.scope.is_city_admin, "lists": lists.LISTS.values()},
    )


@role_required(Role.CITY_ADMIN, write=True)
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.full_clean()
        campaign.save()
        messages.success(request, _("Campaign created. Now add its groups and their assignments."))
        return redirect("inspections:campaign_detail", pk=campaign.pk)
    return render(request, "inspections/form.html", {"form": form, "title": _("New campaign")})


@role_required(Role.CITY_ADMIN, write=True)
def campaign_edit(request, pk):
    campaign = request.scope.get_or_404(Campaign, pk=pk, write=True)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            form.instance.full_clean()
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form.save()
            messages.success(request, _("Campaign saved."))
            return redirect("inspections:campaign_detail", pk=campaign.pk)
    return render(
        request,
        "inspections/form.html",
        {"form": form, "title": _("Edit campaign %(name)s") % {"name": campaign.name}, "back": campaign},
    )


@role_required(Role.CITY_ADMIN, write=True)
def group_edit(request, pk=None, campaign_pk=None):
    """A group of a campaign: its name, inspectors, counties and number of departments to draw."""
    if pk is not None:
        group = request.scope.get_or_404(Group.objects.select_related("campaign"), pk=pk, write=True)
        campaign = group.campaign
    else:
        campaign = request.scope.get_or_404(Campaign, pk=campaign_pk, write=True)
        group = Group(campaign=campaign)
    form = GroupForm(request.POST or None, instance=group, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        group = services.group_save(form=form, acting_user=request.user, scope=request.scope)
        messages.success(request, _("Group %(name)s saved.") % {"name": group.name})
        return redirect(f"{reverse('inspections:campaign_detail', args=[campaign.pk])}#group-{group.pk}")
    title = _("Edit group %(name)s") % {"name": group.name} if group.pk else _("New group")
    return render(
        request, "inspections/form.html", {"form": form, "title": f"{campaign.name} · {title}", "back": campaign}
    )


# -- the lists the administrator keeps (市直部门, 六核对, finding categories) --------------------------
@role_required(Role.CITY_ADMIN, write=True)
def list_rows(request, kind):
    spec = lists.get(kind)
    rows = request.scope.filter(spec.model)
    table = [(row, [getattr(row, f) for f in spec.columns]) for row in rows]
    return render(
        request,
        "inspections/list_rows.html",
        {"spec": spec, "headers": spec.headers(), "table": table, "lists": lists.LISTS.values()},
    )


@role_required(Role.CITY_ADMIN, write=True)
def list_row_edit(request, kind, pk=None):
    """Add a row to one of the lists, or rename, reorder, deactivate one (audited by the audit log)."""
    spec = lists.get(kind)
    row = spec.model() if pk is None else request.scope.get_or_404(spec.model, pk=pk, write=True)
    form = spec.form(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        row = form.save()
        messages.success(request, _("%(name)s saved.") % {"name": row})
        return redirect("inspections:list_rows", kind=kind)
    title = _("Edit %(name)s") % {"name": row} if row.pk else _("Add to the list")
    return render(
        request,
        "inspections/form.html",
        {
            "form": form,
            "title": f"{spec.title} · {title}",
            "back_url": reverse("inspections:list_rows", args=[kind]),
            "back_label": spec.title,
        },
    )


@role_required(*READERS)
def campaign_detail(request, pk):
    campaign = request.scope.get_or_404(Campaign, pk=pk)
    groups = list(
        request.scope.filter(Group)
        .filter(campaign=campaign)
        .select_related("assignment")
        .prefetch_related("members", "assignment__counties", "assignment__departments")
    )
    draws = list(
        request.scope.filter(Draw)
        .filter(group__campaign=campaign)
        .defer(*light())
        .select_related("created_by", "group")
        .order_by("group", "kind", "-created_at")
    )
    by_group: dict[int, list] = {}
    for d in draws:
        by_group.setdefault(d.group_id, []).append(d)
    can_draw = request.scope.role in DRAWERS and campaign.is_running
    for g in groups:
        g.draw_list = by_group.get(g.pk, [])
        g.live_households = next(
            (d for d in g.draw_list if d.kind == Draw.Kind.HOUSEHOLDS and d.status == Draw.Status.CONFIRMED), None
        )
        g.is_member = any(m.pk == request.user.pk for m in g.members.all())
        g.can_draw = can_draw and (request.scope.is_city_admin or g.is_member)
    return render(
        request,
        "inspections/campaign_detail.html",
        {
            "campaign": campaign,
            "groups": groups,
            "kinds": Draw.Kind.choices,
            "can_edit": request.scope.can_write(Campaign, campaign),
        },
    )


# -- draws ---------------------------------------------------------------------------------------------
@role_required(*DRAWERS, write=True)
def draw_new(request, pk, kind):
    group = request.scope.get_or_404(Group.objects.select_related("campaign"), pk=pk)
    if kind not in Draw.Kind.values:
        raise Http404
    if not request.scope.is_city_admin and not group.members.filter(pk=request.user.pk).exists():
        raise PermissionDenied
    live = Draw.objects.filter(group=group, kind=kind).exclude(status=Draw.Status.SUPERSEDED).first()
    form = DrawForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            draw = services.draw_propose(
                group=group,
                kind=kind,
                params=form.params(),
                seed=form.cleaned_data["seed"],
                reason=form.cleaned_data.get("reason") or "",
                acting_user=request.user,
                scope=request.scope,
                request=request,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for f, errs in exc.error_dict.items():
                    form.add_error(f if f in form.fields else None, errs)
            else:
                form.add_error(None, exc)
        else:
            return redirect("inspections:draw_detail", pk=draw.pk)
    if kind == Draw.Kind.HOUSEHOLDS and not form.is_bound:
        form.fields["rate"].initial = "0.1069"
    if kind == Draw.Kind.DEPARTMENTS and not form.is_bound:
        assignment = Assignment.objects.filter(group=group).first()
        form.fields["count"].initial = (assignment.departments_to_draw if assignment else 0) or 5
    return render(
        request,
        "inspections/draw_new.html",
        {"group": group, "kind": kind, "kind_label": Draw.Kind(kind).label, "form": form, "live": live},
    )


@role_required(*READERS)
def draw_detail(request, pk):
    draw = request.scope.get_or_404(
        Draw.objects.select_related("group__campaign", "created_by", "confirmed_by", "supersedes").defer(
            "population_runs", "population_ids", "sample"
        ),
        pk=pk,
    )
    strata = draw.strata
    names = {}
    if draw.kind == Draw.Kind.HOUSEHOLDS:
        names = {
            v["code"]: v
            for v in Village.objects.filter(code__in=[s for s, _n, _k in strata]).values(
                "code", "name", "town__name", "county__name"
            )
        }
    rows = [{"stratum": s, "n": n, "k": k, "place": names.get(s)} for s, n, k in strata]
    later = Draw.objects.filter(supersedes=draw).only("pk", "reason", "created_at").first()
    record_rows = _record_rows(draw)
    return render(
        request,
        "inspections/draw_detail.html",
        {
            "draw": draw,
            "rows": rows,
            "later": later,
            "rate_pct": f"{draw.effective_rate * 100:.2f}%",
            "method_label": METHOD_LABELS.get(draw.method, draw.method),
            "params_rows": record_rows[0],
            "filter_rows": record_rows[1],
            "can_confirm": draw.status == Draw.Status.PROPOSED and request.scope.can_write(Draw, draw),
            "items": draw.items.select_related("department").order_by("position")[:50]
            if draw.kind == Draw.Kind.DEPARTMENTS
            else None,
        },
    )


METHOD_LABELS = {
    "sha256-stratified-v1": gettext_lazy("Stratified, ordered by SHA-256(seed|id), first k of each stratum")
}
PARAM_LABELS = {
    "rate": gettext_lazy("Rate"),
    "minimum": gettext_lazy("Minimum per stratum"),
    "rounding": gettext_lazy("Rounding"),
    "count": gettext_lazy("How many"),
}
FILTER_LABELS = {
    "registry": gettext_lazy("Population"),
    "status_on": gettext_lazy("Registry status on"),
    "counties": gettext_lazy("Counties (codes)"),
    "stratum": gettext_lazy("Stratum"),
    "payout_lines": gettext_lazy("Payout lines"),
    "school_year": gettext_lazy("School year"),
    "city_departments": gettext_lazy("City departments"),
}
#: the record's values are kept as written (an auditor's script reads them); the page says them in words
VALUE_LABELS = {
    "poor households (verified or returned to poverty)": gettext_lazy(
        "Poor households (verified or returned to poverty)"
    ),
    "village code": gettext_lazy("Village code"),
    "county code/scheme code": gettext_lazy("County code / scheme code"),
    "paid": gettext_lazy("Paid"),
    "active": gettext_lazy("In use"),
    "half_up": gettext_lazy("Halves rounded up"),
}


def _record_rows(draw) -> tuple[list, list]:
    """The draw's parameters and filters as ``(label, value, raw)`` rows for the page."""

    def word(key, value):
        if key == "rate":
            return f"{value}（{float(value) * 100:.2f}%）"
        if isinstance(value, list):
            return "、".join(str(v) for v in value) or "—"
        return VALUE_LABELS.get(value, value) if isinstance(value, str) else value

    params = [(PARAM_LABELS.get(k, k), word(k, v), f"{k}={v}") for k, v in (draw.params or {}).items()]
    filters = [(FILTER_LABELS.get(k, k), word(k, v), k) for k, v in (draw.filters or {}).items()]
    return params, filters


@require_POST
@role_required(*DRAWERS, write=True)
def draw_confirm(request, pk):
    draw = request.scope.get_or_404(Draw.objects.select_related("group__campaign"), pk=pk, write=True)
    try:
        n = services.draw_confirm(draw=draw, acting_user=request.user, request=request)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Draw confirmed: %(n)s items frozen as they are now.") % {"n": n})
    return redirect("inspections:draw_detail", pk=draw.pk)


@require_POST
@role_required(*READERS)
def draw_verify(request, pk):
    draw = request.scope.get_or_404(Draw, pk=pk)
    ok, notes = services.draw_verify(draw=draw)
    audit.log(draw, request=request, verified=ok)
    (messages.success if ok else messages.error)(
        request,
        (_("Verified: the record re-computes exactly.") if ok else _("Verification FAILED."))
        + " "
        + " · ".join(str(n) for n in notes),
    )
    return redirect("inspections:draw_detail", pk=draw.pk)


@role_required(*READERS)
def draw_record(request, pk):
    """The draw record as JSON, for ``python3 inspections/verify_draw.py record.json``."""
    draw = request.scope.get_or_404(Draw, pk=pk)
    audit.log(draw, request=request, downloaded="record.json")
    response = HttpResponse(
        json.dumps(draw.record(), ensure_ascii=False, indent=0), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition(_("draw record %(n)s.json") % {"n": draw.pk})
    return response


# -- the field check (offline) ---------------------------------------------------------------------------
def _live_household_draw(group):
    return (
        Draw.objects.filter(group=group, kind=Draw.Kind.HOUSEHOLDS, status=Draw.Status.CONFIRMED)
        .only("pk", "group_id")
        .first()
    )


@role_required(*READERS)
def cards(request, pk):
    """The group's cards, usable offline: the data is in the page (json_script), the service worker
    keeps the page, and static/inspections/checks.js queues results and photos in IndexedDB."""
    group = request.scope.get_or_404(Group.objects.select_related("campaign"), pk=pk)
    draw = _live_household_draw(group)
    items = (
        request.scope.filter(DrawItem)
        .filter(draw=draw)
        .select_related("household_check", "household", "village")
        .order_by("stratum", "position")
        if draw
        else DrawItem.objects.none()
    )
    today = timezone.localdate()
    now_status = {}
    if draw:
        now_status = dict(
            Household.objects.filter(pk__in=items.values("household_id"))
            .with_status_on(today)
            .values_list("pk", "status_on_date")
        )
    photographed = set(
        request.scope.filter(Photo)
        .filter(campaign=group.campaign, village__isnull=False)
        .values_list("village_id", flat=True)
        .distinct()
    )
    card_list, villages = [], {}
    labels = dict(HouseholdStatus.Status.choices)
    for it in items:
        h = it.household
        snap = it.snapshot
        chk = getattr(it, "household_check", None)
        villages.setdefault(
            it.village_id,
            {
                "id": it.village_id,
                "name": snap.get("village"),
                "town": snap.get("town"),
                "photo": it.village_id in photographed,
            },
        )
        card_list.append(
            {
                "id": it.pk,
                "village": it.village_id,
                "then": {
                    **{k: snap.get(k) for k in ("number", "head_name", "members", "is_dibao", "is_tekun")},
                    "status": str(labels.get(snap.get("status"), snap.get("status") or "")),
                },
                "now": {
                    "number": h.number,
                    "head_name": h.head_name,
                    "members": h.members,
                    "status": str(labels.get(now_status.get(h.pk), now_status.get(h.pk) or "")),
                    "is_dibao": h.is_dibao,
                    "is_tekun": h.is_tekun,
                },
                "checked": chk.outcome if chk else "",
            }
        )
    checklist = list(ChecklistItem.objects.filter(is_active=True).values("id", "label", "help_text"))
    data = {
        "campaign": group.campaign_id,
        "group": group.pk,
        "cards": card_list,
        "villages": list(villages.values()),
        "checklist": checklist,
        "can_write": request.scope.is_inspector or request.scope.is_city_admin,
        "user": request.user.pk,  # whose cards these are: checks.js wipes another user's copy
        "urls": {"checks": reverse("inspections:api_checks"), "photos": reverse("inspections:api_photos")},
    }
    return render(
        request,
        "inspections/cards.html",
        {
            "group": group,
            "data": data,
            "n_cards": len(card_list),
            "n_checked": sum(1 for c in card_list if c["checked"]),
        },
    )


def _json_errors(form_or_exc, status=400):
    if isinstance(form_or_exc, ValidationError):
        return JsonResponse({"ok": False, "errors": form_or_exc.messages}, status=status)
    return JsonResponse({"ok": False, "errors": form_or_exc.errors.get_json_data()}, status=status)


@require_POST
@role_required(Role.INSPECTOR, Role.CITY_ADMIN, write=True)
def api_checks(request):
    """A check sent by the phone (JSON). Same ``client_uuid`` twice → recorded once (200 both times)."""
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return JsonResponse({"ok": False, "errors": ["bad JSON"]}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"ok": False, "errors": ["bad JSON"]}, status=400)
    form = CheckSubmissionForm(body, scope=request.scope)
    if not form.is_valid():
        status = 404 if "item" in form.errors else 400
        return _json_errors(form, status)
    d = form.cleaned_data
    try:
        check, created = services.check_submit(
            item=d["item"],
            client_uuid=d["client_uuid"],
            outcome=d["outcome"],
            not_found_reason=d.get("not_found_reason") or "",
            note=d.get("note") or "",
            results=form.results(),
            checked_at=d.get("checked_at"),
            acting_user=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _json_errors(exc, 409)
    return JsonResponse({"ok": True, "check": check.pk, "created": created}, status=201 if created else 200)


@require_POST
@role_required(Role.INSPECTOR, Role.CITY_ADMIN, write=True)
def api_photos(request):
    form = PhotoUploadForm(request.POST, request.FILES, scope=request.scope)
    if not form.is_valid():
        return _json_errors(form)
    d = form.cleaned_data
    item = d.get("item")
    if item is not None and item.draw.group.campaign_id != d["campaign"].pk:
        return JsonResponse({"ok": False, "errors": ["campaign"]}, status=400)
    try:
        photo, created = services.photo_add(
            campaign=d["campaign"],
            upload=d["image"],
            client_uuid=d["client_uuid"],
            item=item,
            village=d.get("village_obj"),
            captured_at=d.get("captured_at"),
            latitude=d.get("latitude"),
            longitude=d.get("longitude"),
            acting_user=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _json_errors(exc)
    return JsonResponse({"ok": True, "photo": photo.pk, "created": created}, status=201 if created else 200)


def service_worker(request):
    """The service worker, served from /inspections/ so that its scope covers the cards pages."""
    path = Path(settings.BASE_DIR) / "static" / "inspections" / "sw.js"
    response = HttpResponse(path.read_text(encoding="utf-8"), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/inspections/"
    return response


@role_required(*READERS)
def photo_file(request, pk, thumb=False):
    photo = request.scope.get_or_404(Photo, pk=pk)
    f = photo.thumbnail if thumb else photo.image
    if not thumb:
        audit.log(photo, request=request, downloaded="photo")
    response = FileResponse(f.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# -- drawn items: household card / payment trace ---------------------------------------------------------
@role_required(*READERS)
def item_detail(request, pk):
    item = request.scope.get_or_404(
        DrawItem.objects.select_related("draw__group__campaign", "household", "village", "county").defer(
            *light("draw")
        ),
        pk=pk,
    )
    campaign = item.draw.group.campaign
    ctx = {"item": item, "campaign": campaign, "can_find": scoping.can_record_finding(request.scope)}
    if item.draw.kind == Draw.Kind.PAYMENTS:
        trace = selectors.payment_trace(item)
        ctx.update(trace=trace, form=TraceForm(), can_trace=scoping.can_trace(request.scope) and not trace["trace"])
        return render(request, "inspections/trace.html", ctx)
    check = HouseholdCheck.objects.filter(item=item).select_related("checked_by").first()
    ctx.update(
        check=check,
        results=list(CheckResult.objects.filter(household_check=check).select_related("item")) if check else [],
        photos=list(request.scope.filter(Photo).filter(item=item)),
        findings=list(request.scope.filter(Finding).filter(item=item).select_related("category")),
        now=Household.objects.filter(pk=item.household_id).with_status_on(timezone.localdate()).first(),
    )
    labels = dict(HouseholdStatus.Status.choices)
    ctx["status_then"] = labels.get(item.snapshot.get("status"), item.snapshot.get("status") or "—")
    ctx["status_now"] = labels.get(ctx["now"].status_on_date, "—") if ctx["now"] else "—"
    return render(request, "inspections/item_detail.html", ctx)


@require_POST
@role_required(Role.INSPECTOR, Role.AUDITOR, Role.CITY_ADMIN)
def trace_confirm(request, pk):
    item = request.scope.get_or_404(DrawItem.objects.select_related("draw").defer(*light("draw")), pk=pk)
    form = TraceForm(request.POST)
    if form.is_valid():
        try:
            services.trace_record(
                item=item,
                outcome="confirmed",
                note=form.cleaned_data["note"],
                acting_user=request.user,
                scope=request.scope,
                request=request,
            )
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Payment confirmed."))
    return redirect("inspections:item_detail", pk=item.pk)


# -- coverage, summary, export, ledger ---------------------------------------------------------------------
@role_required(*READERS)
def coverage(request, pk):
    campaign = request.scope.get_or_404(Campaign, pk=pk)
    rows = selectors.coverage(request.scope, campaign)
    return render(request, "inspections/coverage.html", {"campaign": campaign, "rows": rows})


@role_required(*READERS)
def summary(request, pk):
    campaign = request.scope.get_or_404(Campaign, pk=pk)
    s = selectors.summary(request.scope, campaign)
    return render(request, "inspections/summary.html", {"campaign": campaign, "s": s})


@require_POST
@role_required(*READERS)
def summary_export(request, pk):
    campaign = request.scope.get_or_404(Campaign, pk=pk)
    job = exports.start(request, "inspections.summary", {"campaign": campaign.pk})
    return redirect("job_detail", pk=job.pk)


@role_required(*READERS)
def ledger(request, pk):
    household = request.scope.get_or_404(Household.objects.select_related("village__town", "village__county"), pk=pk)
    responsibility = HouseholdResponsibility.objects.filter(household=household).first()
    return render(
        request,
        "inspections/ledger.html",
        {"household": household, "responsibility": responsibility, **selectors.ledger(household)},
    )


# -- findings and rectification ----------------------------------------------------------------------------
@role_required(*READERS)
def finding_list(request):
    qs = request.scope.filter(Finding).select_related("category", "county", "campaign")
    status = request.GET.get("status")
    if status in Finding.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("overdue") == "1":
        qs = qs.overdue()
    return render(
        request,
        "inspections/finding_list.html",
        {"findings": qs[:500], "statuses": Finding.Status.choices, "status": status, "today": timezone.localdate()},
    )


@role_required(Role.INSPECTOR, Role.CITY_ADMIN, write=True)
def finding_new(request):
    """A finding from a failed item (``result``), a household or payment (``item``) or a village."""
    scope = request.scope
    item = result = village = None
    q = request.GET if request.method == "GET" else request.POST
    if q.get("result"):
        result = scope.get_or_404(
            CheckResult.objects.select_related("household_check__item__draw__group__campaign", "item").defer(
                *light("household_check__item__draw")
            ),
            pk=_pk(q.get("result")),
        )
        item = result.household_check.item
    elif q.get("item"):
        item = scope.get_or_404(
            DrawItem.objects.select_related("draw__group__campaign").defer(*light("draw")), pk=_pk(q.get("item"))
        )
    elif q.get("village") and q.get("campaign"):
        campaign = scope.get_or_404(Campaign, pk=_pk(q.get("campaign")))
        drawn = scope.filter(DrawItem).filter(village_id=_pk(q.get("village")), draw__group__campaign=campaign).first()
        if drawn is None:
            raise Http404
        village = drawn.village
        item = None
    else:
        raise Http404
    campaign = item.draw.group.campaign if item else campaign
    county_id = item.county_id if item else village.county_id
    source = (
        Finding.Source.ITEM
        if result
        else Finding.Source.PAYMENT
        if item and item.draw.kind == Draw.Kind.PAYMENTS
        else Finding.Source.HOUSEHOLD
        if item
        else Finding.Source.VILLAGE
    )
    initial = {"county": county_id, "deadline": timezone.localdate() + timezone.timedelta(days=30)}
    if result:
        initial["description"] = f"{result.item.label}：{result.note}"
    form = FindingForm(request.POST or None, scope=scope, counties=[county_id], initial=initial)
    if request.method == "POST" and form.is_valid():
        finding = form.save(commit=False)
        finding.campaign = campaign
        finding.source = source
        finding.item = item
        finding.result = result
        finding.village = village or (item.village if item else None)
        finding.created_by = request.user
        services.finding_record(finding=finding, acting_user=request.user, scope=scope, request=request)
        if source == Finding.Source.PAYMENT and item is not None and not hasattr(item, "trace"):
            services.trace_record(
                item=item, outcome="finding", finding=finding, acting_user=request.user, scope=scope, request=request
            )
        messages.success(request, _("Finding recorded."))
        return redirect("inspections:finding_detail", pk=finding.pk)
    hidden = {k: q.get(k) for k in ("result", "item", "village", "campaign") if q.get(k)}
    return render(
        request,
        "inspections/finding_new.html",
        {"form": form, "hidden": hidden, "item": item, "village": village, "source": Finding.Source(source).label},
    )


@role_required(Role.INSPECTOR, Role.AUDITOR, Role.CITY_ADMIN)
def finding_from_anomaly(request, row):
    """A hit of the anomaly report turned into a finding: prefilled from the hit (its county, the
    pupil's school as the responsible unit), linked back to it; a hit that has one shows it."""
    from subsidies.models import AnomalyRow

    from . import anomalies

    scope = request.scope
    hit = AnomalyRow.objects.select_related("snapshot__period", "county").filter(pk=row).first()
    if hit is None or not anomalies.in_scope(scope, hit) or hit.county_id is None:
        raise Http404
    if not scoping.can_record_anomaly_finding(scope):
        raise PermissionDenied
    back = f"{reverse('subsidies:anomalies')}?period={hit.snapshot.period_id}"
    existing = scope.filter(Finding).filter(anomaly_key=anomalies.key(hit)).first()
    if existing is not None:
        messages.info(request, _("This hit has already been recorded as a finding."))
        return redirect("inspections:finding_detail", pk=existing.pk)
    campaigns = anomalies.campaigns_for(scope, hit.county_id)
    if not campaigns.exists():
        messages.error(
            request, _("No running campaign checks %(county)s: a finding belongs to one.") % {"county": hit.county_name}
        )
        return redirect(back)
    amount = f" {hit.amount}" if hit.amount is not None else ""
    initial = {
        "campaign": campaigns.first(),
        "county": hit.county_id,
        "category": FindingCategory.objects.filter(code="payment", is_active=True).first(),
        "severity": Finding.Severity.MEDIUM,
        "description": f"{hit.kind}：{hit.student} {hit.school} {hit.scheme}{amount}。{hit.detail}".strip(),
        "responsible_level": Finding.Level.SCHOOL if hit.school else Finding.Level.COUNTY,
        "responsible_unit": (hit.school or hit.county_name)[:100],
        "deadline": timezone.localdate() + timezone.timedelta(days=30),
    }
    form = AnomalyFindingForm(
        request.POST or None, scope=scope, counties=[hit.county_id], campaigns=campaigns, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        finding = form.save(commit=False)
        try:
            services.finding_from_anomaly(
                row=hit, finding=finding, acting_user=request.user, scope=scope, request=request
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for f, errs in exc.error_dict.items():
                    form.add_error(f if f in form.fields else None, errs)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("Finding recorded."))
            return redirect("inspections:finding_detail", pk=finding.pk)
    return render(
        request,
        "inspections/finding_new.html",
        {"form": form, "hidden": {}, "hit": hit, "back": back, "source": Finding.Source.ANOMALY.label},
    )


def _pk(value) -> int:
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit() and 0 < len(value) < 19):
        raise Http404
    return int(value)


@role_required(*READERS)
def finding_detail(request, pk, measures_form=None):
    finding = request.scope.get_or_404(
        Finding.objects.select_related("category", "county", "campaign", "item", "village", "created_by"), pk=pk
    )
    steps = finding.steps.select_related("actor").order_by("at", "pk")
    scope = request.scope
    if measures_form is None and scoping.can_submit(scope, finding):
        measures_form = MeasuresForm()
    return render(
        request,
        "inspections/finding_detail.html",
        {
            "finding": finding,
            "steps": steps,
            "photos": list(scope.filter(Photo).filter(finding=finding)),
            "measures_form": measures_form,
            "review_form": ReviewForm() if scoping.can_review(scope, finding) else None,
        },
    )


@require_POST
@role_required(Role.COUNTY_OFFICER, write=True)
def finding_submit(request, pk):
    finding = request.scope.get_or_404(Finding.objects.select_related("campaign"), pk=pk)
    if not scoping.can_submit(request.scope, finding):
        raise PermissionDenied
    # the measures and their evidence photo are saved together or not at all; on any error the form comes
    # back with what was typed and the chosen photo held (jinpin.held_uploads), not an empty form
    form = MeasuresForm(request.POST, held_uploads.files(request))
    if form.is_valid():
        try:
            with transaction.atomic():
                services.finding_submit(
                    finding=finding,
                    measures=form.cleaned_data["measures"],
                    acting_user=request.user,
                    scope=request.scope,
                    request=request,
                )
                if form.cleaned_data.get("evidence"):
                    services.photo_add(
                        campaign=finding.campaign,
                        upload=form.cleaned_data["evidence"],
                        client_uuid=uuid.uuid4(),
                        finding=finding,
                        acting_user=request.user,
                        request=request,
                    )
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            held_uploads.release(request)
            messages.success(request, _("Measures submitted."))
            return redirect("inspections:finding_detail", pk=finding.pk)
    held_uploads.keep(request, form)
    return finding_detail.__wrapped__(request, pk, measures_form=form)


@require_POST
@role_required(Role.INSPECTOR, Role.CITY_ADMIN, write=True)
def finding_review(request, pk):
    finding = request.scope.get_or_404(Finding, pk=pk)
    if not scoping.can_review(request.scope, finding):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if not form.is_valid():
        show_errors(request, form)
        return redirect("inspections:finding_detail", pk=finding.pk)
    fn = services.finding_close if form.cleaned_data["decision"] == "close" else services.finding_return
    try:
        fn(
            finding=finding,
            reason=form.cleaned_data.get("reason") or "",
            acting_user=request.user,
            scope=request.scope,
            request=request,
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Finding closed.") if form.cleaned_data["decision"] == "close" else _("Returned."))
    return redirect("inspections:finding_detail", pk=finding.pk)


# -- home panel ------------------------------------------------------------------------------------------
HOME_TITLE = gettext_lazy("Supervision")


def home_panel(request):
    """Inspectors: their running campaigns and findings awaiting review; officers: findings to answer.
    Overdue findings flagged on both sides. Two queries."""
    scope = request.scope
    if scope.role not in (Role.INSPECTOR, Role.COUNTY_OFFICER, Role.CITY_ADMIN):
        return None
    today = timezone.localdate()
    findings = scope.filter(Finding)
    stats = findings.aggregate(
        open=Count("pk", filter=Q(status__in=[Finding.Status.OPEN, Finding.Status.RETURNED])),
        submitted=Count("pk", filter=Q(status=Finding.Status.SUBMITTED)),
        overdue=Count("pk", filter=Q(deadline__lt=today) & ~Q(status=Finding.Status.CLOSED)),
    )
    overdue = list(findings.overdue(today).select_related("category", "county").order_by("deadline")[:5])
    if scope.role == Role.INSPECTOR and not scope.inspector_county_ids and not any(stats.values()):
        return {
            "title": HOME_TITLE,
            "template": "inspections/home_panel.html",
            "stats": stats,
            "overdue": [],
            "idle": True,
        }
    return {"title": HOME_TITLE, "template": "inspections/home_panel.html", "stats": stats, "overdue": overdue}
