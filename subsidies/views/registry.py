"""The poor-household registry: households and pupils."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jinpin import search
from jinpin.forms import clean_text, parse_year, show_errors
from jinpin.paging import CAP, KnownCountPaginator, capped_count, estimated_count, kept_count, keyset_page
from jinpin.scope import role_required

from .. import scoping
from ..scoping import ACCESS
from .common import PAGE_SIZE


@role_required(*ACCESS["households"])
def household_list(request):
    from django.utils import timezone

    from ..models import Household

    plain = request.scope.filter(Household)
    q = clean_text(request.GET.get("q"))
    if q:
        plain = search.people(plain, q, name="head_name", id_number="head_id_number", also=Q(number__startswith=q))
    qs = plain.select_related("village__town", "village__county").with_status_on(timezone.localdate())
    from ..models import Student

    n_students = Subquery(
        Student.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    # 300,000 households city-wide: the unfiltered list is counted by the planner's estimate
    if request.scope.city_wide and not q:
        count = estimated_count(Household).n
    elif q:
        # the matches first (the search's indexes), then their page: ordered by number over the whole table the
        # planner would walk the number index past 300,000 rows looking for a few scattered matches
        ids = list(plain.order_by().values_list("pk", flat=True)[: CAP + 1])
        if len(ids) <= CAP:
            count = len(ids)
            qs = qs.filter(pk__in=ids)
        else:
            count = kept_count(plain)
    else:
        count = kept_count(plain)
    page = KnownCountPaginator(qs.annotate(n_students=n_students).order_by("number"), PAGE_SIZE, count=count).get_page(
        request.GET.get("page")
    )
    return render(request, "subsidies/household_list.html", {"page": page, "q": q})


@role_required(*ACCESS["households"])
def household_detail(request, pk):
    from ..forms import HouseholdStatusForm
    from ..models import Household

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
    return render(
        request,
        "subsidies/household_detail.html",
        {
            "household": household,
            "statuses": household.statuses.select_related("recorded_by"),
            "form": form,
            "students": students,
        },
    )


@role_required(*ACCESS["pupils"])
def student_list(request):
    from ..models import Enrolment, Student

    year = parse_year(request.GET.get("year"))
    qs = request.scope.filter(Enrolment).select_related("student__household", "school").order_by("pk")
    if year:
        qs = qs.filter(school_year=year)
    q = clean_text(request.GET.get("q"))
    if q:
        # the matching pupils first (a trigram index scan), then their enrolments
        qs = qs.filter(student__in=search.people(Student.objects.all(), q))
    # a million enrolments: reached by key, never by OFFSET; counted exactly up to 10,000 (or, for the
    # whole unfiltered city, the planner's estimate)
    if request.scope.city_wide and not (year or q):
        count = estimated_count(Enrolment)
    else:
        count = capped_count(qs)
    page = keyset_page(qs, request.GET, per_page=PAGE_SIZE, count=count)
    return render(
        request,
        "subsidies/student_list.html",
        {
            "page": page,
            "q": q,
            "year": year or "",
            "Student": Student,
            # the bulk action acts on one school year's list; the service refuses pupils owned elsewhere
            "can_promote": bool(year) and scoping.can_change_student(request.scope, None),
        },
    )


# -- one pupil: record, payment details, transfers (the owning side changes; see subsidies.scoping) ------------------
def _student_for(request, pk):
    from ..models import Student

    return request.scope.get_or_404(Student.objects.select_related("household").with_current(), pk=pk)


@role_required()
def student_detail(request, pk):
    from .. import scoping
    from ..forms import DecisionForm, PaymentChangeForm, StudentForm
    from ..models import Enrolment, PaymentDetailChange, PupilTransfer, RequestStatus

    student = _student_for(request, pk)
    scope = request.scope
    can_change = scoping.can_change_student(scope, student)
    sees_payment = can_change or scope.city_wide
    changes = (
        scope.filter(PaymentDetailChange).filter(student=student).select_related("requested_by", "confirmed_by")[:20]
        if sees_payment
        else []
    )
    pending = next((c for c in changes if c.status == RequestStatus.PENDING), None)
    return render(
        request,
        "subsidies/student_detail.html",
        {
            "student": student,
            "enrolments": scope.filter(Enrolment)
            .filter(student=student)
            .select_related("school")
            .order_by("-school_year"),
            "can_change": can_change,
            "sees_payment": sees_payment,
            "changes": changes,
            "pending": pending,
            "can_decide": pending is not None and scoping.can_decide_payment_change(scope, pending, request.user.pk),
            "transfers": scope.filter(PupilTransfer).filter(student=student).select_related("from_school", "to_school"),
            "form": StudentForm(
                initial={
                    "name": student.name,
                    "household_number": student.household.number if student.household_id else "",
                    **{
                        f: getattr(student, f)
                        for f in ("is_orphan", "is_disabled", "is_special_ed", "is_boarder", "is_dibao")
                    },
                }
            )
            if can_change
            else None,
            "payment_form": PaymentChangeForm() if can_change and pending is None else None,
            "decision_form": DecisionForm(),
        },
    )


@role_required(write=True)
@require_POST
def student_edit(request, pk):
    from ..forms import StudentForm
    from ..services.registry import student_update

    student = _student_for(request, pk)
    form = StudentForm(request.POST)
    if not form.is_valid():
        show_errors(request, form)
        return redirect("subsidies:student_detail", pk=pk)
    student_update(
        student=student, acting_user=request.user, scope=request.scope, request=request, **form.record_values()
    )
    messages.success(request, _("Pupil record saved."))
    return redirect("subsidies:student_detail", pk=pk)


@role_required(write=True)
@require_POST
def payment_change_request(request, pk):
    from ..forms import PaymentChangeForm
    from ..services import transfers

    student = _student_for(request, pk)
    form = PaymentChangeForm(request.POST)
    if form.is_valid():
        try:
            transfers.payment_change_request(
                student=student,
                payee=form.cleaned_data["payee"],
                account=form.cleaned_data["account"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                scope=request.scope,
                request=request,
            )
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Change requested: another person responsible for this pupil confirms it."))
    else:
        show_errors(request, form)
    return redirect("subsidies:student_detail", pk=pk)


def _decide(request, form, *, confirm, reject, confirmed, rejected) -> None:
    """A request's confirm / reject buttons (``DecisionForm``): call the service, say what happened."""
    if not form.is_valid():
        show_errors(request, form)
        return
    confirming = form.cleaned_data["decision"] == "confirm"
    try:
        (confirm if confirming else reject)(form.cleaned_data["note"])
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, confirmed if confirming else rejected)


@role_required(write=True)
@require_POST
def payment_change_decide(request, pk):
    from ..forms import DecisionForm
    from ..models import PaymentDetailChange
    from ..services import transfers

    change = request.scope.get_or_404(PaymentDetailChange.objects.select_related("student"), pk=pk)
    common = {"change": change, "acting_user": request.user, "scope": request.scope, "request": request}
    _decide(
        request,
        DecisionForm(request.POST),
        confirm=lambda note: transfers.payment_change_confirm(**common),
        reject=lambda note: transfers.payment_change_reject(note=note, **common),
        confirmed=_("Payment details changed."),
        rejected=_("Change rejected; the payment details stay as they were."),
    )
    return redirect("subsidies:student_detail", pk=change.student_id)


@role_required(write=True)
@require_POST
def students_promote(request):
    """Bulk action on the pupils list: the ticked pupils (all the user's own, or nothing) are enrolled for the next
    school year on a worker (``subsidies.tasks.students_promote``, queued after commit)."""
    from django.db import transaction

    from .. import scoping, tasks
    from ..forms import PromoteForm
    from ..models import Student

    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the pupils to enrol for the next school year."))
        return redirect("subsidies:student_list")
    ids = sorted(set(form.cleaned_data["ids"]))
    # the same all-or-nothing check the task makes again: a forged id is a 403 here, and writes nothing there
    if scoping.students_owned(request.scope, Student.objects.filter(pk__in=ids)).count() != len(ids):
        raise PermissionDenied
    user_id, year = request.user.pk, form.cleaned_data["from_year"]
    transaction.on_commit(lambda: tasks.students_promote.delay(user_id, ids, year))
    messages.success(request, _("The chosen pupils are being enrolled for %(year)s.") % {"year": year + 1})
    return redirect("subsidies:student_list")


# -- 转学 ------------------------------------------------------------------------------------------------
@role_required()
def transfer_list(request):
    """Transfers to act on (the sending side) and those asked by the user's side, newest first."""
    from .. import scoping
    from ..forms import DecisionForm
    from ..models import PupilTransfer, RequestStatus

    scope = request.scope
    qs = scope.filter(PupilTransfer).select_related(
        "student", "from_school__county", "to_school__county", "requested_by", "decided_by"
    )
    status = request.GET.get("status")
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-requested_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "t": t,
            "can_decide": scoping.can_decide_transfer(scope, t, request.user.pk),
            # the receiving side does not learn where the pupil comes from until the move is confirmed
            "shows_from": scope.city_wide
            or (scope.is_county_officer and t.from_school.county_id == scope.county_id)
            or (scope.is_principal and t.from_school_id == scope.school_id)
            or t.status == RequestStatus.CONFIRMED,
        }
        for t in page
    ]
    return render(
        request,
        "subsidies/transfer_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status if status in RequestStatus.values else "",
            "statuses": RequestStatus.choices,
            "can_request": scoping.can_request_transfer(scope, None),
            "decision_form": DecisionForm(),
        },
    )


@role_required(write=True)
def transfer_create(request):
    from .. import scoping
    from ..forms import TransferRequestForm
    from ..services import transfers

    if not scoping.can_request_transfer(request.scope, None):
        raise PermissionDenied
    form = TransferRequestForm(request.POST or None, scope=request.scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfers.transfer_request(
                student=form.student,
                to_school=data["to_school"],
                school_year=data["school_year"],
                stage=data["stage"],
                grade=data["grade"],
                reason=data["reason"],
                acting_user=request.user,
                scope=request.scope,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Transfer requested; the sending side's county office confirms it."))
            return redirect("subsidies:transfer_list")
    return render(request, "subsidies/transfer_form.html", {"form": form})


@role_required(write=True)
@require_POST
def transfer_decide(request, pk):
    from ..forms import DecisionForm
    from ..models import PupilTransfer
    from ..services import transfers

    transfer = request.scope.get_or_404(PupilTransfer, pk=pk)
    common = {"transfer": transfer, "acting_user": request.user, "scope": request.scope, "request": request}
    _decide(
        request,
        DecisionForm(request.POST),
        confirm=lambda note: transfers.transfer_confirm(note=note, **common),
        reject=lambda note: transfers.transfer_reject(note=note, **common),
        confirmed=_("Transfer confirmed: the pupil is now enrolled at the receiving school."),
        rejected=_("Transfer rejected."),
    )
    return redirect("subsidies:transfer_list")


@role_required()
def payment_change_list(request):
    """Changes of payee or bank account waiting for a second person (four eyes), then the latest decided."""
    from .. import scoping
    from ..models import PaymentDetailChange, RequestStatus

    scope = request.scope
    qs = scope.filter(PaymentDetailChange).select_related("student", "requested_by", "confirmed_by")
    status = request.GET.get("status") or RequestStatus.PENDING
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-requested_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/payment_change_list.html",
        {
            "page": page,
            "status": status,
            "statuses": RequestStatus.choices,
            "may_decide": scoping.can_change_student(scope, None),
        },
    )
