"""Sealed payout batches: what the bank was given cannot change unnoticed.

When a batch is marked sent (``payout_send``) it is sealed:

* ``seal_lines`` — how many lines; ``seal_total_fen`` — their total in fen (分);
* ``seal_sha256`` — SHA-256 (hex) of the lines in line-id order, each written as
  ``<line id>|<payee>|<account>|<amount in fen>`` followed by a newline (``\\n``), UTF-8. The bank file
  carries the same four columns and a summary sheet with the seal, so the bank (or an auditor) can
  recompute it from the file alone (``seal_of_rows``) and echo it in its return file.
* each line also stores ``seal_digest`` (SHA-256 of its own sealed text) and ``award_digest`` (SHA-256 of
  ``<award id>|<pupil id>|<scheme id>|<period id>|<award amount in fen>``), so that verification names the
  line or the award that changed.

PostgreSQL triggers (migration ``subsidies.0009``) refuse any change to a sealed line or seal; the seal
is what proves it when someone got round them. One definition: the SQL below computes the seal and every
check; ``seal_of_rows`` is the same rule in Python for a file, and the tests check that both agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from ..models import PayoutBatch

LINE_TEXT = "line.id::text || '|' || line.payee_name || '|' || line.bank_account || '|' || round(line.amount * 100)::bigint::text"
LINE_DIGEST = f"encode(sha256(convert_to({LINE_TEXT}, 'UTF8')), 'hex')"
AWARD_DIGEST = (
    "encode(sha256(convert_to(award.id::text || '|' || award.student_id::text || '|' || award.scheme_id::text || '|' "
    "|| award.period_id::text || '|' || round(award.amount * 100)::bigint::text, 'UTF8')), 'hex')"
)
BATCH_SEAL = (
    "count(line.id), coalesce(sum(round(line.amount * 100)::bigint), 0)::bigint, "
    f"encode(sha256(convert_to(coalesce(string_agg({LINE_TEXT} || E'\\n', '' ORDER BY line.id), ''), 'UTF8')), 'hex')"
)


def line_text(line_id, payee: str, account: str, amount: Decimal) -> str:
    return f"{int(line_id)}|{payee}|{account}|{int((Decimal(amount) * 100).to_integral_value())}"


def seal_of_rows(rows) -> tuple[int, int, str]:
    """``(lines, total_fen, sha256)`` of ``(line id, payee, account, amount in yuan)`` rows (e.g. read from the
    bank file), whatever their order."""
    rows = sorted(rows, key=lambda r: int(r[0]))
    h = hashlib.sha256()
    total = 0
    for line_id, payee, account, amount in rows:
        h.update((line_text(line_id, payee, account, amount) + "\n").encode("utf-8"))
        total += int((Decimal(amount) * 100).to_integral_value())
    return len(rows), total, h.hexdigest()


def _recompute(batch_id: int) -> tuple[int, int, str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {BATCH_SEAL} FROM subsidies_payoutline line WHERE line.batch_id = %s", [batch_id])
        return tuple(cur.fetchone())


def payout_seal(*, batch_id: int) -> tuple[int, int, str]:
    """Seal a batch (inside ``payout_send``'s transaction, the batch row locked): line digests, then the seal.
    Two statements whatever the batch's size."""
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE subsidies_payoutline line SET seal_digest = {LINE_DIGEST}, award_digest = {AWARD_DIGEST} "
            "FROM subsidies_award award WHERE award.id = line.award_id AND line.batch_id = %s",
            [batch_id],
        )
    n, total, digest = _recompute(batch_id)
    PayoutBatch.objects.filter(pk=batch_id, seal_sha256="").update(
        seal_lines=n, seal_total_fen=total, seal_sha256=digest, sealed_at=timezone.now()
    )
    return n, total, digest


@dataclass
class SealCheck:
    batch_id: int
    sealed: bool
    ok: bool = True
    lines: int = 0
    total_fen: int = 0
    sha256: str = ""
    problems: list[dict] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [str(MESSAGES[p["code"]]) % p for p in self.problems]


MESSAGES = {
    "seal_changed": _lazy(
        "Payout batch %(batch)s no longer matches its seal: sealed %(sealed_lines)s lines, %(sealed_total)s fen, "
        "%(sealed_sha)s; now %(lines)s lines, %(total)s fen, %(sha)s."
    ),
    "line_changed": _lazy("Payout line %(line)s of batch %(batch)s was changed after the batch was sealed."),
    "award_changed": _lazy(
        "Award %(award)s (payout line %(line)s, batch %(batch)s) was changed after the batch was sealed: its amount, "
        "pupil, scheme or period differs from what was paid."
    ),
}


def seal_verify(*, batch_id: int) -> SealCheck:
    """Recompute one batch's seal and every line's digests; name what differs. Read-only, three queries."""
    b = PayoutBatch.objects.filter(pk=batch_id).values("seal_lines", "seal_total_fen", "seal_sha256").first()
    check = SealCheck(batch_id=batch_id, sealed=bool(b and b["seal_sha256"]))
    check.lines, check.total_fen, check.sha256 = _recompute(batch_id)
    if not check.sealed:
        return check
    check.problems += _line_problems("line.batch_id = %s", [batch_id])  # the most precise first
    if (check.lines, check.total_fen, check.sha256) != (b["seal_lines"], b["seal_total_fen"], b["seal_sha256"]):
        check.problems.append(
            {
                "check": "payout_seal",
                "code": "seal_changed",
                "batch": batch_id,
                "sealed_lines": b["seal_lines"],
                "sealed_total": b["seal_total_fen"],
                "sealed_sha": b["seal_sha256"][:12],
                "lines": check.lines,
                "total": check.total_fen,
                "sha": check.sha256[:12],
            }
        )
    check.ok = not check.problems
    return check


def _line_problems(where: str, params, limit: int = 50) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT line.batch_id, line.id, line.award_id, line.seal_digest IS DISTINCT FROM {LINE_DIGEST}, "
            f"line.award_digest IS DISTINCT FROM {AWARD_DIGEST} "
            "FROM subsidies_payoutline line LEFT JOIN subsidies_award award ON award.id = line.award_id "
            f"WHERE {where} AND (line.seal_digest IS DISTINCT FROM {LINE_DIGEST} "
            f"OR line.award_digest IS DISTINCT FROM {AWARD_DIGEST}) ORDER BY line.batch_id, line.id LIMIT {int(limit)}",
            params,
        )
        out = []
        for batch, line, award, line_bad, award_bad in cur.fetchall():
            if line_bad:
                out.append({"check": "payout_seal", "code": "line_changed", "batch": batch, "line": line})
            if award_bad:
                out.append(
                    {"check": "payout_seal", "code": "award_changed", "batch": batch, "line": line, "award": award}
                )
        return out


def verify_all_seals() -> list[dict]:
    """Every sealed batch recomputed (the nightly verification): one grouped query for the seals, one for the
    lines' digests."""
    problems = []
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT batch.id, batch.seal_lines, batch.seal_total_fen, batch.seal_sha256, sealed_now.n, sealed_now.total, sealed_now.sha "
            f"FROM subsidies_payoutbatch batch LEFT JOIN LATERAL (SELECT {BATCH_SEAL} "
            "FROM subsidies_payoutline line WHERE line.batch_id = batch.id) sealed_now(n, total, sha) ON true "
            "WHERE batch.seal_sha256 <> '' AND (batch.seal_lines, batch.seal_total_fen, batch.seal_sha256) "
            "IS DISTINCT FROM (sealed_now.n::integer, sealed_now.total, sealed_now.sha) ORDER BY batch.id"
        )
        for batch, sl, st, ss, n, total, sha in cur.fetchall():
            problems.append(
                {
                    "check": "payout_seal",
                    "code": "seal_changed",
                    "batch": batch,
                    "sealed_lines": sl,
                    "sealed_total": st,
                    "sealed_sha": ss[:12],
                    "lines": n,
                    "total": total,
                    "sha": sha[:12],
                }
            )
    problems += _line_problems(
        "line.batch_id IN (SELECT id FROM subsidies_payoutbatch WHERE seal_sha256 <> '')", [], limit=200
    )
    return problems


def return_refusal(batch: PayoutBatch, line_ids) -> str | None:
    """Why a bank return for ``line_ids`` must be refused (the batch is not sealed, its lines no longer match
    the seal, or a line is not among the sealed ones), or None."""
    check = seal_verify(batch_id=batch.pk)
    if not check.sealed:
        return _("This batch has no seal: the bank's return file is accepted only for a batch marked as sent.")
    if not check.ok:
        return _(
            "Refused: the lines of payout batch %(batch)s no longer match the seal made when it was sent to the "
            "bank. Nothing was recorded; ask the city administrator and the auditors to investigate. %(detail)s"
        ) % {"batch": batch.pk, "detail": " ".join(check.messages()[:3])}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT line_id FROM unnest(%s::bigint[]) line_id WHERE NOT EXISTS "
            "(SELECT 1 FROM subsidies_payoutline line WHERE line.id = line_id AND line.batch_id = %s AND line.seal_digest <> '') "
            "ORDER BY line_id LIMIT 1",
            [list(line_ids), batch.pk],
        )
        row = cur.fetchone()
    if row:
        return _("Refused: line %(line)s is not among the %(n)s lines sealed in payout batch %(batch)s.") % {
            "line": row[0],
            "n": check.lines,
            "batch": batch.pk,
        }
    return None
