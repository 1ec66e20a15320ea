"""Make the audit log append-only: UPDATE and DELETE raise."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION jinpin_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON auditlog_logentry;
CREATE TRIGGER jinpin_audit_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION jinpin_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS jinpin_audit_append_only();
"""


def forward(apps, schema_editor):
    schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("jinpin", "0001_initial"), ("auditlog", "__latest__")]
    operations = [migrations.RunPython(forward, backward)]
