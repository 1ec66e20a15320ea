"""Two people acting at the same moment (real PostgreSQL connections in threads)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from jinpin.scope import get_scope
from subsidies.models import Allocation, Award, AwardStatus, Scheme
from subsidies.services.workflow import award_transition

from .conftest import seed_schemes
from .factories import household, pupil

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_approvals_cannot_pass_the_allocation_together(world):
    """Two officers of the county each approve one award; the allocation covers one. Exactly one succeeds."""
    from subsidies.models import Period

    seed_schemes()
    w = world
    period = Period.objects.get(code="2016-2017")
    nutrition = Scheme.objects.get(code="nutrition")
    awards = []
    for _i in range(2):
        s = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
        awards.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal("600.00"),
                rate_version=nutrition.rates.get(),
                facts={},
                status=AwardStatus.REVIEWED,
            )
        )
    Allocation.objects.create(scheme=nutrition, county=w.county_a, school_year=2016, amount=Decimal("600.00"))
    scope = get_scope(w.officer_a)
    first_holds = threading.Event()
    outcome = {}

    def second():
        try:
            first_holds.wait(10)
            award_transition(
                awards=Award.objects.filter(pk=awards[1].pk), action="approve", acting_user=w.officer_a, scope=scope
            )
            outcome["second"] = "approved"
        except ValidationError:
            outcome["second"] = "refused"
        finally:
            connection.close()

    t = threading.Thread(target=second)
    t.start()
    with transaction.atomic():  # the first approval, not yet committed while the second one runs
        award_transition(
            awards=Award.objects.filter(pk=awards[0].pk), action="approve", acting_user=w.officer_a, scope=scope
        )
        first_holds.set()
        t.join(1.5)  # the second blocks on the allocation (or, without the lock, finishes)
    t.join(10)
    assert not t.is_alive()
    assert outcome["second"] == "refused"
    assert Award.objects.filter(status=AwardStatus.APPROVED).count() == 1


def test_a_return_waiting_for_a_payout_batch_being_prepared_leaves_its_awards_approved(world):
    """An officer returns approved awards while another prepares the payout batch that takes them."""
    from subsidies.models import PayoutLine, Period
    from subsidies.services import payouts

    seed_schemes()
    w = world
    period = Period.objects.get(code="2016-2017")
    nutrition = Scheme.objects.get(code="nutrition")
    awards = []
    for _i in range(2):
        s = pupil(w.weak_a, household=household(w.village_a, ("verified", "2016-01-15")))
        awards.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=w.weak_a,
                county=w.county_a,
                amount=Decimal("600.00"),
                rate_version=nutrition.rates.get(),
                facts={},
                status=AwardStatus.APPROVED,
            )
        )
    scope = get_scope(w.officer_a)
    preparing = threading.Event()
    outcome = {}

    def returner():
        try:
            preparing.wait(10)
            out = award_transition(
                awards=Award.objects.filter(pk__in=[a.pk for a in awards]),
                action="return",
                acting_user=w.officer_a,
                scope=scope,
                reason="再核实",
            )
            outcome["moved"] = out.moved
        finally:
            connection.close()

    t = threading.Thread(target=returner)
    t.start()
    with transaction.atomic():
        payouts.payout_prepare(
            county=w.county_a, period=period, funding_source="central", acting_user=w.officer_a, scope=scope
        )
        preparing.set()
        t.join(1.5)  # the return waits for the awards' locks
    t.join(10)
    assert not t.is_alive() and outcome["moved"] == 0
    assert Award.objects.filter(status=AwardStatus.APPROVED).count() == 2
    assert PayoutLine.objects.filter(status="pending").count() == 2
