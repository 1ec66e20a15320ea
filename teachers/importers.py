"""Bulk import of training hours sent by training providers (on the jinpin.imports base).

Rows are matched to teachers by resident ID number (within the uploader's scope) and to
courses by course code. The natural key (ID number, course code) makes a re-import of the
same file change nothing: an attendance already recorded with the same hours is
"unchanged", with other hours "updated" (the provider corrected its sheet).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jinpin import idcard
from jinpin.imports import Col, Importer

from . import invalidation
from .models import AttendanceSource, Teacher, TrainingAttendance, TrainingCourse

MAX_HOURS = Decimal("500")


class TrainingHoursImporter(Importer):
    identifier = "teachers.training_hours"
    verbose_name = gettext_lazy("Training hours")
    natural_key = ("id_number", "course_code")
    columns = [
        Col("id_number", gettext_lazy("ID number"), "id_number", max_length=18),
        Col("name", pgettext_lazy("person", "Name"), "text", max_length=50),
        Col(
            "course_code",
            gettext_lazy("Course code"),
            "code",
            max_length=30,
            help=gettext_lazy("The course code registered in jinpin"),
        ),
        Col("hours", gettext_lazy("Hours earned"), "decimal"),
        Col(
            "completed_on",
            gettext_lazy("Completed on"),
            "date",
            required=False,
            help=gettext_lazy("Empty: the course's end date"),
        ),
        Col("certificate_no", gettext_lazy("Certificate number"), "text", required=False, max_length=40),
    ]

    def prepare(self, rows):
        numbers = {r["id_number"] for r in rows}
        codes = {(r["course_code"] or "").upper() for r in rows}
        self.teachers = {
            t.id_number: t
            for t in self.scope.filter(Teacher).filter(id_number__in=numbers).only("pk", "id_number", "name")
        }
        self.courses = {c.code: c for c in self.scope.filter(TrainingCourse).filter(code__in=codes)}
        teacher_ids = [t.pk for t in self.teachers.values()]
        course_ids = [c.pk for c in self.courses.values()]
        self.existing = {
            (a.teacher_id, a.course_id): a
            for a in TrainingAttendance.objects.filter(teacher_id__in=teacher_ids, course_id__in=course_ids)
        }

    def clean_row(self, row):
        valid_id = True
        try:
            idcard.parse(row["id_number"])
        except ValidationError as e:
            self.error("id_number", e.messages[0])
            valid_id = False
        teacher = self.teachers.get(row["id_number"]) if valid_id else None
        if teacher is None and valid_id:
            # one message whether the ID is unknown or registered outside the uploader's area: a training
            # provider's sheet must not tell where in the city a person works
            self.error("id_number", _("No teacher in your area has this ID number."))
        elif teacher is not None and teacher.name != row["name"]:
            self.error(
                "name",
                _("The ID number belongs to %(name)s, not %(given)s.") % {"name": teacher.name, "given": row["name"]},
            )
        course = self.courses.get((row["course_code"] or "").upper())
        if course is None:
            self.error(
                "course_code",
                _("No course has the code %(code)s; register the course first.") % {"code": row["course_code"]},
            )
        hours = row["hours"]
        if hours is None:
            pass  # unreadable: already reported
        elif hours < 0:
            self.error("hours", _("Hours cannot be negative."))
        elif hours > MAX_HOURS:
            self.error("hours", _("%(h)s hours is not plausible for one course.") % {"h": hours})
        elif course is not None and hours > course.hours:
            self.error("hours", _("More hours than the course offers (%(h)s).") % {"h": course.hours})
        elif hours.as_integer_ratio()[1] not in (1, 2):
            self.error("hours", _("Hours are counted in halves (e.g. 2.5)."))
        if course is not None and row["completed_on"] and not (course.start <= row["completed_on"] <= course.end):
            self.error(
                "completed_on",
                _("The date is outside the course (%(s)s – %(e)s).") % {"s": course.start, "e": course.end},
            )
        row["teacher"], row["course"] = teacher, course

    def save(self, rows):
        new, changed, unchanged = [], [], 0
        for row in rows:
            hours = row["hours"].quantize(Decimal("0.1"))
            done = row["completed_on"] or row["course"].end
            a = self.existing.get((row["teacher"].pk, row["course"].pk))
            if a is None:
                new.append(
                    TrainingAttendance(
                        teacher=row["teacher"],
                        course=row["course"],
                        hours=hours,
                        completed_on=done,
                        certificate_no=row["certificate_no"] or "",
                        source=AttendanceSource.IMPORT,
                        recorded_by=self.user,
                    )
                )
            elif (
                a.hours != hours
                or a.completed_on != done
                or (row["certificate_no"] or a.certificate_no) != a.certificate_no
            ):
                before = {"hours": a.hours, "completed_on": a.completed_on, "certificate_no": a.certificate_no}
                a.hours, a.completed_on, a.certificate_no = hours, done, row["certificate_no"] or a.certificate_no
                changes = {k: [str(v), str(getattr(a, k))] for k, v in before.items() if v != getattr(a, k)}
                changed.append((a, f"{row['teacher'].name} · {row['course']}", changes))
            else:
                unchanged += 1
        invalidation.bump()  # bulk writes send no signal: cached training figures are stale once this commits
        TrainingAttendance.objects.bulk_create(new, batch_size=5000)
        TrainingAttendance.objects.bulk_update(
            [a for a, _r, _c in changed], ["hours", "completed_on", "certificate_no"], batch_size=5000
        )
        self._log_updates(changed)
        return len(new), len(changed), unchanged

    def _log_updates(self, changed):
        """One audit entry per attendance the file changed, with the values it replaced (the import's
        own entry records the counts and the stored file, not what was overwritten)."""
        from jinpin import audit
        from jinpin.audit import log_many

        log_many(
            TrainingAttendance,
            [(a.pk, text, changes) for a, text, changes in changed],
            action=audit.Action.UPDATE,
            actor=self.user,
            request=self.request,
            event="import",
            importer=self.identifier,
        )
