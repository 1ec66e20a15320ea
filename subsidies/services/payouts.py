"""发放 and 监督: payout batches, the bank's return file, reconciliation, recoveries, loans.

No money moves without a record: an approved cash award enters a payout batch as a
line; the bank's return file marks each line paid or failed; a paid line marks the
award paid (with an ``AwardStep``). A failed line frees the award for a later batch;
the partial unique constraint on lines makes paying an award twice impossible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jinpin import audit
from jinpin.imports import Col, Importer

from .. import invalidation
from ..models import (
    Allocation,
    Award,
    AwardStatus,
    AwardStep,
    LoanApplication,
    PayoutBatch,
    PayoutLine,
    Recovery,
    Scheme,
    SchemeKind,
)
from . import seals

ZERO = Decimal("0.00")


def _require_officer(scope, county_id):
    if scope.read_only or not (scope.is_city_admin or (scope.is_county_officer and scope.county_id == county_id)):
        raise PermissionDenied


def payable_awards(*, county_id, period, funding_source):
    """Approved cash awards of the county, period and funding source without a live (pending or paid) line."""
    live = PayoutLine.objects.filter(award=OuterRef("pk")).exclude(status=PayoutLine.Status.FAILED)
    return Award.objects.filter(
        county_id=county_id,
        period=period,
        status=AwardStatus.APPROVED,
        scheme__kind=SchemeKind.CASH,
        scheme__funding_source=funding_source,
    ).exclude(Exists(live))


@transaction.atomic
def payout_prepare(*, county, period, funding_source, acting_user, scope, request=None) -> PayoutBatch:
    """Gather the payable awards into a new batch (re-issues awards whose earlier line failed)."""
    invalidation.bump()  # cached subsidy figures are stale once this commits
    _require_officer(scope, county.pk)
    awards = payable_awards(county_id=county.pk, period=period, funding_source=funding_source)
    # the pupil's payee and account are the details last *confirmed* (a change waits in PaymentDetailChange until a
    # second person confirms it, and only then is written to the pupil): the batch pays what was confirmed before it
    rows = list(
        awards.select_for_update(of=("self",)).values_list(
            "pk", "amount", "student__payee_name", "student__name", "student__bank_account"
        )
    )
    if not rows:
        raise ValidationError(
            _("No approved cash award is waiting for payment in this county, period and funding source.")
        )
    missing = [r for r in rows if not r[4]]
    if missing:
        raise ValidationError(
            _("%(n)s students have no bank account on file; complete them before preparing the batch.")
            % {"n": len(missing)}
        )
    batch = PayoutBatch.objects.create(
        county=county, period=period, funding_source=funding_source, created_by=acting_user
    )
    try:
        with transaction.atomic():
            PayoutLine.objects.bulk_create(
                [
                    PayoutLine(batch=batch, award_id=pk, amount=amount, payee_name=payee or name, bank_account=account)
                    for pk, amount, payee, name, account in rows
                ],
                batch_size=5000,
            )
    except IntegrityError:
        raise ValidationError(
            _("Another payout batch took some of these awards at the same moment; prepare again.")
        ) from None
    audit.log(
        batch,
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        lines=len(rows),
        total=str(sum(r[1] for r in rows)),
    )
    return batch


@transaction.atomic
def payout_send(*, batch: PayoutBatch, acting_user, scope, request=None, at=None) -> None:
    """Mark a prepared batch as sent to the bank. Four eyes (双人复核): whoever prepared the batch may not also send it,
    unless the city administrator does. ``at``: when it was sent, if not now (never in the future)."""
    at = _when(at)
    invalidation.bump()  # cached subsidy figures are stale once this commits
    _require_officer(scope, batch.county_id)
    prepared_by = PayoutBatch.objects.filter(pk=batch.pk).values_list("created_by_id", flat=True).first()
    if prepared_by == acting_user.pk and not scope.is_city_admin:
        raise ValidationError(
            _(
                "You prepared this batch: another officer (or the city administrator) must check it and mark it "
                "as sent (four eyes)."
            )
        )
    n = PayoutBatch.objects.filter(pk=batch.pk, status=PayoutBatch.Status.PREPARED).update(
        status=PayoutBatch.Status.SENT, sent_at=at, sent_by=acting_user
    )
    if n != 1:
        raise ValidationError(_("Only a prepared batch can be sent."))
    lines, total_fen, digest = seals.payout_seal(batch_id=batch.pk)
    audit.log(
        batch,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        changes={"status": ["prepared", "sent"]},
        seal={"lines": lines, "total_fen": total_fen, "sha256": digest},
    )


def _when(at):
    """``at`` (a moment of the past, e.g. the bank's value date of a return file), or now."""
    now = timezone.now()
    if at is None:
        return now
    if at > now:
        raise ValidationError(_("A payment cannot be dated in the future."))
    return at


def _settle_if_complete(batch_id, at=None):
    if not PayoutLine.objects.filter(batch_id=batch_id, status=PayoutLine.Status.PENDING).exists():
        PayoutBatch.objects.filter(pk=batch_id, status=PayoutBatch.Status.SENT).update(
            status=PayoutBatch.Status.SETTLED, settled_at=at or timezone.now()
        )


def _write_settled(lines) -> None:
    """Write the lines' settlement with one ``UPDATE … FROM (VALUES …)`` per 2,000 lines. (``bulk_update``
    writes a ``CASE`` with a branch per line for each column, which the database walks for every line:
    quadratic, and most of the demo's payout time.)"""
    table = connection.ops.quote_name(PayoutLine._meta.db_table)
    row = "(%s::bigint, %s::text, %s::timestamptz, %s::text, %s::text)"
    with connection.cursor() as cur:
        for start in range(0, len(lines), 2000):
            chunk = lines[start : start + 2000]
            cur.execute(
                f"UPDATE {table} AS l SET status = v.status, settled_at = v.settled_at, bank_reference = v.ref, "
                f"failure_reason = v.reason FROM (VALUES {', '.join([row] * len(chunk))}) "
                "AS v(id, status, settled_at, ref, reason) WHERE l.id = v.id",
                [p for x in chunk for p in (x.pk, x.status, x.settled_at, x.bank_reference, x.failure_reason)],
            )


@transaction.atomic
def lines_settle(*, results: list[dict], acting_user, batch: PayoutBatch, at=None) -> tuple[int, int]:
    """Apply the bank's results: ``[{"line": id, "paid": bool, "reference": str, "reason": str}]``. Returns (paid, failed).
    ``at``: the bank's settlement moment when it is not now (a return file applied later; never in the future)."""
    at = _when(at)
    invalidation.bump()  # cached subsidy figures are stale once this commits
    # the batch row, locked: two return files of one batch are applied one after the other, and only to a batch
    # the bank has been sent (a prepared batch's lines have not left the office)
    status = PayoutBatch.objects.select_for_update().filter(pk=batch.pk).values_list("status", flat=True).first()
    if status not in (PayoutBatch.Status.SENT, PayoutBatch.Status.SETTLED):
        raise ValidationError(_("Import the bank's return file once the batch has been sent."))
    refusal = seals.return_refusal(batch, [r["line"] for r in results])
    if refusal:
        raise ValidationError(refusal)
    now = timezone.now()
    by_line = {r["line"]: r for r in results}
    # the pending lines this call settles, locked: what the audit says moved is what moved. Set-based: one
    # SELECT and one bulk UPDATE per 2,000 lines whatever the size of the bank's file
    lines = list(
        PayoutLine.objects.select_for_update()
        .filter(pk__in=list(by_line), batch=batch, status=PayoutLine.Status.PENDING)
        .order_by("pk")
        .only("pk", "award_id")
    )
    paid_lines, failed_ids = [], []
    for line in lines:
        r = by_line[line.pk]
        line.settled_at, line.bank_reference = at, (r.get("reference") or "")[:40]
        if r["paid"]:
            line.status, line.failure_reason = PayoutLine.Status.PAID, ""
            paid_lines.append(line)
        else:
            line.status, line.failure_reason = PayoutLine.Status.FAILED, (r.get("reason") or "")[:200]
            failed_ids.append(line.pk)
    _write_settled(lines)
    paid_ids = [line.pk for line in paid_lines]
    n_paid, n_failed = len(paid_ids), len(failed_ids)
    award_ids = [line.award_id for line in paid_lines]
    moved = list(
        Award.objects.select_for_update()
        .filter(pk__in=award_ids, status=AwardStatus.APPROVED)
        .values_list("pk", flat=True)
    )
    Award.objects.filter(pk__in=moved, status=AwardStatus.APPROVED).update(status=AwardStatus.PAID, updated_at=now)
    with translation.override(settings.LANGUAGE_CODE):  # stored text: in the site's language, as all data is
        pay_reason = _("Paid in payout batch %(n)s") % {"n": batch.pk}
    AwardStep.objects.bulk_create(
        [
            AwardStep(
                award_id=pk,
                action=AwardStep.Action.PAY,
                from_status=AwardStatus.APPROVED,
                to_status=AwardStatus.PAID,
                actor=acting_user,
                reason=pay_reason,
            )
            for pk in moved
        ],
        batch_size=5000,
    )
    _settle_if_complete(batch.pk, at)
    audit.log(
        batch,
        action=audit.Action.UPDATE,
        actor=acting_user,
        event="bank_return",
        paid=n_paid,
        failed=n_failed,
        paid_lines=paid_ids,
        failed_lines=failed_ids,
        awards_paid=moved,
    )
    return n_paid, n_failed


class BankReturnImporter(Importer):
    """The bank's return file for one batch: each line paid (成功) or failed (失败), with the bank's reference."""

    identifier = "subsidies.bank_return"
    verbose_name = _lazy("Bank return file")
    natural_key = ("line",)

    def __init__(self, *, batch: PayoutBatch, **kwargs):
        super().__init__(**kwargs)
        self.batch = batch

    def prepare(self, rows):
        self.lines = {
            line.pk: line for line in PayoutLine.objects.filter(batch=self.batch, pk__in=[r["line"] for r in rows])
        }
        # the whole file is refused if the batch is not sealed or its lines no longer match their seal
        self.refusal = seals.return_refusal(self.batch, [])
        self.seal = PayoutBatch.objects.filter(pk=self.batch.pk).values("seal_sha256", "seal_lines").first()

    def clean_row(self, row):
        if self.refusal:
            self.error("line", self.refusal)
            self.refusal = None  # said once, on the first row
        if row.get("seal") and row["seal"].lower() != self.seal["seal_sha256"]:
            self.error(
                "seal",
                _("The seal in the file does not match this batch's seal %(s)s.") % {"s": self.seal["seal_sha256"]},
            )
        line = self.lines.get(row["line"])
        if line is None or not line.seal_digest:
            self.error(
                "line",
                _("Refused: line %(line)s is not among the %(n)s lines sealed in payout batch %(batch)s.")
                % {"line": row["line"], "n": self.seal["seal_lines"] or 0, "batch": self.batch.pk},
            )
            return
        if row["bank_account"] != line.bank_account:
            self.error(
                "bank_account", _("The account does not match the line's account %(a)s.") % {"a": line.bank_account}
            )
        if row["amount"] != line.amount:
            self.error("amount", _("The amount does not match the line's amount %(a)s.") % {"a": line.amount})
        paid = row["result"] in ("paid", "成功", "success")
        if row["result"] not in ("paid", "failed", "成功", "失败", "success", "fail"):
            self.error("result", _("Write 成功 (paid) or 失败 (failed)."))
        if line.status != PayoutLine.Status.PENDING and (line.status == PayoutLine.Status.PAID) != paid:
            self.error("result", _("This line was already settled as %(s)s.") % {"s": line.get_status_display()})
        row["paid"] = paid

    def save(self, rows):
        pending = [r for r in rows if self.lines[r["line"]].status == PayoutLine.Status.PENDING]
        paid, failed = lines_settle(
            results=[
                {"line": r["line"], "paid": r["paid"], "reference": r["reference"] or "", "reason": r["reason"] or ""}
                for r in pending
            ],
            acting_user=self.user,
            batch=self.batch,
        )
        return paid + failed, 0, len(rows) - len(pending)


BankReturnImporter.columns = [
    Col("line", _lazy("Line number"), "int"),
    Col("bank_account", _lazy("Bank account"), "code", max_length=32),
    Col("amount", _lazy("Amount"), "decimal"),
    Col("result", _lazy("Result"), "text", max_length=10, help=_lazy("成功 or 失败")),
    Col("reference", _lazy("Bank reference"), "text", required=False, max_length=40),
    Col("reason", _lazy("Failure reason"), "text", required=False, max_length=200),
    Col("seal", _lazy("Batch seal"), "text", required=False, max_length=64, help=_lazy("as on the bank file")),
]


@transaction.atomic
def recovery_create(*, award: Award, amount: Decimal, reason: str, acting_user, scope, request=None) -> Recovery:
    invalidation.bump()  # cached subsidy figures are stale once this commits
    _require_officer(scope, award.county_id)
    award = Award.objects.select_for_update().get(pk=award.pk)  # two officers recording at once: one after the other
    if award.status != AwardStatus.PAID:
        raise ValidationError(_("Only a paid award can be recovered."))
    already = award.recoveries.aggregate(t=Sum("amount"))["t"] or ZERO
    if amount is not None and already + amount > award.amount:
        raise ValidationError(
            _("Recoveries of this award would total %(total)s yuan, more than the %(amount)s yuan paid.")
            % {"total": already + amount, "amount": award.amount}
        )
    rec = Recovery(award=award, amount=amount, reason=reason.strip(), created_by=acting_user)
    if not rec.reason:
        raise ValidationError(_("A recovery needs a reason."))
    rec.full_clean()
    rec.save()
    audit.log(
        rec,
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        award=award.pk,
        amount=str(amount),
        reason=reason,
    )
    return rec


@transaction.atomic
def recovery_settle(*, recovery: Recovery, acting_user, scope, request=None) -> None:
    invalidation.bump()  # cached subsidy figures are stale once this commits
    _require_officer(scope, recovery.award.county_id)
    if (
        Recovery.objects.filter(pk=recovery.pk, status=Recovery.Status.OPEN).update(
            status=Recovery.Status.SETTLED, settled_at=timezone.now()
        )
        != 1
    ):
        raise ValidationError(_("This recovery is already settled."))
    audit.log(
        recovery,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        changes={"status": ["open", "settled"]},
    )


@transaction.atomic
def loan_disburse(*, loan: LoanApplication, acting_user, scope, request=None) -> None:
    """Disburse an approved loan; the cap is checked again here, against the rate in force now."""
    invalidation.bump()  # cached subsidy figures are stale once this commits
    _require_officer(scope, loan.county_id)
    loan = LoanApplication.objects.select_for_update().get(pk=loan.pk)
    if loan.status != LoanApplication.Status.APPROVED:
        raise ValidationError(_("Only an approved loan can be disbursed."))
    cap = loan.cap()
    if cap is None or loan.amount > cap:
        raise ValidationError(
            _("The loan of %(amount)s yuan exceeds the cap of %(cap)s yuan; it cannot be disbursed.")
            % {"amount": loan.amount, "cap": cap}
        )
    LoanApplication.objects.filter(pk=loan.pk).update(
        status=LoanApplication.Status.DISBURSED, disbursed_at=timezone.now(), disbursed_by=acting_user
    )
    audit.log(
        loan,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        changes={"status": ["approved", "disbursed"]},
    )


# -- reconciliation ------------------------------------------------------------------------
@dataclass
class ReconRow:
    scheme: str
    county: str
    budget: Decimal = ZERO
    approved: Decimal = ZERO  # awards approved or paid
    in_batches: Decimal = ZERO  # pending or paid lines
    paid: Decimal = ZERO  # paid lines
    recoveries_open: Decimal = ZERO
    recovered: Decimal = ZERO


@dataclass
class Reconciliation:
    rows: list[ReconRow] = field(default_factory=list)
    total: ReconRow = field(default_factory=lambda: ReconRow("", ""))
    differences: list[dict] = field(default_factory=list)


def reconciliation(*, scope, school_year: int, county_id: int | None = None) -> Reconciliation:
    """Budget → awards → batch lines → paid, per scheme and county, agreeing to the yuan, with every difference.

    A fixed number of aggregate queries, whatever the size of the year.
    """
    awards = scope.filter(Award).filter(period__school_year=school_year, scheme__kind=SchemeKind.CASH)
    allocations = scope.filter(Allocation).filter(school_year=school_year)
    lines = PayoutLine.objects.filter(award__in=awards)
    recs = Recovery.objects.filter(award__in=awards)
    if county_id:
        awards, allocations = awards.filter(county_id=county_id), allocations.filter(county_id=county_id)
        lines, recs = lines.filter(award__county_id=county_id), recs.filter(award__county_id=county_id)
    table: dict[tuple, ReconRow] = {}
    names = dict(Scheme.objects.values_list("pk", "name"))
    from schools.models import County

    counties = dict(County.objects.values_list("pk", "name"))

    def row(scheme_id, county_id):
        key = (scheme_id, county_id)
        if key not in table:
            table[key] = ReconRow(names.get(scheme_id, "?"), counties.get(county_id, "?"))
        return table[key]

    for a in allocations.values("scheme_id", "county_id").annotate(t=Sum("amount")):
        row(a["scheme_id"], a["county_id"]).budget = a["t"]
    for a in (
        awards.filter(status__in=[AwardStatus.APPROVED, AwardStatus.PAID])
        .values("scheme_id", "county_id")
        .annotate(t=Sum("amount"))
    ):
        row(a["scheme_id"], a["county_id"]).approved = a["t"]
    for a in lines.values("award__scheme_id", "award__county_id").annotate(
        live=Sum("amount", filter=~Q(status=PayoutLine.Status.FAILED)),
        paid=Sum("amount", filter=Q(status=PayoutLine.Status.PAID)),
    ):
        r = row(a["award__scheme_id"], a["award__county_id"])
        r.in_batches, r.paid = a["live"] or ZERO, a["paid"] or ZERO
    for a in recs.values("award__scheme_id", "award__county_id").annotate(
        open=Sum("amount", filter=Q(status=Recovery.Status.OPEN)),
        done=Sum("amount", filter=Q(status=Recovery.Status.SETTLED)),
    ):
        r = row(a["award__scheme_id"], a["award__county_id"])
        r.recoveries_open, r.recovered = a["open"] or ZERO, a["done"] or ZERO
    rep = Reconciliation(rows=sorted(table.values(), key=lambda r: (r.county, r.scheme)))
    for r in rep.rows:
        for f in ("budget", "approved", "in_batches", "paid", "recoveries_open", "recovered"):
            setattr(rep.total, f, getattr(rep.total, f) + getattr(r, f))
        if r.approved > r.budget:
            rep.differences.append(
                {
                    "kind": _("Approved beyond the allocation"),
                    "where": f"{r.county} {r.scheme}",
                    "amount": r.approved - r.budget,
                }
            )
    # award-level differences (each a set-based query)
    live = PayoutLine.objects.filter(award=OuterRef("pk")).exclude(status=PayoutLine.Status.FAILED)
    paid_line = PayoutLine.objects.filter(award=OuterRef("pk"), status=PayoutLine.Status.PAID)
    checks = [
        (_("Approved, not yet in a payout batch"), awards.filter(status=AwardStatus.APPROVED).exclude(Exists(live))),
        (
            _("In a payout batch, awaiting the bank's result"),
            awards.filter(Exists(PayoutLine.objects.filter(award=OuterRef("pk"), status=PayoutLine.Status.PENDING))),
        ),
        (_("Marked paid without a paid bank line"), awards.filter(status=AwardStatus.PAID).exclude(Exists(paid_line))),
        (
            _("Paid bank line but the award is not marked paid"),
            awards.filter(Exists(paid_line)).exclude(status=AwardStatus.PAID),
        ),
        (_("Line amount differs from the award"), awards.filter(Exists(live.exclude(amount=OuterRef("amount"))))),
        # one row per award, with what is still to recover (not the award's amount: a recovery may be partial)
        (
            _("Overpayment to recover"),
            awards.annotate(
                open_recovery=Sum("recoveries__amount", filter=Q(recoveries__status=Recovery.Status.OPEN))
            ).filter(open_recovery__gt=0),
        ),
    ]
    for label, qs in checks:
        for a in qs.select_related("student", "scheme", "school")[:500]:
            rep.differences.append(
                {
                    "kind": label,
                    "where": f"{a.school.name} · {a.student.name} · {a.scheme.name}",
                    "amount": getattr(a, "open_recovery", None) or a.amount,
                    "award": a.pk,
                }
            )
    return rep


__all__ = [
    "payout_prepare",
    "payout_send",
    "lines_settle",
    "BankReturnImporter",
    "recovery_create",
    "recovery_settle",
    "loan_disburse",
    "reconciliation",
    "Count",
    "F",
]
