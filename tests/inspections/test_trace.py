"""专项督查: a draw over paid payout lines stratified by county and scheme; each trace agrees with the
reconciliation to the yuan; the auditor confirms, or a finding is recorded."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from inspections import selectors, services
from inspections.models import Assignment, Campaign, Finding, FindingCategory, Group, PaymentTrace
from jinpin.display import yuan
from jinpin.scope import get_scope
from subsidies.models import Allocation, Award, Scheme
from subsidies.services import payouts
from subsidies.services.workflow import award_transition
from tests.factories import make_user
from tests.subsidies.factories import household, pupil

from .conftest import seed_reference_data

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def paid(places, period):
    w = places
    seed_reference_data()
    nutrition, boarding = Scheme.objects.get(code="nutrition"), Scheme.objects.get(code="boarding_allowance")
    awards = []
    for scheme, amount in ((nutrition, "600.00"),) * 3 + ((boarding, "1000.00"),) * 2:
        s = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
        awards.append(
            Award.objects.create(
                student=s,
                scheme=scheme,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal(amount),
                rate_version=scheme.rates.get(),
                facts={"household_status": "verified"},
            )
        )
    Allocation.objects.create(scheme=nutrition, county=w.county_a, school_year=2016, amount=Decimal("2000.00"))
    Allocation.objects.create(scheme=boarding, county=w.county_a, school_year=2016, amount=Decimal("2000.00"))
    qs = Award.objects.filter(pk__in=[a.pk for a in awards])
    for user, action in ((w.principal_a, "apply"), (w.principal_a, "review"), (w.officer_a, "approve")):
        award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user))
    batch = payouts.payout_prepare(
        county=w.county_a,
        period=period,
        funding_source="central",
        acting_user=w.officer_a,
        scope=get_scope(w.officer_a),
    )
    checker = make_user("county_officer", county=w.county_a, username="checker_a")
    payouts.payout_send(batch=batch, acting_user=checker, scope=get_scope(checker))
    lines = list(batch.lines.order_by("pk"))
    results = [{"line": ln.pk, "paid": True, "reference": f"JN{ln.pk}"} for ln in lines]
    results[-1] = {"line": lines[-1].pk, "paid": False, "reason": "账户已冻结"}
    payouts.lines_settle(results=results, acting_user=w.officer_a, batch=batch)
    w.campaign = Campaign.objects.create(
        name="2016 年学生资助专项督查",
        kind=Campaign.Kind.PAYMENTS,
        starts_on=dt.date(2017, 3, 1),
        ends_on=dt.date(2017, 3, 10),
        registry_date=dt.date(2016, 10, 20),
        status=Campaign.Status.RUNNING,
        created_by=w.admin,
    )
    w.group = Group.objects.create(campaign=w.campaign, name="专项督查组")
    w.group.members.add(w.inspector)
    Assignment.objects.create(group=w.group).counties.add(w.county_a)
    w.period = period
    return w


def draw(w, rate):
    d = services.draw_propose(
        group=w.group,
        kind="payments",
        params={"rate": rate, "minimum": 1},
        seed="2017",
        acting_user=w.inspector,
        scope=get_scope(w.inspector),
    )
    services.draw_confirm(draw=d, acting_user=w.inspector)
    return d


def test_payment_draw_is_stratified_by_county_and_scheme(paid):
    d = draw(paid, "0.5")
    strata = {s: (n, k) for s, n, k in d.strata}
    from subsidies.models import PayoutLine

    expected = defaultdict(int)
    for code in PayoutLine.objects.filter(status="paid").values_list("award__scheme__code", flat=True):
        expected[f"370830/{code}"] += 1
    # 4 paid lines of 5 (the failed one is not in the population); k = n × 0.5 rounded half up
    assert sum(expected.values()) == 4
    assert strata == {s: (n, (n + 1) // 2) for s, n in expected.items()}
    failed = PayoutLine.objects.get(status="failed")
    assert failed.pk not in {i for _s, i in d.population}
    assert services.draw_verify(draw=d)[0]


def test_traces_agree_with_the_reconciliation_to_the_yuan(paid):
    d = draw(paid, "1")
    rec = payouts.reconciliation(scope=get_scope(paid.auditor), school_year=2016, county_id=paid.county_a.pk)
    traced = defaultdict(Decimal)
    for item in d.items.all():
        t = selectors.payment_trace(item)
        assert t["line"].amount == t["award"].amount
        assert t["paid"] == t["award"].amount and t["all_ok"], t["checks"]
        assert t["status_on"].status == "verified"
        assert [s.action for s in t["steps"]][:3] == ["apply", "review", "approve"]
        traced[t["award"].scheme.name] += t["paid"]
    paid_by_scheme = {r.scheme: r.paid for r in rec.rows}
    assert dict(traced) == {k: v for k, v in paid_by_scheme.items() if v}
    assert (
        sum(traced.values()) == rec.total.paid == Decimal("3200.00")
    )  # 2 × 1,000 + 2 × 600; the failed line is unpaid


def test_trace_page_confirm_and_finding(paid, client_for):
    d = draw(paid, "1")
    first, second = list(d.items.order_by("position"))[:2]
    auditor = client_for(paid.auditor)
    page = auditor.get(f"/inspections/items/{first.pk}/")
    assert page.status_code == 200 and yuan(first.payout_line.amount) in page.content.decode()  # 1,000.00
    assert auditor.post(f"/inspections/items/{first.pk}/confirm/", {"note": "链条完整"}).status_code == 302
    assert PaymentTrace.objects.get(item=first).outcome == "confirmed"
    auditor.post(f"/inspections/items/{first.pk}/confirm/", {"note": "again"})
    assert PaymentTrace.objects.filter(item=first).count() == 1
    # the inspector records a finding from the second payment: the trace records it
    r = client_for(paid.inspector).post(
        f"/inspections/findings/new/?item={second.pk}",
        {
            "item": second.pk,
            "category": FindingCategory.objects.get(code="payment").pk,
            "severity": "medium",
            "description": "发放时间晚于规定",
            "responsible_level": "county",
            "responsible_unit": "汶上县教育局",
            "deadline": "2017-04-01",
            "county": paid.county_a.pk,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    f = Finding.objects.get()
    assert f.source == "payment" and PaymentTrace.objects.get(item=second).finding == f
    # an officer of the other county sees neither
    assert client_for(paid.officer_b).get(f"/inspections/items/{first.pk}/").status_code == 404
