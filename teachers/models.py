"""Teachers: the registry (教师), service history, rotation (交流轮岗), establishment (编制),
targets, training (培训) and rural-service honours (乡村教师荣誉).

Service periods use a half-open interval: a period covers ``[start, end)``; ``end`` is the
first day the teacher is no longer in that post (``None``: still in post). Closing one post
on day D and opening the next on day D therefore never overlaps.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from jinpin import idcard
from schools.models import Poverty, School, Stage


# -- honour titles ---------------------------------------------------------------------
class HonourTitle(models.Model):
    """荣誉称号: 齐鲁名师, 杏坛名师, 特级教师, 教学能手, 骨干教师, ... (an administrator adds more)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    is_backbone = models.BooleanField(
        _("counts as backbone teacher"), default=False, help_text=_("Holders count as backbone teachers (骨干教师).")
    )
    is_famous = models.BooleanField(
        _("famous-teacher title"), default=False, help_text=_("Holders may make famous-teacher teaching visits (名师送教下乡).")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("honour title")
        verbose_name_plural = _("honour titles")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


# -- teachers --------------------------------------------------------------------------
class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Post(models.TextChoices):
    """岗位."""

    KINDERGARTEN_DIRECTOR = "kindergarten_director", _("Kindergarten director")
    PRINCIPAL = "principal", _("Principal")
    TEACHER = "teacher", _("Teacher")
    OTHER = "other", _("Other")


class ProfessionalTitle(models.TextChoices):
    """职称."""

    SENIOR_FULL = "senior_full", _("Senior teacher, full (正高级)")
    SENIOR = "senior", _("Senior teacher")
    FIRST = "first", _("First-grade teacher")
    SECOND = "second", _("Second-grade teacher")
    THIRD = "third", _("Third-grade teacher")
    NONE = "none", _("Not yet graded")


class TeacherStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    RETIRED = "retired", _("Retired")
    LEFT = "left", _("Left the service")


class TeacherQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=TeacherStatus.ACTIVE)

    def with_is_backbone(self):
        return self.annotate(is_backbone_a=Exists(HonourTitle.objects.filter(teachers=OuterRef("pk"), is_backbone=True)))


class Teacher(models.Model):
    """教师: one record per person (by resident ID number), however many schools they pass through."""

    id_number = models.CharField(_("resident ID number"), max_length=18, unique=True, validators=[idcard.validate])
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teachers",
        verbose_name=_("current school"),
        help_text=_("The school of the teacher's current full-time post."),
    )
    post = models.CharField(_("post"), max_length=24, choices=Post.choices, default=Post.TEACHER)
    subject = models.CharField(_("subject"), max_length=30, blank=True)
    professional_title = models.CharField(
        _("professional title"), max_length=16, choices=ProfessionalTitle.choices, default=ProfessionalTitle.NONE
    )
    honours = models.ManyToManyField(HonourTitle, blank=True, related_name="teachers", verbose_name=_("honour titles"))
    status = models.CharField(_("status"), max_length=10, choices=TeacherStatus.choices, default=TeacherStatus.ACTIVE)
    left_on = models.DateField(_("retired or left on"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TeacherQuerySet.as_manager()

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        ordering = ["school_id", "name", "pk"]
        indexes = [
            models.Index(fields=["school", "status", "post"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.id_number:
            self.id_number = self.id_number.strip().upper()
            try:
                info = idcard.parse(self.id_number)
            except ValidationError as e:
                errors["id_number"] = e.messages
            else:
                if self.birth_date and self.birth_date != info.birth_date:
                    errors["birth_date"] = _("The birth date does not agree with the ID number (%(d)s).") % {
                        "d": info.birth_date.isoformat()
                    }
                if self.sex and self.sex != info.sex:
                    errors["sex"] = _("The sex does not agree with the ID number.")
        if self.status != TeacherStatus.ACTIVE and not self.left_on:
            errors["left_on"] = _("Give the date the teacher retired or left.")
        if errors:
            raise ValidationError(errors)

    @property
    def masked_id(self) -> str:
        return idcard.mask(self.id_number)

    @property
    def is_backbone(self) -> bool:
        """Holds a backbone title. Uses the prefetched honours when present, else one query."""
        if hasattr(self, "is_backbone_a"):
            return self.is_backbone_a
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "honours" in cache:
            return any(h.is_backbone for h in cache["honours"])
        return self.honours.filter(is_backbone=True).exists()


# -- rotation and service history -------------------------------------------------------
class MovementKind(models.TextChoices):
    """交流轮岗 forms."""

    REGULAR_ROTATION = "regular_rotation", _("Regular rotation (定期交流)")
    COMPETITIVE = "competitive", _("Cross-school competitive appointment (跨校竞聘)")
    TEAM_EXCHANGE = "team_exchange", _("Team exchange (团队交流)")
    SUPPORT_TEACHING = "support_teaching", _("Support teaching in a poor village (支教)")
    THREE_REGIONS = "three_regions", _("“Three regions” teacher programme (三区人才支持计划)")
    FAMOUS_TEACHER_VISIT = "famous_teacher_visit", _("Famous-teacher teaching visit (名师送教下乡)")
    SECONDMENT = "secondment", _("Management secondment (挂职交流)")


class MovementStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_POST = "in_post", _("In post")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Movement(models.Model):
    """交流轮岗: a teacher's move from one school to another for a while (or for good).

    Status moves planned → in post → completed, or planned → cancelled; the service layer
    (``services.movement_start`` / ``movement_complete``) keeps the service history in step.
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="movements", verbose_name=_("teacher"))
    kind = models.CharField(_("type"), max_length=24, choices=MovementKind.choices)
    from_school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="movements_out", verbose_name=_("from school")
    )
    to_school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="movements_in", verbose_name=_("to school"))
    start = models.DateField(_("start date"))
    end = models.DateField(_("planned end date"), null=True, blank=True, help_text=_("Leave empty for a permanent move."))
    full_time = models.BooleanField(
        _("full-time"), default=True, help_text=_("A full-time post at the receiving school; visits and part-time support are not.")
    )
    status = models.CharField(_("status"), max_length=10, choices=MovementStatus.choices, default=MovementStatus.PLANNED)
    started_on = models.DateField(_("took up post on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["status", "start"]), models.Index(fields=["to_school", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="movement_end_after_start"),
        ]

    def __str__(self):
        return f"{self.teacher} → {self.to_school}"

    def clean(self):
        errors = {}
        if self.end and self.start and self.end < self.start:
            errors["end"] = _("The end date cannot be before the start date.")
        if self.from_school_id and self.from_school_id == self.to_school_id:
            errors["to_school"] = _("The receiving school must differ from the sending school.")
        if errors:
            raise ValidationError(errors)


class ServiceKind(models.TextChoices):
    """How a period of service began."""

    RECORD = "record", _("Earlier service (on record)")
    HIRE = "hire", _("New hire (补充)")
    TRANSFER = "transfer", _("Transfer (调动)")
    MOVEMENT = "movement", _("Rotation / exchange (交流轮岗)")
    SECONDMENT = "secondment", _("Management secondment (挂职交流)")


class ServicePeriodQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None):
        on = on or dt.date.today()
        return self.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gt=on))

    def overlapping(self, start: dt.date, end: dt.date | None):
        """Periods that share at least one day with ``[start, end)``."""
        qs = self.filter(Q(end__isnull=True) | Q(end__gt=start))
        if end is not None:
            qs = qs.filter(start__lt=end)
        return qs


class ServicePeriod(models.Model):
    """A period in one school (任职经历): ``[start, end)``, full-time or not.

    A teacher never holds two overlapping full-time periods: checked by
    ``services.service_period_open`` and, on PostgreSQL, by an exclusion constraint
    (migration 0003).
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="service_periods", verbose_name=_("teacher"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="service_periods", verbose_name=_("school"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("The first day no longer in this post; empty while in post."))
    full_time = models.BooleanField(_("full-time"), default=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ServiceKind.choices, default=ServiceKind.RECORD)
    movement = models.ForeignKey(
        Movement, on_delete=models.SET_NULL, null=True, blank=True, related_name="service_periods", verbose_name=_("movement")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ServicePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        ordering = ["teacher_id", "start", "pk"]
        indexes = [
            models.Index(fields=["teacher", "start"]),
            models.Index(fields=["school", "start"]),
            models.Index(fields=["kind", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="service_period_end_after_start"),
        ]

    def __str__(self):
        return f"{self.teacher} @ {self.school} {self.start}–{self.end or ''}"

    def clean(self):
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})


# -- establishment and targets -------------------------------------------------------------
class Establishment(models.Model):
    """编制: a school's approved number of teaching posts ("有编即补、退补相当")."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="establishment", verbose_name=_("school"))
    posts = models.PositiveIntegerField(_("approved posts"))
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("establishment")
        verbose_name_plural = _("establishments")

    def __str__(self):
        return f"{self.school}: {self.posts}"


class TargetMetric(models.TextChoices):
    INTO_POOR_VILLAGES = "into_poor_villages", _("Teachers supplemented or exchanged into poor-village schools")
    HIRES = "hires", _("New hires")


class Target(models.Model):
    """A programme target held as data (e.g. 915 into poor-village schools, 2016–2018)."""

    name = models.CharField(_("name"), max_length=100)
    metric = models.CharField(_("what is counted"), max_length=24, choices=TargetMetric.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to (inclusive)"))
    value = models.PositiveIntegerField(_("target"))
    county = models.ForeignKey(
        "schools.County", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("county"),
        help_text=_("Empty: a city-wide target."),
    )
    stages = models.JSONField(
        _("school stages"), default=list, blank=True, help_text=_("Count only schools of these stages; empty: all stages.")
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["start", "name"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="target_end_after_start")]

    def __str__(self):
        return self.name


# -- training --------------------------------------------------------------------------------
class TrainingLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    SCHOOL = "school", _("School")


class TrainingMode(models.TextChoices):
    REMOTE = "remote", _("Remote study (远程研修)")
    CENTRALISED = "centralised", _("Centralised training (集中培训)")
    MIXED = "mixed", _("Mixed")


class TrainingCourse(models.Model):
    """培训项目: a course by a provider, at a level, in a mode, worth some hours."""

    code = models.CharField(_("course code"), max_length=30, unique=True, help_text=_("The provider's course code."))
    name = models.CharField(_("name"), max_length=100)
    provider = models.CharField(_("provider"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=TrainingLevel.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=TrainingMode.choices)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))])
    start = models.DateField(_("start date"))
    end = models.DateField(_("end date"))
    county = models.ForeignKey(
        "schools.County", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organised by county"),
        help_text=_("Empty: a course of the city or above, visible to all."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training course")
        verbose_name_plural = _("training courses")
        ordering = ["-start", "code"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="course_end_after_start")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})


class AttendanceSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Imported")


class TrainingAttendance(models.Model):
    """A teacher's completed attendance of a course: hours earned and certificate number."""

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("teacher"))
    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("course"))
    hours = models.DecimalField(_("hours earned"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0"))])
    completed_on = models.DateField(_("completed on"))
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=AttendanceSource.choices, default=AttendanceSource.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendances")
        ordering = ["-completed_on", "pk"]
        indexes = [models.Index(fields=["teacher", "completed_on"])]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "course"], name="attendance_once_per_course"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="attendance_hours_not_negative"),
        ]

    def __str__(self):
        return f"{self.teacher} · {self.course}"

    def clean(self):
        errors = {}
        if self.course_id and self.hours is not None and self.hours > self.course.hours:
            errors["hours"] = _("More hours than the course offers (%(h)s).") % {"h": self.course.hours}
        if self.course_id and self.completed_on and not (self.course.start <= self.completed_on <= self.course.end):
            errors["completed_on"] = _("The date is outside the course (%(s)s – %(e)s).") % {
                "s": self.course.start, "e": self.course.end
            }
        if errors:
            raise ValidationError(errors)


class TrainingRule(models.Model):
    """The training compliance rule as data: who must reach how many hours of which levels, when.

    Seeded with the report's rule: every kindergarten director, principal and teacher of the
    schools in provincial poor villages, at least 60 hours at city level or above.
    """

    name = models.CharField(_("name"), max_length=100)
    threshold = models.DecimalField(_("minimum hours"), max_digits=6, decimal_places=1, default=Decimal("60"))
    levels = models.JSONField(_("qualifying levels"), default=list, help_text=_("Training levels that count towards the hours."))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to (inclusive)"))
    posts = models.JSONField(_("posts"), default=list, help_text=_("Posts that must comply."))
    poverty = models.JSONField(
        _("poor-village designations"), default=list, blank=True, help_text=_("Schools in these villages; empty: every school.")
    )
    stages = models.JSONField(_("school stages"), default=list, blank=True, help_text=_("Empty: every stage."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("training rule")
        verbose_name_plural = _("training rules")
        ordering = ["-period_start", "pk"]
        constraints = [models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="rule_period_order")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        bad = set(self.levels or []) - set(TrainingLevel.values)
        if bad or not self.levels:
            errors["levels"] = _("Choose at least one training level.")
        if set(self.posts or []) - set(Post.values) or not self.posts:
            errors["posts"] = _("Choose at least one post.")
        if set(self.poverty or []) - set(Poverty.values):
            errors["poverty"] = _("Unknown designation.")
        if set(self.stages or []) - set(Stage.values):
            errors["stages"] = _("Unknown stage.")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("The period cannot end before it starts.")
        if errors:
            raise ValidationError(errors)


# -- rural-service honours -------------------------------------------------------------------
class RuralHonourTier(models.Model):
    """乡村教师荣誉 tier: a certificate for N years or more of rural teaching (10, 20, 30)."""

    years = models.PositiveSmallIntegerField(_("years of rural service"), unique=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("rural honour tier")
        verbose_name_plural = _("rural honour tiers")
        ordering = ["years"]

    def __str__(self):
        return self.name


class RuralHonourCertificate(models.Model):
    """A rural-service certificate issued; nobody gets the same tier twice."""

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="rural_certificates", verbose_name=_("teacher"))
    tier = models.ForeignKey(RuralHonourTier, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("tier"))
    year = models.PositiveSmallIntegerField(_("honour year"))
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("issued by")
    )
    rural_years = models.DecimalField(_("rural years at issue"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("rural honour certificate")
        verbose_name_plural = _("rural honour certificates")
        ordering = ["-year", "tier__years", "pk"]
        constraints = [models.UniqueConstraint(fields=["teacher", "tier"], name="rural_honour_tier_once")]

    def __str__(self):
        return f"{self.teacher} · {self.tier}"
