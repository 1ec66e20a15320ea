"""The award process, each step its own record: apply 申报 → review 评审 → approve 审核 (→ pay 发放).

Every transition is set-based and bulk (long lists are the normal case): the awards
are locked, the allowed ones moved with one UPDATE, and one ``AwardStep`` per award
records who, when and why. Rules:

* a return or a rejection needs a reason; a return goes back one step; a rejected
  award goes back to the school, which may apply again;
* nobody approves an award they applied for themselves;
* approving beyond the scheme's allocation for the county and year is refused, with
  the shortfall shown (cash schemes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jinpin import audit
from jinpin.scope import Role, Scope
from jinpin.stats import refresh_statistics

from .. import invalidation
from ..models import Allocation, Award, AwardStatus, AwardStep, BatchChange, PayoutLine, Scheme, SchemeKind
from ..models.awards import OPEN_DIFFERENCE

S = AwardStatus
A = AwardStep.Action


@dataclass(frozen=True)
class Move:
    action: str
    label: str
    roles: frozenset
    moves: dict  # from status -> to status
    needs_reason: bool = False


SCHOOL = frozenset({Role.PRINCIPAL})
COUNTY = frozenset({Role.COUNTY_OFFICER, Role.CITY_ADMIN})

MOVES = {
    A.APPLY: Move(A.APPLY, gettext_lazy("Apply"), SCHOOL, {S.CANDIDATE: S.APPLIED, S.REJECTED: S.APPLIED}),
    A.REVIEW: Move(A.REVIEW, gettext_lazy("Review"), SCHOOL, {S.APPLIED: S.REVIEWED}),
    A.APPROVE: Move(A.APPROVE, gettext_lazy("Approve"), COUNTY, {S.REVIEWED: S.APPROVED}),
}
#: returns and rejections depend on who acts: each goes back one step from where the award is
RETURNS = {
    Role.PRINCIPAL: {S.APPLIED: S.CANDIDATE, S.REVIEWED: S.APPLIED},
    Role.COUNTY_OFFICER: {S.REVIEWED: S.APPLIED, S.APPROVED: S.REVIEWED},
    Role.CITY_ADMIN: {S.REVIEWED: S.APPLIED, S.APPROVED: S.REVIEWED},
}
REJECTS = {
    Role.PRINCIPAL: {S.APPLIED: S.REJECTED},
    Role.COUNTY_OFFICER: {S.REVIEWED: S.REJECTED},
    Role.CITY_ADMIN: {S.REVIEWED: S.REJECTED},
}
ACTIONS = (A.APPLY, A.REVIEW, A.APPROVE, A.RETURN, A.REJECT)


@dataclass
class Outcome:
    moved: int = 0
    skipped: int = 0  # not in a status this action applies to
    refused_own: int = 0  # approvals of one's own applications
    in_payout: int = 0  # approved awards already in a payout batch (pending or paid line): they stay approved
    open_difference: int = 0  # approvals refused: a batch rerun listed a difference nobody has resolved yet
    messages: list = field(default_factory=list)


def moves_for(action: str, scope: Scope) -> dict:
    if scope.read_only:
        return {}
    if action in MOVES:
        m = MOVES[action]
        return dict(m.moves) if scope.role in m.roles else {}
    if action == A.RETURN:
        return RETURNS.get(scope.role, {})
    if action == A.REJECT:
        return REJECTS.get(scope.role, {})
    return {}


def allowed_actions(scope: Scope) -> list[str]:
    return [a for a in ACTIONS if moves_for(a, scope)]


def allocation_shortfalls(awards) -> list[dict]:
    """For the awards about to be approved: per scheme, county and year, what the allocation lacks.

    Three aggregate queries whatever the number of awards.
    """
    wanted = list(
        awards.filter(scheme__kind=SchemeKind.CASH)
        .values("scheme_id", "county_id", "period__school_year")
        .annotate(total=Sum("amount"))
    )
    if not wanted:
        return []
    keys = {(w["scheme_id"], w["county_id"], w["period__school_year"]) for w in wanted}
    q = Q()
    for scheme, county, year in keys:
        q |= Q(scheme_id=scheme, county_id=county, period__school_year=year)
    committed = {
        (r["scheme_id"], r["county_id"], r["period__school_year"]): r["total"]
        for r in Award.objects.filter(q, status__in=[S.APPROVED, S.PAID])
        .values("scheme_id", "county_id", "period__school_year")
        .annotate(total=Sum("amount"))
    }
    qa = Q()
    for scheme, county, year in keys:
        qa |= Q(scheme_id=scheme, county_id=county, school_year=year)
    allocated = {
        (a.scheme_id, a.county_id, a.school_year): a
        for a in Allocation.objects.filter(qa).select_related("scheme", "county")
    }
    names = dict(Scheme.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "name"))
    out = []
    for w in wanted:
        key = (w["scheme_id"], w["county_id"], w["period__school_year"])
        alloc = allocated.get(key)
        budget = alloc.amount if alloc else Decimal("0.00")
        need = (committed.get(key) or Decimal("0")) + w["total"]
        if need > budget:
            out.append(
                {
                    "scheme": names[key[0]],
                    "county_id": key[1],
                    "year": key[2],
                    "allocation": budget,
                    "committed": committed.get(key) or Decimal("0.00"),
                    "requested": w["total"],
                    "shortfall": need - budget,
                }
            )
    return out


def _lock_allocations(awards) -> None:
    """Lock the allocations the ``awards`` draw on (in pk order, so two approvers never deadlock).

    Two officers approving different awards of the same scheme, county and year at the
    same moment would otherwise both read the approved total before either commits,
    and together pass the allocation. Holding the allocation row serialises them: the
    second reads the total (a new snapshot per statement) after the first commits.
    """
    keys = set(
        awards.filter(scheme__kind=SchemeKind.CASH)
        .order_by()
        .values_list("scheme_id", "county_id", "period__school_year")
        .distinct()
    )
    if not keys:
        return
    q = Q()
    for scheme, county, year in keys:
        q |= Q(scheme_id=scheme, county_id=county, school_year=year)
    list(Allocation.objects.filter(q).order_by("pk").select_for_update().values_list("pk", flat=True))


@transaction.atomic
def award_transition(*, awards, action: str, acting_user, scope: Scope, reason: str = "", request=None) -> Outcome:
    """Move the in-scope ``awards`` (a queryset) by ``action``. All or nothing; raises ValidationError."""
    return _transition(awards, action, acting_user, [scope], reason, request)


@transaction.atomic
def award_transition_many(*, awards, action: str, acting_user, scopes, reason: str = "", request=None) -> Outcome:
    """``award_transition`` for the ``awards`` within any of several ``scopes`` at once -- e.g. every school of a
    county, each under its own principal's scope: one transaction and a few set-based statements instead of a
    transaction per scope, with the same rules (every scope must allow ``action``, with the same moves), one
    ``AwardStep`` per award moved and one audit entry naming the schools. All or nothing."""
    return _transition(awards, action, acting_user, list(scopes), reason, request)


def _transition(awards, action, acting_user, scopes, reason, request) -> Outcome:
    invalidation.bump()  # cached subsidy figures are stale once this commits
    moves = moves_for(action, scopes[0]) if scopes else {}
    if not moves or any(moves_for(action, s) != moves for s in scopes[1:]):
        raise PermissionDenied
    reason = (reason or "").strip()
    if action in (A.RETURN, A.REJECT) and not reason:
        raise ValidationError(_("A return or a rejection needs a reason."))
    if len(scopes) == 1:
        in_scope = scopes[0].filter(awards)
    else:
        # the rows any of the scopes may see, each narrowed by jinpin.scope's rule in its own simple statement:
        # one statement OR-ing every scope's subquery planned as a nested loop over the awards on PostgreSQL 18
        # (minutes for a county of the demo, inside the transaction that had just written them)
        ids = set()
        for s in scopes:
            ids.update(s.filter(awards).values_list("pk", flat=True))
        in_scope = awards.filter(pk__in=sorted(ids))
    qs = in_scope.filter(status__in=list(moves))
    out = Outcome()
    total = in_scope.count()
    if action == A.APPROVE:
        own = AwardStep.objects.filter(award=OuterRef("pk"), action=A.APPLY, actor=acting_user)
        out.refused_own = qs.filter(Exists(own)).count()
        qs = qs.exclude(Exists(own))
        # a rerun found the award no longer eligible or its amount changed: approve only once an officer resolved it
        open_diff = Exists(BatchChange.objects.filter(OPEN_DIFFERENCE, award=OuterRef("pk")))
        out.open_difference = qs.filter(open_diff).count()
        qs = qs.exclude(open_diff)
    if S.APPROVED in moves:
        # an award in a payout batch is money on its way to the bank: taking it back to review (and then
        # rejecting it) would leave a line paid for an award that is no longer approved
        live = PayoutLine.objects.filter(award=OuterRef("pk")).exclude(status=PayoutLine.Status.FAILED)
        in_payout = Q(status=S.APPROVED) & Exists(live)
        out.in_payout = qs.filter(in_payout).count()
        qs = qs.exclude(in_payout)
    ids = list(qs.select_for_update(of=("self",)).values_list("pk", flat=True))
    if S.APPROVED in moves and ids:
        # again, now that the awards are locked: a payout batch prepared while we waited for the lock has
        # committed its lines, and this new statement sees them (the lock alone re-checks only the award row)
        late = set(Award.objects.filter(pk__in=ids).filter(in_payout).values_list("pk", flat=True))
        if late:
            ids = [pk for pk in ids if pk not in late]
            out.in_payout += len(late)
    if action == A.APPROVE and ids:
        # again, under the lock: a batch chunk that committed a difference while we waited is seen by this statement
        late = set(Award.objects.filter(pk__in=ids).filter(open_diff).values_list("pk", flat=True))
        if late:
            ids = [pk for pk in ids if pk not in late]
            out.open_difference += len(late)
    if action == A.APPROVE and ids:
        _lock_allocations(Award.objects.filter(pk__in=ids))
        short = allocation_shortfalls(Award.objects.filter(pk__in=ids))
        if short:
            raise ValidationError(
                [
                    _(
                        "Approving these awards exceeds the allocation of %(scheme)s for %(year)s: allocated %(allocation)s, "
                        "already approved %(committed)s, requested %(requested)s; short by %(shortfall)s yuan."
                    )
                    % s
                    for s in short
                ]
            )
    now = timezone.now()
    steps = []
    for from_status, to_status in moves.items():
        group = list(Award.objects.filter(pk__in=ids, status=from_status).values_list("pk", flat=True))
        if not group:
            continue
        Award.objects.filter(pk__in=group, status=from_status).update(status=to_status, updated_at=now)
        steps += [
            AwardStep(
                award_id=pk,
                action=action,
                from_status=from_status,
                to_status=to_status,
                actor=acting_user,
                reason=reason[:300],
            )
            for pk in group
        ]
        out.moved += len(group)
    AwardStep.objects.bulk_create(steps, batch_size=5000)
    out.skipped = total - out.moved - out.refused_own - out.in_payout - out.open_difference
    if out.moved:
        audit.log(
            acting_user,
            action=audit.Action.UPDATE,
            actor=acting_user,
            request=request,
            event="award_" + action,
            awards=len(ids),
            award_ids=ids[:1000],
            reason=reason,
            **({"schools": sorted({s.school_id for s in scopes if s.school_id})} if len(scopes) > 1 else {}),
        )
    return out


RESOLVERS = frozenset({Role.COUNTY_OFFICER, Role.CITY_ADMIN})


def open_difference(award) -> BatchChange | None:
    """The award's open batch difference (the latest run's), or None."""
    return (
        BatchChange.objects.filter(OPEN_DIFFERENCE, award=award)
        .select_related("run", "new_rate_version")
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def resolve_difference(
    *, award_id: int, resolution: str, reason: str, acting_user, scope: Scope, request=None
) -> BatchChange:
    """Resolve the open batch difference of an award (核查差异): who, when, why, audited.

    * ``accept`` — the award takes what the rerun computed (amount, facts, rate version, school); only before
      approval (an approved award is returned to review first, a paid one goes through a recovery);
    * ``withdraw`` — the award is withdrawn (no longer eligible); not once it is in a payout batch or paid;
    * ``keep`` — the award stays as it is; the justification is recorded and a later rerun finding the same
      difference does not ask again.
    """
    invalidation.bump()  # cached subsidy figures are stale once this commits
    R = BatchChange.Resolution
    if scope.read_only or scope.role not in RESOLVERS:
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Resolving a difference needs a reason."))
    award = scope.get_or_404(Award.objects.select_for_update(of=("self",)), write=True, pk=award_id)
    opened = list(BatchChange.objects.filter(OPEN_DIFFERENCE, award=award).select_for_update().order_by("-pk"))
    if not opened:
        raise ValidationError(_("This award has no open difference (someone may have resolved it just now)."))
    change = opened[0]
    before = {"status": award.status, "amount": str(award.amount)}
    step = None
    if resolution == R.ACCEPT:
        if change.kind != BatchChange.Kind.CHANGED or change.new_amount is None:
            raise ValidationError(
                _(
                    "Only a changed amount can be accepted; the pupil is no longer eligible: withdraw the award "
                    "or keep it with a justification."
                )
            )
        if award.status not in (S.APPLIED, S.REVIEWED):
            raise ValidationError(
                _(
                    "A new amount can be accepted only before approval: return an approved award to review first; "
                    "an overpaid award is recovered from the award's page."
                )
            )
        award.amount, award.facts = change.new_amount, change.new_facts or award.facts
        fields = ["amount", "facts", "updated_at"]
        for attr in ("rate_version_id", "school_id", "county_id"):
            value = getattr(change, "new_" + attr)
            if value is not None:
                setattr(award, attr, value)
                fields.append(attr)
        award.save(update_fields=fields)
        step = AwardStep(
            award=award, action=A.ACCEPT, from_status=award.status, to_status=award.status, actor=acting_user
        )
    elif resolution == R.WITHDRAW:
        if award.status not in (S.APPLIED, S.REVIEWED, S.APPROVED):
            raise ValidationError(
                _("Only an award not yet paid can be withdrawn; a paid award is recovered from the award's page.")
            )
        if PayoutLine.objects.filter(award=award).exclude(status=PayoutLine.Status.FAILED).exists():
            raise ValidationError(
                _("This award is in a payout batch and cannot be withdrawn; a line that fails at the bank frees it.")
            )
        step = AwardStep(
            award=award, action=A.WITHDRAW, from_status=award.status, to_status=S.DROPPED, actor=acting_user
        )
        award.status = S.DROPPED
        award.save(update_fields=["status", "updated_at"])
    elif resolution != R.KEEP:
        raise ValidationError(_("Choose how to resolve the difference."))
    if step is not None:
        step.reason = reason[:300]
        step.save()
    now = timezone.now()
    BatchChange.objects.filter(pk=change.pk).update(
        resolution=resolution, resolved_by=acting_user, resolved_at=now, resolution_reason=reason[:300]
    )
    # older open items of the same award (earlier runs) are settled by the same decision
    BatchChange.objects.filter(pk__in=[c.pk for c in opened[1:]]).update(
        resolution=R.SUPERSEDED, resolved_by=acting_user, resolved_at=now
    )
    audit.log(
        award,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        event="batch_difference_resolved",
        change=change.pk,
        run=change.run_id,
        kind=change.kind,
        resolution=resolution,
        reason=reason,
        changes={"status": [before["status"], award.status], "amount": [before["amount"], str(award.amount)]},
    )
    change.resolution, change.resolved_by, change.resolved_at, change.resolution_reason = (
        resolution,
        acting_user,
        now,
        reason[:300],
    )
    return change


def demo_year(stdout, *, period, admin, hold=()):
    """Take the demo's awards in every county from application to approval (payouts add the payment): the
    schools apply and review (the city administrator acting for each school's principal in the demo), each
    county's officer approves. The awards of the pupils in ``hold`` stay candidates (not yet applied for)."""
    from jinpin.scope import get_scope
    from schools.models import County, Membership

    officers = {
        m.county_id: m.user
        for m in Membership.objects.filter(role=Role.COUNTY_OFFICER, is_active=True).select_related("user")
    }
    need = {
        (r["scheme_id"], r["county_id"]): r["t"]
        for r in Award.objects.filter(period=period, scheme__kind=SchemeKind.CASH)
        .values("scheme_id", "county_id")
        .annotate(t=Sum("amount"))
        .order_by()
    }
    for scheme in Scheme.objects.filter(kind=SchemeKind.CASH):
        for c in County.objects.all():
            Allocation.objects.get_or_create(
                scheme=scheme,
                county=c,
                school_year=period.school_year,
                defaults={
                    "amount": ((need.get((scheme.pk, c.pk)) or Decimal("0")) * Decimal("1.05")).quantize(
                        Decimal("1000")
                    )
                    + 1000
                },
            )
    moved = 0
    counties = list(County.objects.filter(pk__in=officers).order_by("code"))
    hold = list(hold)

    def county_awards(county):
        return Award.objects.filter(period=period, county=county).exclude(student_id__in=hold)

    # one step at a time across the city, the planner's statistics refreshed after each (jinpin.stats: a step
    # moves most of the awards to a status the last statistics had never seen); quick samples between the steps
    refresh_statistics(Award, AwardStep, quick=True)
    for action in (A.APPLY, A.REVIEW):
        for county in counties:
            awards = county_awards(county)
            schools = awards.order_by("school_id").values_list("school_id", flat=True).distinct()
            # every school of the county applies, then reviews: one set-based call per step, each school's
            # awards under its own principal's scope
            scopes = [Scope(user_id=admin.pk, role=Role.PRINCIPAL, county_id=county.pk, school_id=s) for s in schools]
            if scopes:
                award_transition_many(awards=awards, action=action, acting_user=admin, scopes=scopes)
        refresh_statistics(Award, AwardStep, quick=True)
    for county in counties:
        officer = officers[county.pk]
        moved += award_transition(
            awards=county_awards(county), action=A.APPROVE, acting_user=officer, scope=get_scope(officer)
        ).moved
    refresh_statistics(Award, AwardStep, quick=True)
    stdout.write(f"  {len(officers)} counties: {moved} awards applied, reviewed and approved")
