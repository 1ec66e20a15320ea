"""Work waiting in 精准救助 (registered with ``jinpin.work``): each item one query over the person's scope."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import work
from jinpin.scope import Role

from .models import Award, AwardStatus, BatchChange, PayoutBatch, PayoutLine, Recovery

OFFICER = frozenset({Role.COUNTY_OFFICER})
PRINCIPAL = frozenset({Role.PRINCIPAL})
AUDITOR = frozenset({Role.AUDITOR})


def _awards(status):
    def rows(scope):
        return (
            scope.filter(Award)
            .filter(status=status)
            .select_related("student", "scheme", "school")
            .order_by("school__code", "student__name", "pk")
        )

    return rows


def open_differences(scope):
    """核查差异: differences a batch run found on awards already in process, not applied and not resolved."""
    return (
        BatchChange.objects.filter(applied=False, resolution="", award__in=scope.filter(Award))
        .select_related("award__student", "award__scheme", "award__school")
        .order_by("award__school__code", "award__student__name", "pk")
    )


def _batches(status):
    def rows(scope):
        return scope.filter(PayoutBatch).filter(status=status).select_related("county", "period").order_by("pk")

    return rows


def returned_lines(scope):
    """Lines the bank returned (failed) whose award has not been paid or re-issued in another line since."""
    again = PayoutLine.objects.filter(award_id=OuterRef("award_id")).exclude(status=PayoutLine.Status.FAILED)
    return (
        scope.filter(PayoutLine)
        .filter(status=PayoutLine.Status.FAILED)
        .exclude(Exists(again))
        .select_related("award__student", "award__scheme", "batch")
        .order_by("batch_id", "pk")
    )


def open_recoveries(scope):
    return (
        scope.filter(Recovery)
        .filter(status=Recovery.Status.OPEN)
        .select_related("award__student", "award__county")
        .order_by("created_at", "pk")
    )


AWARD_COLUMNS = [
    (_("Pupil"), lambda a: a.student.name),
    (_("Scheme"), lambda a: a.scheme.name),
    (_("School"), lambda a: a.school.name),
    (_("Amount"), lambda a: a.amount),
]


def _award_url(a):
    return reverse("subsidies:award_detail", args=[a.pk])


def register():
    register_anomalies()
    work.register(
        work.WorkItem(
            key="awards_to_approve",
            label=_("Awards reviewed by schools, to approve"),
            roles=OFFICER,
            rows=_awards(AwardStatus.REVIEWED),
            columns=AWARD_COLUMNS,
            url=_award_url,
            order=10,
        )
    )
    work.register(
        work.WorkItem(
            key="batch_differences",
            label=_("Batch differences to resolve"),
            roles=OFFICER,
            rows=open_differences,
            columns=[
                (_("Pupil"), lambda c: c.award.student.name),
                (_("Scheme"), lambda c: c.award.scheme.name),
                (_("School"), lambda c: c.award.school.name),
                (_("Difference"), lambda c: c.get_kind_display()),
            ],
            url=lambda c: reverse("subsidies:award_detail", args=[c.award_id]),
            order=11,
        )
    )
    for key, label, status, order in (
        ("payouts_to_send", _("Payout batches to send to the bank"), PayoutBatch.Status.PREPARED, 12),
        ("payouts_to_settle", _("Payout batches sent, awaiting the bank's return file"), PayoutBatch.Status.SENT, 13),
    ):
        work.register(
            work.WorkItem(
                key=key,
                label=label,
                roles=OFFICER,
                rows=_batches(status),
                columns=[
                    (_("Batch"), lambda b: f"#{b.pk}"),
                    (_("County"), lambda b: b.county.name),
                    (_("Period"), lambda b: b.period.name),
                ],
                url=lambda b: reverse("subsidies:payout_detail", args=[b.pk]),
                order=order,
            )
        )
    work.register(
        work.WorkItem(
            key="returned_lines",
            label=_("Payments returned by the bank, not yet re-issued"),
            roles=OFFICER,
            rows=returned_lines,
            columns=[
                (_("Pupil"), lambda line: line.award.student.name),
                (_("Amount"), lambda line: line.amount),
                (_("Reason"), lambda line: line.failure_reason),
            ],
            url=lambda line: reverse("subsidies:payout_detail", args=[line.batch_id]),
            order=14,
        )
    )
    work.register(
        work.WorkItem(
            key="applications_to_submit",
            label=_("Candidates to apply for"),
            roles=PRINCIPAL,
            rows=_awards(AwardStatus.CANDIDATE),
            columns=AWARD_COLUMNS,
            url=_award_url,
            order=20,
        )
    )
    work.register(
        work.WorkItem(
            key="applications_to_review",
            label=_("Applications to review"),
            roles=PRINCIPAL,
            rows=_awards(AwardStatus.APPLIED),
            columns=AWARD_COLUMNS,
            url=_award_url,
            order=21,
        )
    )
    work.register(
        work.WorkItem(
            key="open_recoveries",
            label=_("Recoveries not yet settled"),
            roles=AUDITOR | OFFICER,
            rows=open_recoveries,
            columns=[
                (_("Pupil"), lambda r: r.award.student.name),
                (_("County"), lambda r: r.award.county.name),
                (_("Amount"), lambda r: r.amount),
                (_("Reason"), lambda r: r.reason),
            ],
            url=lambda r: reverse("subsidies:award_detail", args=[r.award_id]),
            order=30,
        )
    )
    work.register(
        work.WorkItem(
            key="unsettled_lines",
            label=_("Reconciliation differences: payments sent but not settled by the bank"),
            roles=AUDITOR,
            rows=lambda scope: (
                scope.filter(PayoutLine)
                .filter(status=PayoutLine.Status.PENDING, batch__status=PayoutBatch.Status.SENT)
                .select_related("award__student", "batch__county")
                .order_by("batch_id", "pk")
            ),
            columns=[
                (_("Pupil"), lambda line: line.award.student.name),
                (_("County"), lambda line: line.batch.county.name),
                (_("Amount"), lambda line: line.amount),
            ],
            url=lambda line: reverse("subsidies:payout_detail", args=[line.batch_id]),
            order=31,
        )
    )


def open_anomalies(scope):
    """The anomalies of the latest computed report (the auditor's anomaly page reads the same rows)."""
    from .models import AnomalyRow, AnomalySnapshot

    snap = AnomalySnapshot.objects.order_by("-computed_at", "-pk").first()
    if snap is None or not (scope.city_wide or scope.is_county_officer):
        return AnomalyRow.objects.none()
    rows = AnomalyRow.objects.filter(snapshot=snap)
    if not scope.city_wide:
        rows = rows.filter(county_id=scope.county_id)
    return rows.order_by("seq")


def register_anomalies():
    work.register(
        work.WorkItem(
            key="open_anomalies",
            label=_("Anomalies in the latest anomaly report"),
            roles=AUDITOR,
            rows=open_anomalies,
            columns=[
                (_("Kind"), lambda r: r.kind),
                (_("County"), lambda r: r.county_name),
                (_("School"), lambda r: r.school),
                (_("Pupil"), lambda r: r.student),
                (_("Amount"), lambda r: r.amount),
            ],
            page=lambda scope: reverse("subsidies:anomalies"),
            order=29,
        )
    )
