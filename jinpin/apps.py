from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JinpinConfig(AppConfig):
    name = "jinpin"
    verbose_name = _("Programme administration")

    def ready(self):
        from . import (  # noqa: F401 - registers the export job kind
            checks,  # noqa: F401 - registers the deploy checks
            exports,
            imports,  # noqa: F401 - registers the import job kind
            jobs,
            workbook,  # noqa: F401 - registers the year-end workbook exporter
        )
        from .auditchain import register as register_audit_chain

        register_audit_chain()
        from django.db.backends.signals import connection_created

        from . import pagecache

        connection_created.connect(pagecache.install, dispatch_uid="jinpin-pagecache-watch")
        from .render import install_choice_displays

        install_choice_displays()
        from . import registry
        from .dashboard import DASHBOARD_ROLES

        registry.menu(_("Dashboard"), "dashboard", roles=DASHBOARD_ROLES, order=1)
