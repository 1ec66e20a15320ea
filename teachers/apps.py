from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teachers"
    verbose_name = _("Teachers")

    def ready(self):
        from jinpin import audit, registry
        from jinpin.scope import Role

        from . import demo, exporters, invalidation, scoping, views  # noqa: F401 - registrations

        invalidation.connect()
        from .models import (
            Establishment,
            HonourTitle,
            Movement,
            RuralHonourCertificate,
            RuralHonourTier,
            ServicePeriod,
            Target,
            Teacher,
            TrainingAttendance,
            TrainingCourse,
            TrainingRule,
        )

        scoping.register_all()
        audit.register(Teacher, m2m_fields={"honours"})
        for model in (
            ServicePeriod,
            Movement,
            HonourTitle,
            Establishment,
            Target,
            TrainingCourse,
            TrainingAttendance,
            TrainingRule,
            RuralHonourTier,
            RuralHonourCertificate,
        ):
            audit.register(model)

        from jinpin import autocomplete

        from .models import Teacher

        autocomplete.register(
            "teachers",
            Teacher,
            search=("name__icontains",),  # never by ID number: a picker must not find people by it
            label=lambda t: f"{t.name} · {t.school.name if t.school_id else ''}",
            rows=lambda request: request.scope.filter(Teacher).select_related("school"),
        )
        registry.menu(_("Teachers"), "teachers:teacher_list", order=20)
        registry.menu(_("Movements"), "teachers:movement_list", order=21)
        registry.menu(_("Training"), "teachers:compliance", order=22)
        registry.menu(
            _("Vacancies"),
            "teachers:vacancies",
            roles={Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL, Role.AUDITOR},
            order=23,
        )
        registry.menu(_("Rural honours"), "teachers:honours", order=24)
        from . import figures as headline_figures

        headline_figures.register()
        from . import work as work_items

        work_items.register()
        registry.home_panel(views.home_panel, order=20)
        registry.demo_seeder(demo.seed_teachers, order=20)
