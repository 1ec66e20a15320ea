"""On PostgreSQL: money rows that cannot drift, enforced by the database whatever the client.

* an approved or paid award's amount, pupil, scheme and period cannot change, and it cannot be deleted;
* a paid payout line cannot change or be deleted at all;
* once a batch is sealed (marked sent), its lines' payee, account, amount, award and digests cannot
  change, no line can be added or removed, and the seal itself cannot change;
* TRUNCATE of the money tables is refused (``jinpin_refuse_truncate``, migration ``jinpin.0004``).

Each refusal names a constraint (``jinpin_…``) that ``jinpin.dberrors`` turns into a message for the user.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION jinpin_award_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('approved', 'paid') THEN
        IF TG_OP = 'DELETE' OR (NEW.amount, NEW.student_id, NEW.scheme_id, NEW.period_id)
                IS DISTINCT FROM (OLD.amount, OLD.student_id, OLD.scheme_id, OLD.period_id) THEN
            RAISE EXCEPTION 'award %: an approved or paid award''s amount, pupil, scheme and period cannot change', OLD.id
                USING CONSTRAINT = 'jinpin_award_frozen';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS jinpin_award_frozen ON subsidies_award;
CREATE TRIGGER jinpin_award_frozen BEFORE UPDATE OR DELETE ON subsidies_award
    FOR EACH ROW EXECUTE FUNCTION jinpin_award_frozen();

CREATE OR REPLACE FUNCTION jinpin_payoutline_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'paid' AND (TG_OP = 'DELETE' OR NEW IS DISTINCT FROM OLD) THEN
        RAISE EXCEPTION 'payout line %: a paid line cannot change', OLD.id USING CONSTRAINT = 'jinpin_line_paid';
    END IF;
    IF OLD.seal_digest <> '' AND (TG_OP = 'DELETE'
            OR (NEW.batch_id, NEW.award_id, NEW.amount, NEW.payee_name, NEW.bank_account, NEW.seal_digest,
                NEW.award_digest)
            IS DISTINCT FROM (OLD.batch_id, OLD.award_id, OLD.amount, OLD.payee_name, OLD.bank_account,
                OLD.seal_digest, OLD.award_digest)) THEN
        RAISE EXCEPTION 'payout line %: the line is sealed (its batch was sent to the bank)', OLD.id
            USING CONSTRAINT = 'jinpin_line_sealed';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS jinpin_payoutline_frozen ON subsidies_payoutline;
CREATE TRIGGER jinpin_payoutline_frozen BEFORE UPDATE OR DELETE ON subsidies_payoutline
    FOR EACH ROW EXECUTE FUNCTION jinpin_payoutline_frozen();

-- no line joins a sealed batch (one query per INSERT statement, whatever its size)
CREATE OR REPLACE FUNCTION jinpin_payoutline_into_sealed() RETURNS trigger AS $$
DECLARE
    b bigint;
BEGIN
    SELECT n.batch_id INTO b FROM new_lines n JOIN subsidies_payoutbatch pb ON pb.id = n.batch_id
        WHERE pb.seal_sha256 <> '' LIMIT 1;
    IF b IS NOT NULL THEN
        RAISE EXCEPTION 'payout batch %: a sealed batch takes no new line', b USING CONSTRAINT = 'jinpin_batch_sealed';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS jinpin_payoutline_into_sealed ON subsidies_payoutline;
CREATE TRIGGER jinpin_payoutline_into_sealed AFTER INSERT ON subsidies_payoutline
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION jinpin_payoutline_into_sealed();

CREATE OR REPLACE FUNCTION jinpin_payoutbatch_sealed() RETURNS trigger AS $$
BEGIN
    IF OLD.seal_sha256 <> '' AND (TG_OP = 'DELETE'
            OR (NEW.seal_sha256, NEW.seal_lines, NEW.seal_total_fen, NEW.sealed_at, NEW.county_id, NEW.period_id,
                NEW.funding_source)
            IS DISTINCT FROM (OLD.seal_sha256, OLD.seal_lines, OLD.seal_total_fen, OLD.sealed_at, OLD.county_id,
                OLD.period_id, OLD.funding_source)) THEN
        RAISE EXCEPTION 'payout batch %: the seal of a sent batch cannot change', OLD.id
            USING CONSTRAINT = 'jinpin_batch_sealed';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS jinpin_payoutbatch_sealed ON subsidies_payoutbatch;
CREATE TRIGGER jinpin_payoutbatch_sealed BEFORE UPDATE OR DELETE ON subsidies_payoutbatch
    FOR EACH ROW EXECUTE FUNCTION jinpin_payoutbatch_sealed();
"""
MONEY_TABLES = [
    "subsidies_award",
    "subsidies_awardstep",
    "subsidies_allocation",
    "subsidies_payoutbatch",
    "subsidies_payoutline",
    "subsidies_recovery",
    "subsidies_loanapplication",
]
CREATE += "".join(
    f"""
DROP TRIGGER IF EXISTS jinpin_no_truncate ON {t};
CREATE TRIGGER jinpin_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION jinpin_refuse_truncate();
"""
    for t in MONEY_TABLES
)
DROP = "".join(f"DROP TRIGGER IF EXISTS jinpin_no_truncate ON {t};\n" for t in MONEY_TABLES) + """
DROP TRIGGER IF EXISTS jinpin_payoutbatch_sealed ON subsidies_payoutbatch;
DROP FUNCTION IF EXISTS jinpin_payoutbatch_sealed();
DROP TRIGGER IF EXISTS jinpin_payoutline_into_sealed ON subsidies_payoutline;
DROP FUNCTION IF EXISTS jinpin_payoutline_into_sealed();
DROP TRIGGER IF EXISTS jinpin_payoutline_frozen ON subsidies_payoutline;
DROP FUNCTION IF EXISTS jinpin_payoutline_frozen();
DROP TRIGGER IF EXISTS jinpin_award_frozen ON subsidies_award;
DROP FUNCTION IF EXISTS jinpin_award_frozen();
"""


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:  # no parameters: the SQL's % signs stay as they are
        cursor.execute(CREATE)


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0011_payout_seal"), ("jinpin", "0004_audit_hash_chain")]
    operations = [migrations.RunPython(forward, backward)]
