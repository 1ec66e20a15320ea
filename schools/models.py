"""Places, schools, and people's roles (the registry every other app stands on)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jinpin.forms import validate_ascii_digits
from jinpin.scope import Role

digits = validate_ascii_digits  # "٣" and "３" are digits to Python, not to a registry code


class County(models.Model):
    """县（市、区）: a county-level division and its education office."""

    code = models.CharField(_("division code"), max_length=6, unique=True, validators=[digits])
    name = models.CharField(_("name"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Town(models.Model):
    """乡镇 / 街道."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="towns", verbose_name=_("county"))
    code = models.CharField(_("division code"), max_length=9, unique=True, validators=[digits])
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("town")
        verbose_name_plural = _("towns")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="town_name_unique_in_county")]

    def __str__(self):
        return self.name


class Poverty(models.TextChoices):
    """贫困村 designation: 省定 (provincial) or 市定 (municipal) key poor village."""

    PROVINCIAL = "provincial", _("Provincial poor village")
    MUNICIPAL = "municipal", _("Municipal poor village")
    NONE = "none", _("Not a poor village")


class VillageQuerySet(models.QuerySet):
    def poor(self):
        return self.exclude(poverty=Poverty.NONE)


class Village(models.Model):
    """村 (or 社区), with its poverty designation."""

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="villages", verbose_name=_("town"))
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="villages", verbose_name=_("county"), editable=False
    )
    code = models.CharField(_("division code"), max_length=12, unique=True, validators=[digits])
    name = models.CharField(_("name"), max_length=50)
    poverty = models.CharField(_("poverty designation"), max_length=12, choices=Poverty.choices, default=Poverty.NONE)
    designated_on = models.DateField(_("designated on"), null=True, blank=True)

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["code"]
        indexes = [models.Index(fields=["county", "poverty"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The county is the town's; kept on the row so scoping is one indexed filter.
        self.county_id = self.town.county_id
        if kwargs.get("update_fields") is not None and "town" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "county"}
        super().save(*args, **kwargs)

    @property
    def is_poor(self) -> bool:
        return self.poverty != Poverty.NONE


class Stage(models.TextChoices):
    """学段."""

    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary school")
    NINE_YEAR = "nine_year", _("Nine-year school")
    SENIOR = "senior", _("Senior high school")
    VOCATIONAL = "vocational", _("Secondary vocational school")
    SPECIAL = "special", _("Special education school")


COMPULSORY_STAGES = (Stage.PRIMARY, Stage.JUNIOR, Stage.NINE_YEAR, Stage.SPECIAL)


class Location(models.TextChoices):
    """城区 / 县镇 / 农村."""

    URBAN = "urban", _("Urban district")
    COUNTY_TOWN = "county_town", _("County town")
    RURAL = "rural", _("Rural")


class SchoolQuerySet(models.QuerySet):
    def in_poor_villages(self):
        return self.filter(village__poverty__in=[Poverty.PROVINCIAL, Poverty.MUNICIPAL])

    def in_provincial_poor_villages(self):
        return self.filter(village__poverty=Poverty.PROVINCIAL)

    def compulsory(self):
        return self.filter(stage__in=COMPULSORY_STAGES)

    def weak(self):
        return self.filter(is_weak=True)


class School(models.Model):
    code = models.CharField(
        _("school code"),
        max_length=10,
        unique=True,
        validators=[digits],
        help_text=_("The 10-digit national school identification code."),
    )
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="schools", verbose_name=_("county"))
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="schools", verbose_name=_("town")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="schools", verbose_name=_("village")
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    location = models.CharField(_("location class"), max_length=16, choices=Location.choices)
    is_weak = models.BooleanField(_("weak school"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    pupils = models.PositiveIntegerField(_("pupils"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SchoolQuerySet.as_manager()

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["county", "stage"]),
            models.Index(fields=["county", "name"]),
            models.Index(fields=["village"]),
        ]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="school_name_unique_in_county")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.town_id and self.county_id and self.town.county_id != self.county_id:
            errors["town"] = _("This town is not in the chosen county.")
        if self.village_id:
            if self.town_id and self.village.town_id != self.town_id:
                errors["village"] = _("This village is not in the chosen town.")
            elif self.county_id and self.village.county_id != self.county_id:
                errors["village"] = _("This village is not in the chosen county.")
        if errors:
            raise ValidationError(errors)

    @property
    def poverty(self) -> str:
        return self.village.poverty if self.village_id else Poverty.NONE

    @property
    def in_poor_village(self) -> bool:
        return self.poverty != Poverty.NONE


class Membership(models.Model):
    """A person's role and scope in jinpin, edited by an administrator."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    county = models.ForeignKey(County, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("county"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("school"))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.COUNTY_OFFICER) | Q(county__isnull=False), name="county_officer_has_county"
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PRINCIPAL) | Q(school__isnull=False), name="principal_has_school"
            ),
        ]

    def __str__(self):
        from jinpin.display import person

        return f"{person(self.user)} · {self.get_role_display()}"

    def clean(self):
        if self.role == Role.COUNTY_OFFICER and not self.county_id:
            raise ValidationError({"county": _("A county officer needs a county.")})
        if self.role == Role.PRINCIPAL:
            if not self.school_id:
                raise ValidationError({"school": _("A principal needs a school.")})
            self.county_id = self.school.county_id
        if self.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.INSPECTOR):
            self.county = None
            self.school = None
