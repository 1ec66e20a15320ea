import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jinpin.filters import ScopedFilterSet
from jinpin.forms import parse_id
from schools.models import County, School

from .models import Award, AwardStatus, Period, Scheme


class AwardFilter(ScopedFilterSet):
    """Filters of the award list, of its bulk actions ("all matching") and of its export."""

    q = django_filters.CharFilter(label=_("Student name or ID"), method="search")
    period = django_filters.ModelChoiceFilter(label=_("Period"), queryset=Period.objects.all())
    scheme = django_filters.ModelChoiceFilter(label=_("Scheme"), queryset=Scheme.objects.all())
    county = django_filters.ModelChoiceFilter(label=_("County"), queryset=County.objects.all())
    school = django_filters.CharFilter(label=_("School code"), method="by_school")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AwardStatus.choices)

    class Meta:
        model = Award
        fields = ["q", "period", "scheme", "county", "school", "status"]

    def __init__(self, data=None, *args, scope, **kwargs):
        super().__init__(data, *args, scope=scope, **kwargs)
        self.filters["county"].queryset = scope.filter(County)

    def by_school(self, qs, name, value):
        """A school code (or id), not a drop-down: a city has thousands of schools."""
        value = value.strip()
        if not value:
            return qs
        pk = parse_id(value)
        if pk is None:
            return qs.none()
        schools = self.scope.filter(School)
        schools = schools.filter(code=value) if len(value) == 10 else schools.filter(pk=pk)
        return qs.filter(school__in=schools)

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(student__name__icontains=value) | Q(student__id_number=value.upper()))


FILTER_KEYS = ("q", "period", "scheme", "county", "school", "status")
