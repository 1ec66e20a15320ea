"""On PostgreSQL: the audit log's hash chain, and statement-level guards against TRUNCATE.

Every INSERT into ``auditlog_logentry`` (django-auditlog's signals, ``audit.log``, ``audit.log_many``'s
bulk INSERT, raw SQL: whatever the path) notes the new ids (a statement-level trigger); at commit a
deferred trigger takes a transaction-level advisory lock (one chain, one writer at a time, from then until
the commit ends), reads the chain's head, and appends the transaction's links, in id order, to
``jinpin_auditchain``. The function runs as its owner (SECURITY
DEFINER), so the application role needs no right on the chain table except SELECT.

The canonical form is frozen here (a migration does not follow later code); ``jinpin.audit`` recomputes
it in Python and the tests check that both agree.
"""

from django.db import migrations

# (key, SQL expression over the entry ``e``), in key order: the canonical JSON's members.
FIELDS = [
    ("action", "e.action::text"),
    ("actor_email", "e.actor_email::text"),
    ("actor_id", "e.actor_id::text"),
    ("additional_data", "e.additional_data::text"),
    ("changes", "e.changes::text"),
    ("changes_text", "e.changes_text"),
    ("cid", "e.cid::text"),
    ("content_type_id", "e.content_type_id::text"),
    ("id", "e.id::text"),
    ("object_id", "e.object_id::text"),
    ("object_pk", "e.object_pk::text"),
    ("object_repr", "e.object_repr"),
    ("remote_addr", "host(e.remote_addr)"),
    ("remote_port", "e.remote_port::text"),
    ("serialized_data", "e.serialized_data::text"),
    ("timestamp", """to_char(e."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""),
]
CANONICAL = (
    "'{' || "
    + " || ',' || ".join(f"""'"{key}":' || coalesce(to_json({expr})::text, 'null')""" for key, expr in FIELDS)
    + " || '}'"
)

CREATE = f"""
-- the row trigger of jinpin.0002, now naming its rule (jinpin.dberrors turns it into a message)
CREATE OR REPLACE FUNCTION jinpin_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING CONSTRAINT = 'jinpin_audit_append_only';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION jinpin_audit_chain_extend(ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    r record;
    seqs bigint[] := '{{}}';
    entries bigint[] := '{{}}';
    hashes text[] := '{{}}';
BEGIN
    -- one chain: whoever appends holds this lock until commit, so the next writer sees this head
    PERFORM pg_advisory_xact_lock(7364091501);
    SELECT seq, hash INTO head_seq, head_hash FROM jinpin_auditchain ORDER BY seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    FOR r IN SELECT e.id, {CANONICAL} AS canon FROM auditlog_logentry e WHERE e.id = ANY(ids) ORDER BY e.id LOOP
        head_seq := head_seq + 1;
        head_hash := encode(sha256(convert_to(head_hash || E'\\n' || r.canon, 'UTF8')), 'hex');
        seqs := seqs || head_seq;
        entries := entries || r.id;
        hashes := hashes || head_hash;
    END LOOP;
    INSERT INTO jinpin_auditchain (seq, entry_id, hash) SELECT * FROM unnest(seqs, entries, hashes);
    RETURN coalesce(array_length(seqs, 1), 0);
END;
$$;
REVOKE ALL ON FUNCTION jinpin_audit_chain_extend(bigint[]) FROM PUBLIC;

-- Each INSERT statement notes its entries' ids (one row per statement, set-based); at commit a deferred
-- trigger on that note chains all of the transaction's entries at once, so the chain's lock is held only
-- while the transaction commits, not from the first audit entry of a long transaction (an import, a batch)
-- to its end. Notes of transactions still running are invisible to the DELETE: each takes only its own.
CREATE TABLE IF NOT EXISTS jinpin_auditpending (id bigserial PRIMARY KEY, ids bigint[] NOT NULL);

CREATE OR REPLACE FUNCTION jinpin_audit_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO jinpin_auditpending (ids) SELECT array_agg(id ORDER BY id) FROM new_entries HAVING count(*) > 0;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION jinpin_audit_note() FROM PUBLIC;
DROP TRIGGER IF EXISTS jinpin_audit_note ON auditlog_logentry;
CREATE TRIGGER jinpin_audit_note AFTER INSERT ON auditlog_logentry
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION jinpin_audit_note();

CREATE OR REPLACE FUNCTION jinpin_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    all_ids bigint[];
BEGIN
    -- the first note to fire at commit takes every note of this transaction; the others find none left
    WITH taken AS (DELETE FROM jinpin_auditpending RETURNING ids)
    SELECT array_agg(x) INTO all_ids FROM taken, unnest(taken.ids) AS x;
    IF all_ids IS NOT NULL THEN
        PERFORM jinpin_audit_chain_extend(all_ids);
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION jinpin_audit_chain() FROM PUBLIC;
DROP TRIGGER IF EXISTS jinpin_audit_chain ON jinpin_auditpending;
CREATE CONSTRAINT TRIGGER jinpin_audit_chain AFTER INSERT ON jinpin_auditpending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jinpin_audit_chain();

-- the entries written before this migration join the chain in id order
SELECT jinpin_audit_chain_extend(ARRAY(
    SELECT e.id FROM auditlog_logentry e
    WHERE NOT EXISTS (SELECT 1 FROM jinpin_auditchain c WHERE c.entry_id = e.id) ORDER BY e.id));

-- the chain and the verification results are append-only, like the log
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON jinpin_auditchain;
CREATE TRIGGER jinpin_audit_append_only BEFORE UPDATE OR DELETE ON jinpin_auditchain
    FOR EACH ROW EXECUTE FUNCTION jinpin_audit_append_only();
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON jinpin_auditverification;
CREATE TRIGGER jinpin_audit_append_only BEFORE UPDATE OR DELETE ON jinpin_auditverification
    FOR EACH ROW EXECUTE FUNCTION jinpin_audit_append_only();

-- TRUNCATE fires no row trigger: a statement-level one refuses it. ``manage.py flush`` (and the test
-- runner's flush between transactional tests) sets jinpin.allow_truncate for its own session; the
-- application role has no TRUNCATE right at all (setup_db_roles).
CREATE OR REPLACE FUNCTION jinpin_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('jinpin.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE of % is refused: its rows are evidence', TG_TABLE_NAME
        USING CONSTRAINT = 'jinpin_no_truncate';
END;
$$ LANGUAGE plpgsql;
"""
GUARDED = ["auditlog_logentry", "jinpin_auditchain", "jinpin_auditverification", "jinpin_auditpending"]
CREATE += "".join(
    f"""
DROP TRIGGER IF EXISTS jinpin_no_truncate ON {t};
CREATE TRIGGER jinpin_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION jinpin_refuse_truncate();
"""
    for t in GUARDED
)

DROP = "".join(f"DROP TRIGGER IF EXISTS jinpin_no_truncate ON {t};\n" for t in GUARDED) + """
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON jinpin_auditverification;
DROP TRIGGER IF EXISTS jinpin_audit_append_only ON jinpin_auditchain;
DROP TRIGGER IF EXISTS jinpin_audit_note ON auditlog_logentry;
DROP FUNCTION IF EXISTS jinpin_audit_note();
DROP TABLE IF EXISTS jinpin_auditpending;
DROP TRIGGER IF EXISTS jinpin_audit_chain ON auditlog_logentry;
DROP FUNCTION IF EXISTS jinpin_audit_chain();
DROP FUNCTION IF EXISTS jinpin_audit_chain_extend(bigint[]);
"""


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:  # no parameters: the SQL's % signs stay as they are
        cursor.execute(CREATE)


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("jinpin", "0003_audit_chain_and_verifications")]
    operations = [migrations.RunPython(forward, backward)]
