"""The 结对帮扶 activity log: sessions, secondments (挂职交流), joint research (联合课题) and donations (捐赠)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..uploads import private_storage, upload_activity
from .agreements import Agreement
from .calendar import SchoolYear, Semester


class ActivityKind(models.TextChoices):
    JOINT_RESEARCH = "joint_research", _("Joint teaching-research meeting")  # 联合教研会议
    LESSON_PREP = "lesson_prep", _("Joint lesson preparation")  # 学科备课
    SEMINAR = "seminar", _("Teaching seminar")  # 教学研讨
    OBSERVATION = "observation", _("Lesson observation")  # 听课观摩
    ONLINE_CLASSROOM = "online_classroom", _("Online classroom / shared course resource")  # 网络课堂, 资源共建共享
    ONLINE_EVALUATION = "online_evaluation", _("Online lesson observation and evaluation")  # 网上听评课
    BACKBONE_TRAINING = "backbone_training", _("Training visit by backbone teachers")  # 骨干教师送教
    SAME_LESSON = "same_lesson", _("Same lesson, different designs contest")  # 同课异构
    STUDENT_EXCHANGE = "student_exchange", _("Student exchange visit")  # 学生互访
    FESTIVAL = "festival", _("Festival or sports day")  # 文化艺术节、运动会
    FACILITY_OPENING = "facility_opening", _("Facility opening")  # 资源开放


class Activity(models.Model):
    """One logged 结对帮扶 session. ``school_year`` and ``semester`` are derived from ``held_on``
    on save (two small indexed lookups); bulk writers set them from a preloaded ``Calendar``."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="activities", verbose_name=_("agreement")
    )
    kind = models.CharField(_("activity type"), max_length=20, choices=ActivityKind.choices)
    held_on = models.DateField(_("date"))
    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("school year"),
    )
    semester = models.ForeignKey(
        Semester,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("semester"),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online link"), max_length=500, blank=True)
    participants = models.ManyToManyField(
        "teachers.Teacher", blank=True, related_name="twinning_activities", verbose_name=_("participating teachers")
    )
    pupils = models.PositiveIntegerField(_("pupils taking part"), default=0)
    summary = models.TextField(_("summary"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-held_on", "-pk"]
        indexes = [
            models.Index(fields=["agreement", "held_on"]),
            models.Index(fields=["held_on", "id"]),  # the activity log pages by (date, key)
            models.Index(fields=["semester", "kind", "agreement"]),
            models.Index(fields=["school_year", "kind", "agreement"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(place="") | ~Q(online_link=""), name="activity_has_place_or_link"),
        ]

    def __str__(self):
        return f"{self.held_on} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.held_on:
            self.place_in_calendar()
            if kwargs.get("update_fields") is not None and "held_on" in kwargs["update_fields"]:
                kwargs["update_fields"] = {*kwargs["update_fields"], "school_year", "semester"}
        super().save(*args, **kwargs)

    def place_in_calendar(self):
        self.school_year = SchoolYear.objects.containing(self.held_on).first()
        self.semester = Semester.objects.containing(self.held_on).first()


class Attachment(models.Model):
    """A photo or file of an activity (JPEG/PNG/PDF, checked by its first bytes), stored privately."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("activity")
    )
    file = models.FileField(_("file"), storage=private_storage, upload_to=upload_activity, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self):
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Direction(models.TextChoices):
    """互派: who sends the person."""

    TO_HELPED = "to_helped", _("Helping school → helped school")
    TO_HELPING = "to_helping", _("Helped school → helping school")


class Secondment(models.Model):
    """挂职交流: a person of one school placed in the other for a while (management exchange)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="secondments", verbose_name=_("agreement")
    )
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    from_school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    to_school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("placed at")
    )
    teacher = models.ForeignKey(
        "teachers.Teacher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="secondments",
        verbose_name=_("teacher"),
    )
    person_name = models.CharField(_("person"), max_length=50)
    service_period = models.ForeignKey(
        "teachers.ServicePeriod",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("service period"),
    )
    post = models.CharField(_("post held"), max_length=100, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("secondment")
        verbose_name_plural = _("secondments")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["agreement", "starts_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="secondment_dates_order"
            ),
            models.CheckConstraint(condition=~Q(from_school=F("to_school")), name="secondment_between_two_schools"),
        ]

    def __str__(self):
        return f"{self.person_name} · {self.get_direction_display()}"


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    CONCLUDED = "concluded", _("Concluded")


class JointProject(models.Model):
    """联合课题研究: a research project led by teachers of both schools. It counts for every
    school year it runs in (from ``started_on`` to ``concluded_on``)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="projects", verbose_name=_("agreement")
    )
    title = models.CharField(_("title"), max_length=200)
    lead_teachers = models.ManyToManyField(
        "teachers.Teacher", blank=True, related_name="twinning_projects", verbose_name=_("lead teachers")
    )
    lead_names = models.CharField(_("lead teachers (names)"), max_length=200, blank=True)
    started_on = models.DateField(_("started on"))
    status = models.CharField(_("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.ONGOING)
    concluded_on = models.DateField(_("concluded on"), null=True, blank=True)
    outputs = models.TextField(_("outputs"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("joint research project")
        verbose_name_plural = _("joint research projects")
        ordering = ["-started_on", "-pk"]
        indexes = [models.Index(fields=["agreement", "started_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(concluded_on__isnull=True) | Q(concluded_on__gte=F("started_on")),
                name="project_dates_order",
            ),
        ]

    def __str__(self):
        return self.title


class DonationCategory(models.TextChoices):
    IT = "it", _("IT equipment")
    LAB = "lab", _("Lab equipment")
    INSTRUMENTS = "instruments", _("Teaching instruments")
    BOOKS = "books", _("Books")


class Donation(models.Model):
    """捐赠: equipment or books given to a helped school, confirmed by the school that received it."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="donations", verbose_name=_("agreement")
    )
    recipient = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("received by school")
    )
    item = models.CharField(_("item"), max_length=200)
    category = models.CharField(_("category"), max_length=12, choices=DonationCategory.choices)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    value = models.DecimalField(
        _("estimated value (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    donated_on = models.DateField(_("donated on"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receipt confirmed by"),
    )
    received_on = models.DateField(_("received on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-donated_on", "-pk"]
        indexes = [models.Index(fields=["agreement", "donated_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="donation_value_not_negative"),
            models.CheckConstraint(
                condition=Q(received_by__isnull=True) | Q(received_on__isnull=False), name="donation_receipt_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.item} × {self.quantity}"
