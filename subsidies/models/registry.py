"""精准扶贫户学生信息库: registered poor households (建档立卡贫困户), students and enrolments."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from jinpin import idcard
from schools.models import School, Stage, Village


class HouseholdQuerySet(models.QuerySet):
    def with_status_on(self, date: dt.date):
        """Annotate ``status_on_date``: the status in force on ``date`` (one correlated subquery)."""
        latest = HouseholdStatus.objects.filter(household=OuterRef("pk"), effective_on__lte=date).order_by(
            "-effective_on", "-pk"
        )
        return self.annotate(status_on_date=Subquery(latest.values("status")[:1]))

    def poor_on(self, date: dt.date):
        return self.with_status_on(date).filter(status_on_date__in=POOR_STATUSES)


class Household(models.Model):
    """建档立卡贫困户: a registered poor household, filed separately and managed dynamically."""

    number = models.CharField(_("household number"), max_length=30, unique=True)
    head_name = models.CharField(_("head of household"), max_length=50)
    head_id_number = models.CharField(_("head's resident ID"), max_length=18, blank=True, validators=[idcard.validate])
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("village"))
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    is_dibao = models.BooleanField(_("minimum living guarantee (低保)"), default=False)
    is_tekun = models.BooleanField(_("extreme-poverty support (特困)"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("poor household")
        verbose_name_plural = _("poor households")
        ordering = ["number"]
        indexes = [models.Index(fields=["village"])]

    def __str__(self):
        return f"{self.number} {self.head_name}"

    def status_on(self, date: dt.date) -> str | None:
        """The status in force on ``date`` (one query), or None before the first record."""
        row = (
            self.statuses.filter(effective_on__lte=date)
            .order_by("-effective_on", "-pk")
            .values_list("status", flat=True)
            .first()
        )
        return row

    def is_poor_on(self, date: dt.date) -> bool:
        return self.status_on(date) in POOR_STATUSES


class HouseholdStatus(models.Model):
    """One change of a household's status (动态管理). Never edited: a correction is a new record."""

    class Status(models.TextChoices):
        IDENTIFIED = "identified", _("Newly identified")
        VERIFIED = "verified", _("Verified (回头看, 六核对一规范)")
        LIFTED = "lifted", _("Lifted out of poverty (脱贫)")
        RETURNED = "returned", _("Returned to poverty (返贫)")
        REMOVED = "removed", _("Removed from the register")

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="statuses", verbose_name=_("household")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    effective_on = models.DateField(_("effective on"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household status")
        verbose_name_plural = _("household statuses")
        ordering = ["household", "effective_on", "pk"]
        indexes = [models.Index(fields=["household", "-effective_on", "-id"], name="hh_status_in_force")]

    def __str__(self):
        return f"{self.household_id} {self.status} {self.effective_on}"


#: statuses under which a household counts as a registered poor household on a date
POOR_STATUSES = (HouseholdStatus.Status.VERIFIED, HouseholdStatus.Status.RETURNED)


class StudentQuerySet(models.QuerySet):
    def with_current(self):
        """Annotate the pupil's *current* enrolment: the one of the latest school year (one enrolment per year, so
        it is unique). ``current_year``, ``current_school_id`` and ``current_county_id``; NULL for a pupil with no
        enrolment. Three correlated subqueries on the (student, school_year) unique index."""
        return self.annotate(
            current_year=current_enrolment("pk", "school_year"),
            current_school_id=current_enrolment("pk", "school_id"),
            current_county_id=current_enrolment("pk", "school__county_id"),
        )


def current_enrolment(student_ref: str, field: str):
    """A subquery: ``field`` of the current enrolment (latest school year) of the student at ``OuterRef(student_ref)``
    -- for rows that point at a pupil (a change request, a transfer) without scanning every pupil."""
    return Subquery(Enrolment.objects.filter(student=OuterRef(student_ref)).order_by("-school_year").values(field)[:1])


class Student(models.Model):
    """A pupil, identified by resident ID; the household is optional (orphans, urban 低保 pupils).

    Ownership: the pupil's identity, household link and payment details belong to the school (and its county) of
    the *current* enrolment -- the enrolment of the latest school year (``current_enrolment``). An enrolment in any
    other year, at any other school, grants nothing over the record; a change of school is a transfer (转学,
    ``PupilTransfer``), and ``payee_name``/``bank_account`` hold the payment details last *confirmed* (a change is a
    ``PaymentDetailChange`` confirmed by a second person).
    """

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    id_number = models.CharField(_("resident ID"), max_length=18, unique=True, validators=[idcard.validate])
    name = models.CharField(_("name"), max_length=50)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="students", verbose_name=_("household")
    )
    is_orphan = models.BooleanField(_("orphan"), default=False)
    is_disabled = models.BooleanField(_("disabled"), default=False)
    is_special_ed = models.BooleanField(_("special-education pupil"), default=False)
    is_boarder = models.BooleanField(_("boarder"), default=False)
    is_dibao = models.BooleanField(_("urban minimum living guarantee (低保) family"), default=False)
    payee_name = models.CharField(
        _("payee"), max_length=50, blank=True, help_text=_("Guardian who receives cash awards.")
    )
    bank_account = models.CharField(_("bank account"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = StudentQuerySet.as_manager()

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["pk"]
        indexes = [models.Index(fields=["household"])]

    def __str__(self):
        return f"{self.name} {idcard.mask(self.id_number)}"

    def current_enrolment(self):
        """The enrolment of the latest school year, or None (one query)."""
        return self.enrolments.select_related("school").order_by("-school_year").first()

    def clean(self):
        if not self.id_number:
            return
        try:
            info = idcard.parse(self.id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from None
        self.id_number = info.number
        errors = {}
        if self.birth_date and self.birth_date != info.birth_date:
            errors["birth_date"] = _("The birth date %(given)s does not agree with the ID number (%(id)s).") % {
                "given": self.birth_date,
                "id": info.birth_date,
            }
        if self.sex and self.sex != info.sex:
            errors["sex"] = _("The sex does not agree with the ID number (its 17th digit says %(sex)s).") % {
                "sex": Student.Sex(info.sex).label
            }
        if errors:
            raise ValidationError(errors)
        self.birth_date, self.sex = info.birth_date, info.sex

    @property
    def masked_id(self) -> str:
        return idcard.mask(self.id_number)


class Enrolment(models.Model):
    """A student's enrolment in one school year (学籍): school, stage, grade. One per student and year."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("student"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("school"))
    school_year = models.PositiveSmallIntegerField(
        _("school year"), help_text=_("The year the school year starts, e.g. 2016 for 2016–2017.")
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    grade = models.PositiveSmallIntegerField(_("grade"), default=1)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["school_year", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "school_year"], name="one_enrolment_per_student_year")
        ]
        indexes = [models.Index(fields=["school_year", "student"]), models.Index(fields=["school", "school_year"])]

    def __str__(self):
        return f"{self.student_id} {self.school_year} {self.school_id}"

    def clean(self):
        if not (self.student_id and self.school_year):
            return
        other = (
            Enrolment.objects.filter(student_id=self.student_id, school_year=self.school_year)
            .exclude(pk=self.pk)
            .select_related("school")
            .first()
        )
        if other is not None:
            # the other school is not named: whoever enrols here may have no right to learn where the child is
            raise ValidationError(
                _(
                    "This student (ID %(id)s) is already enrolled at another school in %(year)s; the same ID cannot be "
                    "enrolled in two schools in one year."
                )
                % {"id": idcard.mask(self.student.id_number), "year": self.school_year}
            )


class EnrolmentConflict(models.Model):
    """A refused import row that matters, kept for the city level only (city administrator, auditors): the same ID
    for a second school in one year, or a row for a pupil whose record another school keeps. Written in its own
    transaction after the import was refused (the import itself writes nothing); the importer is told nothing more."""

    class Kind(models.TextChoices):
        SAME_YEAR = "same_year", _("Same ID at two schools in one year")
        OWNED_ELSEWHERE = "owned_elsewhere", _("Pupil whose record another school keeps")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SAME_YEAR)
    id_number = models.CharField(_("resident ID"), max_length=18)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+", verbose_name=_("school that tried"))
    existing_school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="+", verbose_name=_("school already enrolled")
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enrolment conflict")
        verbose_name_plural = _("enrolment conflicts")
        constraints = [
            models.UniqueConstraint(fields=["id_number", "school_year", "school"], name="enrolment_conflict_once")
        ]
