"""Fresh planner statistics after a bulk change.

PostgreSQL plans each statement from the statistics its last ANALYZE took (autovacuum's, a minute or more
after a change is committed). After a bulk step -- a batch writing a city's awards, a county's awards moved to
another status, a month of payout lines settled -- those statistics describe other rows: values that are now
most of the table (new ids, a new status) are estimated at one row, and the planner picks nested loops that run
for minutes over tens of thousands of rows (seen on PostgreSQL 18 in the demo year, inside the test suite,
where every test empties and refills the tables). The PostgreSQL manual's advice for bulk loads is to ANALYZE
right after them: ``refresh_statistics`` does that for the tables a step changed.

Run inside a transaction it counts the transaction's own rows (ANALYZE samples rows inserted by the current
transaction as live). Only the tables the role may analyze are analyzed (their owner, a superuser; on
PostgreSQL 17 and later a role granted MAINTAIN); elsewhere -- the least-privileged application role on an older
server -- it does nothing and autovacuum's statistics are used, as before.
"""

from django.db import connections, router

#: ``quick=True``: the statistics target of a quick refresh (PostgreSQL samples 300 rows per unit: 3,000 rows
#: instead of the default 30,000; ten times faster, and enough for row counts and the few values a bulk step
#: made common). For steps followed by more bulk steps; the last refresh after them is a full one.
QUICK_TARGET = 10


def refresh_statistics(*models, using: str | None = None, quick: bool = False) -> list[str]:
    """ANALYZE the tables of ``models`` that the connection's role may analyze; return their names."""
    if not models:
        return []
    alias = using or router.db_for_write(models[0])
    tables = sorted({m._meta.db_table for m in models})
    connection = connections[alias]
    with connection.cursor() as cur:
        maintain = " OR has_table_privilege(c.oid, 'MAINTAIN')" if connection.pg_version >= 170000 else ""
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = ANY(%s) AND n.nspname = ANY(current_schemas(false)) "
            f"AND (pg_has_role(current_user, c.relowner, 'USAGE'){maintain})",
            [tables],
        )
        allowed = sorted(row[0] for row in cur.fetchall())
        if allowed:
            if quick:
                cur.execute("SELECT set_config('default_statistics_target', %s, false)", [str(QUICK_TARGET)])
            try:
                cur.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in allowed))
            finally:
                if quick:
                    cur.execute("RESET default_statistics_target")
    return allowed
