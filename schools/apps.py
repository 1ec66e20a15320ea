from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "schools"
    verbose_name = _("Schools registry")

    def ready(self):
        from jinpin import audit, registry
        from jinpin.scope import Role

        from . import demo, exporters, scoping, views  # noqa: F401 - registrations
        from .models import County, Membership, School, Town, Village

        scoping.register_all()
        for model in (County, Town, Village, School, Membership):
            audit.register(model)
        from jinpin import autocomplete

        autocomplete.register(
            "schools",
            School,
            search=("name__icontains", "code__startswith"),
            label=lambda s: f"{s.name}（{s.code}）",
            order=("county_id", "name", "pk"),
        )
        registry.menu(_("Schools"), "schools:school_list", order=10)
        registry.menu(_("Villages"), "schools:village_list", order=11)
        registry.home_panel(views.home_panel, order=10)
        registry.demo_seeder(demo.seed_places, order=10)
        registry.demo_seeder(demo.seed_users, order=11)
        registry.menu(_("Audit log"), "audit_log", roles={Role.CITY_ADMIN, Role.AUDITOR}, order=900)
