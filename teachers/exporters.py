"""Excel reports of the teachers app: roster, movements, training compliance, honours."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jinpin import exports, privacy
from jinpin.exports import Column
from jinpin.forms import parse_id
from jinpin.reference import reference_year

from . import honours as hon
from . import training_compliance as comp
from .filters import MovementFilter, SchoolScopeFilter, TeacherFilter
from .models import (
    Movement,
    MovementKind,
    MovementStatus,
    Post,
    ProfessionalTitle,
    RuralHonourCertificate,
    Sex,
    Teacher,
    TeacherStatus,
    TrainingRule,
)


def _labels(choices):
    return {k: str(v) for k, v in choices.choices}


@exports.register
class RosterExporter(exports.ListExporter):
    """教职工花名册: the teacher list with its filters, in the starter's scope."""

    identifier = "teachers.roster"
    verbose_name = _("Staff roster")
    columns = [
        Column(pgettext_lazy("person", "Name"), 12),
        Column(_("ID number"), 22),
        Column(_("Sex"), 6),
        Column(_("Birth date"), 12, "date"),
        Column(_("County"), 10),
        Column(_("School code"), 13),
        Column(_("School"), 28),
        Column(_("Post"), 12),
        Column(_("Subject"), 10),
        Column(_("Professional title"), 14),
        Column(_("Honour titles"), 24),
        Column(_("Status"), 8),
    ]

    filterset = TeacherFilter

    def base_queryset(self):
        return self.scope.filter(Teacher).select_related("school__county").prefetch_related("honours")

    def rows(self):
        sexes, posts, titles, statuses = _labels(Sex), _labels(Post), _labels(ProfessionalTitle), _labels(TeacherStatus)
        show_id = privacy.shower(self.scope, privacy.TEACHER_ID)
        for t in (
            self.queryset().order_by("school__county__order", "school__code", "name", "pk").iterator(chunk_size=2000)
        ):
            s = t.school
            yield (
                t.name,
                show_id(t.id_number),
                sexes[t.sex],
                t.birth_date,
                s.county.name if s else "",
                s.code if s else "",
                s.name if s else "",
                posts[t.post],
                t.subject,
                titles[t.professional_title],
                "、".join(h.name for h in t.honours.all()),
                statuses[t.status],
            )
        show_id.audit(exporter=self.identifier)


@exports.register
class MovementExporter(exports.ListExporter):
    """交流轮岗: movements in a period (the list's filters)."""

    identifier = "teachers.movements"
    verbose_name = _("Teacher movements")
    columns = [
        Column(pgettext_lazy("person", "Name"), 12),
        Column(_("ID number"), 22),
        Column(_("Type"), 26),
        Column(_("From school"), 28),
        Column(_("To school"), 28),
        Column(_("County (receiving)"), 12),
        Column(_("Poor village"), 10),
        Column(_("Start date"), 12, "date"),
        Column(_("Planned end date"), 12, "date"),
        Column(_("Full-time"), 8),
        Column(_("Status"), 10),
        Column(_("Took up post on"), 12, "date"),
        Column(_("Ended on"), 12, "date"),
    ]

    filterset = MovementFilter

    def base_queryset(self):
        return self.scope.filter(Movement).select_related(
            "teacher", "from_school", "to_school__county", "to_school__village"
        )

    def rows(self):
        kinds, statuses = _labels(MovementKind), _labels(MovementStatus)
        yes, no = str(_("Yes")), str(_("No"))
        show_id = privacy.shower(self.scope, privacy.TEACHER_ID)
        for m in self.queryset().order_by("start", "pk").iterator(chunk_size=2000):
            to = m.to_school
            yield (
                m.teacher.name,
                show_id(m.teacher.id_number),
                kinds[m.kind],
                m.from_school.name if m.from_school else "",
                to.name,
                to.county.name,
                yes if to.in_poor_village else no,
                m.start,
                m.end,
                yes if m.full_time else no,
                statuses[m.status],
                m.started_on,
                m.ended_on,
            )
        show_id.audit(exporter=self.identifier)


@exports.register
class ComplianceExporter(exports.Exporter):
    """培训达标: one row per teacher of the rule's target group, hours and shortfall."""

    identifier = "teachers.compliance"
    verbose_name = _("Training compliance")
    columns = [
        Column(_("County"), 10),
        Column(_("School code"), 13),
        Column(_("School"), 28),
        Column(pgettext_lazy("person", "Name"), 12),
        Column(_("ID number"), 22),
        Column(_("Post"), 14),
        Column(_("Qualifying hours"), 10),
        Column(_("Required hours"), 10),
        Column(_("Shortfall"), 10),
        Column(_("Compliant"), 8),
    ]

    def rule(self):
        pk = parse_id(self.params.get("rule"))
        rule = TrainingRule.objects.filter(pk=pk).first() if pk is not None else None
        return rule or comp.active_rule()

    def queryset(self):
        rule = self.rule()
        teachers = self.scope.filter(Teacher)
        for key, field in (("county", "school__county_id"), ("school", "school_id")):
            pk = parse_id(self.params.get(key))
            if pk is not None:
                teachers = teachers.filter(**{field: pk})
        if self.scope.is_principal:
            teachers = teachers.filter(school_id=self.scope.school_id)
        if rule is None:
            return rule, teachers.none()
        qs = comp.compliance(rule, teachers)
        if self.params.get("short") == "1":
            qs = qs.filter(hours__lt=rule.threshold)
        return rule, qs

    def total(self):
        return self.queryset()[1].count()

    def rows(self):
        rule, qs = self.queryset()
        posts = _labels(Post)
        yes, no = str(_("Yes")), str(_("No"))
        qs = qs.order_by("school__county__order", "school__code", "hours", "name", "pk").values_list(
            "school__county__name", "school__code", "school__name", "name", "id_number", "post", "hours"
        )
        threshold = rule.threshold if rule else 0
        show_id = privacy.shower(self.scope, privacy.TEACHER_ID)
        for county, code, school, name, number, post, hours in qs.iterator(chunk_size=5000):
            yield (
                county,
                code,
                school,
                name,
                show_id(number),
                posts[post],
                hours,
                threshold,
                comp.shortfall(rule, hours),
                yes if hours >= threshold else no,
            )
        show_id.audit(exporter=self.identifier)


@exports.register
class HonoursExporter(exports.Exporter):
    """乡村教师荣誉: teachers owed a certificate in a year, then the certificates issued that year."""

    identifier = "teachers.honours"
    verbose_name = _("Rural-service honours")
    columns = [
        Column(_("County"), 10),
        Column(_("School"), 28),
        Column(pgettext_lazy("person", "Name"), 12),
        Column(_("ID number"), 22),
        Column(_("Tier (years)"), 10, "int"),
        Column(_("Years of rural teaching"), 12),
        Column(_("Status"), 10),
        Column(_("Certificate number"), 20),
        Column(_("Issued on"), 12, "date"),
    ]

    def year(self):
        return hon.year_from(self.params.get("year"), reference_year)

    def teachers(self):
        qs = self.scope.filter(Teacher)
        f = SchoolScopeFilter(self.params, queryset=qs, scope=self.scope)
        return f.qs if f.is_valid() else qs.none()

    def rows(self):
        year = self.year()
        owed_label, issued_label = str(_("Owed")), str(_("Issued"))
        show_id = privacy.shower(self.scope, privacy.TEACHER_ID)
        chunk = []

        def flush():
            for r in hon.with_teachers(chunk):
                t = r["teacher"]
                s = t.school
                yield (
                    s.county.name if s else "",
                    s.name if s else "",
                    t.name,
                    show_id(t.id_number),
                    r["tier_years"],
                    r["rural_years"],
                    owed_label,
                    "",
                    None,
                )

        for r in hon.owed(self.teachers(), year).iterator(chunk_size=2000):
            chunk.append(r)
            if len(chunk) == 2000:
                yield from flush()
                chunk = []
        yield from flush()
        issued = (
            self.scope.filter(RuralHonourCertificate)
            .filter(year=year, teacher__in=self.teachers())
            .select_related("teacher__school__county", "tier")
            .order_by("tier__years", "pk")
        )
        for c in issued.iterator(chunk_size=2000):
            s = c.teacher.school
            yield (
                s.county.name if s else "",
                s.name if s else "",
                c.teacher.name,
                show_id(c.teacher.id_number),
                c.tier.years,
                c.rural_years,
                issued_label,
                c.certificate_no,
                c.issued_on,
            )
        show_id.audit(exporter=self.identifier)
