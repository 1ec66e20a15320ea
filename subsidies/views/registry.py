"""The poor-household registry: households and pupils."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jinpin import search
from jinpin.paging import capped_count, estimated_count, keyset_page
from jinpin.scope import role_required

from ..exporters import FULL_ID_ROLES
from .common import PAGE_SIZE, CountedPaginator, _int_param, _search_text


@role_required()
def household_list(request):
    from django.utils import timezone

    from ..models import Household

    plain = request.scope.filter(Household)
    q = _search_text(request)
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
    count = estimated_count(Household).n if request.scope.city_wide and not q else plain.count()
    page = CountedPaginator(qs.annotate(n_students=n_students).order_by("number"), PAGE_SIZE, count=count).get_page(
        request.GET.get("page")
    )
    return render(request, "subsidies/household_list.html", {"page": page, "q": q})


@role_required()
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
            "full_ids": request.scope.role in FULL_ID_ROLES,
        },
    )


@role_required()
def student_list(request):
    from ..models import Enrolment, Student

    year = _int_param(request.GET.get("year"), max_value=9999)
    qs = request.scope.filter(Enrolment).select_related("student__household", "school").order_by("pk")
    if year:
        qs = qs.filter(school_year=year)
    q = _search_text(request)
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
        {"page": page, "q": q, "year": year or "", "full_ids": request.scope.role in FULL_ID_ROLES, "Student": Student},
    )
