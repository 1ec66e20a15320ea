"""Excel reports of 精准救助 (on jinpin.exports): award roster, headline figures, ..."""

from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jinpin import exports, privacy
from jinpin.exports import Column

from .models import Award, AwardStatus, SchemeKind
from .scoping import ACCESS


def award_queryset(scope, params):
    """The award list page's rows for these filters (the same FilterSet), in scope."""
    from .filters import FILTER_KEYS, AwardFilter

    data = {k: v for k, v in params.items() if k in FILTER_KEYS and v}
    if not data:
        return scope.filter(Award)
    f = AwardFilter(data, queryset=scope.filter(Award), scope=scope)
    return f.qs if f.is_valid() else Award.objects.none()


@exports.register
class AwardRosterExporter(exports.Exporter):
    """资助名单: every award in scope with the list page's filters (scheme / school / county / status)."""

    identifier = "subsidies.awards"
    verbose_name = _("Award roster")
    columns = [
        Column(_("Period"), 14),
        Column(_("County"), 10),
        Column(_("School"), 28),
        Column(_("Student"), 10),
        Column(_("Resident ID"), 21),
        Column(_("Scheme"), 18),
        Column(_("Kind"), 8),
        Column(_("Amount"), 12, "money"),
        Column(_("Status"), 10),
        Column(_("Rate from"), 12, "date"),
        Column(_("Household status"), 12),
        Column(_("Created at"), 18, "datetime"),
    ]

    def queryset(self):
        return award_queryset(self.scope, self.params).order_by("pk")

    def total(self):
        return self.queryset().count()

    def rows(self):
        kinds, statuses = dict(SchemeKind.choices), dict(AwardStatus.choices)
        kinds = {k: str(v) for k, v in kinds.items()}
        statuses = {k: str(v) for k, v in statuses.items()}
        show_id = privacy.shower(self.scope, privacy.PUPIL_ID)
        qs = (
            self.queryset()
            .annotate(hh=KeyTextTransform("household_status", "facts"))
            .values_list(
                F("period__name"),
                F("county__name"),
                F("school__name"),
                F("student__name"),
                F("student__id_number"),
                F("scheme__name"),
                F("scheme__kind"),
                "amount",
                "status",
                F("rate_version__effective_from"),
                "hh",
                "created_at",
            )
        )
        for p, c, s, name, number, scheme, kind, amount, status, rate_from, hh, created in qs.iterator(chunk_size=5000):
            yield (
                p,
                c,
                s,
                name,
                show_id(number),
                scheme,
                kinds[kind],
                amount,
                statuses[status],
                rate_from,
                hh or "",
                created,
            )
        show_id.audit(exporter=self.identifier)


def _officer_of(scope, county_id) -> bool:
    """Who sees a county's payout batches (scoping.ACCESS): the city-wide roles, and its own officers."""
    return scope.role in ACCESS["payouts"] and (scope.city_wide or scope.county_id == county_id)


@exports.register
class BankFileExporter(exports.Exporter):
    """The bank file of one payout batch: payee, full resident ID, account and amount per line."""

    identifier = "subsidies.bank_file"
    verbose_name = _("Bank payment file")
    columns = [
        Column(_("Line number"), 12, "int"),
        Column(_("Payee"), 12),
        Column(_("Student"), 12),
        Column(_("Resident ID"), 21),
        Column(_("Bank account"), 24),
        Column(_("Amount"), 12, "money"),
        Column(_("Scheme"), 18),
        Column(_("School"), 28),
        Column(_("Result"), 10),
        Column(_("Bank reference"), 16),
        Column(_("Failure reason"), 20),
        Column(_("Account last changed"), 20, "datetime"),
    ]

    @classmethod
    def permission(cls, scope, params):
        from .models import PayoutBatch

        batch = PayoutBatch.objects.filter(pk=params.get("batch")).values_list("county_id", flat=True).first()
        return batch is not None and _officer_of(scope, batch)

    def filename(self):
        return _("Bank file of payout batch %(n)s.xlsx") % {"n": self.params.get("batch")}

    def rows(self):
        from django.db.models import OuterRef, Subquery
        from django.db.models.functions import Coalesce

        from .models import PaymentDetailChange, PayoutBatch, PayoutLine, RequestStatus

        # when the line's account was last changed: the last change confirmed before the batch was prepared (the
        # batch pays the details confirmed then), or the pupil's registration if it never changed
        last_change = (
            PaymentDetailChange.objects.filter(
                student=OuterRef("award__student_id"),
                status=RequestStatus.CONFIRMED,
                confirmed_at__lte=OuterRef("batch__created_at"),
            )
            .order_by("-confirmed_at")
            .values("confirmed_at")[:1]
        )
        lines = (
            self.scope.filter(PayoutLine)
            .filter(batch_id=self.params.get("batch"))
            .annotate(account_since=Coalesce(Subquery(last_change), "award__student__created_at"))
            .order_by("pk")
            .values_list(
                "pk",
                "payee_name",
                "award__student__name",
                "award__student__id_number",
                "bank_account",
                "amount",
                "award__scheme__name",
                "award__school__name",
                "account_since",
            )
        )
        # the bank pays to an account checked against the payee's ID: full values where the policy allows
        show_id = privacy.shower(self.scope, privacy.PUPIL_ID, privacy.BANK_FILE)
        show_account = privacy.shower(self.scope, privacy.BANK_ACCOUNT, privacy.BANK_FILE)
        for pk, payee, student, number, account, *rest, since in lines.iterator(chunk_size=5000):
            yield (pk, payee, student, show_id(number), show_account(account), *rest, "", "", "", since)
        batch = PayoutBatch.objects.filter(pk=self.params.get("batch")).first()
        show_id.audit(batch, exporter=self.identifier)
        show_account.audit(batch, exporter=self.identifier)

    def extra_sheets(self):
        """The seal, on a summary sheet the bank can check against the lines and echo in its return file."""
        from .models import PayoutBatch

        b = PayoutBatch.objects.filter(pk=self.params.get("batch")).first()
        if b is None:
            return []
        if not b.is_sealed:
            rows = [(_("Seal"), str(_("Not sealed yet: the batch is sealed when it is marked as sent to the bank.")))]
        else:
            rows = [
                (_("Payout batch"), b.pk),
                (_("Sealed lines"), b.seal_lines),
                (_("Sealed total (fen)"), b.seal_total_fen),
                (_("Sealed total (yuan)"), str(b.seal_total)),
                (_("Seal (SHA-256)"), b.seal_sha256),
                (_("Sealed at"), timezone.localtime(b.sealed_at).strftime("%Y-%m-%d %H:%M:%S")),
                (
                    _("How the seal is computed"),
                    str(
                        _(
                            "SHA-256 of the lines in line-number order, each written as line number|payee|account|"
                            "amount in fen and a newline, UTF-8. Echo the seal in the return file's seal column."
                        )
                    ),
                ),
            ]
        return [(str(_("Seal")), [Column(_("Item"), 22), Column(_("Value"), 70)], rows)]


@exports.register
class ReconciliationExporter(exports.Exporter):
    """对账: budget → awards → batch lines → paid per scheme and county, then every difference."""

    identifier = "subsidies.reconciliation"
    verbose_name = _("Reconciliation")
    columns = [
        Column(_("County"), 10),
        Column(_("Scheme"), 18),
        Column(_("Allocated"), 14, "money"),
        Column(_("Approved"), 14, "money"),
        Column(_("In payout batches"), 14, "money"),
        Column(_("Paid"), 14, "money"),
        Column(_("Recoveries open"), 14, "money"),
        Column(_("Recovered"), 14, "money"),
    ]

    @classmethod
    def permission(cls, scope, params):
        return scope.role in ACCESS["reconciliation"]

    def rows(self):
        from .services.payouts import reconciliation

        rep = reconciliation(
            scope=self.scope,
            school_year=int(self.params.get("year") or 2016),
            county_id=self.params.get("county") or None,
        )
        for r in rep.rows:
            yield (r.county, r.scheme, r.budget, r.approved, r.in_batches, r.paid, r.recoveries_open, r.recovered)
        t = rep.total
        yield (str(_("Total")), "", t.budget, t.approved, t.in_batches, t.paid, t.recoveries_open, t.recovered)
        yield ("", "", None, None, None, None, None, None)
        yield (str(_("Differences")), "", None, None, None, None, None, None)
        for d in rep.differences:
            yield (str(d["kind"]), d["where"], d["amount"], None, None, None, None, None)


@exports.register
class AnomalyExporter(exports.Exporter):
    """监督: the anomaly report for auditors (full IDs for the auditor)."""

    identifier = "subsidies.anomalies"
    verbose_name = _("Subsidy anomalies")
    columns = [
        Column(_("Anomaly"), 34),
        Column(_("County"), 10),
        Column(_("School"), 28),
        Column(_("Student"), 10),
        Column(_("Resident ID"), 21),
        Column(_("Scheme"), 18),
        Column(_("Amount"), 12, "money"),
        Column(_("Detail"), 40),
    ]

    @classmethod
    def permission(cls, scope, params):
        return scope.role in ACCESS["anomalies"]

    def rows(self):
        from .models import Period
        from .services.anomalies import anomalies, audit_reveal

        period = (
            Period.objects.filter(pk=self.params.get("period")).first() or Period.objects.order_by("-starts_on").first()
        )
        if period is None:
            return
        n = 0
        for row in anomalies(self.scope, period):
            n += 1
            yield tuple(str(v) if v is not None and not hasattr(v, "quantize") else v for v in row)
        audit_reveal(self.scope, period, n)


@exports.register
class HeadlineExporter(exports.Exporter):
    """The headline figures (the report's "7,864 students aided, 48.14 million yuan" kind): students aided and amounts
    by year, county and scheme, from the approved and paid awards."""

    identifier = "subsidies.headline"
    verbose_name = _("Subsidy headline figures")
    columns = [
        Column(_("School year"), 10, "int"),
        Column(_("County"), 12),
        Column(_("Scheme"), 20),
        Column(_("Students aided"), 14, "int"),
        Column(_("Awards"), 10, "int"),
        Column(_("Amount approved"), 16, "money"),
        Column(_("Amount paid"), 16, "money"),
    ]

    def rows(self):
        from django.db.models import Count, Q, Sum

        aided = [AwardStatus.APPROVED, AwardStatus.PAID]
        qs = self.scope.filter(Award).filter(status__in=aided)
        by = (
            qs.values("period__school_year", "county__name", "scheme__name", "county__order", "scheme__order")
            .annotate(
                students=Count("student", distinct=True),
                n=Count("pk"),
                total=Sum("amount"),
                paid=Sum("amount", filter=Q(status=AwardStatus.PAID)),
            )
            .order_by("period__school_year", "county__order", "scheme__order")
        )
        for r in by:
            yield (
                r["period__school_year"],
                r["county__name"],
                r["scheme__name"],
                r["students"],
                r["n"],
                r["total"],
                r["paid"] or 0,
            )
        for r in (
            qs.values("period__school_year")
            .annotate(
                students=Count("student", distinct=True),
                n=Count("pk"),
                total=Sum("amount"),
                paid=Sum("amount", filter=Q(status=AwardStatus.PAID)),
            )
            .order_by("period__school_year")
        ):
            yield (
                r["period__school_year"],
                str(_("Whole area")),
                str(_("All schemes")),
                r["students"],
                r["n"],
                r["total"],
                r["paid"] or 0,
            )
