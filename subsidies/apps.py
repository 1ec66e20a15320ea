from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SubsidiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subsidies"
    verbose_name = _("Student subsidies")

    def ready(self):
        from jinpin import audit, registry

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
        # the menu shows each page to the roles its view admits: both read scoping.ACCESS
        for label, url_name, part, order in (
            (_("Poor households"), "subsidies:household_list", "households", 38),
            (pgettext_lazy("list", "Pupils"), "subsidies:student_list", "pupils", 39),
            (_("Subsidies"), "subsidies:award_list", "awards", 40),
            (_("Subsidy batch"), "subsidies:batch", "batch", 41),
            (_("Funds"), "subsidies:allocation_list", "funds", 42),
            (_("Schemes"), "subsidies:scheme_list", "schemes", 43),
            (_("Payouts"), "subsidies:payout_list", "payouts", 44),
            (_("Reconciliation"), "subsidies:reconciliation", "reconciliation", 45),
            (_("Anomalies"), "subsidies:anomalies", "anomalies", 46),
            (_("Registry matching"), "subsidies:matching", "matching", 47),
        ):
            registry.menu(label, url_name, roles=scoping.ACCESS[part], order=order)
        registry.menu(_("Transfers"), "subsidies:transfer_list", roles=scoping.ACCESS["pupils"], order=39.5)
        registry.menu(
            _("Payment detail changes"), "subsidies:payment_change_list", roles=scoping.ACCESS["pupils"], order=39.6
        )
        from . import figures as headline_figures

        headline_figures.register()
        from . import work as work_items

        work_items.register()
        registry.home_panel(views.home_panel, order=40)
        from .services import seals

        registry.integrity_check(seals.verify_all_seals, messages=seals.MESSAGES)
