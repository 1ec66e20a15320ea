"""``flush`` as the database owner, allowed past the TRUNCATE guards on the audit and money tables.

Emptying the database is a deliberate act of the owner (and what the test runner does between
transactional tests); the application role has no TRUNCATE right at all.
"""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS

from jinpin import db_roles


class Command(DjangoFlush):
    def handle(self, **options):
        if options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(**options)
        with db_roles.as_owner() as conn:
            with conn.cursor() as cur:
                cur.execute("SET jinpin.allow_truncate = on")
            try:
                return super().handle(**options)
            finally:
                with conn.cursor() as cur:
                    cur.execute("RESET jinpin.allow_truncate")
