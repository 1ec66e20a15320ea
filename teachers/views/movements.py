"""Rotation and exchange (交流轮岗): plan a movement, start it, complete or cancel it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jinpin import exports, privacy
from jinpin.forms import show_errors
from jinpin.scope import role_required

from .. import services
from ..filters import MovementFilter
from ..forms import MovementForm, TransitionForm
from ..models import Movement, MovementStatus, Teacher
from .registry import PAGE_SIZE, filter_params, pk_param


@role_required()
def movement_list(request):
    qs = request.scope.filter(Movement).select_related(
        "teacher", "from_school", "to_school__county", "to_school__village"
    )
    f = MovementFilter(request.GET or None, queryset=qs, scope=request.scope)
    page = Paginator(f.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teachers/movement_list.html",
        {"filter": f, "page": page, "can_write": request.scope.can_write(Movement)},
    )


@role_required(write=True)
def movement_create(request):
    request.scope.require_write(Movement)
    teacher = None
    if request.GET.get("teacher"):
        teacher = request.scope.get_or_404(Teacher, pk=pk_param(request.GET["teacher"]))
    form = MovementForm(request.POST or None, scope=request.scope, teacher=teacher)
    if request.method == "POST" and form.is_valid():
        movement = form.save(commit=False)
        movement.created_by = request.user
        movement.save()
        messages.success(request, _("Movement planned."))
        return redirect("teachers:movement_detail", pk=movement.pk)
    if teacher is not None:
        privacy.reveal_in_form(request, teacher, privacy.TEACHER_ID)
    return render(request, "teachers/movement_form.html", {"form": form})


@role_required()
def movement_detail(request, pk):
    movement = request.scope.get_or_404(
        Movement.objects.select_related("teacher__school", "from_school", "to_school__county", "created_by"), pk=pk
    )
    return render(
        request,
        "teachers/movement_detail.html",
        {
            "movement": movement,
            "can_write": request.scope.can_write(Movement, movement),
            "form": TransitionForm(
                initial={"on": movement.start if movement.status == MovementStatus.PLANNED else movement.end}
            ),
            "periods": movement.service_periods.select_related("school"),
        },
    )


ACTIONS = {"start": services.movement_start, "complete": services.movement_complete, "cancel": services.movement_cancel}


@role_required()
@require_POST
def movement_transition(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    movement = request.scope.get_or_404(
        Movement.objects.select_related("teacher", "from_school", "to_school"), write=True, pk=pk
    )
    form = TransitionForm(request.POST)
    if action != "cancel" and not form.is_valid():
        messages.error(request, _("Give a valid date."))
        return redirect("teachers:movement_detail", pk=pk)
    kwargs = {"movement": movement, "acting_user": request.user}
    if action != "cancel":
        kwargs["on"] = form.cleaned_data["on"]
    try:
        ACTIONS[action](**kwargs)
    except ValidationError as e:
        show_errors(request, e)
    else:
        messages.success(request, _("Movement is now “%(status)s”.") % {"status": movement.get_status_display()})
    return redirect("teachers:movement_detail", pk=pk)


@role_required()
@require_POST
def movement_export(request):
    job = exports.start(request, "teachers.movements", filter_params(request, MovementFilter))
    return redirect("job_detail", pk=job.pk)
