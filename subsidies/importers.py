"""Spreadsheet imports of the poverty office's household register and the schools' pupil rosters (jinpin.imports).

All rows are validated first (errors per row and column), then everything is written in
bulk, or nothing. Rows match on natural keys (household number, resident ID), so the
same file imported again changes nothing. A row for a pupil whose record another school keeps
(ownership: the current enrolment, see ``subsidies.scoping``) is refused, as is the same ID at
two schools in one year; the message never names a school outside the importer's area, and the
attempt is kept for the city level only, after the refusal (the import writes nothing).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jinpin import audit, idcard
from jinpin.audit import log_changes
from jinpin.imports import Col, Importer
from schools.models import School, Stage, Village

from . import invalidation, scoping
from .models import Enrolment, EnrolmentConflict, Household, HouseholdStatus, Student
from .services.transfers import clean_account

FLAGS = ("is_orphan", "is_disabled", "is_special_ed", "is_boarder", "is_dibao")

PAYMENT_HELP = gettext_lazy(
    "For a pupil already on file, a new payee or account is not changed by the import: it becomes a change request "
    "that another person confirms on the pupil's page. Empty keeps what is on file."
)

#: one refusal for every row about a pupil whose record another school keeps: it names no school, no county and no
#: year, so a roster cannot be used to find out where a child is enrolled
NOT_YOURS = gettext_lazy(
    "A pupil with this resident ID is already registered and their record is kept by another school; it cannot be "
    "enrolled or changed from here. If the pupil has moved to your school, ask for a transfer (转学)."
)


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
        if row["members"] is not None and not 1 <= row["members"] <= 30:
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
        invalidation.bump()  # bulk writes send no signal: the dashboards' "pupils aided" moves on commit
        return created, updated, unchanged


class StudentImporter(Importer):
    identifier = "subsidies.students"
    verbose_name = gettext_lazy("Pupils")
    natural_key = ("id_number",)
    columns = [
        Col("id_number", gettext_lazy("Resident ID"), "id_number", max_length=18),
        Col("name", pgettext_lazy("person", "Name"), "text", max_length=50),
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
        Col("payee_name", gettext_lazy("Payee"), "text", required=False, max_length=50, help=PAYMENT_HELP),
        Col("bank_account", gettext_lazy("Bank account"), "code", required=False, max_length=32, help=PAYMENT_HELP),
    ]

    def prepare(self, rows):
        from .models import PaymentDetailChange, RequestStatus

        self.schools = {s.code: s for s in self.scope.filter(School).filter(code__in={r["school_code"] for r in rows})}
        self.households = dict(
            Household.objects.filter(
                number__in={r["household_number"] for r in rows if r["household_number"]}
            ).values_list("number", "pk")
        )
        ids = [r["id_number"] for r in rows]
        self.students = {s.id_number: s for s in Student.objects.filter(id_number__in=ids).with_current()}
        # the pupils whose record this person may change: those whose *current* enrolment is in their area. A row for
        # any other existing pupil is refused, whatever its year: an enrolment must never make a pupil one's own
        self.owned = set(
            scoping.students_owned(self.scope, Student.objects.filter(id_number__in=ids)).values_list(
                "id_number", flat=True
            )
        )
        self.enrolments = {
            (e.student.id_number, e.school_year): e
            for e in Enrolment.objects.filter(student__id_number__in=ids).select_related("student", "school")
        }
        self.visible_schools = set(
            self.scope.filter(School)
            .filter(pk__in={e.school_id for e in self.enrolments.values()})
            .values_list("pk", flat=True)
        )
        self.pending = {
            c.student_id: c
            for c in PaymentDetailChange.objects.filter(student__id_number__in=ids, status=RequestStatus.PENDING).only(
                "student_id", "new_payee", "new_account"
            )
        }
        self.conflicts = []

    def clean_row(self, row):
        info = None
        try:
            info = idcard.parse(row["id_number"])
        except ValidationError as exc:
            self.error("id_number", exc.messages[0])
        if info is not None:
            if row["birth_date"] and row["birth_date"] != info.birth_date:
                self.error(
                    "birth_date",
                    _("The birth date does not agree with the ID number (%(d)s).") % {"d": info.birth_date},
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
        if row["grade"] is not None and not 1 <= row["grade"] <= 12:
            self.error("grade", _("The grade is between 1 and 12."))
        if row["school_year"] is not None and not 2000 <= row["school_year"] <= 2100:
            self.error("school_year", _("The school year is the year it starts, e.g. 2016."))
        if row["bank_account"]:
            try:
                clean_account(row["bank_account"])
            except ValidationError as exc:
                self.error("bank_account", exc.messages[0])
        if info is None:
            return  # the rest is about who holds this ID
        known = self.students.get(row["id_number"])
        if known is not None and row["id_number"] not in self.owned:
            # neither the school nor the county is named, nor whether the pupil is enrolled in this year
            self.error("id_number", NOT_YOURS)
            if school is not None and known.current_school_id:
                self._conflict(
                    row, school, kind=EnrolmentConflict.Kind.OWNED_ELSEWHERE, existing_school_id=known.current_school_id
                )
            return
        other = self.enrolments.get((row["id_number"], row["school_year"]))
        if school is not None and other is not None and other.school_id != school.pk:
            if other.school_id in self.visible_schools:
                message = _(
                    "This pupil is already enrolled at %(school)s in %(year)s: the same ID cannot be enrolled in two "
                    "schools in one year."
                ) % {"school": other.school.name, "year": row["school_year"]}
            else:
                message = _(
                    "This pupil is already enrolled at another school in %(year)s: the same ID cannot be enrolled in "
                    "two schools in one year."
                ) % {"year": row["school_year"]}
            self.error("school_code", message)
            self._conflict(row, school, kind=EnrolmentConflict.Kind.SAME_YEAR, existing_school=other.school)
        if known is not None:
            payee = row["payee_name"] or known.payee_name
            account = row["bank_account"] or known.bank_account
            row["payment_change"] = None
            if (payee, account) != (known.payee_name, known.bank_account):
                waiting = self.pending.get(known.pk)
                if waiting is None:
                    if not payee or not account:
                        self.error("bank_account", _("Give both the payee and the bank account."))
                    row["payment_change"] = (payee, account)
                elif (waiting.new_payee, waiting.new_account) != (payee, account):
                    self.error(
                        "bank_account",
                        _(
                            "A change of this pupil's payment details is already waiting for confirmation; decide it "
                            "first."
                        ),
                    )

    def _conflict(self, row, school, **fields):
        """Note a refused enrolment for the owning side to see (kept even when the file is refused)."""
        self.conflicts.append(
            EnrolmentConflict(
                id_number=row["id_number"],
                school_year=row["school_year"],
                school=school,
                reported_by=self.user,
                **fields,
            )
        )

    def after_validation(self, report):
        """A refused file writes nothing; the rows that matter (double enrolments, pupils owned elsewhere) are kept
        for the city level in a transaction of their own, which the importer never sees."""
        if not report.ok and getattr(self, "conflicts", None):
            from .services.registry import conflicts_record

            conflicts_record(self.conflicts)

    def save(self, rows):
        """New pupils are created with the payee and account given; for a pupil on file, a different payee or account
        becomes a change request (``PaymentDetailChange``) that a second person confirms on the pupil's page -- an
        import never changes the details a payout batch pays to."""
        from .models import PaymentDetailChange

        created = updated = unchanged = 0
        fields = ("name", "birth_date", "sex", "household_id", *FLAGS)
        new_students, changed_students, new_enrol, changed_enrol = [], [], [], []
        student_history, enrol_history, payment_changes = [], [], []
        for row in rows:
            values = {
                "name": row["name"],
                "birth_date": row["birth_date"],
                "sex": row["sex"],
                "household_id": self.households.get(row["household_number"]) if row["household_number"] else None,
                **{f: bool(row[f]) for f in FLAGS},
            }
            s = self.students.get(row["id_number"])
            school = self.schools[row["school_code"]]
            enrol = {"school_id": school.pk, "stage": row["stage"], "grade": row["grade"]}
            if s is None:
                s = Student(
                    id_number=row["id_number"],
                    payee_name=row["payee_name"] or "",
                    bank_account=row["bank_account"] or "",
                    **values,
                )
                new_students.append(s)
                new_enrol.append((s, row["school_year"], enrol))
                created += 1
                continue
            assert row["id_number"] in self.owned  # clean_row refused every other pupil on file
            diff = [k for k in fields if getattr(s, k) != values[k]]
            if diff:
                student_history.append((s, {k: (getattr(s, k), values[k]) for k in diff}))
            for k in diff:
                setattr(s, k, values[k])
            if diff:
                changed_students.append(s)
            if row.get("payment_change"):
                payee, account = row["payment_change"]
                payment_changes.append(
                    PaymentDetailChange(
                        student=s,
                        old_payee=s.payee_name,
                        old_account=s.bank_account,
                        new_payee=payee,
                        new_account=account,
                        reason=_("Imported from a pupil roster"),
                        source=PaymentDetailChange.Source.IMPORT,
                        requested_by=self.user,
                    )
                )
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
            if diff or ediff or e is None or row.get("payment_change"):
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
        PaymentDetailChange.objects.bulk_create(payment_changes, batch_size=2000)
        invalidation.bump()  # bulk writes send no signal: the dashboards' "pupils aided" moves on commit
        for history in (student_history, enrol_history):
            log_changes(history, actor=self.user, request=self.request, event="import", importer=self.identifier)
        log_changes(
            [
                (c, {"payee_name": (c.old_payee, c.new_payee), "bank_account": (c.old_account, c.new_account)})
                for c in payment_changes
            ],
            actor=self.user,
            request=self.request,
            action=audit.Action.CREATE,
            event="payment_change_request",
            importer=self.identifier,
        )
        return created, updated, unchanged


IMPORTERS = {"households": HouseholdImporter, "students": StudentImporter}


def run(importer: Importer, fileobj):
    """``imports.run`` (``StudentImporter.after_validation`` keeps the conflicts that matter for the city level)."""
    from jinpin import imports

    return imports.run(importer, fileobj)  # StudentImporter.after_validation keeps the conflicts
