from django.contrib import admin

from . import services
from .models import RequiredMinimum, SchoolYear, Semester


@admin.register(RequiredMinimum)
class RequiredMinimumAdmin(admin.ModelAdmin):
    """The programme's minimums are data: the city administrator edits them here."""

    list_display = ["name", "code", "evidence", "interval", "required", "is_active", "order"]
    list_editable = ["required", "is_active", "order"]


class SemesterInline(admin.TabularInline):
    model = Semester
    extra = 0


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    """The academic calendar; saving re-derives every activity's semester in one UPDATE."""

    list_display = ["name", "starts_on", "ends_on"]
    inlines = [SemesterInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.calendar_reassign(acting_user=request.user)
