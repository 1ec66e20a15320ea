"""The application's database role cannot rewrite history (jinpin/db_roles.py, setup_db_roles)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from jinpin import audit, auditchain, db_roles, dberrors
from jinpin.models import AuditChainLink, Job
from tests.dbroles import as_app_role, pgcode, refused, role_name

pytestmark = [pytest.mark.django_db]

INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture
def entry(world):
    job = Job.objects.create(kind="export", title="t", created_by=world.admin)
    return audit.log(job, actor=world.admin, event="download")


def test_setup_db_roles_is_idempotent_and_the_role_owns_nothing(world):
    name = role_name()
    for _ in range(2):
        out = io.StringIO()
        call_command("setup_db_roles", app_role=name, stdout=out)
        assert "owns nothing" in out.getvalue()
    assert db_roles.check(connection, name) == []
    with connection.cursor() as cur:
        cur.execute("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s", [name])
        assert cur.fetchone() == (True, False, False, False)
        for table, priv, expected in [
            ("auditlog_logentry", "SELECT", True),
            ("auditlog_logentry", "INSERT", True),
            ("auditlog_logentry", "UPDATE", False),
            ("auditlog_logentry", "DELETE", False),
            ("auditlog_logentry", "TRUNCATE", False),
            ("jinpin_auditchain", "INSERT", False),
            ("jinpin_auditverification", "DELETE", False),
            ("subsidies_award", "UPDATE", True),
            ("subsidies_award", "TRUNCATE", False),
            ("django_migrations", "INSERT", False),
        ]:
            cur.execute("SELECT has_table_privilege(%s, %s, %s)", [name, table, priv])
            assert cur.fetchone()[0] is expected, (table, priv)
    call_command("setup_db_roles", app_role=name, check=True, stdout=io.StringIO())


def test_app_role_writes_audit_entries_and_their_chain_links(world):
    with as_app_role():
        job = Job.objects.create(kind="export", title="t", created_by=world.admin)
        e = audit.log(job, actor=world.admin, event="download")
        county = world.county_a
        n = audit.log_many(
            type(county), [(county.pk, county.name, {"name": ["a", "b"]})] * 3, action=audit.Action.UPDATE, actor=None
        )
        auditchain.link_pending()  # what the commit does: the deferred trigger, in the role's session
    assert n == 3
    assert AuditChainLink.objects.filter(entry_id=e.pk).exists()  # written by the trigger, not by the role
    assert AuditChainLink.objects.count() == audit.LogEntry.objects.count()


def test_app_role_may_not_update_delete_or_truncate_the_audit_log(entry):
    with as_app_role():
        for sql in (
            "UPDATE auditlog_logentry SET object_repr = 'x' WHERE id = %s",
            "DELETE FROM auditlog_logentry WHERE id = %s",
            "UPDATE jinpin_auditchain SET hash = 'x' WHERE entry_id = %s",
            "DELETE FROM jinpin_auditchain WHERE entry_id = %s",
            "INSERT INTO jinpin_auditchain (seq, entry_id, hash) VALUES (999999, %s, 'x')",
        ):
            assert pgcode(refused(sql, [entry.pk])) == INSUFFICIENT_PRIVILEGE, sql
        for table in ("auditlog_logentry", "jinpin_auditchain", "jinpin_auditverification", "subsidies_award"):
            assert pgcode(refused(f"TRUNCATE {table}")) == INSUFFICIENT_PRIVILEGE
        # and the chain function, which runs as its owner, cannot be called directly
        assert pgcode(refused("SELECT jinpin_audit_chain_extend(ARRAY[%s]::bigint[])", [entry.pk])) == (
            INSUFFICIENT_PRIVILEGE
        )


def test_app_role_may_not_run_ddl(entry):
    with as_app_role():
        for sql in (
            "CREATE TABLE jinpin_scratch (id int)",
            "ALTER TABLE auditlog_logentry ADD COLUMN x int",
            "ALTER TABLE auditlog_logentry DISABLE TRIGGER jinpin_audit_append_only",
            "ALTER TABLE subsidies_payoutline DISABLE TRIGGER ALL",
            "DROP TRIGGER jinpin_audit_append_only ON auditlog_logentry",
            "DROP TRIGGER jinpin_no_truncate ON auditlog_logentry",
            "DROP TABLE jinpin_auditchain",
            "DROP FUNCTION jinpin_audit_chain() CASCADE",
            "CREATE OR REPLACE FUNCTION jinpin_refuse_truncate() RETURNS trigger AS 'BEGIN RETURN NULL; END' "
            "LANGUAGE plpgsql",
            "SET session_replication_role = replica",
        ):
            assert pgcode(refused(sql)) == INSUFFICIENT_PRIVILEGE, sql


def test_even_the_owner_is_refused_truncate_and_row_changes_by_the_triggers(entry):
    with connection.cursor() as cur:  # TRUNCATE waits for no deferred foreign-key check of the test's rows
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    err = refused("TRUNCATE auditlog_logentry CASCADE")
    assert dberrors.constraint_of(err) == "jinpin_no_truncate"
    assert dberrors.message_for(err) == "清空此表被拒绝：其中的记录是证据。"
    for table in ("jinpin_auditchain", "subsidies_payoutline", "subsidies_award", "subsidies_recovery"):
        assert dberrors.constraint_of(refused(f"TRUNCATE {table} CASCADE")) == "jinpin_no_truncate", table
    err = refused("UPDATE auditlog_logentry SET object_repr = 'x' WHERE id = %s", [entry.pk])
    assert dberrors.constraint_of(err) == "jinpin_audit_append_only"
    err = refused("DELETE FROM jinpin_auditchain WHERE entry_id = %s", [entry.pk])
    assert dberrors.constraint_of(err) == "jinpin_audit_append_only"


def test_settings_send_migrate_to_the_owner_and_the_app_to_its_role(monkeypatch):
    """APP_DATABASE_URL: the app's default connection is the role; migrate/flush swap in the owner."""
    import importlib

    import jinpin.settings as s

    monkeypatch.setenv("DATABASE_URL", "postgres://owner:secret@db:5432/jinpin")
    monkeypatch.setenv("APP_DATABASE_URL", "postgres://jinpin_app:apppw@db:5432/jinpin")
    try:
        fresh = importlib.reload(s)
        assert fresh.DATABASES["default"]["USER"] == "jinpin_app"
        assert fresh.DATABASE_APP_ROLE == "jinpin_app"
        assert fresh.DATABASE_OWNER["USER"] == "owner" and fresh.DATABASE_OWNER["PASSWORD"] == "secret"
        monkeypatch.delenv("APP_DATABASE_URL")
        monkeypatch.setenv("DATABASE_ROLE", "jinpin_app")
        fresh = importlib.reload(s)
        assert fresh.DATABASES["default"]["USER"] == "owner"
        assert "-c role=jinpin_app" in fresh.DATABASES["default"]["OPTIONS"]["options"]
        assert "role=" not in fresh.DATABASE_OWNER["OPTIONS"]["options"]
    finally:
        monkeypatch.undo()
        importlib.reload(s)


def test_the_whole_payout_flow_runs_as_the_app_role(world):
    """The grants are enough for the real work: prepare, send (seal), settle, verify."""
    from tests.subsidies.test_seals import paid_batch

    with as_app_role():
        batch, lines = paid_batch(world)
        from jinpin.auditchain import verify

        result = verify(source="test")
    assert result.ok, result.problems
    assert batch.lines.filter(status="paid").count() == len(lines)
