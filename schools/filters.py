import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jinpin.filters import ScopedFilterSet
from jinpin.forms import parse_id

from .models import County, Location, Poverty, School, Stage, Town, Village


class SchoolFilter(ScopedFilterSet):
    """Filters of the schools list and of its export (the same class serves both)."""

    q = django_filters.CharFilter(label=_("Name or code"), method="search")
    county = django_filters.ModelChoiceFilter(label=_("County"), queryset=County.objects.all())
    town = django_filters.ModelChoiceFilter(label=_("Town"), queryset=Town.objects.all())
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    location = django_filters.ChoiceFilter(label=_("Location class"), choices=Location.choices)
    is_weak = django_filters.BooleanFilter(label=_("Weak school"))
    poverty = django_filters.ChoiceFilter(label=_("Poverty designation"), choices=Poverty.choices, method="by_poverty")
    o = django_filters.OrderingFilter(
        fields=(
            ("code", "code"),
            ("name", "name"),
            ("county__order", "county"),
            ("stage", "stage"),
            ("pupils", "pupils"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = School
        fields = ["q", "county", "town", "stage", "location", "is_weak", "poverty"]

    def __init__(self, data=None, *args, scope, **kwargs):
        super().__init__(data, *args, scope=scope, **kwargs)
        # Towns of one county only (the officer's, or the county chosen in the filter):
        # a city-wide dropdown of every town would be long and slow to render.
        towns = scope.filter(Town)
        county = parse_id((data or {}).get("county")) if not scope.county_id else scope.county_id
        if county is not None:
            towns = towns.filter(county_id=county)
        else:
            towns = towns.none()
        self.filters["town"].queryset = towns

    def search(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(name__icontains=value) | Q(code__startswith=value)) if value else qs

    def by_poverty(self, qs, name, value):
        if value == Poverty.NONE:
            return qs.filter(Q(village__isnull=True) | Q(village__poverty=Poverty.NONE))
        return qs.filter(village__poverty=value)


class VillageFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Name or code"), method="search")
    county = django_filters.ModelChoiceFilter(label=_("County"), queryset=County.objects.all())
    poverty = django_filters.ChoiceFilter(label=_("Poverty designation"), choices=Poverty.choices)

    class Meta:
        model = Village
        fields = ["q", "county", "poverty"]

    def search(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(name__icontains=value) | Q(code__startswith=value)) if value else qs
