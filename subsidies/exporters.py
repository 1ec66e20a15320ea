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
