from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PairingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pairing"
    verbose_name = _("School twinning")

    def ready(self):
        from jinpin import audit, registry
        from jinpin.scope import Role

        from . import demo, exporters, scoping, views  # noqa: F401 - registrations
        from .models import (
            Activity,
            Agreement,
            AgreementSchool,
            Attachment,
            Donation,
            JointProject,
            RequiredMinimum,
            SchoolMilestone,
            SchoolYear,
            Secondment,
            Semester,
        )

        scoping.register_all()
        for model in (
            Agreement,
            AgreementSchool,
            Activity,
            Attachment,
            Secondment,
            JointProject,
            Donation,
            SchoolMilestone,
            RequiredMinimum,
            SchoolYear,
            Semester,
        ):
            audit.register(model)
        from django.db.models.signals import post_delete, post_save

        from . import compliance

        # any write that can change a compliance state changes the cached results' key
        for model in (
            Agreement,
            AgreementSchool,
            Activity,
            Secondment,
            JointProject,
            SchoolMilestone,
            RequiredMinimum,
            SchoolYear,
            Semester,
        ):
            post_save.connect(compliance.touch, sender=model, dispatch_uid=f"pairing-touch-save-{model.__name__}")
            post_delete.connect(compliance.touch, sender=model, dispatch_uid=f"pairing-touch-delete-{model.__name__}")
        from jinpin import autocomplete

        from . import teachers_link

        autocomplete.register(
            "pair-teachers",
            teachers_link.Teacher,
            search=("name__icontains",),
            label=teachers_link.teacher_label,
            rows=teachers_link.pair_teachers_for_request,
            order=("school_id", "name", "pk"),
            default=False,
        )
        registry.menu(_("Twinning"), "pairing:agreement_list", order=30)
        registry.menu(
            _("Compliance"),
            "pairing:compliance",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR, Role.INSPECTOR},
            order=31,
        )
        registry.menu(
            _("Coverage"),
            "pairing:coverage",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR, Role.INSPECTOR},
            order=32,
        )
        from . import figures as headline_figures

        headline_figures.register()
        from . import work as work_items

        work_items.register()
        registry.home_panel(views.home_panel, order=30)
        registry.demo_seeder(demo.seed_pairing, order=40)
