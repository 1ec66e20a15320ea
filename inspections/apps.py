from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inspections"
    verbose_name = _("Supervision")

    def ready(self):
        from jinpin import audit, registry
        from jinpin.scope import Role

        from . import demo, exporters, field_data, scoping, views  # noqa: F401 - registrations
        from .models import (
            HEAVY,
            Assignment,
            Campaign,
            ChecklistItem,
            CheckResult,
            CityDepartment,
            Draw,
            Finding,
            FindingCategory,
            Group,
            HouseholdCheck,
            HouseholdResponsibility,
            PaymentTrace,
            Photo,
            RectificationStep,
        )

        scoping.register_all()
        field_data.connect()
        for model in (
            Campaign,
            Group,
            Assignment,
            CityDepartment,
            ChecklistItem,
            FindingCategory,
            Draw,
            HouseholdCheck,
            CheckResult,
            Photo,
            Finding,
            RectificationStep,
            PaymentTrace,
            HouseholdResponsibility,
        ):
            audit.register(
                model,
                exclude_fields=list(HEAVY) if model is Draw else None,
                m2m_fields={Group: {"members"}, Assignment: {"counties", "departments"}}.get(model),
            )
        everyone = {Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.INSPECTOR, Role.AUDITOR}
        registry.menu(_("Campaigns"), "inspections:campaign_list", roles=everyone, order=60)
        registry.menu(_("Findings"), "inspections:finding_list", roles=everyone, order=61)
        registry.menu(_("Lists kept as data"), "inspections:lists", roles={Role.CITY_ADMIN}, order=62)
        from . import figures as headline_figures

        headline_figures.register()
        from . import work as work_items

        work_items.register()
        registry.home_panel(views.home_panel, order=60)
        # before the subsidies demo (50): the campaign's population is exactly the planned one
        registry.demo_seeder(demo.seed_inspections, order=45)
        # after it: the payment audit needs paid payout lines
        registry.demo_seeder(demo.seed_payment_audit, order=70)
