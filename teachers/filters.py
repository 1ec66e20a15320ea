"""Filters of the teachers app's lists; the same classes filter the Excel exports."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from jinpin import search
from jinpin.filters import ScopedFilterSet
from jinpin.forms import ASCII_DIGITS
from jinpin.widgets import DateInput
from schools.models import County, Poverty

from .models import HonourTitle, Movement, MovementKind, MovementStatus, Post, Teacher, TeacherStatus


class TeacherFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Name or ID number"), method="search")
    county = django_filters.ModelChoiceFilter(
        label=_("County"), field_name="school__county", queryset=County.objects.all()
    )
    school_code = django_filters.CharFilter(label=_("School code"), field_name="school__code")
    post = django_filters.ChoiceFilter(label=_("Post"), choices=Post.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TeacherStatus.choices)
    honour = django_filters.ModelChoiceFilter(
        label=_("Honour title"), field_name="honours", queryset=HonourTitle.objects.all()
    )
    backbone = django_filters.BooleanFilter(label=_("Backbone teacher"), method="by_backbone")
    poor_village = django_filters.BooleanFilter(label=_("In a poor-village school"), method="by_poor")
    o = django_filters.OrderingFilter(
        fields=(("name", "name"), ("birth_date", "birth_date"), ("school__code", "school")), label=_("Sort")
    )

    class Meta:
        model = Teacher
        fields = ["q", "county", "school_code", "post", "status", "honour", "backbone", "poor_village"]

    def search(self, qs, name, value):
        value = value.strip().upper()
        if not value:
            return qs
        # part of a name, or the last digits of the ID (jinpin/search.py); 6 digits or more may also be
        # the start of an ID (an area code)
        start = Q(id_number__startswith=value) if len(value) >= 6 and ASCII_DIGITS.fullmatch(value[:6]) else None
        return search.people(qs, value, also=start)

    def by_backbone(self, qs, name, value):
        backbone = Exists(HonourTitle.objects.filter(teachers=OuterRef("pk"), is_backbone=True))
        return qs.filter(backbone) if value else qs.filter(~backbone)

    def by_poor(self, qs, name, value):
        poor = Q(school__village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])
        return qs.filter(poor) if value else qs.exclude(poor)


class MovementFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Teacher"), method="search")
    county = django_filters.ModelChoiceFilter(
        label=_("County (receiving)"), field_name="to_school__county", queryset=County.objects.all()
    )
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=MovementKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=MovementStatus.choices)
    start_from = django_filters.DateFilter(
        label=_("Starting from"), field_name="start", lookup_expr="gte", widget=DateInput()
    )
    start_to = django_filters.DateFilter(
        label=_("Starting until"), field_name="start", lookup_expr="lte", widget=DateInput()
    )
    poor_village = django_filters.BooleanFilter(label=_("Into a poor-village school"), method="by_poor")

    class Meta:
        model = Movement
        fields = ["q", "county", "kind", "status", "start_from", "start_to", "poor_village"]

    def search(self, qs, name, value):
        value = value.strip().upper()
        if not value:
            return qs
        return qs.filter(Q(teacher__name__icontains=value) | Q(teacher__id_number__startswith=value))

    def by_poor(self, qs, name, value):
        poor = Q(to_school__village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])
        return qs.filter(poor) if value else qs.exclude(poor)


class SchoolScopeFilter(ScopedFilterSet):
    """County / school narrowing of the compliance, vacancy and honours pages."""

    county = django_filters.ModelChoiceFilter(
        label=_("County"), field_name="school__county", queryset=County.objects.all()
    )
    school_code = django_filters.CharFilter(label=_("School code"), field_name="school__code")

    class Meta:
        model = Teacher
        fields = ["county", "school_code"]
