"""The database role the running application uses: it owns nothing and cannot rewrite history.

Two roles on one database:

* the **owner** (``DATABASE_URL``) owns every table; ``manage.py migrate``, ``setup_db_roles`` and
  ``flush`` run as the owner;
* the **application role** (``APP_DATABASE_URL``, a separate login; or ``DATABASE_ROLE``, which the
  owner's login switches to on connecting) is what ``runserver``, gunicorn and the Celery workers use.
  It may SELECT, INSERT, UPDATE and DELETE ordinary tables and use their sequences, but on the audit
  tables (``AUDIT_TABLES``) only SELECT and INSERT (the chain table: only SELECT, its trigger writes it);
  it owns nothing, so it cannot ALTER, DROP, TRUNCATE, disable a trigger or create a table.

``grant(connection, role)`` is idempotent and is what ``setup_db_roles`` and every ``migrate`` run (so
tables added later get the right grants; default privileges cover tables created by hand). It works on
any PostgreSQL: the owner needs CREATEROLE (or a superuser runs ``setup_db_roles`` once) only to create
the role; the grants need only ownership.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

#: tables whose rows are evidence: the application may read and add, never change or remove
AUDIT_TABLES = ("auditlog_logentry", "jinpin_auditverification")
#: written only by SECURITY DEFINER triggers: the application may only read
TRIGGER_WRITTEN_TABLES = ("jinpin_auditchain", "jinpin_auditpending")
#: read-only for the application
READ_ONLY_TABLES = ("django_migrations",)


def app_role() -> str:
    """The application role's name from the settings ('' when the app connects as the owner)."""
    return getattr(settings, "DATABASE_APP_ROLE", "") or ""


@contextlib.contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS):
    """Run the body on the owner's connection settings (``migrate``, ``flush``, ``setup_db_roles``)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    conn = connections[alias]
    if not owner or alias != DEFAULT_DB_ALIAS:
        yield conn
        return
    saved = conn.settings_dict
    conn.close()
    conn.settings_dict = {**saved, **owner}
    try:
        yield conn
    finally:
        conn.close()
        conn.settings_dict = saved


def _q(conn, name: str) -> str:
    return conn.ops.quote_name(name)


def role_exists(conn, role: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cur.fetchone() is not None


def ensure_role(conn, role: str, *, password: str | None = None, login: bool = True) -> list[str]:
    """Create the role if it does not exist; (re)set its attributes: no superuser, no CREATEDB/CREATEROLE,
    not a member of the owner. Returns what was done."""
    done = []
    r = _q(conn, role)
    with conn.cursor() as cur:
        cur.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        owner, is_super = cur.fetchone()
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            try:
                with conn.cursor() as c2:
                    c2.execute("SAVEPOINT jinpin_role")
                    c2.execute(f"CREATE ROLE {r}")
                    c2.execute("RELEASE SAVEPOINT jinpin_role")
                done.append(f"created role {role}")
            except Exception:  # created meanwhile by another session: go on with ALTER
                with conn.cursor() as c2:
                    c2.execute("ROLLBACK TO SAVEPOINT jinpin_role")
        attrs = "LOGIN" if login else "NOLOGIN"
        # only a superuser may set the superuser, replication and bypass attributes (a role created by a
        # CREATEROLE owner never has them; check() verifies)
        extra = " NOSUPERUSER NOREPLICATION NOBYPASSRLS" if is_super else ""
        cur.execute(f"ALTER ROLE {r} {attrs} NOCREATEDB NOCREATEROLE INHERIT{extra}")
        if password:
            cur.execute(f"ALTER ROLE {r} PASSWORD %s", [password])
            done.append("password set")
        cur.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
        if cur.fetchone()[0]:
            raise RuntimeError(f"role {role} is a member of the owner {owner}: it would have the owner's rights")
        if not is_super:
            # the owner's login may switch to the app role (DATABASE_ROLE); the reverse is impossible
            cur.execute(f"GRANT {r} TO {_q(conn, owner)}")
    return done


def grant(conn, role: str, *, schema: str = "public") -> None:
    """Grant the application role exactly its rights on the current database (idempotent)."""
    r, s = _q(conn, role), _q(conn, schema)
    with conn.cursor() as cur:
        cur.execute("SELECT current_database(), current_user")
        db, owner = cur.fetchone()
        cur.execute(
            "SELECT rel.relname FROM pg_class rel JOIN pg_namespace ns ON ns.oid = rel.relnamespace "
            "WHERE ns.nspname = %s AND rel.relkind IN ('r', 'p')",
            [schema],
        )
        tables = {row[0] for row in cur.fetchall()}
        cur.execute(
            "SELECT pg_has_role(current_user, db.datdba, 'USAGE'), pg_has_role(current_user, ns.nspowner, 'USAGE') "
            "FROM pg_database db, pg_namespace ns WHERE db.datname = current_database() AND ns.nspname = %s",
            [schema],
        )
        owns_db, owns_schema = cur.fetchone()
        statements = []
        if owns_db:  # otherwise PUBLIC's default CONNECT and TEMPORARY apply
            statements.append(f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(conn, db)} TO {r}")
        if owns_schema:
            statements += [
                f"GRANT USAGE ON SCHEMA {s} TO {r}",
                # PostgreSQL < 15 lets everybody create tables in public
                f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
            ]
        statements += [
            f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(conn, owner)} IN SCHEMA {s} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(conn, owner)} IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        ]
        cur.execute("SELECT current_setting('server_version_num')::int")
        maintain = cur.fetchone()[0] >= 170000
        if maintain:
            # PostgreSQL 17+: ANALYZE after a bulk step (jinpin.stats) -- planner statistics only, no rows
            statements += [
                f"GRANT MAINTAIN ON ALL TABLES IN SCHEMA {s} TO {r}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(conn, owner)} IN SCHEMA {s} GRANT MAINTAIN ON TABLES TO {r}",
            ]
        for t in AUDIT_TABLES:
            if t in tables:
                statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {s}.{_q(conn, t)} FROM {r}")
                if maintain:  # nobody needs to lock, vacuum or re-cluster the audit log
                    statements.append(f"REVOKE MAINTAIN ON {s}.{_q(conn, t)} FROM {r}")
        for t in TRIGGER_WRITTEN_TABLES + READ_ONLY_TABLES:
            if t in tables:
                statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {s}.{_q(conn, t)} FROM {r}")
        for sql in statements:
            cur.execute(sql)


def check(conn, role: str) -> list[str]:
    """What is wrong with the role's rights (empty when all is as it should be); for tests and ``--check``."""
    problems = []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
        )
        row = cur.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        if row[0]:
            problems.append(f"role {role} has superuser, CREATEDB, CREATEROLE or BYPASSRLS")
        cur.execute(
            "SELECT rel.relname FROM pg_class rel JOIN pg_namespace ns ON ns.oid = rel.relnamespace "
            "WHERE pg_has_role(%s, rel.relowner, 'USAGE') AND ns.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND ns.nspname NOT LIKE 'pg_toast%%' AND ns.nspname NOT LIKE 'pg_temp%%' LIMIT 5",
            [role],
        )
        owned = [x[0] for x in cur.fetchall()]
        if owned:
            problems.append(f"role {role} owns (or inherits the owner of) {', '.join(owned)}")
        for t in AUDIT_TABLES + TRIGGER_WRITTEN_TABLES:
            for priv in ("UPDATE", "DELETE", "TRUNCATE"):
                cur.execute(
                    "SELECT to_regclass(%s) IS NOT NULL AND has_table_privilege(%s, %s, %s)", [t, role, t, priv]
                )
                if cur.fetchone()[0]:
                    problems.append(f"role {role} may {priv} {t}")
    return problems
