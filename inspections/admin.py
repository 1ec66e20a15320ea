from django.contrib import admin

from .models import (
    Assignment,
    Campaign,
    ChecklistItem,
    CityDepartment,
    FindingCategory,
    Group,
    HouseholdResponsibility,
)


class GroupInline(admin.TabularInline):
    model = Group
    extra = 0
    filter_horizontal = ["members"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "starts_on", "ends_on", "status"]
    list_filter = ["kind", "status"]
    inlines = [GroupInline]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign"]
    filter_horizontal = ["members"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["group", "departments_to_draw"]
    filter_horizontal = ["counties"]
    readonly_fields = ["departments"]  # drawn, never picked by hand


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "label", "is_active"]
    list_editable = ["label", "is_active"]
    list_display_links = ["code"]


@admin.register(FindingCategory)
class FindingCategoryAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "name"]


@admin.register(CityDepartment)
class CityDepartmentAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "name", "is_active"]


@admin.register(HouseholdResponsibility)
class HouseholdResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["household", "unit", "cadre", "phone", "since"]
    raw_id_fields = ["household"]
