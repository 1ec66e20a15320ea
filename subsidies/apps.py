from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subsidies"
    verbose_name = _("Student subsidies")

    def ready(self):
        from jinpin import audit, registry

        from . import demo, exporters, scoping  # noqa: F401 - registrations
        from .models import Allocation, Award, Enrolment, Household, HouseholdStatus, RateVersion, Scheme, Student
        from .services import batch  # noqa: F401 - registers the job kind

        scoping.register_all()
        for model in (Household, HouseholdStatus, Student, Enrolment, Scheme, RateVersion, Award, Allocation):
            audit.register(model)
        registry.demo_seeder(demo.seed_subsidies, order=50)
