"""Helpers for tests that run as the application's database role, or tamper as the owner."""

import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction


def role_name() -> str:
    """One role per test database, so that parallel test runs on one server never share it."""
    return (connection.settings_dict["NAME"] + "_app")[:63]


@contextlib.contextmanager
def as_app_role():
    """Inside the test's transaction: create/grant the application role (setup_db_roles) and switch to it."""
    name = role_name()
    call_command("setup_db_roles", app_role=name, nologin=True, stdout=io.StringIO())
    with connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(name)}")
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == name
    try:
        yield name
    finally:
        if not connection.needs_rollback:  # else the test's transaction is rolled back, and the role with it
            with connection.cursor() as cur:
                cur.execute("RESET ROLE")


def refused(sql: str, params=None) -> DatabaseError:
    """Run ``sql`` in a savepoint; it must fail. Returns the error."""
    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql, params)
    return exc.value


def pgcode(exc: DatabaseError) -> str | None:
    return getattr(exc.__cause__, "pgcode", None)


@contextlib.contextmanager
def bypassing_triggers():
    """As the owner (a superuser here), with every trigger off: what someone who got round the database's
    guards could do. Only verification can tell afterwards."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = origin")
