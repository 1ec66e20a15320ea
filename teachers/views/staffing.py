"""Replenishment (补充): establishment and vacancies per school, and the programme's targets."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jinpin.forms import parse_id
from jinpin.reference import reference_year
from jinpin.scope import role_required
from schools.models import County, School

from .. import honours as hon
from ..forms import EstablishmentForm
from ..models import Establishment, Target
from ..selectors import staffing, target_progress
from .registry import PAGE_SIZE


@role_required()
def vacancies(request):
    year = hon.year_from(request.GET.get("year"), reference_year)
    show_all = request.GET.get("all") == "1"
    qs = staffing(request.scope.filter(School).select_related("county", "village"), year).filter(
        establishment__isnull=False
    )
    if not show_all:
        qs = qs.filter(vacancies__gt=0)
    county = parse_id(request.GET.get("county"))
    if county is not None:
        qs = qs.filter(county_id=county)
    qs = qs.order_by("poverty_rank", "-vacancies", "county__order", "code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "teachers/vacancies.html",
        {
            "page": page,
            "year": year,
            "show_all": show_all,
            "counties": request.scope.filter(County),
            "can_write": request.scope.can_write(Establishment),
            "missing": request.scope.filter(School).filter(establishment__isnull=True).count(),
        },
    )


@role_required()
def establishment_edit(request, school_pk):
    school = request.scope.get_or_404(School, pk=school_pk)
    request.scope.require_write(Establishment)
    instance = Establishment.objects.filter(school=school).first() or Establishment(school=school)
    form = EstablishmentForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        if form.has_changed() or instance.pk is None:
            try:
                with transaction.atomic():
                    if instance.pk is None:
                        form.save()
                    else:
                        e = form.save(commit=False)
                        e.save(update_fields=[*form.changed_data, "updated_at"])
            except IntegrityError:  # created meanwhile (a double submit): one establishment per school
                form.add_error(None, _("The establishment of this school was just recorded; reload the page."))
                return render(request, "teachers/establishment_form.html", {"form": form, "school": school})
            messages.success(request, _("Establishment of %(school)s saved.") % {"school": school.name})
        return redirect("teachers:vacancies")
    return render(request, "teachers/establishment_form.html", {"form": form, "school": school})


@role_required()
def targets(request):
    ts = request.scope.filter(Target).select_related("county")
    return render(request, "teachers/targets.html", {"progress": target_progress(ts, request.scope)})
