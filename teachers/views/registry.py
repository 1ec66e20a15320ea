"""The teacher registry: list, detail with service history, create, edit."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jinpin import cache, exports, paging, privacy
from jinpin.forms import add_errors, parse_id, show_errors
from jinpin.reference import reference_year
from jinpin.scope import role_required

from .. import honours as hon
from .. import invalidation, services
from .. import training_compliance as comp
from ..filters import TeacherFilter
from ..forms import ServicePeriodCloseForm, ServicePeriodForm, TeacherForm
from ..models import ServiceKind, ServicePeriod, Teacher, TeacherStatus

PAGE_SIZE = 50


def pk_param(value: str) -> int:
    """A record id from the query string: anything but a plain number is a 404, never a 500."""
    pk = parse_id(value)
    if pk is None:
        raise Http404
    return pk


def export_params(request, keys) -> dict:
    """The export form's values for ``keys``: plain strings a job can store (PostgreSQL's JSON refuses NUL)."""
    return {k: v for k, v in request.POST.items() if k in keys and v and "\x00" not in v}


def filter_params(request, filterset_cls):
    return export_params(request, filterset_cls.base_filters)


@role_required()
def teacher_list(request):
    # each row's honours as a plain list: ``t.honours.all()`` would build a manager and a queryset per row
    qs = (
        request.scope.filter(Teacher)
        .select_related("school__county")
        .prefetch_related(Prefetch("honours", to_attr="honour_list"))
    )
    f = TeacherFilter(request.GET or None, queryset=qs, scope=request.scope)
    # 100,000 teachers city-wide: the unfiltered list is counted by the planner's estimate, and pages are
    # reached from the edge row's sort values (keyset), never by OFFSET: the last page costs what the first does
    if request.scope.city_wide and paging.unfiltered(request.GET, f):
        count = paging.estimated_count(Teacher)
    else:
        count = paging.Count(paging.kept_count(f.qs))
    page = paging.ordered_keyset_page(f.qs, request.GET, per_page=PAGE_SIZE, count=count)
    return render(
        request,
        "teachers/teacher_list.html",
        {"filter": f, "page": page, "can_write": request.scope.can_write(Teacher)},
    )


@role_required()
def teacher_detail(request, pk):
    teacher = request.scope.get_or_404(Teacher.objects.select_related("school__county", "school__village"), pk=pk)
    can_write = request.scope.can_write(Teacher, teacher)
    rule = comp.active_rule()
    hours = None
    if rule is not None:
        h = comp.annotate_hours(rule, Teacher.objects.filter(pk=teacher.pk)).values_list("hours", flat=True).get()
        hours = {"hours": h, "shortfall": comp.shortfall(rule, h)}
    rural = hon.annotate_rural_days(Teacher.objects.filter(pk=teacher.pk), hon.honour_date(reference_year()))
    rural_days = rural.values_list("rural_days", flat=True).first()
    return render(
        request,
        "teachers/teacher_detail.html",
        {
            "teacher": teacher,
            "can_write": can_write,
            "periods": teacher.service_periods.select_related("school__county", "movement").order_by("-start", "-pk"),
            "movements": teacher.movements.select_related("from_school", "to_school").all(),
            "attendances": teacher.attendances.select_related("course").all(),
            "certificates": teacher.rural_certificates.select_related("tier").all(),
            "honour_titles": teacher.honours.all(),
            "rule": rule,
            "hours": hours,
            "rural_years": hon.years_of(rural_days) if rural_days is not None else 0,
            "period_form": ServicePeriodForm() if can_write else None,
            "close_form": ServicePeriodCloseForm() if can_write else None,
        },
    )


@role_required(write=True)
def teacher_create(request):
    request.scope.require_write(Teacher)
    form = TeacherForm(request.POST or None, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("in_post_since", "hire")}
        try:
            teacher = services.teacher_create(
                acting_user=request.user,
                start=form.cleaned_data.get("in_post_since"),
                kind=ServiceKind.HIRE if form.cleaned_data.get("hire") else ServiceKind.RECORD,
                **data,
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(request, _("Teacher “%(name)s” registered.") % {"name": teacher.name})
            return redirect("teachers:teacher_detail", pk=teacher.pk)
    return render(request, "teachers/teacher_form.html", {"form": form})


@role_required()
def teacher_edit(request, pk):
    teacher = request.scope.get_or_404(Teacher, write=True, pk=pk)
    form = TeacherForm(request.POST or None, instance=teacher, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            try:
                teacher = form.save(commit=False)
                services.teacher_update(
                    teacher=teacher,
                    acting_user=request.user,
                    changed=form.changed_data,
                    honours=form.cleaned_data["honours"] if "honours" in form.changed_data else None,
                )
            except ValidationError as e:
                add_errors(form, e)
                return render(request, "teachers/teacher_form.html", {"form": form, "teacher": teacher})
            messages.success(request, _("Teacher “%(name)s” saved.") % {"name": teacher.name})
        return redirect("teachers:teacher_detail", pk=teacher.pk)
    privacy.reveal_in_form(request, teacher, privacy.TEACHER_ID, privacy.PHONE)
    return render(request, "teachers/teacher_form.html", {"form": form, "teacher": teacher})


@role_required()
@require_POST
def period_add(request, pk):
    teacher = request.scope.get_or_404(Teacher, write=True, pk=pk)
    request.scope.require_write(ServicePeriod)
    form = ServicePeriodForm(request.POST, scope=request.scope)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.service_period_open(
                teacher=teacher,
                school=d["school"],
                start=d["start"],
                end=d["end"],
                full_time=d["full_time"],
                kind=d["kind"],
                note=d["note"],
                acting_user=request.user,
            )
        except ValidationError as e:
            show_errors(request, e)
        else:
            messages.success(request, _("Service period recorded."))
    else:
        for field, errs in form.errors.items():
            for m in errs:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''} {m}".strip())
    return redirect("teachers:teacher_detail", pk=teacher.pk)


@role_required()
@require_POST
def period_close(request, pk, period_pk):
    teacher = request.scope.get_or_404(Teacher, write=True, pk=pk)
    period = request.scope.get_or_404(ServicePeriod.objects.filter(teacher=teacher), write=True, pk=period_pk)
    form = ServicePeriodCloseForm(request.POST)
    if form.is_valid():
        try:
            services.service_period_close(period=period, end=form.cleaned_data["end"], acting_user=request.user)
        except ValidationError as e:
            show_errors(request, e)
        else:
            messages.success(request, _("Service period closed."))
    else:
        messages.error(request, _("Give a valid end date."))
    return redirect("teachers:teacher_detail", pk=teacher.pk)


@role_required()
@require_POST
def teacher_export(request):
    job = exports.start(request, "teachers.roster", filter_params(request, TeacherFilter))
    return redirect("job_detail", pk=job.pk)


HOME_TITLE = gettext_lazy("Teachers")


def home_panel(request):
    """Staff, training shortfall and honours owed in the user's area (four aggregate queries)."""
    scope = request.scope
    if scope.role is None:
        return None
    teachers = scope.filter(Teacher)
    rule = comp.active_rule()
    year = reference_year()

    def figures():
        stats = teachers.aggregate(
            total=Count("pk", filter=Q(status=TeacherStatus.ACTIVE)),
            poor=Count(
                "pk", filter=Q(status=TeacherStatus.ACTIVE, school__village__poverty__in=["provincial", "municipal"])
            ),
        )
        training = comp.totals(rule, teachers) if rule else None
        owed = hon.owed(teachers, year).count()
        return stats, training, owed

    # city- or county-wide aggregates: kept in the shared cache until a teacher or school write commits
    stats, training, owed = cache.cached(
        invalidation.AREA,
        ("home", scope.role, scope.county_id, scope.school_id, rule.pk if rule else None, year),
        figures,
    )
    return {
        "title": HOME_TITLE,
        "template": "teachers/home_panel.html",
        "stats": stats,
        "rule": rule,
        "training": training,
        "owed": owed,
        "year": year,
    }
