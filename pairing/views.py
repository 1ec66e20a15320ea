"""Pages of 结对帮扶. Every lookup goes through ``request.scope``: out of scope is 404, read-only is 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import exports, held_uploads, paging
from jinpin.forms import add_errors, parse_id, parse_int, show_errors
from jinpin.reference import reference_date
from jinpin.scope import role_required
from schools.models import County, School
from teachers import invalidation as teachers_invalidation

from . import compliance, selectors, services, uploads
from .filters import ActivityFilter, AgreementFilter, DonationFilter
from .forms import (
    ActivityForm,
    AgreementEditForm,
    AgreementEndForm,
    ConfirmReceiptForm,
    DonationForm,
    ProjectForm,
    SchoolMilestoneForm,
    SecondmentEndForm,
    SecondmentForm,
)
from .models import (
    Activity,
    Agreement,
    AgreementSchool,
    AgreementStatus,
    Attachment,
    Donation,
    SchoolMilestone,
    SchoolMilestoneKind,
    SchoolYear,
    Secondment,
)

PAGE_SIZE = 50


def _agreements(request, *, links_as_list: bool = False):
    """The scope's agreements with their helped schools; ``links_as_list``: as ``a.school_links``, a plain
    list (a list page's rows: ``a.links.all()`` would build a manager and a queryset per row)."""
    links = AgreementSchool.objects.select_related("school").order_by("school__code")
    return (
        request.scope.filter(Agreement)
        .select_related("helping_school", "county")
        .prefetch_related(Prefetch("links", queryset=links, to_attr="school_links" if links_as_list else None))
    )


def _count_of(model, fk):
    """A correlated COUNT subquery: evaluated for the rows of the page only (no GROUP BY over the whole list)."""
    return Coalesce(
        Subquery(
            model.objects.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk")).values("n")[:1]
        ),
        0,
    )


# -- agreements ----------------------------------------------------------------------------
@role_required()
def agreement_list(request):
    qs = (
        _agreements(request, links_as_list=True)
        .only("county__name", "helping_school__name", "form", "signed_on", "status")  # what a row shows
        .annotate(n_activities=_count_of(Activity, "agreement"))
        .order_by("-signed_on", "-pk")
    )
    f = AgreementFilter(request.GET or None, queryset=qs, scope=request.scope)
    # the count kept while agreements are unchanged (a county's scope subqueries planned on every request)
    page = paging.KeptCountPaginator(f.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "pairing/agreement_list.html",
        {"filter": f, "page": page, "can_write": request.scope.can_write(Agreement)},
    )


@role_required(write=True)
def agreement_create(request):
    request.scope.require_write(Agreement)
    form = AgreementEditForm(request.POST or None, held_uploads.files(request), scope=request.scope)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(
                **form.agreement_fields(), acting_user=request.user, scope=request.scope
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            held_uploads.release(request)
            messages.success(request, _("Draft agreement saved. Activate it once it is signed."))
            return redirect("pairing:agreement_detail", pk=agreement.pk)
    held_uploads.keep(request, form)
    return render(request, "pairing/agreement_form.html", {"form": form})


@role_required()
def agreement_edit(request, pk):
    agreement = request.scope.get_or_404(Agreement, write=True, pk=pk)
    if agreement.status != AgreementStatus.DRAFT:
        messages.error(request, _("Only a draft agreement can be edited."))
        return redirect("pairing:agreement_detail", pk=pk)
    initial = {
        "helping_school": agreement.helping_school_id,
        "helped_schools": list(agreement.links.values_list("school_id", flat=True)),
        **{f: getattr(agreement, f) for f in ("form", "signed_on", "starts_on", "ends_on", "content")},
    }
    form = AgreementEditForm(request.POST or None, held_uploads.files(request), initial=initial, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_update(agreement=agreement, **form.agreement_fields(), acting_user=request.user)
        except ValidationError as e:
            add_errors(form, e)
        else:
            held_uploads.release(request)
            messages.success(request, _("Agreement saved."))
            return redirect("pairing:agreement_detail", pk=pk)
    held_uploads.keep(request, form)
    return render(request, "pairing/agreement_form.html", {"form": form, "agreement": agreement})


@role_required()
@require_POST
def agreement_activate(request, pk):
    agreement = request.scope.get_or_404(Agreement, write=True, pk=pk)
    try:
        services.agreement_activate(agreement=agreement, acting_user=request.user)
    except ValidationError as e:
        show_errors(request, e)
    else:
        messages.success(request, _("The agreement is active."))
    return redirect("pairing:agreement_detail", pk=pk)


@role_required()
def agreement_end(request, pk):
    agreement = request.scope.get_or_404(Agreement, write=True, pk=pk)
    return _simple_form(
        request,
        AgreementEndForm(request.POST or None),
        agreement,
        _("End the agreement"),
        lambda d: services.agreement_end(
            agreement=agreement, ended_on=d["ended_on"], reason=d["reason"], acting_user=request.user
        ),
        success=_("The agreement has ended."),
    )


@role_required()
def agreement_detail(request, pk):
    agreement = request.scope.get_or_404(_agreements(request), pk=pk)
    scope = request.scope
    today = timezone.localdate()
    # the years up to the latest with records (not the empty years of the clock after them); states by today
    years = [
        y
        for y in compliance.years_upto(reference_date())
        if y.ends_on >= agreement.starts_on and (agreement.span_end is None or y.starts_on <= agreement.span_end)
    ]
    cells = compliance.attach_evidence(
        compliance.cells(Agreement.objects.filter(pk=agreement.pk), years=years, today=today), agreement
    )
    periods = selectors.compliance_grid(cells, years)  # [(label, [cells])] newest first
    year_by_id = {y.pk: y for y in years}
    helped_ids = [link.school_id for link in agreement.links.all()]
    milestones = {(m.school_id, m.kind): m for m in SchoolMilestone.objects.filter(school_id__in=helped_ids)}
    milestone_rows = [
        (link.school, [(k, milestones.get((link.school_id, k))) for k in SchoolMilestoneKind.values])
        for link in agreement.links.all()
    ]
    donations = list(agreement.donations.select_related("recipient", "received_by"))
    ctx = {
        "agreement": agreement,
        "periods": periods,
        "year_by_id": year_by_id,
        "activities": agreement.activities.select_related("semester__school_year").annotate(
            n_files=_count_of(Attachment, "activity")
        )[:20],
        "n_activities": agreement.activities.count(),
        "secondments": agreement.secondments.select_related("from_school", "to_school"),
        "projects": agreement.projects.all(),
        "donations": donations,
        "milestone_rows": milestone_rows,
        "can_manage": scope.can_write(Agreement, agreement),
        "can_log": agreement.is_active and scope.can_write(Activity, agreement),
        # the links offered are exactly those the target views accept (no link that ends in a 403)
        "milestone_schools": {
            link.school_id for link in agreement.links.all() if _may_set_milestone(scope, link.school)
        },
        "confirmable": {d.pk for d in donations if not d.received_on and _may_confirm(scope, d, agreement)},
    }
    return render(request, "pairing/agreement_detail.html", ctx)


@role_required()
def agreement_document(request, pk):
    agreement = request.scope.get_or_404(Agreement, pk=pk)
    return uploads.serve(
        request,
        agreement.document,
        content_type=agreement.document_type or "application/octet-stream",
        filename=agreement.document_name or "agreement",
        obj=agreement,
    )


# -- the activity log ----------------------------------------------------------------------------
def _loggable(request, pk):
    agreement = request.scope.get_or_404(_agreements(request), pk=pk)
    if request.scope.read_only or not request.scope.can_write(Activity, agreement):
        raise PermissionDenied
    return agreement


@role_required()
def activity_list(request):
    rows = (
        Activity.objects.select_related("agreement__helping_school", "semester__school_year", "created_by")
        # only what a row shows: 50 rows of six joined models cost more to build than to read
        .only(
            "held_on",
            "kind",
            "place",
            "online_link",
            "pupils",
            "agreement__helping_school__name",
            "semester__number",
            "semester__school_year__name",
            "created_by__username",
            "created_by__first_name",
            "created_by__last_name",
        )
        .annotate(n_files=_count_of(Attachment, "activity"))
    )
    qs = request.scope.filter(Activity).order_by("-held_on", "-pk")
    f = ActivityFilter(request.GET or None, queryset=qs, scope=request.scope)
    # a million activities city-wide: newest first by (date, key) from the page's edge row, never OFFSET;
    # the unfiltered city-wide list counted by the planner's estimate, any other by a capped count
    if request.scope.city_wide and paging.unfiltered(request.GET, f):
        count = paging.estimated_count(Activity)
    else:
        count = paging.capped_count(f.qs)
    # the page's keys from the filtered, scoped list, its rows by key (jinpin.paging.fetch_page)
    page = paging.date_keyset_page(f.qs, request.GET, field="held_on", per_page=PAGE_SIZE, count=count, rows_from=rows)
    return render(request, "pairing/activity_list.html", {"filter": f, "page": page})


@role_required()
def activity_create(request, pk):
    agreement = _loggable(request, pk)
    form = ActivityForm(
        request.POST or None,
        held_uploads.files(request),
        agreement=agreement,
        scope=request.scope,
        initial={"held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            activity = services.activity_log(
                agreement=agreement,
                kind=d["kind"],
                held_on=d["held_on"],
                summary=d["summary"],
                place=d["place"],
                online_link=d["online_link"],
                pupils=d["pupils"],
                participants=list(d.get("participants") or []),
                files=form.checked_files,
                acting_user=request.user,
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            held_uploads.release(request)
            messages.success(request, _("Activity logged."))
            return redirect("pairing:activity_detail", pk=activity.pk)
    held_uploads.keep(request, form)
    return render(request, "pairing/activity_form.html", {"form": form, "agreement": agreement})


@role_required()
def activity_detail(request, pk):
    qs = request.scope.filter(Activity).select_related(
        "agreement__helping_school", "semester__school_year", "school_year", "created_by"
    )
    activity = request.scope.get_or_404(qs, pk=pk)
    from . import teachers_link

    return render(
        request,
        "pairing/activity_detail.html",
        {
            "activity": activity,
            "attachments": activity.attachments.all(),
            "participants": teachers_link.participants_of(activity),
        },
    )


@role_required()
def attachment_file(request, pk):
    att = request.scope.get_or_404(Attachment, pk=pk)
    return uploads.serve(
        request, att.file, content_type=att.content_type, filename=att.original_name, obj=att, inline=att.is_image
    )


def _simple_form(request, form, agreement, title, save, success=None):
    """A form on ``pairing/simple_form.html`` whose valid data ``save`` hands to a service; back to the
    agreement when it is saved, the service's errors on the form when not."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as e:
            add_errors(form, e)
        else:
            held_uploads.release(request)
            messages.success(request, success or _("Saved."))
            return redirect("pairing:agreement_detail", pk=agreement.pk)
    held_uploads.keep(request, form)
    return render(request, "pairing/simple_form.html", {"form": form, "agreement": agreement, "title": title})


def _pair_form_view(request, pk, form_cls, template_title, save):
    agreement = _loggable(request, pk)
    form = form_cls(request.POST or None, agreement=agreement)
    return _simple_form(request, form, agreement, template_title, lambda d: save(agreement, d))


@role_required()
def secondment_create(request, pk):
    def save(agreement, d):
        services.secondment_record(
            agreement=agreement,
            direction=d["direction"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            person_name=d["person_name"],
            teacher=d.get("teacher"),
            helped_school=d.get("helped_school"),
            post=d["post"],
            note=d["note"],
            acting_user=request.user,
        )

    return _pair_form_view(request, pk, SecondmentForm, _("Record a secondment"), save)


@role_required()
def secondment_end(request, pk):
    """Record the end of a secondment (and close the teacher's service period)."""
    sec = request.scope.get_or_404(Secondment.objects.select_related("agreement", "service_period"), write=True, pk=pk)
    if request.scope.read_only or not request.scope.can_write(Activity, sec.agreement):
        raise PermissionDenied
    form = SecondmentEndForm(request.POST or None, initial={"ends_on": sec.ends_on or timezone.localdate()})
    return _simple_form(
        request,
        form,
        sec.agreement,
        _("End the secondment of %(name)s") % {"name": sec.person_name},
        lambda d: services.secondment_end(secondment=sec, ends_on=d["ends_on"], acting_user=request.user),
    )


@role_required()
def project_create(request, pk):
    def save(agreement, d):
        services.project_create(
            agreement=agreement,
            title=d["title"],
            started_on=d["started_on"],
            status=d["status"],
            concluded_on=d["concluded_on"],
            outputs=d["outputs"],
            lead_names=d["lead_names"],
            lead_teachers=list(d.get("lead_teachers") or []),
            acting_user=request.user,
        )

    return _pair_form_view(request, pk, ProjectForm, _("Record a joint research project"), save)


@role_required()
def donation_create(request, pk):
    def save(agreement, d):
        services.donation_record(
            agreement=agreement,
            recipient=d["recipient"],
            item=d["item"],
            category=d["category"],
            quantity=d["quantity"],
            value=d["value"],
            donated_on=d["donated_on"],
            acting_user=request.user,
        )

    return _pair_form_view(request, pk, DonationForm, _("Record a donation"), save)


@role_required()
def donation_confirm(request, pk):
    donation = request.scope.get_or_404(Donation.objects.select_related("agreement", "recipient"), write=True, pk=pk)
    return _simple_form(
        request,
        ConfirmReceiptForm(request.POST or None),
        donation.agreement,
        _("Confirm receipt of %(item)s") % {"item": donation},
        lambda d: services.donation_confirm(
            donation=donation, received_on=d["received_on"], acting_user=request.user, scope=request.scope
        ),
        success=_("Receipt confirmed."),
    )


@role_required()
def donation_list(request):
    qs = request.scope.filter(Donation).select_related("agreement__helping_school", "recipient", "received_by")
    f = DonationFilter(request.GET or None, queryset=qs, scope=request.scope)
    totals = f.qs.aggregate(
        n=Count("pk"),
        value=Sum("value"),
        quantity=Sum("quantity"),
        unconfirmed=Count("pk", filter=Q(received_on__isnull=True)),
    )
    page = Paginator(f.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "pairing/donation_list.html", {"filter": f, "page": page, "totals": totals})


def _may_set_milestone(scope, school) -> bool:
    """The helped school's principal, an officer of its county, or the city."""
    return (
        scope.can_write(SchoolMilestone)
        and not (scope.is_principal and scope.school_id != school.pk)
        and not (scope.is_county_officer and school.county_id != scope.county_id)
    )


def _may_confirm(scope, donation, agreement) -> bool:
    """The receiving school's principal, an officer of the agreement's county, or the city (``services.donation_confirm``)."""
    return scope.can_write(Donation, agreement) and (not scope.is_principal or scope.school_id == donation.recipient_id)


@role_required()
def milestone_set(request, pk, school_pk):
    agreement = request.scope.get_or_404(_agreements(request), pk=pk)
    link = next((link for link in agreement.links.all() if link.school_id == school_pk), None)
    if link is None:
        raise PermissionDenied
    scope = request.scope
    if not _may_set_milestone(scope, link.school):
        raise PermissionDenied
    form = SchoolMilestoneForm(
        request.POST or None, held_uploads.files(request), initial={"kind": request.GET.get("kind")}
    )

    def save(d):
        services.milestone_set(
            school=link.school,
            kind=d["kind"],
            status=d["status"],
            drafted_on=d["drafted_on"],
            adopted_on=d["adopted_on"],
            document=d["document"],
            document_type=form.document_type,
            acting_user=request.user,
        )

    title = _("Plan and charter of %(s)s") % {"s": link.school.name}
    return _simple_form(request, form, agreement, title, save)


@role_required()
def milestone_document(request, pk):
    ms = request.scope.get_or_404(SchoolMilestone, pk=pk)
    return uploads.serve(
        request,
        ms.document,
        content_type=ms.document_type or "application/octet-stream",
        filename=ms.document_name or "document",
        obj=ms,
    )


# -- compliance and coverage --------------------------------------------------------------------
def _compliance_params(request):
    scope = request.scope
    counties = scope.filter(County)
    years = list(SchoolYear.objects.filter(starts_on__lte=timezone.localdate()).order_by("-starts_on"))
    year = None
    year_pk = parse_id(request.GET.get("year"))
    if year_pk is not None:
        year = next((y for y in years if y.pk == year_pk), None)
    if year is None:  # by default the year of the reference date: the latest with records
        default = compliance.current_periods()[0]
        year = next((y for y in years if default and y.pk == default.pk), years[0] if years else None)
    county = None
    county_pk = parse_id(request.GET.get("county"))
    if county_pk is not None:
        county = next((c for c in counties if c.pk == county_pk), None)
    return counties, years, year, county


@role_required()
def compliance_page(request):
    """County compliance: the scope's agreements ranked by missed minimums for one school year."""
    counties, years, year, county = _compliance_params(request)
    qs = request.scope.filter(Agreement)
    if county is not None:
        qs = qs.filter(county=county)
    only_missed = request.GET.get("missed") == "1"
    order = request.GET.get("o", "missed")
    page_param = request.GET.get("page", "")
    # a page number past any real list (the database's OFFSET is a bigint) is the first page
    page_no = parse_int(page_param, default=1, min_value=1, max_value=9_999_999)
    rows, total, totals = compliance.cached_ranking(
        request.scope,
        qs,
        key=("page", county.pk if county else None),
        years=[year] if year else [],
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
        order=order,
        only_missed=only_missed,
    )
    by_id = {a.pk: a for a in _agreements(request, links_as_list=True).filter(pk__in=[r[0] for r in rows])}
    ranked = [(by_id[r[0]], r[1], r[2], r[3]) for r in rows if r[0] in by_id]
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "pairing/compliance.html",
        {
            "ranked": ranked,
            "total": total,
            "totals": totals,
            "years": years,
            "year": year,
            "counties": counties,
            "county": county,
            "only_missed": only_missed,
            "order": order,
            "page_no": page_no,
            "pages": pages,
            "offset": (page_no - 1) * PAGE_SIZE,
        },
    )


@role_required()
def coverage(request):
    """Coverage: key-poor-village schools with an active one-to-one agreement; compulsory schools in any agreement."""
    from jinpin import cache

    scope = request.scope
    schools = scope.filter(School)
    which = "compulsory" if request.GET.get("unpaired") == "compulsory" else "key"
    county = parse_id(request.GET.get("county"))

    def compute():
        per_county, city = selectors.coverage_counts(schools)
        unpaired = selectors.unpaired(schools.select_related("county", "village"), which)
        if county is not None:
            unpaired = unpaired.filter(county_id=county)
        page = Paginator(unpaired.order_by("county__order", "code"), PAGE_SIZE).get_page(request.GET.get("page"))
        return per_county, city, page.paginator.count, page.number, list(page.object_list)

    # four aggregates over every school (10,000 city-wide) and their agreements: computed once, then kept in the
    # shared cache under the twinning stamp (any agreement write) and the schools' and villages' stamp ("teachers")
    per_county, city, n_unpaired, number, rows_ = cache.cached(
        teachers_invalidation.AREA,
        (
            "coverage",
            compliance.generation(),
            scope.role,
            scope.county_id,
            scope.school_id,
            which,
            county,
            request.GET.get("page"),
        ),
        compute,
    )
    paginator = paging.KnownCountPaginator(rows_, PAGE_SIZE, count=n_unpaired)
    page = Page(rows_, number, paginator)
    rows = [{"county": c, **selectors.coverage_row(per_county, c.pk)} for c in scope.filter(County)]
    return render(request, "pairing/coverage.html", {"rows": rows, "city": city, "page": page, "which": which})


# -- exports --------------------------------------------------------------------------------------
EXPORTS = {
    "agreements": ("pairing.agreements", AgreementFilter),
    "activities": ("pairing.activities", ActivityFilter),
    "donations": ("pairing.donations", DonationFilter),
    "compliance": ("pairing.compliance", None),
}


@role_required()
@require_POST
def export(request, kind):
    if kind not in EXPORTS:
        raise PermissionDenied
    identifier, filterset = EXPORTS[kind]
    allowed = set(filterset.base_filters) if filterset else {"year", "county", "missed"}
    params = {
        k: v for k, v in request.POST.items() if k in allowed and v and "\x00" not in v
    }  # NUL: not storable as JSON
    job = exports.start(request, identifier, params)
    return redirect("job_detail", pk=job.pk)


# -- home ------------------------------------------------------------------------------------------
HOME_TITLE = gettext_lazy("School twinning")
HOME_PAIRS = 5  # a helping school may be in many pairs: the home page shows those most behind


def home_panel(request):
    """A principal: their pair(s) and what is still due this semester. Officers: the county's picture."""
    scope = request.scope
    if scope.role is None:
        return None
    today = timezone.localdate()  # what is missed is judged against the real clock
    year, semester = compliance.current_periods()  # the latest period with records
    if scope.is_principal:
        agreements = list(_agreements(request).filter(status=AgreementStatus.ACTIVE))
        cells = compliance.cells(
            Agreement.objects.filter(pk__in=[a.pk for a in agreements]), years=[year] if year else [], today=today
        )
        pairs = []
        for a in agreements:
            mine = [c for c in cells if c.agreement_id == a.pk]
            current = [c for c in mine if (c.period_kind == "year") or (semester and c.period_id == semester.pk)]
            pairs.append(
                {
                    "agreement": a,
                    "cells": current,
                    "due": [c for c in current if c.state != compliance.MET],
                    "missed": [c for c in mine if c.state == compliance.MISSED],
                }
            )
        pairs.sort(key=lambda p: (-len(p["missed"]), -len(p["due"]), p["agreement"].pk))
        return {
            "title": HOME_TITLE,
            "template": "pairing/home_panel.html",
            "pairs": pairs[:HOME_PAIRS],
            "semester": semester,
            "year": year,
            "principal": True,
            "more": max(0, len(pairs) - HOME_PAIRS),
        }
    if scope.is_county_officer or scope.is_city_admin or scope.is_auditor or scope.is_inspector:
        qs = scope.filter(Agreement)
        counts = qs.aggregate(
            active=Count("pk", filter=Q(status=AgreementStatus.ACTIVE)),
            draft=Count("pk", filter=Q(status=AgreementStatus.DRAFT)),
        )
        _, total, totals = compliance.cached_ranking(
            scope, qs, key=("home",), years=[year] if year else [], limit=1, only_missed=True
        )
        return {
            "title": HOME_TITLE,
            "template": "pairing/home_panel.html",
            "counts": counts,
            "with_missed": total,
            "totals": totals,
            "year": year,
        }
    return None
