"""Excel reports of 精准救助 (on jinpin.exports): award roster, headline figures, ..."""

from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext_lazy as _

from jinpin import exports, idcard
from jinpin.exports import Column
from jinpin.scope import Role

from .models import Award, AwardStatus, SchemeKind

#: roles that see resident IDs in full (the auditor traces payments; the city configures)
FULL_ID_ROLES = frozenset({Role.AUDITOR, Role.CITY_ADMIN})


def id_shown(scope, number: str) -> str:
    return number if scope.role in FULL_ID_ROLES else idcard.mask(number)


def award_queryset(scope, params):
    qs = scope.filter(Award)
    for key, field in (("period", "period_id"), ("scheme", "scheme_id"), ("county", "county_id"), ("school", "school_id"), ("status", "status")):
        if params.get(key):
            qs = qs.filter(**{field: params[key]})
    return qs


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
        full = self.scope.role in FULL_ID_ROLES
        mask = idcard.mask
        qs = self.queryset().annotate(hh=KeyTextTransform("household_status", "facts")).values_list(
            F("period__name"), F("county__name"), F("school__name"), F("student__name"), F("student__id_number"),
            F("scheme__name"), F("scheme__kind"), "amount", "status", F("rate_version__effective_from"), "hh", "created_at",
        )
        for p, c, s, name, number, scheme, kind, amount, status, rate_from, hh, created in qs.iterator(chunk_size=5000):
            yield (p, c, s, name, number if full else mask(number), scheme, kinds[kind], amount, statuses[status], rate_from, hh or "", created)


def _officer_of(scope, county_id) -> bool:
    return scope.is_city_admin or scope.is_auditor or (scope.is_county_officer and scope.county_id == county_id)


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
    ]

    @classmethod
    def permission(cls, scope, params):
        from .models import PayoutBatch

        batch = PayoutBatch.objects.filter(pk=params.get("batch")).values_list("county_id", flat=True).first()
        return batch is not None and _officer_of(scope, batch)

    def filename(self):
        return f"bank-file-batch-{self.params.get('batch')}.xlsx"

    def rows(self):
        from .models import PayoutLine

        lines = self.scope.filter(PayoutLine).filter(batch_id=self.params.get("batch")).order_by("pk").values_list(
            "pk", "payee_name", "award__student__name", "award__student__id_number", "bank_account", "amount",
            "award__scheme__name", "award__school__name")
        for row in lines.iterator(chunk_size=5000):
            yield (*row, "", "", "")


@exports.register
class ReconciliationExporter(exports.Exporter):
    """对账: budget → awards → batch lines → paid per scheme and county, then every difference."""

    identifier = "subsidies.reconciliation"
    verbose_name = _("Reconciliation")
    columns = [
        Column(_("County"), 10), Column(_("Scheme"), 18), Column(_("Allocated"), 14, "money"), Column(_("Approved"), 14, "money"),
        Column(_("In payout batches"), 14, "money"), Column(_("Paid"), 14, "money"), Column(_("Recoveries open"), 14, "money"),
        Column(_("Recovered"), 14, "money"),
    ]

    @classmethod
    def permission(cls, scope, params):
        return scope.is_city_admin or scope.is_auditor or scope.is_county_officer

    def rows(self):
        from .services.payouts import reconciliation

        rep = reconciliation(scope=self.scope, school_year=int(self.params.get("year") or 2016), county_id=self.params.get("county") or None)
        for r in rep.rows:
            yield (r.county, r.scheme, r.budget, r.approved, r.in_batches, r.paid, r.recoveries_open, r.recovered)
        t = rep.total
        yield (str(_("Total")), "", t.budget, t.approved, t.in_batches, t.paid, t.recoveries_open, t.recovered)
        yield ("", "", None, None, None, None, None, None)
        yield (str(_("Differences")), "", None, None, None, None, None, None)
        for d in rep.differences:
            yield (str(d["kind"]), d["where"], d["amount"], None, None, None, None, None)
