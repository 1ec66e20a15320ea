"""Training (培训): courses, attendance, the 60-hour compliance pages, and the hours import."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jinpin import cache, exports, imports
from jinpin.forms import add_errors, clean_text, parse_choice, parse_id
from jinpin.scope import role_required
from schools.models import County, School

from .. import invalidation, services
from .. import training_compliance as comp
from ..forms import AttendanceForm, CourseForm
from ..importers import TrainingHoursImporter
from ..models import Teacher, TrainingAttendance, TrainingCourse, TrainingLevel, TrainingRule
from .registry import PAGE_SIZE, export_params, pk_param


@role_required()
def course_list(request):
    qs = request.scope.filter(TrainingCourse).select_related("county")
    level = parse_choice(request.GET.get("level"), TrainingLevel.choices)
    if level:
        qs = qs.filter(level=level)
    q = clean_text(request.GET.get("q"))
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code__startswith=q.upper())
    page = Paginator(qs.order_by("-start", "code"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teachers/course_list.html",
        {
            "page": page,
            "can_write": request.scope.can_write(TrainingCourse),
            "can_record": request.scope.can_write(TrainingAttendance),
        },
    )


@role_required(write=True)
def course_create(request):
    request.scope.require_write(TrainingCourse)
    form = CourseForm(request.POST or None, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        course = form.save(commit=False)
        if request.scope.is_county_officer:
            course.county_id = request.scope.county_id  # a county's own course
        try:
            with transaction.atomic():
                course.save()
        except IntegrityError:  # the same code registered meanwhile (a double submit): the unique index decides
            form.add_error("code", _("A course with this code was just registered; reload the course list."))
        else:
            messages.success(request, _("Course “%(name)s” created.") % {"name": course.name})
            return redirect("teachers:course_detail", pk=course.pk)
    return render(request, "teachers/course_form.html", {"form": form})


@role_required()
def course_detail(request, pk):
    course = request.scope.get_or_404(TrainingCourse, pk=pk)
    attendances = request.scope.filter(TrainingAttendance).filter(course=course).select_related("teacher__school")
    page = Paginator(attendances.order_by("teacher__name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teachers/course_detail.html",
        {"course": course, "page": page, "can_record": request.scope.can_write(TrainingAttendance)},
    )


@role_required(write=True)
def attendance_create(request):
    """Record one training attendance; ``?teacher=<pk>`` fixes the teacher, ``?course=<pk>`` preselects the course."""
    request.scope.require_write(TrainingAttendance)
    teacher = None
    if request.GET.get("teacher"):
        teacher = request.scope.get_or_404(Teacher, write=True, pk=pk_param(request.GET["teacher"]))
    initial = {"course": parse_id(request.GET["course"])} if parse_id(request.GET.get("course")) is not None else None
    form = AttendanceForm(request.POST or None, scope=request.scope, teacher=teacher, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.attendance_record(
                teacher=form.teacher,
                course=d["course"],
                hours=d["hours"],
                completed_on=d["completed_on"],
                certificate_no=d["certificate_no"],
                acting_user=request.user,
            )
        except ValidationError as e:
            add_errors(form, e)
        else:
            messages.success(
                request,
                _("%(hours)s hours of “%(course)s” recorded for %(name)s.")
                % {"hours": d["hours"], "course": d["course"].name, "name": form.teacher.name},
            )
            return redirect("teachers:teacher_detail", pk=form.teacher.pk)
    return render(request, "teachers/attendance_form.html", {"form": form, "teacher": teacher})


def _compliance_context(request):
    """The rule, and the narrowing (county / school) the user asked for, within their scope."""
    rules = list(request.scope.filter(TrainingRule).filter(is_active=True))
    rule = None
    rule_pk = parse_id(request.GET.get("rule"))
    if rule_pk is not None:
        rule = next((r for r in rules if r.pk == rule_pk), None)
    rule = rule or comp.active_rule()
    school = county = None
    if request.scope.is_principal:
        school = request.scope.get_or_404(School.objects.select_related("county"), pk=request.scope.school_id)
    elif parse_id(request.GET.get("school")) is not None:
        school = request.scope.get_or_404(School.objects.select_related("county"), pk=parse_id(request.GET["school"]))
    if school is None:
        if request.scope.is_county_officer:
            county = request.scope.get_or_404(County, pk=request.scope.county_id)
        elif parse_id(request.GET.get("county")) is not None:
            county = request.scope.get_or_404(County, pk=parse_id(request.GET["county"]))
    return rules, rule, county, school


@role_required()
def compliance(request):
    """City → county → school: the counts per group, and at school level who is short and by how much."""
    rules, rule, county, school = _compliance_context(request)
    ctx = {"rules": rules, "rule": rule, "county": county, "school": school}
    if rule is None:
        return render(request, "teachers/compliance.html", ctx)
    teachers = request.scope.filter(Teacher)
    if school is not None:
        teachers = teachers.filter(school=school)
        qs = comp.compliance(rule, teachers).select_related("school").order_by("hours", "name", "pk")
        if request.GET.get("short") != "0":
            qs = qs.filter(hours__lt=rule.threshold)
        ctx["page"] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        comp.with_shortfall(rule, ctx["page"])
        ctx["level"] = "school"
        ctx["only_short"] = request.GET.get("short") != "0"
        ctx["can_record"] = request.scope.can_write(TrainingAttendance)
        ctx["totals"] = comp.totals(rule, teachers)
        return render(request, "teachers/compliance.html", ctx)
    # the county and city summaries aggregate every teacher's hours: kept in the shared cache
    # until a teacher, training or school write commits (teachers/invalidation.py)
    scope = request.scope
    key = ("training", scope.role, scope.county_id, scope.school_id, rule.pk, county.pk if county else None)
    if county is not None:
        teachers = teachers.filter(school__county=county)
        rows = cache.cached(
            invalidation.AREA,
            key,
            lambda: list(comp.summary_by(rule, teachers, "school_id", "school__name", "school__code")),
        )
        ctx["rows"] = sorted(rows, key=lambda r: (-r["short"], r["school__code"]))
        ctx["level"] = "county"
    else:
        rows = cache.cached(
            invalidation.AREA,
            key,
            lambda: list(
                comp.summary_by(rule, teachers, "school__county_id", "school__county__name", "school__county__order")
            ),
        )
        ctx["rows"] = sorted(rows, key=lambda r: r["school__county__order"])
        ctx["level"] = "city"
    ctx["totals"] = cache.cached(invalidation.AREA, (*key, "totals"), lambda: comp.totals(rule, teachers))
    return render(request, "teachers/compliance.html", ctx)


@role_required()
@require_POST
def compliance_export(request):
    params = export_params(request, ("rule", "county", "school", "short"))
    job = exports.start(request, "teachers.compliance", params)
    return redirect("job_detail", pk=job.pk)


@role_required()
def import_template(request):
    return imports.template_response(TrainingHoursImporter)


@role_required(write=True)
def import_hours(request):
    if not request.scope.can_write(TrainingAttendance):
        raise PermissionDenied
    return imports.upload_view(
        request, TrainingHoursImporter, template_name="teachers/import.html", success_url=reverse("teachers:compliance")
    )
