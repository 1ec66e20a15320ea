"""Payout batches, the bank's return file, reconciliation to the yuan, recoveries and loan caps."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from openpyxl import Workbook

from jinpin import imports
from jinpin.scope import get_scope
from subsidies.exporters import BankFileExporter
from subsidies.models import (
    Allocation,
    Award,
    AwardStatus,
    LoanApplication,
    PayoutBatch,
    PayoutLine,
    RateVersion,
    Recovery,
    Scheme,
)
from subsidies.services import payouts
from subsidies.services.workflow import award_transition

from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def approved(places, period):
    """Four approved cash awards in county A (nutrition 600 ×3, boarding 1,000 ×1) and allocations."""
    w = places
    nutrition, boarding = Scheme.objects.get(code="nutrition"), Scheme.objects.get(code="boarding_allowance")
    out = []
    for scheme, amount in ((nutrition, "600.00"), (nutrition, "600.00"), (nutrition, "600.00"), (boarding, "1000.00")):
        s = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
        out.append(
            Award.objects.create(
                student=s,
                scheme=scheme,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal(amount),
                rate_version=scheme.rates.get(),
                facts={},
            )
        )
    Allocation.objects.create(scheme=nutrition, county=w.county_a, school_year=2016, amount=Decimal("2000.00"))
    Allocation.objects.create(scheme=boarding, county=w.county_a, school_year=2016, amount=Decimal("1000.00"))
    qs = Award.objects.filter(pk__in=[a.pk for a in out])
    for user, action in ((w.principal_a, "apply"), (w.principal_a, "review"), (w.officer_a, "approve")):
        award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user))
    return out


def prepare(w, period):
    return payouts.payout_prepare(
        county=w.county_a,
        period=period,
        funding_source="central",
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )


def checker(w):
    """A second officer of county A: the one who prepared a batch does not also send it (four eyes)."""
    from tests.factories import make_user

    if not hasattr(w, "checker_a"):
        w.checker_a = make_user("county_officer", county=w.county_a, username="checker_a")
    return w.checker_a


def send(w, batch):
    user = checker(w)
    payouts.payout_send(batch=batch, acting_user=user, scope=get_scope(user))


def return_file(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["line", "bank_account", "amount", "result", "reference", "reason"]
    )  # column keys are accepted as headers
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("return.xlsx", buf.getvalue())


def test_prepare_send_return_and_reissue_failed_never_twice(places, period, approved):
    w = places
    batch = prepare(w, period)
    lines = list(batch.lines.order_by("pk"))
    assert len(lines) == 4 and sum(line.amount for line in lines) == Decimal("2800.00")
    with pytest.raises(ValidationError):
        prepare(w, period)  # nothing left to pay
    rows = list(BankFileExporter(get_scope(w.officer_a), {"batch": batch.pk}).rows())
    assert rows[0][3] == lines[0].award.student.id_number  # the bank file carries full IDs
    send(w, batch)
    importer = lambda: payouts.BankReturnImporter(batch=batch, scope=get_scope(w.officer_a), user=w.officer_a)  # noqa: E731
    bad = [(line.pk, line.bank_account, str(line.amount), "成功", f"R{line.pk}", "") for line in lines]
    bad[1] = (lines[1].pk, lines[1].bank_account, "601.00", "成功", "", "")
    bad[2] = (99999, lines[2].bank_account, "600.00", "成功", "", "")
    report = imports.run(importer(), return_file(bad), keep_copy=False)
    assert not report.ok and {e.row for e in report.errors} == {3, 4}
    assert not PayoutLine.objects.filter(status="paid").exists()  # all or nothing
    good = [(line.pk, line.bank_account, str(line.amount), "成功", f"R{line.pk}", "") for line in lines]
    good[3] = (lines[3].pk, lines[3].bank_account, str(lines[3].amount), "失败", "", "账户已销户")
    report = imports.run(importer(), return_file(good), keep_copy=False)
    assert report.ok and report.created == 4
    assert (
        imports.run(importer(), return_file(good), keep_copy=False).unchanged == 4
    )  # the same file again changes nothing
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SETTLED
    assert Award.objects.filter(pk__in=[a.pk for a in approved], status=AwardStatus.PAID).count() == 3
    failed_award = Award.objects.get(pk=lines[3].award_id)
    assert failed_award.status == AwardStatus.APPROVED and failed_award.steps.filter(action="pay").count() == 0
    again = prepare(w, period)  # the failed line is re-issued in a later batch
    assert list(again.lines.values_list("award_id", flat=True)) == [failed_award.pk]
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.create(
            batch=again, award_id=lines[0].award_id, amount=Decimal("600.00"), payee_name="x", bank_account="1"
        )


def test_reconciliation_agrees_to_the_yuan_and_lists_differences(places, period, approved):
    w = places
    scope = get_scope(w.auditor)
    rep = payouts.reconciliation(scope=scope, school_year=2016)
    assert (rep.total.budget, rep.total.approved, rep.total.in_batches, rep.total.paid) == (
        Decimal("3000.00"),
        Decimal("2800.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert sum(1 for d in rep.differences if d.get("award")) == 4  # approved, not yet in a batch
    batch = prepare(w, period)
    send(w, batch)
    lines = list(batch.lines.order_by("pk"))
    payouts.lines_settle(
        results=[{"line": line.pk, "paid": True} for line in lines], acting_user=w.officer_a, batch=batch
    )
    rep = payouts.reconciliation(scope=scope, school_year=2016)
    assert rep.total.approved == rep.total.in_batches == rep.total.paid == Decimal("2800.00")
    assert rep.differences == []
    nutrition = next(r for r in rep.rows if r.scheme == "营养餐补助")
    assert (nutrition.budget, nutrition.paid) == (Decimal("2000.00"), Decimal("1800.00"))
    # an overpayment found later is carried until settled
    award = Award.objects.get(pk=lines[0].award_id)
    with pytest.raises(ValidationError):
        payouts.recovery_create(
            award=award,
            amount=award.amount + 1,
            reason="重复发放",
            acting_user=w.officer_a,
            scope=get_scope(w.officer_a),
        )
    rec = payouts.recovery_create(
        award=award, amount=award.amount, reason="脱贫后仍发放", acting_user=w.officer_a, scope=get_scope(w.officer_a)
    )
    rep = payouts.reconciliation(scope=scope, school_year=2016)
    assert rep.total.recoveries_open == award.amount and any(d.get("award") == award.pk for d in rep.differences)
    payouts.recovery_settle(recovery=rec, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    rep = payouts.reconciliation(scope=scope, school_year=2016)
    assert (rep.total.recoveries_open, rep.total.recovered) == (Decimal("0.00"), award.amount)
    assert Recovery.objects.get().status == "settled"
    assert payouts.reconciliation(scope=get_scope(w.officer_b), school_year=2016).total.paid == Decimal("0.00")


def test_loan_caps_as_data_and_again_at_disbursement(places, period):
    w = places
    s = pupil(w.senior_a)
    ok = LoanApplication(
        student=s,
        county=w.county_a,
        school_year=2016,
        level="undergraduate",
        institution="山东大学",
        amount=Decimal("8000.00"),
    )
    ok.full_clean()
    over = LoanApplication(
        student=s,
        county=w.county_a,
        school_year=2016,
        level="undergraduate",
        institution="山东大学",
        amount=Decimal("8000.01"),
    )
    with pytest.raises(ValidationError):
        over.full_clean()
    post = LoanApplication(
        student=s,
        county=w.county_a,
        school_year=2016,
        level="postgraduate",
        institution="山东大学",
        amount=Decimal("12000.00"),
    )
    post.full_clean()
    ok.status = "approved"
    ok.save()
    # the cap falls before disbursement: the loan is refused at disbursement
    loan = Scheme.objects.get(code="student_loan")
    RateVersion.objects.create(
        scheme=loan,
        effective_from=dt.date(2016, 6, 1),
        lines=[
            {"when": "level:undergraduate", "amount": "6000.00"},
            {"when": "level:postgraduate", "amount": "10000.00"},
        ],
    )
    with pytest.raises(ValidationError):
        payouts.loan_disburse(loan=ok, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    LoanApplication.objects.filter(pk=ok.pk).update(amount=Decimal("6000.00"))
    payouts.loan_disburse(loan=ok, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    assert LoanApplication.objects.get(pk=ok.pk).status == "disbursed"


def test_payout_pages_scope_and_read_only(places, period, approved, client_for):
    w = places
    batch = prepare(w, period)
    url = reverse("subsidies:payout_detail", args=[batch.pk])
    assert client_for(w.officer_a).get(url).status_code == 200
    assert client_for(w.auditor).get(url).status_code == 200
    assert client_for(w.officer_b).get(url).status_code == 404
    assert client_for(w.principal_a).get(url).status_code == 403
    assert client_for(w.auditor).post(reverse("subsidies:payout_send", args=[batch.pk])).status_code == 403
    assert client_for(w.officer_b).post(reverse("subsidies:payout_send", args=[batch.pk])).status_code == 404
    assert client_for(checker(w)).post(reverse("subsidies:payout_send", args=[batch.pk])).status_code == 302
    assert PayoutBatch.objects.get().status == "sent"
    r = client_for(w.auditor).get(reverse("subsidies:reconciliation"))
    assert r.status_code == 200 and r.context["rep"].total.in_batches == Decimal("2800.00")
    assert client_for(w.officer_a).get(reverse("subsidies:payout_list")).status_code == 200


def test_payout_pages_query_counts_are_constant(places, period, approved, client_for, django_assert_num_queries):
    w = places
    batch = prepare(w, period)
    c = client_for(w.officer_a)
    for url, queries in (
        (reverse("subsidies:payout_detail", args=[batch.pk]), 4),  # the lines counted once (the totals)
        (reverse("subsidies:payout_list"), 5),  # the batches, then their lines' sums (kept from the second time)
        (reverse("subsidies:allocation_list"), 3),
        (reverse("subsidies:reconciliation"), 13),
    ):
        with django_assert_num_queries(queries):
            assert c.get(url).status_code == 200
    # more lines, same number of queries
    nutrition = Scheme.objects.get(code="nutrition")
    Allocation.objects.filter(scheme=nutrition).update(amount=Decimal("99999.00"))
    more = []
    for _i in range(15):
        s = pupil(w.weak_a)
        more.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal("600.00"),
                rate_version=nutrition.rates.get(),
                facts={},
                status="approved",
            )
        )
    big = prepare(w, period)
    with django_assert_num_queries(4):
        assert c.get(reverse("subsidies:payout_detail", args=[big.pk])).status_code == 200
    # the list's sums: kept while the lines are unchanged, and right after a change
    c.get(reverse("subsidies:payout_list"))  # a new batch, a new key: its tables noted,
    c.get(reverse("subsidies:payout_list"))  # then the sums kept
    with django_assert_num_queries(4):
        r = c.get(reverse("subsidies:payout_list"))
    sums = {b.pk: (b.n, b.total) for b in r.context["batches"]}
    assert sums[big.pk] == (big.lines.count(), sum(line.amount for line in big.lines.all()))
    big.lines.filter(pk=big.lines.order_by("pk").first().pk).update(status="failed")
    r = c.get(reverse("subsidies:payout_list"))
    assert {b.pk: b.failed for b in r.context["batches"]}[big.pk] == 1


def test_recovery_pages(places, period, approved, client_for):
    w = places
    batch = prepare(w, period)
    send(w, batch)
    payouts.lines_settle(
        results=[{"line": pk, "paid": True} for pk in batch.lines.values_list("pk", flat=True)],
        acting_user=w.officer_a,
        batch=batch,
    )
    award = approved[0]
    url = reverse("subsidies:award_recover", args=[award.pk])
    assert client_for(w.auditor).post(url, {"amount": "600.00", "reason": "x"}).status_code == 403
    assert client_for(w.officer_b).post(url, {"amount": "600.00", "reason": "x"}).status_code == 404
    assert client_for(w.officer_a).post(url, {"amount": "600.00", "reason": "重复发放"}).status_code == 302
    rec = Recovery.objects.get()
    assert client_for(w.auditor).get(reverse("subsidies:recovery_list")).status_code == 200
    assert client_for(w.officer_b).post(reverse("subsidies:recovery_settle", args=[rec.pk])).status_code == 404
    assert client_for(w.officer_a).post(reverse("subsidies:recovery_settle", args=[rec.pk])).status_code == 302
    assert Recovery.objects.get().status == "settled"


def test_an_award_in_a_payout_batch_cannot_be_returned_to_review(places, period, approved):
    """Returning an approved award whose line is on its way to the bank would leave money paid to a non-approved award."""
    w = places
    batch = prepare(w, period)
    qs = Award.objects.filter(pk__in=[a.pk for a in approved])
    out = award_transition(
        awards=qs, action="return", acting_user=w.officer_a, scope=get_scope(w.officer_a), reason="再核实"
    )
    assert (out.moved, out.in_payout) == (0, 4)
    assert qs.filter(status=AwardStatus.APPROVED).count() == 4
    # once the bank fails a line, its award is free again and may go back for review
    send(w, batch)
    failed = batch.lines.order_by("pk").first()
    payouts.lines_settle(
        results=[{"line": failed.pk, "paid": False, "reason": "账户已销户"}], acting_user=w.officer_a, batch=batch
    )
    out = award_transition(
        awards=qs, action="return", acting_user=w.officer_a, scope=get_scope(w.officer_a), reason="更正账户"
    )
    assert out.moved == 1 and Award.objects.get(pk=failed.award_id).status == AwardStatus.REVIEWED


def test_recoveries_of_one_award_never_total_more_than_was_paid(places, period, approved):
    w = places
    batch = prepare(w, period)
    send(w, batch)
    payouts.lines_settle(
        results=[{"line": pk, "paid": True} for pk in batch.lines.values_list("pk", flat=True)],
        acting_user=w.officer_a,
        batch=batch,
    )
    award = Award.objects.get(pk=approved[0].pk)  # 600.00 paid
    payouts.recovery_create(
        award=award, amount=Decimal("400.00"), reason="部分重复", acting_user=w.officer_a, scope=get_scope(w.officer_a)
    )
    with pytest.raises(ValidationError):
        payouts.recovery_create(
            award=award,
            amount=Decimal("600.00"),
            reason="重复发放",
            acting_user=w.officer_a,
            scope=get_scope(w.officer_a),
        )
    payouts.recovery_create(
        award=award, amount=Decimal("200.00"), reason="余额", acting_user=w.officer_a, scope=get_scope(w.officer_a)
    )
    assert sum(r.amount for r in Recovery.objects.filter(award=award)) == Decimal("600.00")


def test_the_bank_return_audit_names_each_line_and_award_it_settled(places, period, approved):
    from jinpin.audit import LogEntry

    w = places
    batch = prepare(w, period)
    send(w, batch)
    lines = list(batch.lines.order_by("pk"))
    payouts.lines_settle(
        results=[{"line": lines[0].pk, "paid": True}, {"line": lines[1].pk, "paid": False, "reason": "销户"}],
        acting_user=w.officer_a,
        batch=batch,
    )
    entry = LogEntry.objects.filter(additional_data__event="bank_return").get()
    assert entry.actor == w.officer_a
    assert (
        entry.additional_data["paid_lines"],
        entry.additional_data["failed_lines"],
        entry.additional_data["awards_paid"],
    ) == ([lines[0].pk], [lines[1].pk], [lines[0].award_id])


def test_lines_of_a_batch_not_yet_sent_cannot_be_settled(places, period, approved):
    w = places
    batch = prepare(w, period)
    with pytest.raises(ValidationError):
        payouts.lines_settle(
            results=[{"line": pk, "paid": True} for pk in batch.lines.values_list("pk", flat=True)],
            acting_user=w.officer_a,
            batch=batch,
        )
    assert not PayoutLine.objects.filter(status="paid").exists()
    assert not Award.objects.filter(status=AwardStatus.PAID).exists()


def test_settling_bank_results_takes_the_same_queries_for_one_line_or_many(places, period, approved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = places
    batch = prepare(w, period)
    send(w, batch)
    lines = list(batch.lines.order_by("pk"))
    with CaptureQueriesContext(connection) as one:
        payouts.lines_settle(
            results=[{"line": lines[0].pk, "paid": True, "reference": "R0"}], acting_user=w.officer_a, batch=batch
        )
    with CaptureQueriesContext(connection) as many:
        payouts.lines_settle(
            results=[
                {"line": lines[1].pk, "paid": True, "reference": "R1"},
                {"line": lines[2].pk, "paid": False, "reason": "销户"},
            ],
            acting_user=w.officer_a,
            batch=batch,
        )
    assert len(many.captured_queries) == len(one.captured_queries)  # the batch stays open (line 4 pending) in both
    got = list(
        PayoutLine.objects.filter(batch=batch).order_by("pk").values_list("status", "bank_reference", "failure_reason")
    )
    assert got == [("paid", "R0", ""), ("paid", "R1", ""), ("failed", "", "销户"), ("pending", "", "")]


def test_reconciliation_lists_an_overpayment_once_with_what_is_left_to_recover(places, period, approved):
    w = places
    batch = prepare(w, period)
    send(w, batch)
    payouts.lines_settle(
        results=[{"line": pk, "paid": True} for pk in batch.lines.values_list("pk", flat=True)],
        acting_user=w.officer_a,
        batch=batch,
    )
    award = Award.objects.get(pk=approved[0].pk)
    for amount in ("100.00", "150.00"):
        payouts.recovery_create(
            award=award,
            amount=Decimal(amount),
            reason="部分重复",
            acting_user=w.officer_a,
            scope=get_scope(w.officer_a),
        )
    rep = payouts.reconciliation(scope=get_scope(w.auditor), school_year=2016)
    rows = [d for d in rep.differences if d.get("award") == award.pk]
    assert [d["amount"] for d in rows] == [Decimal("250.00")]
    assert rep.total.recoveries_open == Decimal("250.00")


def test_four_eyes_whoever_prepared_a_batch_does_not_send_it(places, period, approved, client_for):
    w = places
    batch = prepare(w, period)  # by officer_a
    with pytest.raises(ValidationError, match="four eyes"), translation.override("en"):
        payouts.payout_send(batch=batch, acting_user=w.officer_a, scope=get_scope(w.officer_a))
    r = client_for(w.officer_a).post(reverse("subsidies:payout_send", args=[batch.pk]), follow=True)
    with translation.override(r.wsgi_request.LANGUAGE_CODE):
        assert (
            escape(
                translation.gettext(
                    "You prepared this batch: another officer (or the city administrator) must check it and mark "
                    "it as sent (four eyes)."
                )
            )
            in r.content.decode()
        )
    page = client_for(w.officer_a).get(reverse("subsidies:payout_detail", args=[batch.pk])).content.decode()
    assert 'id="four-eyes"' in page and 'id="send-button"' not in page
    assert (
        'id="send-button"'
        in client_for(checker(w)).get(reverse("subsidies:payout_detail", args=[batch.pk])).content.decode()
    )
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.PREPARED and batch.sent_by is None
    send(w, batch)
    batch.refresh_from_db()
    assert (batch.status, batch.sent_by) == (PayoutBatch.Status.SENT, w.checker_a)


def test_four_eyes_the_city_administrator_may_send_a_batch_they_prepared(places, period, approved):
    w = places
    batch = payouts.payout_prepare(
        county=w.county_a, period=period, funding_source="central", acting_user=w.admin, scope=get_scope(w.admin)
    )
    payouts.payout_send(batch=batch, acting_user=w.admin, scope=get_scope(w.admin))
    batch.refresh_from_db()
    assert (batch.status, batch.sent_by) == (PayoutBatch.Status.SENT, w.admin)


def test_a_batch_sent_and_settled_on_a_past_day_keeps_that_day_and_never_a_future_one(places, period, approved):
    """``at=``: the day a batch was sent and the bank's value date of its return file, when they are applied
    later (the demo's 2016 payments); a payment is never dated after now."""
    import datetime as dt

    from django.utils import timezone

    w = places
    batch = prepare(w, period)
    future = timezone.now() + dt.timedelta(days=1)
    user = checker(w)
    with pytest.raises(ValidationError):
        payouts.payout_send(batch=batch, acting_user=user, scope=get_scope(user), at=future)
    sent = timezone.make_aware(dt.datetime(2016, 9, 12, 10, 0))
    payouts.payout_send(batch=batch, acting_user=user, scope=get_scope(user), at=sent)
    results = [{"line": pk, "paid": True} for pk in batch.lines.values_list("pk", flat=True)]
    with pytest.raises(ValidationError):
        payouts.lines_settle(results=results, acting_user=w.officer_a, batch=batch, at=future)
    assert not PayoutLine.objects.filter(status="paid").exists()
    settled = sent + dt.timedelta(days=5)
    payouts.lines_settle(results=results, acting_user=w.officer_a, batch=batch, at=settled)
    batch.refresh_from_db()
    assert (batch.sent_at, batch.settled_at) == (sent, settled)
    assert set(batch.lines.values_list("settled_at", flat=True)) == {settled}
