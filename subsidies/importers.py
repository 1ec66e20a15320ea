"""Spreadsheet imports of the poverty office's household register and the schools' pupil rosters (jinpin.imports).

All rows are validated first (errors per row and column), then everything is written in
bulk, or nothing. Rows match on natural keys (household number, resident ID), so the
same file imported again changes nothing. A pupil already enrolled at another school in
the same year is refused, and the attempt is kept as an anomaly for the auditors.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jinpin import idcard
from jinpin.imports import Col, Importer
from schools.models import School, Stage, Village

from .history import log_changes
from .models import Enrolment, EnrolmentConflict, Household, HouseholdStatus, Student

FLAGS = ("is_orphan", "is_disabled", "is_special_ed", "is_boarder", "is_dibao")


class HouseholdImporter(Importer):
    identifier = "subsidies.households"
    verbose_name = gettext_lazy("Poor households")
    natural_key = ("number",)
    columns = [
        Col("number", gettext_lazy("Household number"), "code", max_length=30),
        Col("head_name", gettext_lazy("Head of household"), "text", max_length=50),
        Col("head_id_number", gettext_lazy("Head's resident ID"), "id_number", required=False, max_length=18),
        Col("village_code", gettext_lazy("Village code"), "code", max_length=12),
        Col("members", gettext_lazy("Members"), "int"),
        Col("is_dibao", gettext_lazy("低保"), "bool", required=False),
        Col("is_tekun", gettext_lazy("特困"), "bool", required=False),
        Col("status", gettext_lazy("Status"), "choice", choices=HouseholdStatus.Status),
        Col("status_date", gettext_lazy("Status since"), "date"),
    ]

    def prepare(self, rows):
        codes = {r["village_code"] for r in rows}
        self.villages = {v.code: v for v in self.scope.filter(Village).filter(code__in=codes)}
        numbers = [r["number"] for r in rows]
        self.existing = {h.number: h for h in Household.objects.filter(number__in=numbers)}
        self.visible = set(self.scope.filter(Household).filter(number__in=numbers).values_list("number", flat=True))
        # every status already on file: a row's "status since date" that is already recorded adds nothing, even when a
        # later change (脱贫, 返贫) has been recorded since -- re-importing an older register must not duplicate history
        self.recorded = set(
            HouseholdStatus.objects.filter(household__number__in=numbers).values_list(
                "household_id", "status", "effective_on"
            )
        )

    def clean_row(self, row):
        if row["village_code"] not in self.villages:
            self.error("village_code", _("No village with code %(code)s in your area.") % {"code": row["village_code"]})
        if row["number"] in self.existing and row["number"] not in self.visible:
            self.error("number", _("This household number belongs to a household outside your area."))
        if row["head_id_number"]:
            try:
                idcard.parse(row["head_id_number"])
            except ValidationError as exc:
                self.error("head_id_number", exc.messages[0])
        if not 1 <= row["members"] <= 30:
            self.error("members", _("A household has between 1 and 30 members."))

    def save(self, rows):
        created = updated = unchanged = 0
        new, changed_rows, statuses, history = [], [], [], []
        fields = ("head_name", "head_id_number", "village_id", "members", "is_dibao", "is_tekun")
        for row in rows:
            values = {
                "head_name": row["head_name"],
                "head_id_number": row["head_id_number"] or "",
                "village_id": self.villages[row["village_code"]].pk,
                "members": row["members"],
                "is_dibao": bool(row["is_dibao"]),
                "is_tekun": bool(row["is_tekun"]),
            }
            h = self.existing.get(row["number"])
            if h is None:
                new.append((Household(number=row["number"], **values), row))
                continue
            diff = [k for k in fields if getattr(h, k) != values[k]]
            if diff:
                history.append((h, {k: (getattr(h, k), values[k]) for k in diff}))
            for k in diff:
                setattr(h, k, values[k])
            if diff:
                changed_rows.append(h)
            status_changed = (h.pk, row["status"], row["status_date"]) not in self.recorded
            if status_changed:
                statuses.append(
                    HouseholdStatus(
                        household=h,
                        status=row["status"],
                        effective_on=row["status_date"],
                        reason=_("imported"),
                        recorded_by=self.user,
                    )
                )
            if diff or status_changed:
                updated += 1
            else:
                unchanged += 1
        Household.objects.bulk_create([h for h, _row in new], batch_size=2000)
        for h, row in new:
            statuses.append(
                HouseholdStatus(
                    household=h,
                    status=row["status"],
                    effective_on=row["status_date"],
                    reason=_("imported"),
                    recorded_by=self.user,
                )
            )
        created = len(new)
        if changed_rows:
            Household.objects.bulk_update(changed_rows, fields, batch_size=2000)
            log_changes(history, actor=self.user, request=self.request, event="import", importer=self.identifier)
        HouseholdStatus.objects.bulk_create(statuses, batch_size=2000)
        return created, updated, unchanged


class StudentImporter(Importer):
    identifier = "subsidies.students"
    verbose_name = gettext_lazy("Pupils")
    natural_key = ("id_number",)
    columns = [
        Col("id_number", gettext_lazy("Resident ID"), "id_number", max_length=18),
        Col("name", gettext_lazy("Name"), "text", max_length=50),
        Col("sex", gettext_lazy("Sex"), "choice", required=False, choices=Student.Sex),
        Col("birth_date", gettext_lazy("Birth date"), "date", required=False),
        Col("household_number", gettext_lazy("Household number"), "code", required=False, max_length=30),
        Col("is_orphan", gettext_lazy("Orphan"), "bool", required=False),
        Col("is_disabled", gettext_lazy("Disabled"), "bool", required=False),
        Col("is_special_ed", gettext_lazy("Special-education pupil"), "bool", required=False),
        Col("is_boarder", gettext_lazy("Boarder"), "bool", required=False),
        Col("is_dibao", gettext_lazy("Urban 低保 family"), "bool", required=False),
        Col("school_code", gettext_lazy("School code"), "code", max_length=10),
        Col("school_year", gettext_lazy("School year"), "int"),
        Col("stage", gettext_lazy("Stage"), "choice", choices=Stage),
        Col("grade", gettext_lazy("Grade"), "int"),
        Col("payee_name", gettext_lazy("Payee"), "text", required=False, max_length=50),
        Col("bank_account", gettext_lazy("Bank account"), "code", required=False, max_length=32),
    ]

    def prepare(self, rows):
        self.schools = {s.code: s for s in self.scope.filter(School).filter(code__in={r["school_code"] for r in rows})}
        self.households = dict(
            Household.objects.filter(
                number__in={r["household_number"] for r in rows if r["household_number"]}
            ).values_list("number", "pk")
        )
        ids = [r["id_number"] for r in rows]
        self.students = {s.id_number: s for s in Student.objects.filter(id_number__in=ids)}
        # a pupil known elsewhere (another school, another county) may be enrolled here, but their record --
        # name, household, flags, payee and bank account -- is changed only by someone whose area holds them
        self.in_scope = set(self.scope.filter(Student).filter(id_number__in=ids).values_list("id_number", flat=True))
        self.enrolments = {
            (e.student.id_number, e.school_year): e
            for e in Enrolment.objects.filter(student__id_number__in=ids).select_related("student", "school")
        }
        self.conflicts = []

    def clean_row(self, row):
        try:
            info = idcard.parse(row["id_number"])
        except ValidationError as exc:
            self.error("id_number", exc.messages[0])
            return
        if row["birth_date"] and row["birth_date"] != info.birth_date:
            self.error(
                "birth_date", _("The birth date does not agree with the ID number (%(d)s).") % {"d": info.birth_date}
            )
        if row["sex"] and row["sex"] != info.sex:
            self.error("sex", _("The sex does not agree with the ID number."))
        row["birth_date"], row["sex"] = info.birth_date, info.sex
        school = self.schools.get(row["school_code"])
        if school is None:
            self.error("school_code", _("No school with code %(code)s in your area.") % {"code": row["school_code"]})
        if row["household_number"] and row["household_number"] not in self.households:
            self.error(
                "household_number",
                _("No registered poor household has the number %(n)s; import the households first.")
                % {"n": row["household_number"]},
            )
        if not 1 <= row["grade"] <= 12:
            self.error("grade", _("The grade is between 1 and 12."))
        if not 2000 <= row["school_year"] <= 2100:
            self.error("school_year", _("The school year is the year it starts, e.g. 2016."))
        known = self.students.get(row["id_number"])
        if known is not None and row["id_number"] not in self.in_scope:
            household_id = self.households.get(row["household_number"]) if row["household_number"] else None
            for key, given, kept in (
                ("household_number", household_id, known.household_id),
                ("payee_name", row["payee_name"], known.payee_name),
                ("bank_account", row["bank_account"], known.bank_account),
            ):
                if given and given != kept:
                    self.error(
                        key,
                        _(
                            "This pupil's record is kept by a school outside your area; leave this cell empty or as it is "
                            "there, and ask that school or the county office to change it."
                        ),
                    )
        other = self.enrolments.get((row["id_number"], row["school_year"]))
        if school is not None and other is not None and other.school_id != school.pk:
            self.error(
                "school_code",
                _(
                    "This pupil is already enrolled at %(school)s in %(year)s: the same ID cannot be enrolled in two schools in one year."
                )
                % {"school": other.school.name, "year": row["school_year"]},
            )
            self.conflicts.append(
                EnrolmentConflict(
                    id_number=row["id_number"],
                    school_year=row["school_year"],
                    school=school,
                    existing_school=other.school,
                    reported_by=self.user,
                )
            )

    def finish_validation(self):
        """Keep refused double enrolments for the auditors even though nothing is imported."""
        EnrolmentConflict.objects.bulk_create(self.conflicts, ignore_conflicts=True)

    def after_validation(self, report):
        if self.conflicts:
            self.finish_validation()

    def save(self, rows):
        created = updated = unchanged = 0
        fields = ("name", "birth_date", "sex", "household_id", *FLAGS, "payee_name", "bank_account")
        new_students, changed_students, new_enrol, changed_enrol = [], [], [], []
        student_history, enrol_history = [], []
        for row in rows:
            values = {
                "name": row["name"],
                "birth_date": row["birth_date"],
                "sex": row["sex"],
                "household_id": self.households.get(row["household_number"]) if row["household_number"] else None,
                "payee_name": row["payee_name"] or "",
                "bank_account": row["bank_account"] or "",
                **{f: bool(row[f]) for f in FLAGS},
            }
            s = self.students.get(row["id_number"])
            school = self.schools[row["school_code"]]
            enrol = {"school_id": school.pk, "stage": row["stage"], "grade": row["grade"]}
            if s is None:
                s = Student(id_number=row["id_number"], **values)
                new_students.append(s)
                new_enrol.append((s, row["school_year"], enrol))
                created += 1
                continue
            diff = [k for k in fields if getattr(s, k) != values[k]] if row["id_number"] in self.in_scope else []
            if diff:
                student_history.append((s, {k: (getattr(s, k), values[k]) for k in diff}))
            for k in diff:
                setattr(s, k, values[k])
            if diff:
                changed_students.append(s)
            e = self.enrolments.get((row["id_number"], row["school_year"]))
            ediff = []
            if e is None:
                new_enrol.append((s, row["school_year"], enrol))
            else:
                ediff = [k for k in enrol if getattr(e, k) != enrol[k]]
                if ediff:
                    enrol_history.append((e, {k: (getattr(e, k), enrol[k]) for k in ediff}))
                for k in ediff:
                    setattr(e, k, enrol[k])
                if ediff:
                    changed_enrol.append(e)
            if diff or ediff or e is None:
                updated += 1
            else:
                unchanged += 1
        Student.objects.bulk_create(new_students, batch_size=2000)
        if changed_students:
            Student.objects.bulk_update(changed_students, fields, batch_size=2000)
        Enrolment.objects.bulk_create(
            [Enrolment(student=s, school_year=y, **enrol) for s, y, enrol in new_enrol], batch_size=2000
        )
        if changed_enrol:
            Enrolment.objects.bulk_update(changed_enrol, ["school_id", "stage", "grade"], batch_size=2000)
        for history in (student_history, enrol_history):
            log_changes(history, actor=self.user, request=self.request, event="import", importer=self.identifier)
        return created, updated, unchanged


IMPORTERS = {"households": HouseholdImporter, "students": StudentImporter}


def run(importer: Importer, fileobj):
    """``imports.run`` plus what must outlive a refused file: double enrolments, kept as anomalies."""
    from jinpin import imports

    return imports.run(importer, fileobj)  # StudentImporter.after_validation keeps the conflicts
