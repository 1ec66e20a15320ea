"""督查抽查 workflows: draws, household checks (idempotent), photos, findings and rectification, traces.

Every function is keyword-only, takes ``acting_user=`` when a person acts, runs in one transaction
and leaves its audit entries in it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from jinpin import audit
from schools.models import County, Village
from subsidies.models import Household, HouseholdStatus, PayoutLine

from . import figures, photos, scoping, sqldraw
from .models import (
    Assignment,
    Campaign,
    ChecklistItem,
    CheckResult,
    CityDepartment,
    Draw,
    DrawItem,
    Finding,
    Group,
    HouseholdCheck,
    PaymentTrace,
    Photo,
    RectificationStep,
)
from .verify_draw import METHOD, check


# -- populations ---------------------------------------------------------------------------------
def population_query(*, group: Group, kind: str):
    """The population a draw of ``kind`` for ``group`` is made from, as a queryset of
    ``(stratum, id)`` rows, and the filters that produced it (kept on the record)."""
    counties = list(
        County.objects.filter(inspection_assignments__group=group).order_by("code").values_list("pk", flat=True)
    )
    if kind == Draw.Kind.DEPARTMENTS:
        rows = CityDepartment.objects.filter(is_active=True).order_by().values_list(Value(""), "pk")
        return rows, {"city_departments": "active"}
    if kind == Draw.Kind.HOUSEHOLDS:
        date = group.campaign.registry_date
        rows = (
            Household.objects.poor_on(date)
            .filter(village__county_id__in=counties)
            .order_by()
            .values_list("village__code", "pk")
        )
        return rows, {
            "registry": "poor households (verified or returned to poverty)",
            "status_on": date.isoformat(),
            "counties": _county_codes(counties),
            "stratum": "village code",
            "county_ids": counties,  # not kept on the record (draw_propose takes it out)
        }
    if kind == Draw.Kind.PAYMENTS:
        year = group.campaign.registry_date.year
        rows = (
            PayoutLine.objects.filter(
                status=PayoutLine.Status.PAID, batch__county_id__in=counties, award__period__school_year=year
            )
            .annotate(
                stratum=Concat(F("batch__county__code"), Value("/"), F("award__scheme__code"), output_field=CharField())
            )
            .order_by()
            .values_list("stratum", "pk")
        )
        return rows, {
            "payout_lines": "paid",
            "school_year": year,
            "counties": _county_codes(counties),
            "stratum": "county code/scheme code",
        }
    raise ValueError(kind)


def population(*, group: Group, kind: str) -> tuple[list[tuple[str, int]], dict]:
    """The population as a list of ``(stratum, id)`` pairs (one query), and its filters."""
    rows, filters = population_query(group=group, kind=kind)
    filters.pop("county_ids", None)
    return [(str(st), int(i)) for st, i in rows], filters


def _county_codes(ids):
    return list(County.objects.filter(pk__in=ids).order_by("code").values_list("code", flat=True))


def new_seed() -> str:
    """A generated seed: 12 decimal digits, easy to read out and to type again."""
    return f"{secrets.randbelow(10**12):012d}"


# -- campaigns, groups and assignments (the city administrator) ------------------------------------
@transaction.atomic
def group_save(*, form, acting_user, scope) -> Group:
    """Save a group from a valid ``GroupForm``: its name and inspectors, and its assignment (counties,
    departments to draw). Each row is audited by auditlog (members and counties included)."""
    if not scope.can_write(Group):
        raise PermissionDenied
    group = form.save()  # name and members
    assignment, _created = Assignment.objects.get_or_create(group=group)
    assignment.departments_to_draw = form.cleaned_data["departments_to_draw"]
    assignment.save()
    assignment.counties.set(form.cleaned_data["counties"])
    return group


# -- draws -------------------------------------------------------------------------------------------
@transaction.atomic
def draw_propose(
    *, group: Group, kind: str, params: dict, seed: str = "", reason: str = "", acting_user, scope, request=None
) -> Draw:
    """Compute a draw and keep it as proposed. A group has one live draw of a kind: drawing again
    needs a reason and supersedes the earlier one (both are kept)."""
    if not group.campaign.is_running:
        raise ValidationError(_("Draws are made while the campaign is running."))
    Group.objects.select_for_update().get(pk=group.pk)  # one draw at a time per group
    live = Draw.objects.filter(group=group, kind=kind).exclude(status=Draw.Status.SUPERSEDED).first()
    if live is not None and not reason.strip():
        raise ValidationError({"reason": _("This group already has a draw of this kind: say why you draw again.")})
    seed = seed.strip()
    seed_source = Draw.SeedSource.TYPED if seed else Draw.SeedSource.GENERATED
    seed = seed or new_seed()
    rows, filters = population_query(group=group, kind=kind)
    if kind == Draw.Kind.HOUSEHOLDS:  # the same rows, set-based (see sqldraw.poor_households)
        rows = sqldraw.poor_households(filters["county_ids"], group.campaign.registry_date)
    filters.pop("county_ids", None)
    result = sqldraw.draw(rows, seed, params)  # verify_draw's method, computed in PostgreSQL
    if live is not None:
        Draw.objects.filter(pk=live.pk).update(status=Draw.Status.SUPERSEDED)
        figures.bump()
        audit.log(
            live,
            action=audit.Action.UPDATE,
            actor=acting_user,
            request=request,
            changes={"status": [live.status, Draw.Status.SUPERSEDED]},
            reason=reason,
        )
    draw = Draw(
        group=group,
        kind=kind,
        filters=filters,
        method=METHOD,
        params=params,
        seed=seed,
        seed_source=seed_source,
        population_runs=result["population_runs"],  # its ids are written below, straight from the database
        population_size=result["population_size"],
        population_hash=result["population_hash"],
        sample=[list(p) for p in result["sample"]],
        sample_size=len(result["sample"]),
        sample_hash=result["sample_hash"],
        strata=result["strata"],
        reason=reason.strip(),
        supersedes=live,
        created_by=acting_user,
    )
    draw.save()
    sqldraw.write_population(draw.pk)
    del draw.population_runs, draw.population_ids  # deferred again: read from the database when asked for
    return draw


@transaction.atomic
def draw_confirm(*, draw: Draw, acting_user, request=None) -> int:
    """Confirm a proposed draw: its items are created with a frozen snapshot of each drawn row."""
    if (
        Draw.objects.filter(pk=draw.pk, status=Draw.Status.PROPOSED).update(
            status=Draw.Status.CONFIRMED, confirmed_by=acting_user, confirmed_at=timezone.now()
        )
        != 1
    ):
        raise ValidationError(_("Only a proposed draw can be confirmed."))
    draw.refresh_from_db()
    ids = [] if draw.kind == Draw.Kind.HOUSEHOLDS else [i for _s, i in draw.sample]
    fields = None
    if draw.kind == Draw.Kind.HOUSEHOLDS:
        # set-based: one INSERT … SELECT with the snapshots built in the database
        n = sqldraw.freeze_households(draw.pk, draw.group.campaign.registry_date)
        if n != draw.sample_size:
            raise ValidationError(_("Some drawn households no longer exist: draw again with a reason."))
    elif draw.kind == Draw.Kind.PAYMENTS:
        snaps = payment_snapshots(ids)

        def fields(i):
            return {"payout_line_id": i, "county_id": snaps[i]["county_id"], "snapshot": snaps[i]}

    else:
        names = dict(CityDepartment.objects.filter(pk__in=ids).values_list("pk", "name"))

        def fields(i):
            return {"department_id": i, "snapshot": {"name": names[i]}}

        Assignment.objects.get_or_create(group=draw.group)[0].departments.set(ids)
    if fields is not None:
        items = [
            DrawItem(draw=draw, position=pos, stratum=stratum, object_id=i, **fields(i))
            for pos, (stratum, i) in enumerate(draw.sample)
        ]
        DrawItem.objects.bulk_create(items, batch_size=2000)
        n = len(items)
    audit.log(
        draw,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        changes={"status": [Draw.Status.PROPOSED, Draw.Status.CONFIRMED]},
        sample_size=n,
        sample_hash=draw.sample_hash,
    )
    figures.bump()  # bulk writes send no signal: the cached supervision figures move on commit
    return n


def household_snapshots(ids, *, date: dt.date) -> dict[int, dict]:
    """How each household read in the registry at draw time (one query)."""
    rows = (
        Household.objects.filter(pk__in=ids)
        .with_status_on(date)
        .values(
            "pk",
            "number",
            "head_name",
            "members",
            "is_dibao",
            "is_tekun",
            "status_on_date",
            "village_id",
            "village__code",
            "village__name",
            "village__town__name",
            "village__county_id",
            "village__county__name",
        )
    )
    return {
        r["pk"]: {
            "number": r["number"],
            "head_name": r["head_name"],
            "members": r["members"],
            "is_dibao": r["is_dibao"],
            "is_tekun": r["is_tekun"],
            "status": r["status_on_date"],
            "village_id": r["village_id"],
            "village_code": r["village__code"],
            "village": r["village__name"],
            "town": r["village__town__name"],
            "county_id": r["village__county_id"],
            "county": r["village__county__name"],
        }
        for r in rows
    }


def payment_snapshots(ids) -> dict[int, dict]:
    rows = PayoutLine.objects.filter(pk__in=ids).values(
        "pk",
        "amount",
        "status",
        "bank_reference",
        "award_id",
        "award__amount",
        "award__scheme__name",
        "award__student__name",
        "batch_id",
        "batch__county_id",
        "batch__county__name",
    )
    return {
        r["pk"]: {
            "amount": str(r["amount"]),
            "status": r["status"],
            "bank_reference": r["bank_reference"],
            "award_id": r["award_id"],
            "award_amount": str(r["award__amount"]),
            "scheme": r["award__scheme__name"],
            "student": r["award__student__name"],
            "batch_id": r["batch_id"],
            "county_id": r["batch__county_id"],
            "county": r["batch__county__name"],
        }
        for r in rows
    }


def _verify_note(code: str, values: dict) -> str:
    """A note of ``verify_draw.check`` in the reader's language (the script itself prints English)."""
    texts = {
        "method": _("Unknown draw method %(method)s."),
        "order": _("The population is not in canonical order."),
        "population_hash": _("The population hash differs: recorded %(recorded)s, re-computed %(computed)s."),
        "sample": _("The sample differs: %(missing)s expected but not recorded, %(extra)s recorded but not expected."),
        "sample_hash": _("The sample hash differs."),
        "summary": _("%(strata)s strata, population %(population)s, sample %(sample)s, effective rate %(rate)s."),
    }
    return texts[code] % values


def draw_verify(*, draw: Draw) -> tuple[bool, list[str]]:
    """Re-compute the draw from its record, and check that the frozen items are the sample."""
    ok, notes = check(draw.record())
    messages = [_verify_note(code, values) for code, values in notes]
    if draw.status != Draw.Status.PROPOSED:
        items = list(draw.items.order_by("position").values_list("stratum", "object_id"))
        if items != [(str(s), int(i)) for s, i in draw.sample]:
            ok = False
            messages.append(_("The drawn items kept do not match the recorded sample."))
    return ok, messages


# -- household checks ------------------------------------------------------------------------------
def check_submit(
    *,
    item: DrawItem,
    client_uuid: uuid.UUID,
    outcome: str,
    not_found_reason: str = "",
    note: str = "",
    results: dict[int, tuple[bool, str]] | None = None,
    checked_at: dt.datetime | None = None,
    acting_user,
    request=None,
) -> tuple[HouseholdCheck, bool]:
    """Record a household check sent from a phone. The same ``client_uuid`` sent again returns the
    check already recorded (``created`` False); a second, different check of the same household is
    refused. Safe against two copies arriving at the same moment (the unique constraint decides)."""
    existing = HouseholdCheck.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        if existing.item_id != item.pk:
            raise ValidationError(_("This submission id belongs to another household."))
        return existing, False
    try:
        with transaction.atomic():
            return _check_create(
                item=item,
                client_uuid=client_uuid,
                outcome=outcome,
                not_found_reason=not_found_reason,
                note=note,
                results=results or {},
                checked_at=checked_at,
                acting_user=acting_user,
                request=request,
            ), True
    except IntegrityError:
        existing = HouseholdCheck.objects.filter(client_uuid=client_uuid).first()
        if existing is not None and existing.item_id == item.pk:
            return existing, False
        raise ValidationError(_("This household has already been checked.")) from None


def _check_create(*, item, client_uuid, outcome, not_found_reason, note, results, checked_at, acting_user, request):
    if item.draw.kind != Draw.Kind.HOUSEHOLDS or item.draw.status != Draw.Status.CONFIRMED:
        raise ValidationError(_("Only households of a confirmed draw are checked."))
    if outcome not in HouseholdCheck.Outcome.values:
        raise ValidationError(_("Choose visited or not found."))
    if outcome == HouseholdCheck.Outcome.NOT_FOUND and not not_found_reason.strip():
        raise ValidationError({"not_found_reason": _("Say why the household was not found.")})
    now = timezone.now()
    if checked_at is None or checked_at > now + dt.timedelta(minutes=10):
        checked_at = now
    check = HouseholdCheck(
        item=item,
        client_uuid=client_uuid,
        outcome=outcome,
        not_found_reason=not_found_reason.strip()[:200] if outcome == HouseholdCheck.Outcome.NOT_FOUND else "",
        note=note.strip(),
        checked_by=acting_user,
        checked_at=checked_at,
    )
    check.save()
    if outcome == HouseholdCheck.Outcome.VISITED:
        valid = set(ChecklistItem.objects.filter(is_active=True).values_list("pk", flat=True))
        CheckResult.objects.bulk_create(
            [
                CheckResult(household_check=check, item_id=k, passed=bool(p), note=(n or "")[:300])
                for k, (p, n) in results.items()
                if k in valid
            ]
        )
    audit.log(
        check,
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        changes={"outcome": [None, outcome]},
        failed=[k for k, (p, _n) in results.items() if not p],
    )
    return check


def photo_add(
    *,
    campaign: Campaign,
    upload,
    client_uuid: uuid.UUID,
    item: DrawItem | None = None,
    village: Village | None = None,
    finding: Finding | None = None,
    captured_at: dt.datetime | None = None,
    latitude=None,
    longitude=None,
    acting_user,
    request=None,
) -> tuple[Photo, bool]:
    """Keep a photo (idempotent by ``client_uuid``): checked, re-encoded without EXIF, thumbnailed."""
    existing = Photo.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return existing, False
    done = photos.process(upload)
    if item is not None:
        village = village or item.village
        county_id = item.county_id
    elif village is not None:
        county_id = village.county_id
    elif finding is not None:
        county_id = finding.county_id
        village = finding.village
    else:
        raise ValidationError(_("A photo belongs to a household, a village or a finding."))
    photo = Photo(
        campaign=campaign,
        county_id=county_id,
        village=village,
        item=item,
        finding=finding,
        client_uuid=client_uuid,
        width=done.width,
        height=done.height,
        captured_at=captured_at or done.captured_at,
        latitude=latitude if latitude is not None else done.latitude,
        longitude=longitude if longitude is not None else done.longitude,
        uploaded_by=acting_user,
    )
    try:
        with transaction.atomic():
            photo.image.save(f"{client_uuid}.jpg", done.image, save=False)
            photo.thumbnail.save(f"{client_uuid}.jpg", done.thumbnail, save=False)
            photo.save()
            audit.log(
                photo, action=audit.Action.CREATE, actor=acting_user, request=request, village=village and village.pk
            )
    except IntegrityError:
        return Photo.objects.get(client_uuid=client_uuid), False
    return photo, True


# -- findings and rectification (整改) ---------------------------------------------------------------
def _step(finding, *, action, from_status, to_status, actor, measures="", reason="", request=None):
    RectificationStep.objects.create(
        finding=finding,
        action=action,
        from_status=from_status,
        to_status=to_status,
        measures=measures,
        reason=reason,
        actor=actor,
    )
    audit.log(
        finding,
        action=audit.Action.UPDATE if from_status else audit.Action.CREATE,
        actor=actor,
        request=request,
        changes={"status": [from_status or None, to_status]},
        step=action,
        reason=reason,
    )


@transaction.atomic
def finding_record(*, finding: Finding, acting_user, scope, request=None) -> Finding:
    """Record a finding (built and validated by the form); the first rectification step says who and when."""
    if finding.source == Finding.Source.ANOMALY:
        allowed = scoping.can_record_anomaly_finding(scope)
    else:
        allowed = scoping.can_record_finding(scope)
    if not allowed:
        raise PermissionDenied
    finding.created_by = acting_user
    finding.status = Finding.Status.OPEN
    finding.full_clean()
    finding.save()
    _step(
        finding,
        action=RectificationStep.Action.RECORD,
        from_status="",
        to_status=Finding.Status.OPEN,
        actor=acting_user,
        reason=finding.description[:300],
        request=request,
    )
    return finding


def _may(check, scope, finding) -> None:
    """Re-read the finding's status (decide on it as it is now) and refuse the step unless ``check`` allows it."""
    finding.refresh_from_db(fields=["status"])
    if not check(scope, finding):
        raise PermissionDenied


def _transition(finding, *, action, allowed_from, to_status, acting_user, request, extra=None, **step) -> None:
    """Move the finding (locked) from one of ``allowed_from`` to ``to_status`` and record the step."""
    row = Finding.objects.select_for_update().get(pk=finding.pk)
    if row.status not in allowed_from:
        raise ValidationError(
            _("This finding is %(status)s: that step is not possible now.") % {"status": row.get_status_display()}
        )
    Finding.objects.filter(pk=row.pk).update(status=to_status, **(extra or {}))
    figures.bump()  # an update() sends no signal: the dashboards' findings move on commit
    _step(
        finding,
        action=action,
        from_status=row.status,
        to_status=to_status,
        actor=acting_user,
        request=request,
        **step,
    )


@transaction.atomic
def finding_submit(*, finding: Finding, measures: str, acting_user, scope, request=None) -> None:
    """The responsible county officer records the measures taken (evidence photos beside) and submits."""
    _may(scoping.can_submit, scope, finding)
    if not measures.strip():
        raise ValidationError({"measures": _("Describe the measures taken.")})
    _transition(
        finding,
        action=RectificationStep.Action.SUBMIT,
        allowed_from=(Finding.Status.OPEN, Finding.Status.RETURNED),
        to_status=Finding.Status.SUBMITTED,
        acting_user=acting_user,
        request=request,
        measures=measures.strip(),
    )


@transaction.atomic
def finding_close(*, finding: Finding, reason: str = "", acting_user, scope, request=None) -> None:
    _may(scoping.can_review, scope, finding)
    _transition(
        finding,
        action=RectificationStep.Action.CLOSE,
        allowed_from=(Finding.Status.SUBMITTED,),
        to_status=Finding.Status.CLOSED,
        acting_user=acting_user,
        request=request,
        extra={"closed_at": timezone.now()},
        reason=reason.strip(),
    )


@transaction.atomic
def finding_return(*, finding: Finding, reason: str, acting_user, scope, request=None) -> None:
    _may(scoping.can_review, scope, finding)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the measures are returned.")})
    _transition(
        finding,
        action=RectificationStep.Action.RETURN,
        allowed_from=(Finding.Status.SUBMITTED,),
        to_status=Finding.Status.RETURNED,
        acting_user=acting_user,
        request=request,
        reason=reason.strip(),
    )


def finding_from_anomaly(*, row, finding: Finding, acting_user, scope, request=None) -> Finding:
    """Record a finding from a hit of the anomaly report (``row``: an ``AnomalyRow``), linked to the
    hit by its stable key; the same hit cannot get a second finding."""
    from . import anomalies

    if not (scoping.can_record_anomaly_finding(scope) and anomalies.in_scope(scope, row)):
        raise PermissionDenied
    if row.county_id is None or finding.county_id != row.county_id:
        raise ValidationError(_("The finding belongs to the county of the hit."))
    if not anomalies.campaigns_for(scope, row.county_id).filter(pk=finding.campaign_id).exists():
        raise ValidationError({"campaign": _("Choose a running campaign whose groups check this county.")})
    finding.source = Finding.Source.ANOMALY
    finding.anomaly_key = anomalies.key(row)
    finding.anomaly = anomalies.hit(row)
    if Finding.objects.filter(anomaly_key=finding.anomaly_key).exists():
        raise ValidationError(_("This hit has already been recorded as a finding."))
    try:
        with transaction.atomic():
            return finding_record(finding=finding, acting_user=acting_user, scope=scope, request=request)
    except IntegrityError:  # the same hit recorded at the same moment by someone else
        raise ValidationError(_("This hit has already been recorded as a finding.")) from None


# -- special audit of payments -------------------------------------------------------------------------
@transaction.atomic
def trace_record(
    *, item: DrawItem, outcome: str, note: str = "", finding: Finding | None = None, acting_user, scope, request=None
) -> PaymentTrace:
    if not scoping.can_trace(scope):
        raise PermissionDenied
    if item.draw.kind != Draw.Kind.PAYMENTS or item.draw.status != Draw.Status.CONFIRMED:
        raise ValidationError(_("Only payments of a confirmed draw are traced."))
    trace, created = PaymentTrace.objects.get_or_create(
        item=item,
        defaults={"outcome": outcome, "note": note.strip()[:300], "finding": finding, "traced_by": acting_user},
    )
    if not created:
        raise ValidationError(_("This payment has already been traced."))
    audit.log(
        trace, action=audit.Action.CREATE, actor=acting_user, request=request, changes={"outcome": [None, outcome]}
    )
    return trace


def status_history(household_id: int) -> list[HouseholdStatus]:
    return list(HouseholdStatus.objects.filter(household_id=household_id).order_by("effective_on", "pk"))
