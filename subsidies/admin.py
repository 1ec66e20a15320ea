"""Django admin for reference data only (periods, schemes, rates); awards and payments change through services."""

from django.contrib import admin

from .models import Period, RateVersion, Scheme


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "school_year", "starts_on", "ends_on", "decisive_date"]

    def get_readonly_fields(self, request, obj=None):
        # awards froze their facts, rates and allocation year on these: moving them afterwards would make every
        # rerun and anomaly check judge the period on another date than its awards were
        if obj is not None and obj.awards.exists():
            return ["school_year", "starts_on", "ends_on", "decisive_date"]
        return []


class RateInline(admin.TabularInline):
    model = RateVersion
    extra = 0
    fields = ["effective_from", "lines", "average", "note"]

    def has_change_permission(self, request, obj=None):
        return False  # a rate version is never edited: add a new one from a later date

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "amount_rule", "funding_source", "is_active", "order"]
    inlines = [RateInline]
