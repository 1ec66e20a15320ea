"""Teachers (教师) and the honour titles they may hold."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from jinpin import idcard
from schools.models import School


class HonourTitle(models.Model):
    """荣誉称号: 齐鲁名师, 杏坛名师, 特级教师, 教学能手, 骨干教师, ... (an administrator adds more)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    is_backbone = models.BooleanField(
        _("counts as backbone teacher"), default=False, help_text=_("Holders count as backbone teachers (骨干教师).")
    )
    is_famous = models.BooleanField(
        _("famous-teacher title"),
        default=False,
        help_text=_("Holders may make famous-teacher teaching visits (名师送教下乡)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("honour title")
        verbose_name_plural = _("honour titles")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


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
        return self.annotate(
            is_backbone_a=Exists(HonourTitle.objects.filter(teachers=OuterRef("pk"), is_backbone=True))
        )


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
