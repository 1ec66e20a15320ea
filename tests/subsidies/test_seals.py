"""Sealed payout batches, money rows the database keeps from drifting, and verification naming what changed."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from jinpin import auditchain, dberrors, exports, imports
from jinpin.scope import get_scope
from subsidies.exporters import BankFileExporter
from subsidies.models import Allocation, Award, AwardStatus, PayoutLine, Period, Scheme
from subsidies.services import payouts, seals
from subsidies.services.workflow import award_transition
from tests.dbroles import as_app_role, bypassing_triggers, refused

from .conftest import seed_schemes
from .factories import household, pupil
from .test_payouts import checker, return_file

pytestmark = [pytest.mark.django_db]


def approved_awards(w, n=3, amount="600.00"):
    seed_schemes()
    period = Period.objects.get(code="2016-2017")
    nutrition = Scheme.objects.get(code="nutrition")
    Allocation.objects.get_or_create(
        scheme=nutrition, county=w.county_a, school_year=2016, defaults={"amount": Decimal("100000.00")}
    )
    awards = []
    for _ in range(n):
        s = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
        awards.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal(amount),
                rate_version=nutrition.rates.get(),
                facts={},
            )
        )
    qs = Award.objects.filter(pk__in=[a.pk for a in awards])
    for user, action in ((w.principal_a, "apply"), (w.principal_a, "review"), (w.officer_a, "approve")):
        award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user))
    return period, awards


def sent_batch(w, n=3):
    period, _awards = approved_awards(w, n)
    batch = payouts.payout_prepare(
        county=w.county_a,
        period=period,
        funding_source="central",
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )
    user = checker(w)
    payouts.payout_send(batch=batch, acting_user=user, scope=get_scope(user))
    batch.refresh_from_db()
    return batch, list(batch.lines.order_by("pk"))


def paid_batch(w, n=3):
    batch, lines = sent_batch(w, n)
    payouts.lines_settle(
        results=[{"line": line.pk, "paid": True, "reference": f"R{line.pk}"} for line in lines],
        acting_user=w.officer_a,
        batch=batch,
    )
    return batch, lines


def rows_of(lines):
    return [(line.pk, line.payee_name, line.bank_account, line.amount) for line in lines]


def test_sending_seals_the_batch_and_the_bank_file_carries_the_seal(world):
    w = world
    batch, lines = sent_batch(w)
    assert batch.seal_lines == 3 and batch.seal_total_fen == 180000 and len(batch.seal_sha256) == 64
    # the same rule in Python, from the lines as the bank sees them, gives the same seal
    assert seals.seal_of_rows(rows_of(lines)) == (3, 180000, batch.seal_sha256)
    assert all(len(line.seal_digest) == 64 and len(line.award_digest) == 64 for line in lines)
    # the bank file: the lines, and a summary sheet with the seal; recomputed from the file alone it matches
    exporter = BankFileExporter(get_scope(w.officer_a), {"batch": batch.pk})
    path = exports.jobs.result_dir() / "bank.xlsx"
    exports.write_xlsx(path, exporter.columns, exporter.rows(), extra_sheets=exporter.extra_sheets())
    wb = load_workbook(path, read_only=True)
    main, summary = wb.worksheets[0], wb.worksheets[-1]
    header, *body = list(main.iter_rows(values_only=True))
    at = {h: i for i, h in enumerate(header)}  # by header: the bank reads columns by name
    cols = [at["明细序号"], at["收款人"], at["银行账号"], at["金额"]]
    assert seals.seal_of_rows([(r[cols[0]], r[cols[1]], r[cols[2]], Decimal(str(r[cols[3]]))) for r in body]) == (
        3,
        180000,
        batch.seal_sha256,
    )
    facts = {r[0]: r[1] for r in summary.iter_rows(min_row=2, values_only=True)}
    from jinpin.audit import LogEntry

    sent = LogEntry.objects.filter(object_pk=str(batch.pk), additional_data__has_key="seal").get()
    assert sent.additional_data["seal"] == {"lines": 3, "total_fen": 180000, "sha256": batch.seal_sha256}
    assert (
        facts["封签（SHA-256）"] == batch.seal_sha256 and facts["封签笔数"] == 3 and facts["封签总额（分）"] == 180000
    )
    # the batch page shows it, with a verify button that confirms it
    c = _client(w.auditor)
    page = c.get(reverse("subsidies:payout_detail", args=[batch.pk])).content.decode()
    assert batch.seal_sha256 in page and "verify-seal-button" in page
    r = c.post(reverse("subsidies:payout_verify", args=[batch.pk]), follow=True)
    assert "封签无误" in r.content.decode()


def _client(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def test_the_database_refuses_changes_to_money_rows_as_the_app_role(world):
    w = world
    batch, lines = paid_batch(w, n=2)
    sealed_batch, sealed_lines = sent_batch(w, n=1)  # sealed, its line still pending
    approved = approved_awards(w, n=1)[1][0]  # approved, not in any batch
    with as_app_role():
        cases = [
            ("UPDATE subsidies_award SET amount = 1 WHERE id = %s", [approved.pk], "jinpin_award_frozen"),
            ("UPDATE subsidies_award SET student_id = %s WHERE id = %s", [lines[1].award.student_id, approved.pk],
             "jinpin_award_frozen"),
            ("UPDATE subsidies_award SET scheme_id = (SELECT id FROM subsidies_scheme WHERE code = 'boarding_allowance')"
             " WHERE id = %s", [lines[0].award_id], "jinpin_award_frozen"),
            ("UPDATE subsidies_award SET period_id = period_id + 1000 WHERE id = %s", [lines[0].award_id],
             "jinpin_award_frozen"),
            ("DELETE FROM subsidies_award WHERE id = %s", [approved.pk], "jinpin_award_frozen"),
            ("UPDATE subsidies_payoutline SET failure_reason = 'x' WHERE id = %s", [lines[0].pk], "jinpin_line_paid"),
            ("UPDATE subsidies_payoutline SET status = 'failed' WHERE id = %s", [lines[0].pk], "jinpin_line_paid"),
            ("DELETE FROM subsidies_payoutline WHERE id = %s", [lines[0].pk], "jinpin_line_paid"),
            ("UPDATE subsidies_payoutline SET bank_account = '6228000000000000001' WHERE id = %s", [sealed_lines[0].pk],
             "jinpin_line_sealed"),
            ("UPDATE subsidies_payoutline SET amount = amount + 1 WHERE id = %s", [sealed_lines[0].pk],
             "jinpin_line_sealed"),
            ("INSERT INTO subsidies_payoutline (batch_id, award_id, amount, payee_name, bank_account, status, "
             "bank_reference, failure_reason, seal_digest, award_digest) VALUES (%s, %s, 1, 'x', '1', 'pending', '', "
             "'', '', '')", [sealed_batch.pk, approved.pk], "jinpin_batch_sealed"),
            ("UPDATE subsidies_payoutbatch SET seal_sha256 = repeat('0', 64) WHERE id = %s", [sealed_batch.pk],
             "jinpin_batch_sealed"),
        ]  # fmt: skip
        for sql, params, rule in cases:
            err = refused(sql, params)
            assert dberrors.constraint_of(err) == rule, sql
        # the ORM meets the same wall, and the message is the user's
        with pytest.raises(Exception) as exc, transaction.atomic():
            Award.objects.filter(pk=approved.pk).update(amount=Decimal("1.00"))
        assert dberrors.message_for(exc.value).startswith("已审核或已发放的资助")
    # what may still happen does: an approved award goes back to review; its unchanged row saves
    Award.objects.filter(pk=approved.pk).update(status=AwardStatus.REVIEWED)
    Award.objects.filter(pk=approved.pk).update(amount=Decimal("500.00"))  # no longer approved: editable again


def test_a_request_that_hits_a_guard_gets_the_message_not_a_server_error(world, rf):
    from django.db import connection

    from jinpin.dberrors import GuardMiddleware

    approved = approved_awards(world, n=1)[1][0]
    err = refused("UPDATE subsidies_award SET amount = 1 WHERE id = %s", [approved.pk])
    request = rf.get("/")
    request.user = world.officer_a
    from jinpin.scope import get_scope as scope_of

    request.scope = scope_of(world.officer_a)
    response = GuardMiddleware(lambda r: None).process_exception(request, err)
    assert response.status_code == 409 and "已审核或已发放的资助" in response.content.decode()
    assert connection.vendor == "postgresql"


def test_a_bank_return_is_refused_when_lines_no_longer_match_the_seal(world):
    w = world
    batch, lines = sent_batch(w)
    other_batch, other_lines = sent_batch(w, n=1)
    importer = lambda: payouts.BankReturnImporter(batch=batch, scope=get_scope(w.officer_a), user=w.officer_a)  # noqa: E731
    good = [(line.pk, line.bank_account, str(line.amount), "成功", f"R{line.pk}", "") for line in lines]
    # a line not in this batch's seal
    report = imports.run(importer(), return_file([*good, (other_lines[0].pk, other_lines[0].bank_account,
                                                          "600.00", "成功", "", "")]), keep_copy=False)  # fmt: skip
    assert not report.ok
    assert [e.message for e in report.errors] == [
        f"拒绝：发放明细 {other_lines[0].pk} 不在发放批次 {batch.pk} 封签的 3 笔明细之中。"
    ]
    # the bank echoes a wrong seal
    wb_rows = [(*r, "0" * 64) for r in good]
    report = imports.run(importer(), _return_with_seal(wb_rows), keep_copy=False)
    assert not report.ok and all("封签" in e.message for e in report.errors)
    # someone changes a sealed line's account behind the triggers' back: the return is refused as a whole
    with bypassing_triggers():
        PayoutLine.objects.filter(pk=lines[1].pk).update(bank_account="6228999999999999999")
    report = imports.run(importer(), return_file(good), keep_copy=False)
    assert not report.ok  # the first row says why the whole file is refused
    assert report.errors[0].message.startswith(f"拒绝：发放批次 {batch.pk} 的明细与发送银行时的封签不再一致")
    assert f"发放明细 {lines[1].pk}" in report.errors[0].message
    with pytest.raises(ValidationError):
        payouts.lines_settle(results=[{"line": lines[0].pk, "paid": True}], acting_user=w.officer_a, batch=batch)
    assert not PayoutLine.objects.filter(batch=batch, status="paid").exists()
    # the verify action names the line
    r = _client(w.auditor).post(reverse("subsidies:payout_verify", args=[batch.pk]), follow=True)
    assert f"发放明细 {lines[1].pk}" in r.content.decode()


def _return_with_seal(rows):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["line", "bank_account", "amount", "result", "reference", "reason", "seal"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("return.xlsx", buf.getvalue())


def test_tampering_as_the_owner_is_named_by_verification(world):
    """One audit entry, one payout line and one award changed directly in the database: each is named."""
    w = world
    batch, lines = paid_batch(w)
    assert auditchain.verify(source="test").ok
    from jinpin.audit import LogEntry

    victim = LogEntry.objects.order_by("pk")[3]
    with bypassing_triggers():
        LogEntry.objects.filter(pk=victim.pk).update(object_repr="nothing happened")
        PayoutLine.objects.filter(pk=lines[0].pk).update(bank_account="6228000000000000099")
        Award.objects.filter(pk=lines[2].award_id).update(amount=Decimal("6000.00"))
    result = auditchain.verify(source="test")
    assert not result.ok and result.first_bad_entry == victim.pk
    texts = result.problem_texts()
    assert any(f"审计记录 {victim.pk}" in t and "写入后被改动" in t for t in texts), texts
    assert any(f"发放明细 {lines[0].pk}" in t for t in texts), texts
    assert any(f"资助 {lines[2].award_id}" in t for t in texts), texts
    assert any(f"发放批次 {batch.pk} 与其封签不再一致" in t for t in texts), texts
    # the auditor's home page shows the last result
    page = _client(w.auditor).get(reverse("home")).content.decode()
    assert "verification-broken" in page and f"审计记录 {victim.pk}" in page
