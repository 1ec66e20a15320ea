"""apply → review → approve: permissions, reasons, self-approval, allocations (services)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jinpin.scope import get_scope
from subsidies.models import Allocation, Award, AwardStatus, AwardStep, Period, Scheme
from subsidies.services.workflow import award_transition

from .factories import household, pupil

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def awards(places, period):
    """Three nutrition candidates at weak_a (county A) and one at weak_b, made directly (no batch needed)."""
    w = places
    nutrition = Scheme.objects.get(code="nutrition")
    rate = nutrition.rates.get()
    out = []
    for school in (w.weak_a, w.weak_a, w.weak_a, w.weak_b):
        s = pupil(school, household=household(school.village, ("verified", "2016-01-15")))
        out.append(
            Award.objects.create(
                student=s,
                scheme=nutrition,
                period=period,
                school=school,
                county=school.county,
                amount=Decimal("600.00"),
                rate_version=rate,
                facts={},
            )
        )
    Allocation.objects.create(scheme=nutrition, county=w.county_a, school_year=2016, amount=Decimal("1800.00"))
    return out


def move(user, action, qs, reason=""):
    return award_transition(awards=qs, action=action, acting_user=user, scope=get_scope(user), reason=reason)


def test_full_path_each_step_its_own_record(places, awards):
    w = places
    qs = Award.objects.filter(pk__in=[a.pk for a in awards])
    assert move(w.principal_a, "apply", qs).moved == 3  # the other county's award is out of scope
    assert move(w.principal_a, "review", qs).moved == 3
    assert move(w.officer_a, "approve", qs).moved == 3
    a = Award.objects.get(pk=awards[0].pk)
    assert a.status == AwardStatus.APPROVED
    steps = list(a.steps.values_list("action", "actor__username", "from_status", "to_status"))
    assert steps == [
        ("apply", "t_principal_a", "candidate", "applied"),
        ("review", "t_principal_a", "applied", "reviewed"),
        ("approve", "t_officer_a", "reviewed", "approved"),
    ]
    assert Award.objects.get(pk=awards[3].pk).status == AwardStatus.CANDIDATE


def test_roles_and_scope(places, awards):
    w = places
    qs = Award.objects.filter(pk__in=[a.pk for a in awards])
    with pytest.raises(PermissionDenied):
        move(w.auditor, "apply", qs)
    with pytest.raises(PermissionDenied):
        move(w.officer_a, "apply", qs)  # the school applies
    with pytest.raises(PermissionDenied):
        move(w.principal_a, "approve", qs)  # the county approves
    move(w.principal_a, "apply", qs)
    move(w.principal_a, "review", qs)
    assert move(w.officer_b, "approve", qs).moved == 0  # other county's officer: nothing in scope
    assert move(w.principal_b, "review", qs).moved == 0


def test_return_and_reject_need_a_reason_and_go_back_one_step(places, awards):
    w = places
    qs = Award.objects.filter(pk__in=[a.pk for a in awards[:3]])
    move(w.principal_a, "apply", qs)
    move(w.principal_a, "review", qs)
    with pytest.raises(ValidationError):
        move(w.officer_a, "return", qs.filter(pk=awards[0].pk))
    move(w.officer_a, "return", qs.filter(pk=awards[0].pk), reason="户籍信息不全")
    move(w.officer_a, "reject", qs.filter(pk=awards[1].pk), reason="非建档立卡户")
    statuses = dict(Award.objects.filter(pk__in=[a.pk for a in awards[:3]]).values_list("pk", "status"))
    assert statuses == {awards[0].pk: "applied", awards[1].pk: "rejected", awards[2].pk: "reviewed"}
    step = AwardStep.objects.get(award=awards[0], action="return")
    assert (step.reason, step.from_status, step.to_status) == ("户籍信息不全", "reviewed", "applied")
    # the school may apply again after a rejection
    assert move(w.principal_a, "apply", qs.filter(pk=awards[1].pk)).moved == 1


def test_nobody_approves_their_own_submission(places, awards, world):
    from jinpin.scope import Role
    from tests.factories import make_user

    w = places
    # a city administrator acting as the school and then as the county is refused the approval
    qs = Award.objects.filter(pk__in=[a.pk for a in awards[:3]])
    from jinpin.scope import Scope

    school_scope = Scope(user_id=w.admin.pk, role=Role.PRINCIPAL, school_id=w.weak_a.pk, county_id=w.county_a.pk)
    award_transition(awards=qs, action="apply", acting_user=w.admin, scope=school_scope)
    award_transition(awards=qs, action="review", acting_user=w.principal_a, scope=get_scope(w.principal_a))
    out = move(w.admin, "approve", qs)
    assert (out.moved, out.refused_own) == (0, 3)
    other = make_user(Role.COUNTY_OFFICER, county=w.county_a, username="t_officer_a2")
    assert move(other, "approve", qs).moved == 3


def test_approving_beyond_the_allocation_is_refused_with_the_shortfall(places, awards):
    w = places
    qs = Award.objects.filter(pk__in=[a.pk for a in awards[:3]])
    move(w.principal_a, "apply", qs)
    move(w.principal_a, "review", qs)
    Allocation.objects.filter(county=w.county_a).update(amount=Decimal("1500.00"))
    with pytest.raises(ValidationError) as exc:
        move(w.officer_a, "approve", qs)
    assert "300.00" in str(exc.value)
    assert not Award.objects.filter(status="approved").exists()  # all or nothing
    assert move(w.officer_a, "approve", qs.filter(pk__in=[awards[0].pk, awards[1].pk])).moved == 2


def test_rerun_never_changes_approved(places, awards, period):
    from .conftest import run_batch

    w = places
    qs = Award.objects.filter(pk__in=[a.pk for a in awards[:3]])
    # an amount the batch would not compute, set before approval (afterwards the database refuses it)
    Award.objects.filter(pk__in=[a.pk for a in awards]).update(amount=Decimal("599.00"))
    move(w.principal_a, "apply", qs)
    move(w.principal_a, "review", qs)
    move(w.officer_a, "approve", qs)
    run_batch(period)
    assert set(Award.objects.filter(pk__in=[a.pk for a in awards[:3]]).values_list("amount", flat=True)) == {
        Decimal("599.00")
    }
    assert Award.objects.get(pk=awards[3].pk).amount == Decimal("600.00")  # the candidate is refreshed
    assert Period.objects.count() >= 1


def test_many_schools_in_one_call_each_under_its_own_scope(places, awards):
    """``award_transition_many`` (the demo's apply and review for a whole county): the awards of several schools,
    each school's under its principal's scope, in one transaction; the same rules, a step per award, one audit
    entry naming the schools."""
    from auditlog.models import LogEntry

    from subsidies.services.workflow import award_transition_many

    w = places
    extra = Award.objects.create(
        student=pupil(w.strong_a, household=household(w.village_a, ("verified", "2016-01-15"))),
        scheme=awards[0].scheme,
        period=awards[0].period,
        school=w.strong_a,
        county=w.county_a,
        amount=Decimal("600.00"),
        rate_version=awards[0].rate_version,
        facts={},
    )
    everything = Award.objects.filter(pk__in=[a.pk for a in [*awards, extra]])
    a, strong, b = get_scope(w.principal_a), get_scope(w.principal_strong_a), get_scope(w.principal_b)
    with pytest.raises(PermissionDenied):  # every scope must allow the step: an officer does not apply
        award_transition_many(
            awards=everything, action="apply", acting_user=w.principal_a, scopes=[a, get_scope(w.officer_a)]
        )
    with pytest.raises(PermissionDenied):  # nor does a read-only auditor
        award_transition_many(awards=everything, action="apply", acting_user=w.auditor, scopes=[get_scope(w.auditor)])
    assert not AwardStep.objects.exists()
    # weak_a and strong_a, not weak_b: its award is in none of the scopes and stays a candidate
    out = award_transition_many(awards=everything, action="apply", acting_user=w.principal_a, scopes=[a, strong])
    assert (out.moved, out.skipped) == (4, 0)
    assert Award.objects.get(pk=awards[3].pk).status == AwardStatus.CANDIDATE
    assert set(AwardStep.objects.values_list("award_id", "action", "actor__username")) == {
        (x.pk, "apply", "t_principal_a") for x in [*awards[:3], extra]
    }
    entry = LogEntry.objects.filter(additional_data__event="award_apply").get()
    assert entry.additional_data["awards"] == 4
    assert entry.additional_data["schools"] == sorted([w.weak_a.pk, w.strong_a.pk])
    # all three schools review: weak_b's candidate is not in a status review applies to
    out = award_transition_many(awards=everything, action="review", acting_user=w.principal_a, scopes=[a, strong, b])
    assert (out.moved, out.skipped) == (4, 1)
    # the officer approves the county's four: the allocation (1,800 yuan) covers three, so all or nothing
    with pytest.raises(ValidationError):
        move(w.officer_a, "approve", everything)
    assert not Award.objects.filter(status=AwardStatus.APPROVED).exists()
