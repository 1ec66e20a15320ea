from django.contrib import admin

from .models import County, Membership, School, Town, Village


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]


@admin.register(Town)
class TownAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "county"]
    list_filter = ["county"]
    search_fields = ["code", "name"]


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "town", "county", "poverty"]
    list_filter = ["county", "poverty"]
    search_fields = ["code", "name"]
    list_select_related = ["town", "county"]
    autocomplete_fields = ["town"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "county", "stage", "location", "is_weak"]
    list_filter = ["county", "stage", "location", "is_weak"]
    search_fields = ["code", "name"]
    list_select_related = ["county"]
    autocomplete_fields = ["town", "village"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "county", "school", "is_active"]
    list_filter = ["role", "county", "is_active"]
    search_fields = ["user__username", "user__first_name"]
    autocomplete_fields = ["user", "school"]
