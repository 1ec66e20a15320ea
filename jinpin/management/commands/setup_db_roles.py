"""Create or update the application's database role and its grants (idempotent; any PostgreSQL)."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jinpin import db_roles


class Command(BaseCommand):
    help = (
        "Create/update the role the running application connects as (owns nothing; SELECT/INSERT only on the "
        "audit log) and grant it its rights on this database. Runs as the owner (DATABASE_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--app-role", help="the role's name (default: APP_DATABASE_URL's user or DATABASE_ROLE)")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="set the role's password from this environment variable (default: APP_DATABASE_URL's password)",
        )
        parser.add_argument("--nologin", action="store_true", help="a role only switched to (DATABASE_ROLE), no login")
        parser.add_argument("--check", action="store_true", help="only report what is wrong; exit 1 if anything is")

    def handle(self, *args, app_role=None, password_env=None, nologin=False, check=False, **options):
        from django.conf import settings

        role = app_role or db_roles.app_role()
        if not role:
            raise CommandError("Name the role: --app-role jinpin_app (or set APP_DATABASE_URL / DATABASE_ROLE).")
        password = os.environ.get(password_env) if password_env else None
        if password_env and not password:
            raise CommandError(f"{password_env} is empty.")
        if password is None and not app_role and settings.DATABASES["default"].get("USER") == role:
            password = settings.DATABASES["default"].get("PASSWORD") or None
        with db_roles.as_owner() as conn:
            if not check:
                with transaction.atomic(using=conn.alias):
                    for line in db_roles.ensure_role(conn, role, password=password, login=not nologin):
                        self.stdout.write(line)
                    db_roles.grant(conn, role)
            problems = db_roles.check(conn, role)
        for p in problems:
            self.stderr.write(p)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) with role {role}.")
        self.stdout.write(self.style.SUCCESS(f"role {role}: owns nothing, audit tables SELECT/INSERT only"))
