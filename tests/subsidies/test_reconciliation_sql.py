"""The reconciliation report checked independently: plain SQL sums over generated data, to the fen.

Budget → awards → lines → paid, per county and scheme, over two counties and three cash schemes, with
rejected awards, failed lines re-issued in a later batch, lines still with the bank, a batch not yet sent,
and recoveries open and settled.
"""

import random
from collections import defaultdict
from decimal import Decimal

import pytest

from jinpin.scope import get_scope
from subsidies.models import Allocation, Award, AwardStatus, PayoutLine, Period, Recovery, Scheme
from subsidies.services import payouts
from subsidies.services.workflow import award_transition

from .conftest import seed_schemes
from .factories import household, pupil
from .test_payouts import checker

pytestmark = [pytest.mark.django_db]

SQL = """
WITH a AS (
    SELECT aw.id, aw.county_id, aw.scheme_id, aw.amount, aw.status
    FROM subsidies_award aw
    JOIN subsidies_scheme s ON s.id = aw.scheme_id
    JOIN subsidies_period p ON p.id = aw.period_id
    WHERE p.school_year = %(year)s AND s.kind = 'cash'
), keys AS (
    SELECT county_id, scheme_id FROM subsidies_allocation WHERE school_year = %(year)s
    UNION SELECT county_id, scheme_id FROM a
)
SELECT c.name, s.name,
    (SELECT coalesce(sum(amount), 0) FROM subsidies_allocation al
        WHERE al.school_year = %(year)s AND al.county_id = k.county_id AND al.scheme_id = k.scheme_id),
    (SELECT coalesce(sum(amount), 0) FROM a
        WHERE a.county_id = k.county_id AND a.scheme_id = k.scheme_id AND a.status IN ('approved', 'paid')),
    (SELECT coalesce(sum(l.amount), 0) FROM subsidies_payoutline l JOIN a ON a.id = l.award_id
        WHERE a.county_id = k.county_id AND a.scheme_id = k.scheme_id AND l.status <> 'failed'),
    (SELECT coalesce(sum(l.amount), 0) FROM subsidies_payoutline l JOIN a ON a.id = l.award_id
        WHERE a.county_id = k.county_id AND a.scheme_id = k.scheme_id AND l.status = 'paid'),
    (SELECT coalesce(sum(r.amount), 0) FROM subsidies_recovery r JOIN a ON a.id = r.award_id
        WHERE a.county_id = k.county_id AND a.scheme_id = k.scheme_id AND r.status = 'open'),
    (SELECT coalesce(sum(r.amount), 0) FROM subsidies_recovery r JOIN a ON a.id = r.award_id
        WHERE a.county_id = k.county_id AND a.scheme_id = k.scheme_id AND r.status = 'settled')
FROM keys k JOIN schools_county c ON c.id = k.county_id JOIN subsidies_scheme s ON s.id = k.scheme_id
ORDER BY c.name, s.name
"""
FIELDS = ("budget", "approved", "in_batches", "paid", "recoveries_open", "recovered")


def fen(x) -> int:
    return int((Decimal(x) * 100).to_integral_value())


def generate(w, rng):
    """Awards in two counties × three schemes with amounts in fen, moved through the whole process."""
    seed_schemes()
    period = Period.objects.get(code="2016-2017")
    schemes = list(Scheme.objects.filter(code__in=["nutrition", "boarding_allowance", "senior_grant"]))
    places = [(w.county_a, w.weak_a, w.village_a, w.principal_a, w.officer_a),
              (w.county_b, w.weak_b, w.village_b, w.principal_b, w.officer_b)]  # fmt: skip
    for county, school, village, principal, officer in places:
        for scheme in schemes:
            Allocation.objects.create(
                scheme=scheme, county=county, school_year=2016, amount=Decimal(rng.randint(3 * 10**6, 10**7)) / 100
            )
        awards = []
        for i in range(24):
            scheme = schemes[i % 3]
            s = pupil(school, household=household(village, ("verified", "2016-01-15")))
            awards.append(
                Award.objects.create(
                    student=s,
                    scheme=scheme,
                    period=period,
                    school=school,
                    county=county,
                    amount=Decimal(rng.randint(1, 300000)) / 100,  # odd fen on purpose
                    rate_version=scheme.rates.first(),
                    facts={},
                )
            )
        ids = [a.pk for a in awards]
        qs = Award.objects.filter(pk__in=ids)
        for user, action in ((principal, "apply"), (principal, "review")):
            award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user))
        # some rejected, the rest approved in two rounds (the second after the first batch)
        award_transition(awards=qs.filter(pk__in=ids[:3]), action="reject", acting_user=officer,
                         scope=get_scope(officer), reason="不符合条件")  # fmt: skip
        award_transition(awards=qs.filter(pk__in=ids[3:18]), action="approve", acting_user=officer,
                         scope=get_scope(officer))  # fmt: skip
        scope, sender = get_scope(officer), checker_for(w, county)
        first = payouts.payout_prepare(
            county=county, period=period, funding_source="central", acting_user=officer, scope=scope
        )
        payouts.payout_send(batch=first, acting_user=sender, scope=get_scope(sender))
        lines = list(first.lines.order_by("pk"))
        payouts.lines_settle(
            results=[{"line": line.pk, "paid": i % 4 != 0, "reason": "户名不符"} for i, line in enumerate(lines)],
            acting_user=officer,
            batch=first,
        )
        award_transition(awards=qs.filter(pk__in=ids[18:]), action="approve", acting_user=officer, scope=scope)
        # the second batch re-issues the failed lines and takes the newly approved awards
        second = payouts.payout_prepare(
            county=county, period=period, funding_source="central", acting_user=officer, scope=scope
        )
        payouts.payout_send(batch=second, acting_user=sender, scope=get_scope(sender))
        lines = list(second.lines.order_by("pk"))
        settled = lines[:-2]  # two lines still with the bank
        payouts.lines_settle(
            results=[{"line": line.pk, "paid": i != 1} for i, line in enumerate(settled)], acting_user=officer,
            batch=second,
        )  # fmt: skip
        # a third batch prepared (not sent) for the line that failed again
        payouts.payout_prepare(county=county, period=period, funding_source="central", acting_user=officer, scope=scope)
        # recoveries: one settled in full, one open and partial
        paid = list(Award.objects.filter(pk__in=ids, status=AwardStatus.PAID).order_by("pk")[:2])
        full = payouts.recovery_create(award=paid[0], amount=paid[0].amount, reason="重复发放", acting_user=officer,
                                       scope=scope)  # fmt: skip
        payouts.recovery_settle(recovery=full, acting_user=officer, scope=scope)
        payouts.recovery_create(award=paid[1], amount=(paid[1].amount / 3).quantize(Decimal("0.01")),
                                reason="脱贫后仍发放", acting_user=officer, scope=scope)  # fmt: skip


def checker_for(w, county):
    from tests.factories import make_user

    if county == w.county_a:
        return checker(w)
    if not hasattr(w, "checker_b"):
        w.checker_b = make_user("county_officer", county=w.county_b, username="checker_b")
    return w.checker_b


def test_reconciliation_agrees_with_plain_sql_sums_to_the_fen(world):
    w = world
    generate(w, random.Random(20161))
    # the generated data has every case the report must carry
    assert PayoutLine.objects.filter(status="failed").exists() and PayoutLine.objects.filter(status="pending").exists()
    reissued = Award.objects.filter(payout_lines__status="failed").filter(payout_lines__status="paid")
    assert reissued.exists()
    assert Recovery.objects.filter(status="open").exists() and Recovery.objects.filter(status="settled").exists()
    assert Award.objects.filter(status=AwardStatus.REJECTED).exists()

    rep = payouts.reconciliation(scope=get_scope(w.auditor), school_year=2016)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(SQL, {"year": 2016})
        expected = {(c, s): tuple(fen(v) for v in vals) for c, s, *vals in cur.fetchall()}
    got = {(r.county, r.scheme): tuple(fen(getattr(r, f)) for f in FIELDS) for r in rep.rows}
    assert got == expected
    assert len(got) == 6
    totals = tuple(fen(getattr(rep.total, f)) for f in FIELDS)
    assert totals == tuple(sum(v[i] for v in expected.values()) for i in range(len(FIELDS)))
    # and a third view, from the rows themselves in Python: paid = the paid lines; in batches = paid + pending
    by = defaultdict(int)
    for status, amount in PayoutLine.objects.values_list("status", "amount"):
        by[status] += fen(amount)
    assert totals[3] == by["paid"] and totals[2] == by["paid"] + by["pending"]
    assert totals[1] == sum(
        fen(a) for a in Award.objects.filter(status__in=["approved", "paid"]).values_list("amount", flat=True)
    )
    # a county officer's report is their county's rows of the same sums
    mine = payouts.reconciliation(scope=get_scope(w.officer_b), school_year=2016)
    assert {(r.county, r.scheme): tuple(fen(getattr(r, f)) for f in FIELDS) for r in mine.rows} == {
        k: v for k, v in expected.items() if k[0] == w.county_b.name
    }
