"""``migrate`` as the database owner, then the application role's grants for any new table.

When ``APP_DATABASE_URL`` or ``DATABASE_ROLE`` is set the default connection is the application role,
which may not create or alter tables; this command swaps in the owner's connection settings
(``DATABASE_URL``) for the run, and afterwards re-grants the application role (``jinpin.db_roles``).
"""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS

from jinpin import db_roles


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        if options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        with db_roles.as_owner() as conn:
            super().handle(*args, **options)
            role = db_roles.app_role()
            if role:
                if db_roles.role_exists(conn, role):
                    db_roles.grant(conn, role)
                else:
                    self.stdout.write(f"role {role} does not exist yet: run manage.py setup_db_roles")
