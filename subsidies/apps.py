from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subsidies"
    verbose_name = _("Student subsidies")

    def ready(self):
        from jinpin import audit, registry
        from jinpin.scope import Role

        from . import demo, exporters, scoping, views  # noqa: F401 - registrations
        from .models import (
            Allocation,
            Award,
            Enrolment,
            Household,
            HouseholdStatus,
            LoanApplication,
            PayoutBatch,
            RateVersion,
            Recovery,
            Scheme,
            Student,
        )
        from .services import batch  # noqa: F401 - registers the job kind

        scoping.register_all()
        from . import invalidation

        invalidation.connect()
        for model in (
            Household,
            HouseholdStatus,
            Student,
            Enrolment,
            Scheme,
            RateVersion,
            Award,
            Allocation,
            PayoutBatch,
            Recovery,
            LoanApplication,
        ):
            audit.register(model)
        registry.demo_seeder(demo.seed_subsidies, order=50)
        everyone_but_inspectors = {Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL, Role.AUDITOR}
        registry.menu(_("Subsidies"), "subsidies:award_list", roles=everyone_but_inspectors, order=40)
        registry.menu(
            _("Poor households"),
            "subsidies:household_list",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR, Role.INSPECTOR},
            order=38,
        )
        registry.menu(_("Pupils"), "subsidies:student_list", roles=everyone_but_inspectors, order=39)
        registry.menu(
            _("Subsidy batch"), "subsidies:batch", roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR}, order=41
        )
        registry.menu(
            _("Funds"),
            "subsidies:allocation_list",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR},
            order=42,
        )
        registry.menu(_("Schemes"), "subsidies:scheme_list", roles=everyone_but_inspectors, order=43)
        registry.menu(
            _("Payouts"), "subsidies:payout_list", roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR}, order=44
        )
        registry.menu(
            _("Reconciliation"),
            "subsidies:reconciliation",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR},
            order=45,
        )
        registry.menu(
            _("Anomalies"), "subsidies:anomalies", roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR}, order=46
        )
        registry.menu(
            _("Registry matching"),
            "subsidies:matching",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR},
            order=47,
        )
        registry.home_panel(views.home_panel, order=40)
