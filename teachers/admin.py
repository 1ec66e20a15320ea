"""The city administrator's reference data: honour titles, the training rule, targets, honour tiers.

Everyday records (teachers, movements, training) are kept through the app's own scoped pages.
"""

from django.contrib import admin

from .models import HonourTitle, RuralHonourTier, Target, TrainingRule


@admin.register(HonourTitle)
class HonourTitleAdmin(admin.ModelAdmin):
    list_display = ["name", "is_backbone", "is_famous", "order"]
    list_editable = ["is_backbone", "is_famous", "order"]


@admin.register(TrainingRule)
class TrainingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "threshold",
        "levels",
        "period_start",
        "period_end",
        "posts",
        "poverty",
        "stages",
        "is_active",
    ]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "metric", "start", "end", "value", "county"]
    list_filter = ["metric", "county"]


@admin.register(RuralHonourTier)
class RuralHonourTierAdmin(admin.ModelAdmin):
    list_display = ["years", "name"]
