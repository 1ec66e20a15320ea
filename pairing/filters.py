import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jinpin.filters import ScopedFilterSet
from jinpin.widgets import DateInput
from schools.models import County

from .models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementForm,
    AgreementStatus,
    Donation,
    DonationCategory,
    SchoolYear,
)


def _search_agreements(qs, prefix, value):
    value = value.strip()
    if not value:
        return qs
    from .models import AgreementSchool

    linked = AgreementSchool.objects.filter(school__name__icontains=value).values("agreement_id")
    return qs.filter(Q(**{f"{prefix}helping_school__name__icontains": value}) | Q(**{f"{prefix}pk__in": linked}))


class AgreementFilter(ScopedFilterSet):
    """Filters of the agreements list and of the agreements register export."""

    q = django_filters.CharFilter(label=_("School name"), method="search")
    county = django_filters.ModelChoiceFilter(label=_("County"), queryset=County.objects.all())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AgreementStatus.choices)
    form = django_filters.ChoiceFilter(label=_("Form"), choices=AgreementForm.choices)

    class Meta:
        model = Agreement
        fields = ["q", "county", "status", "form"]

    def search(self, qs, name, value):
        return _search_agreements(qs, "", value)


class ActivityFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("School name"), method="search")
    county = django_filters.ModelChoiceFilter(
        label=_("County"), queryset=County.objects.all(), field_name="agreement__county"
    )
    kind = django_filters.ChoiceFilter(label=_("Activity type"), choices=ActivityKind.choices)
    school_year = django_filters.ModelChoiceFilter(label=_("School year"), queryset=SchoolYear.objects.all())
    start = django_filters.DateFilter(label=_("From"), field_name="held_on", lookup_expr="gte", widget=DateInput())
    end = django_filters.DateFilter(label=_("To"), field_name="held_on", lookup_expr="lte", widget=DateInput())
    agreement = django_filters.NumberFilter(label=_("Agreement"), field_name="agreement_id")

    class Meta:
        model = Activity
        fields = ["q", "county", "kind", "school_year", "start", "end", "agreement"]

    def search(self, qs, name, value):
        return _search_agreements(qs, "agreement__", value)


class DonationFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("School name"), method="search")
    county = django_filters.ModelChoiceFilter(
        label=_("County"), queryset=County.objects.all(), field_name="agreement__county"
    )
    category = django_filters.ChoiceFilter(label=_("Category"), choices=DonationCategory.choices)
    start = django_filters.DateFilter(label=_("From"), field_name="donated_on", lookup_expr="gte", widget=DateInput())
    end = django_filters.DateFilter(label=_("To"), field_name="donated_on", lookup_expr="lte", widget=DateInput())
    received = django_filters.BooleanFilter(
        label=_("Receipt confirmed"), field_name="received_on", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Donation
        fields = ["q", "county", "category", "start", "end", "received"]

    def search(self, qs, name, value):
        return _search_agreements(qs, "agreement__", value)
