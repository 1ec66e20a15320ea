"""Excel reports of 结对帮扶 (agreements, activity log, compliance matrix, donations); each honours
the list page's filters and the starter's scope, and streams rows (no query per row)."""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jinpin import exports
from jinpin.exports import Column
from jinpin.forms import parse_id
from jinpin.reference import reference_date
from schools.models import County

from . import compliance
from .filters import ActivityFilter, AgreementFilter, DonationFilter
from .models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementForm,
    AgreementSchool,
    AgreementStatus,
    Donation,
    DonationCategory,
    SchoolYear,
    Semester,
)

CHUNK = 2000


def _chunks(qs, size=CHUNK):
    """Keyset pagination by pk: each chunk is one query (plus its prefetches)."""
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _helped(agreement):
    return "、".join(link.school.name for link in agreement.links.all())


LINKS = Prefetch("links", queryset=AgreementSchool.objects.select_related("school").order_by("school__code"))


@exports.register
class AgreementExporter(exports.ListExporter):
    identifier = "pairing.agreements"
    verbose_name = _("Twinning agreements register")
    columns = [
        Column(_("Agreement no."), 10, "int"),
        Column(_("County"), 10),
        Column(_("Helping school"), 28),
        Column(_("Helped schools"), 40),
        Column(_("Form"), 10),
        Column(_("Status"), 8),
        Column(_("Signed on"), 12, "date"),
        Column(_("Term starts on"), 12, "date"),
        Column(_("Term ends on"), 12, "date"),
        Column(_("Ended on"), 12, "date"),
        Column(_("Content of the help"), 40),
        Column(_("Signed agreement"), 10),
    ]

    filterset = AgreementFilter

    def base_queryset(self):
        return self.scope.filter(Agreement).select_related("helping_school", "county").prefetch_related(LINKS)

    def rows(self):
        forms, statuses = dict(AgreementForm.choices), dict(AgreementStatus.choices)
        yes, no = str(_("Yes")), str(_("No"))
        for batch in _chunks(self.queryset()):
            for a in batch:
                yield (
                    a.pk,
                    a.county.name,
                    a.helping_school.name,
                    _helped(a),
                    str(forms[a.form]),
                    str(statuses[a.status]),
                    a.signed_on,
                    a.starts_on,
                    a.ends_on,
                    a.ended_on,
                    a.content,
                    yes if a.document else no,
                )


@exports.register
class ActivityExporter(exports.ListExporter):
    identifier = "pairing.activities"
    verbose_name = _("Twinning activity log")
    columns = [
        Column(_("Date"), 12, "date"),
        Column(_("School year"), 12),
        Column(_("Semester"), 10),
        Column(_("Activity type"), 24),
        Column(_("Agreement no."), 10, "int"),
        Column(_("County"), 10),
        Column(_("Helping school"), 28),
        Column(_("Place"), 24),
        Column(_("Online link"), 24),
        Column(_("Pupils"), 8, "int"),
        Column(_("Summary"), 50),
        Column(_("Logged at"), 16, "datetime"),
    ]

    filterset = ActivityFilter

    def base_queryset(self):
        return self.scope.filter(Activity).select_related("agreement__helping_school", "agreement__county")

    def rows(self):
        kinds = dict(ActivityKind.choices)
        years = {y.pk: y.name for y in SchoolYear.objects.all()}
        sems = {s.pk: s.get_number_display() for s in Semester.objects.all()}
        for batch in _chunks(self.queryset()):
            for a in batch:
                yield (
                    a.held_on,
                    years.get(a.school_year_id, ""),
                    str(sems.get(a.semester_id, "")),
                    str(kinds[a.kind]),
                    a.agreement_id,
                    a.agreement.county.name,
                    a.agreement.helping_school.name,
                    a.place,
                    a.online_link,
                    a.pupils,
                    a.summary,
                    a.created_at,
                )


@exports.register
class DonationExporter(exports.ListExporter):
    identifier = "pairing.donations"
    verbose_name = _("Donations register")
    columns = [
        Column(_("Donated on"), 12, "date"),
        Column(_("Agreement no."), 10, "int"),
        Column(_("Helping school"), 28),
        Column(_("Received by school"), 28),
        Column(_("Item"), 30),
        Column(_("Category"), 14),
        Column(_("Quantity"), 8, "int"),
        Column(_("Estimated value (yuan)"), 14, "money"),
        Column(_("Received on"), 12, "date"),
        Column(_("Receipt confirmed by"), 16),
    ]

    filterset = DonationFilter

    def base_queryset(self):
        return self.scope.filter(Donation).select_related("agreement__helping_school", "recipient", "received_by")

    def rows(self):
        cats = dict(DonationCategory.choices)
        n = qty = 0
        value = 0
        for batch in _chunks(self.queryset()):
            for d in batch:
                n += 1
                qty += d.quantity
                value += d.value
                yield (
                    d.donated_on,
                    d.agreement_id,
                    d.agreement.helping_school.name,
                    d.recipient.name,
                    d.item,
                    str(cats[d.category]),
                    d.quantity,
                    d.value,
                    d.received_on,
                    (d.received_by.get_full_name() or d.received_by.username) if d.received_by else "",
                )
        yield (None, None, None, None, str(_("Total (%(n)s donations)") % {"n": n}), None, qty, value, None, None)


@exports.register
class ComplianceExporter(exports.Exporter):
    """Agreement × minimum × period with its state and evidence count; one streamed SQL statement."""

    identifier = "pairing.compliance"
    verbose_name = _("Twinning compliance matrix")
    columns = [
        Column(_("Agreement no."), 10, "int"),
        Column(_("County"), 10),
        Column(_("Helping school"), 28),
        Column(_("Helped schools"), 36),
        Column(_("Status"), 8),
        Column(_("Minimum"), 22),
        Column(_("Period"), 20),
        Column(_("At least"), 8, "int"),
        Column(_("Counted"), 8, "int"),
        Column(_("State"), 10),
    ]

    def _inputs(self):
        qs = self.scope.filter(Agreement)
        county = parse_id(self.params.get("county"))
        if county is not None and self.scope.filter(County).filter(pk=county).exists():
            qs = qs.filter(county_id=county)
        today = timezone.localdate()
        year = parse_id(self.params.get("year"))
        if year is not None:
            years = list(SchoolYear.objects.filter(pk=year, starts_on__lte=today))
        else:  # every year up to the latest with records (not the empty years of the clock after them)
            years = compliance.years_upto(reference_date())
        return qs, years, today

    def total(self):
        if self.params.get("missed") == "1":
            return None
        qs, years, today = self._inputs()
        return compliance.count(qs, years=years, today=today)

    def rows(self):
        qs, years, today = self._inputs()
        minimums = compliance.active_minimums()
        by_min = {m.pk: m for m in minimums}
        year_names = {y.pk: str(_("%(y)s school year") % {"y": y.name}) for y in years}
        sem_names = {s.pk: str(s) for s in Semester.objects.filter(school_year__in=years).select_related("school_year")}
        labels = {k: str(v) for k, v in compliance.STATE_LABELS.items()}
        statuses = dict(AgreementStatus.choices)
        only_missed = self.params.get("missed") == "1"
        info, pending = {}, []

        def load(ids):
            info.clear()
            for a in (
                Agreement.objects.filter(pk__in=ids).select_related("helping_school", "county").prefetch_related(LINKS)
            ):
                info[a.pk] = (a.county.name, a.helping_school.name, _helped(a), str(statuses[a.status]))

        def flush():
            load({r[0] for r in pending})
            for aid, mid, kind, pid, n, state in pending:
                if only_missed and state != compliance.MISSED:
                    continue
                m = by_min[mid]
                county, helper, helped, status = info[aid]
                period = sem_names.get(pid, "") if kind == "semester" else year_names.get(pid, "")
                yield (aid, county, helper, helped, status, m.name, period, m.required, int(n), labels[state])
            pending.clear()

        for row in compliance.stream(qs, years=years, today=today, minimums=minimums):
            pending.append(row)
            if len(pending) >= 5000 and row[0] != pending[-2][0]:
                last = pending.pop()
                yield from flush()
                pending.append(last)
        yield from flush()


__all__ = ["AgreementExporter", "ActivityExporter", "DonationExporter", "ComplianceExporter"]
