"""Hits of the anomaly report (subsidies/services/anomaly_results.py) turned into findings.

The stored rows of the report are replaced each time it is recomputed, so a finding does not point
at a row: it keeps the hit's *key* -- SHA-256 of the period, the kind of anomaly, the county, the
school, the pupil (resident ID, or name when there is none) and the scheme -- which the same hit
has again after every recomputation, and a copy of the hit as it read (ID masked). The key is
unique among findings: one finding per hit. The report page shows each hit's finding.
"""

from __future__ import annotations

import hashlib

from django.db.models import Exists, OuterRef

from jinpin import idcard

from .models import Campaign, Finding, Group


def key(row) -> str:
    """The stable key of an ``AnomalyRow`` (or any object with its fields and ``snapshot.period_id``)."""
    who = row.id_number or row.student
    text = "\x1f".join([str(row.snapshot.period_id), row.kind, str(row.county_id or ""), row.school, who, row.scheme])
    return hashlib.sha256(text.encode()).hexdigest()


def hit(row) -> dict:
    """The hit as it read, for the finding (resident ID masked: a finding is read by county officers)."""
    return {
        "period": row.snapshot.period_id,
        "period_name": row.snapshot.period.name,
        "computed_at": row.snapshot.computed_at.isoformat(),
        "kind": row.kind,
        "county": row.county_name,
        "school": row.school,
        "student": row.student,
        "id_number": idcard.mask(row.id_number) if row.id_number else "",
        "scheme": row.scheme,
        "amount": str(row.amount) if row.amount is not None else "",
        "detail": row.detail,
    }


def in_scope(scope, row) -> bool:
    """Whether this person may turn this hit into a finding: the city administrator and auditors
    anywhere, an inspector in the counties of their groups while a campaign runs."""
    if scope.is_city_admin or scope.is_auditor:
        return True
    return scope.is_inspector and row.county_id in scope.inspector_county_ids


def campaigns_for(scope, county_id):
    """The running campaigns a finding on ``county_id`` can belong to: those whose groups are
    assigned the county (an inspector: only their own groups')."""
    groups = Group.objects.filter(campaign=OuterRef("pk"), assignment__counties=county_id)
    if scope.is_inspector:
        groups = groups.filter(members=scope.user_id)
    return Campaign.objects.filter(status=Campaign.Status.RUNNING).filter(Exists(groups)).order_by("-starts_on", "pk")


def findings_by_row(scope, rows) -> dict[int, Finding]:
    """``{row pk: finding}`` for the listed rows that have one the person may read (one query)."""
    keys = {key(r): r.pk for r in rows}
    if not keys:
        return {}
    found = scope.filter(Finding).filter(anomaly_key__in=keys).only("pk", "status", "anomaly_key")
    return {keys[f.anomaly_key]: f for f in found}


def can_turn(scope) -> bool:
    """Who turns hits into findings (inspectors, auditors, the city administrator)."""
    from . import scoping

    return scoping.can_record_anomaly_finding(scope)
