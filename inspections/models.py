"""督导 / 督查抽查: campaigns, groups and their assignments, random draws anyone can re-run,
household checks in the field, photos, findings and their rectification (整改), payment traces."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from schools.models import County, Village
from subsidies.models import Household, PayoutLine

from .storage import private_storage


class CityDepartment(models.Model):
    """市直部门: the list the departments of an assignment are drawn from (data)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("city department")
        verbose_name_plural = _("city departments")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Campaign(models.Model):
    """A supervision campaign (e.g. 2016 年精准扶贫督查抽查), created by the city administrator."""

    class Kind(models.TextChoices):
        REGISTRY = "registry", _("Poverty-registry check (六核对一规范)")
        PAYMENTS = "payments", _("Special audit of subsidy payments (专项督查)")
        TWINNING = "twinning", _("School-twinning check")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RUNNING = "running", _("Running")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    #: the date on which the registry is read for a household draw (status in force on that day)
    registry_date = models.DateField(_("registry date"), help_text=_("Households are drawn as registered on this day."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates")]

    def __str__(self):
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class Group(models.Model):
    """督查抽查组 ("第九组"): inspectors working together in one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="groups", verbose_name=_("campaign"))
    name = models.CharField(_("name"), max_length=50)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="inspection_groups", blank=True, verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("inspection group")
        verbose_name_plural = _("inspection groups")
        ordering = ["campaign", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="group_name_unique_in_campaign")]

    def __str__(self):
        return f"{self.campaign} · {self.name}"


class Assignment(models.Model):
    """What a group checks: one or more counties and the city departments drawn for it."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="assignment", verbose_name=_("group"))
    counties = models.ManyToManyField(County, related_name="inspection_assignments", verbose_name=_("counties"))
    departments = models.ManyToManyField(
        CityDepartment, blank=True, related_name="assignments", verbose_name=_("city departments")
    )
    departments_to_draw = models.PositiveSmallIntegerField(_("departments to draw"), default=0)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return str(self.group)


#: a draw's record fields: large (a population of 300,000 is megabytes), loaded only when read
HEAVY = ("population_runs", "population_ids", "sample", "strata")


def light(path: str = "") -> list[str]:
    """``defer`` arguments that leave a draw's record fields out of a query reaching it through ``path``."""
    return [f"{path}__{f}" if path else f for f in HEAVY]


def compact(pairs) -> tuple[list, list]:
    """``[[stratum, id], ...]`` as ``(runs, ids)``: the runs of equal consecutive strata as
    ``[stratum, count]`` and the ids in the same order (``expand`` gives the list back)."""
    runs, ids = [], []
    for stratum, ident in pairs:
        if runs and runs[-1][0] == stratum:
            runs[-1][1] += 1
        else:
            runs.append([stratum, 1])
        ids.append(int(ident))
    return runs, ids


def expand(runs, ids) -> list[list]:
    """The inverse of ``compact``. A record whose runs and ids disagree in length expands to what
    they do give (and then fails verification: the hash is of the expanded list)."""
    strata = [stratum for stratum, n in runs for _ in range(n)]
    return [[s, i] for s, i in zip(strata, ids, strict=False)] + [["", i] for i in ids[len(strata) :]]


class DrawManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().defer(*HEAVY)


class Draw(models.Model):
    """A random draw, kept whole so anyone can re-run it (see ``inspections.verify_draw``).

    ``population`` is the list of ``[stratum, id]`` in canonical order (sorted by stratum,
    then id) and ``population_hash`` the SHA-256 of its text form, stored compactly: the ids in
    that order (``population_ids``, a ``bigint[]``) and the runs of equal strata
    (``population_runs``, ``[stratum, how many]``), lossless for any list; ``sample`` the drawn
    ``[stratum, id]`` in draw order. A draw is proposed, then confirmed (its items are
    frozen then); drawing again makes a new record that supersedes the old one, with a reason.
    """

    class Kind(models.TextChoices):
        DEPARTMENTS = "departments", _("City departments")
        HOUSEHOLDS = "households", _("Households")
        PAYMENTS = "payments", _("Payments")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        SUPERSEDED = "superseded", _("Superseded")

    class SeedSource(models.TextChoices):
        TYPED = "typed", _("Typed in on the spot")
        GENERATED = "generated", _("Generated by jinpin")

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="draws", verbose_name=_("group"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    filters = models.JSONField(_("filters"), default=dict)
    method = models.CharField(_("method"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict)
    seed = models.CharField(_("seed"), max_length=100)
    seed_source = models.CharField(_("seed source"), max_length=10, choices=SeedSource.choices)
    population_runs = models.JSONField(_("population strata"), default=list)
    population_ids = ArrayField(models.BigIntegerField(), verbose_name=_("population ids"), default=list)
    population_size = models.PositiveIntegerField(_("population size"), default=0)
    population_hash = models.CharField(_("population SHA-256"), max_length=64)
    sample = models.JSONField(_("sample"), default=list)
    sample_size = models.PositiveIntegerField(_("sample size"), default=0)
    sample_hash = models.CharField(_("sample SHA-256"), max_length=64)
    strata = models.JSONField(_("per stratum"), default=list)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drawn by")
    )
    created_at = models.DateTimeField(_("drawn at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    # the record fields are deferred everywhere (also on ``item.draw``); reading one loads it
    objects = DrawManager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["group", "kind", "-created_at"]
        constraints = [
            # one live (not superseded) draw of each kind per group: drawing again supersedes it
            models.UniqueConstraint(
                fields=["group", "kind"], condition=~Q(status="superseded"), name="one_live_draw_per_group_kind"
            )
        ]

    def __str__(self):
        return f"{self.group} · {self.get_kind_display()} #{self.pk}"

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Also forgets the record fields already read (the manager defers them, so Django's refresh
        would leave them stale): they are read again from the database when next asked for."""
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None:
            for name in HEAVY:
                self.__dict__.pop(name, None)

    @property
    def population(self) -> list[list]:
        """The population as ``[[stratum, id], ...]`` (reads both deferred record columns)."""
        return expand(self.population_runs, self.population_ids)

    @population.setter
    def population(self, pairs):
        self.population_runs, self.population_ids = compact(pairs)

    @property
    def effective_rate(self):
        return (self.sample_size / self.population_size) if self.population_size else 0

    def record(self) -> dict:
        """The draw as a plain JSON document: what ``verify_draw.py`` reads."""
        return {
            "draw": self.pk,
            "kind": self.kind,
            "method": self.method,
            "params": self.params,
            "seed": self.seed,
            "filters": self.filters,
            "population_hash": self.population_hash,
            "population": self.population,
            "sample_hash": self.sample_hash,
            "sample": self.sample,
        }


class DrawItem(models.Model):
    """One drawn household, payment or department, with a frozen snapshot of it at draw time."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="items", verbose_name=_("draw"))
    position = models.PositiveIntegerField(_("position"))
    stratum = models.CharField(_("stratum"), max_length=100)
    object_id = models.BigIntegerField(_("id"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("county"))
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    payout_line = models.ForeignKey(
        PayoutLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payout line")
    )
    department = models.ForeignKey(
        CityDepartment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    snapshot = models.JSONField(_("at draw time"), default=dict)

    class Meta:
        verbose_name = _("drawn item")
        verbose_name_plural = _("drawn items")
        ordering = ["draw", "position"]
        constraints = [models.UniqueConstraint(fields=["draw", "object_id"], name="drawn_once_per_draw")]
        indexes = [models.Index(fields=["draw", "village"]), models.Index(fields=["county"])]

    def __str__(self):
        return _("Item %(position)s of draw %(draw)s") % {"position": self.position, "draw": self.draw_id}


class ChecklistItem(models.Model):
    """One item of the 六核对 checklist (data the administrator edits)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("item"), max_length=100)
    help_text = models.CharField(_("what to check"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["order", "code"]

    def __str__(self):
        return self.label


class HouseholdCheck(models.Model):
    """户户不落: the check of one drawn household, made once (``client_uuid`` is made on the phone,
    so a submission sent twice is recorded once)."""

    class Outcome(models.TextChoices):
        VISITED = "visited", _("Visited")
        NOT_FOUND = "not_found", _("Not found")

    item = models.OneToOneField(
        DrawItem, on_delete=models.PROTECT, related_name="household_check", verbose_name=_("household")
    )
    client_uuid = models.UUIDField(_("submission id"), unique=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    not_found_reason = models.CharField(_("why not found"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked by")
    )
    checked_at = models.DateTimeField(_("checked at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household check")
        verbose_name_plural = _("household checks")
        ordering = ["-checked_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="not_found") | ~Q(not_found_reason=""), name="not_found_has_reason"
            )
        ]

    def __str__(self):
        return f"{self.item} {self.outcome}"


class CheckResult(models.Model):
    household_check = models.ForeignKey(HouseholdCheck, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["household_check", "item__order"]
        constraints = [models.UniqueConstraint(fields=["household_check", "item"], name="one_result_per_item")]


class FindingCategory(models.Model):
    """A kind of problem found (data the administrator edits; a deactivated one is no longer offered
    on new findings, and the findings already recorded keep it)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("finding category")
        verbose_name_plural = _("finding categories")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class FindingQuerySet(models.QuerySet):
    def overdue(self, today: dt.date | None = None):
        today = today or timezone.localdate()
        return self.filter(deadline__lt=today).exclude(status=Finding.Status.CLOSED)


class Finding(models.Model):
    """A problem found (存在的问题) and its rectification (整改), followed to the end."""

    class Source(models.TextChoices):
        ITEM = "item", _("Failed checklist item")
        HOUSEHOLD = "household", _("Household")
        VILLAGE = "village", _("Village")
        PAYMENT = "payment", _("Payment")
        ANOMALY = "anomaly", _("Anomaly report hit")

    class Severity(models.TextChoices):
        LOW = "low", _("Minor")
        MEDIUM = "medium", _("Serious")
        HIGH = "high", _("Grave")

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        TOWN = "town", _("Town")
        VILLAGE = "village", _("Village")
        SCHOOL = "school", _("School")
        DEPARTMENT = "department", _("Department")

    class Status(models.TextChoices):
        # own context: "Open" and "Closed" are also a recovery's and a campaign's words (待追回, 已结束)
        OPEN = "open", pgettext_lazy("finding status", "Open")
        SUBMITTED = "submitted", _("Measures submitted")
        CLOSED = "closed", pgettext_lazy("finding status", "Closed")
        RETURNED = "returned", _("Returned")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="findings", verbose_name=_("campaign")
    )
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    item = models.ForeignKey(
        DrawItem, on_delete=models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("drawn item")
    )
    result = models.ForeignKey(
        CheckResult, on_delete=models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("result")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    category = models.ForeignKey(
        FindingCategory, on_delete=models.PROTECT, related_name="findings", verbose_name=_("category")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    description = models.TextField(_("description"))
    responsible_level = models.CharField(_("responsible level"), max_length=10, choices=Level.choices)
    responsible_unit = models.CharField(_("responsible unit"), max_length=100)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    #: a finding made from a hit of the anomaly report: the hit's stable key (its rows are recomputed,
    #: see inspections/anomalies.py) and the hit as it read then, ID masked
    anomaly_key = models.CharField(_("anomaly key"), max_length=64, blank=True, default="")
    anomaly = models.JSONField(_("anomaly report hit"), default=dict, blank=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["county", "status", "deadline"]), models.Index(fields=["campaign", "status"])]
        constraints = [
            # one finding per hit of the anomaly report
            models.UniqueConstraint(
                fields=["anomaly_key"], condition=~Q(anomaly_key=""), name="one_finding_per_anomaly"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.category}"

    @property
    def is_overdue(self) -> bool:
        return self.status != self.Status.CLOSED and self.deadline < timezone.localdate()


class RectificationStep(models.Model):
    """One step of a finding's rectification: who, when, what and why (each step its own record)."""

    class Action(models.TextChoices):
        RECORD = "record", _("Recorded")
        SUBMIT = "submit", _("Measures submitted")
        CLOSE = "close", _("Accepted and closed")
        RETURN = "return", _("Returned")

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="steps", verbose_name=_("finding"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10)
    measures = models.TextField(_("measures taken"), blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification step")
        verbose_name_plural = _("rectification steps")
        ordering = ["finding", "at", "pk"]

    def __str__(self):
        return self.get_action_display()


class Photo(models.Model):
    """A photo of a household check, a village (村村拍照) or a finding's evidence.

    The stored image is re-encoded without its EXIF block; the capture time and location
    (from the phone, or read from the EXIF before it is dropped) are kept here as evidence.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="photos", verbose_name=_("campaign"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    item = models.ForeignKey(
        DrawItem, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name=_("household")
    )
    finding = models.ForeignKey(
        Finding, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name=_("finding")
    )
    client_uuid = models.UUIDField(_("submission id"), unique=True)
    image = models.FileField(_("image"), storage=private_storage, upload_to="photos/%Y/%m/")
    thumbnail = models.FileField(_("thumbnail"), storage=private_storage, upload_to="thumbs/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["campaign", "village"])]

    def __str__(self):
        from jinpin.display import date

        return _("Photo of %(at)s") % {"at": date(self.captured_at or self.uploaded_at) or "—"}


class PaymentTrace(models.Model):
    """专项督查: the outcome of tracing one drawn payment (confirmed, or a finding recorded)."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed: the chain holds")
        FINDING = "finding", _("Finding recorded")

    item = models.OneToOneField(DrawItem, on_delete=models.PROTECT, related_name="trace", verbose_name=_("payment"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    traced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    traced_at = models.DateTimeField(_("traced at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment trace")
        verbose_name_plural = _("payment traces")

    def __str__(self):
        return _("Payment trace: %(outcome)s") % {"outcome": self.get_outcome_display()}


class HouseholdResponsibility(models.Model):
    """包保责任制: the unit and the cadre (包保责任人) responsible for a poor household (data)."""

    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, related_name="responsibility", verbose_name=_("household")
    )
    unit = models.CharField(_("responsible unit"), max_length=100)
    cadre = models.CharField(_("responsible cadre (包保责任人)"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        verbose_name = _("household responsibility")
        verbose_name_plural = _("household responsibilities")

    def __str__(self):
        return f"{self.household_id} {self.unit} {self.cadre}"
