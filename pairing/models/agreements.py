"""结对帮扶 agreements (长期合作协议) and the helped schools' milestones (发展规划, 学校章程)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from schools.models import Location, Poverty, School

from ..uploads import private_storage, upload_agreement, upload_milestone


class AgreementForm(models.TextChoices):
    """帮扶形式."""

    ONE_TO_ONE = "one_to_one", _("One-to-one")
    ONE_TO_MANY = "one_to_many", _("One-to-many")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


KEY_POVERTY = (Poverty.PROVINCIAL, Poverty.MUNICIPAL)
HELPER_LOCATIONS = (Location.URBAN, Location.COUNTY_TOWN)


class AgreementQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=AgreementStatus.ACTIVE)


class Agreement(models.Model):
    """结对帮扶 agreement: a helping school (帮扶学校) and one or more helped schools (被帮扶学校).

    ``county`` is the helped schools' county (the county that decided the pair).
    The rules that span the helped schools live in ``check_rules``; services call
    it before every create, edit and activation.
    """

    county = models.ForeignKey(
        "schools.County", on_delete=models.PROTECT, related_name="agreements", verbose_name=_("county")
    )
    helping_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="helping_agreements", verbose_name=_("helping school")
    )
    helped_schools = models.ManyToManyField(
        School, through="AgreementSchool", related_name="helped_agreements", verbose_name=_("helped schools")
    )
    form = models.CharField(_("form"), max_length=16, choices=AgreementForm.choices, default=AgreementForm.ONE_TO_ONE)
    signed_on = models.DateField(_("signed on"))
    starts_on = models.DateField(_("term starts on"))
    ends_on = models.DateField(_("term ends on"), null=True, blank=True)
    content = models.TextField(_("content of the help"), blank=True)
    document = models.FileField(
        _("signed agreement"), storage=private_storage, upload_to=upload_agreement, blank=True, max_length=200
    )
    document_name = models.CharField(_("document file name"), max_length=200, blank=True)
    document_type = models.CharField(_("document type"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("twinning agreement")
        verbose_name_plural = _("twinning agreements")
        ordering = ["-signed_on", "-pk"]
        indexes = [
            models.Index(fields=["county", "status"]),
            models.Index(fields=["helping_school", "status"]),
            models.Index(fields=["signed_on", "id"]),  # the list, newest first: the first page without a sort
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="agreement_term_order"
            ),
            models.CheckConstraint(
                condition=~Q(status=AgreementStatus.ENDED) | Q(ended_on__isnull=False), name="agreement_ended_has_date"
            ),
        ]

    def __str__(self):
        return _("%(helper)s → %(n)s") % {"helper": self.helping_school.name, "n": self.helped_label}

    @property
    def helped_label(self):
        names = [link.school.name for link in self.links.all()]
        return "、".join(names)

    @property
    def is_one_to_one(self) -> bool:
        return self.form == AgreementForm.ONE_TO_ONE

    @property
    def is_active(self) -> bool:
        return self.status == AgreementStatus.ACTIVE

    @property
    def span_end(self):
        """The last day the agreement runs (ended, or its term), or None when open-ended."""
        return self.ended_on or self.ends_on

    def school_ids(self) -> set:
        return {self.helping_school_id, *(link.school_id for link in self.links.all())}

    def covers(self, day) -> bool:
        end = self.span_end
        return self.starts_on <= day and (end is None or day <= end)

    @staticmethod
    def check_rules(*, helping_school, helped_schools, form, exclude_pk=None, activating=False):
        """The programme's pairing rules. Returns ``{field: [messages]}`` (empty when fine).

        ``helped_schools`` are School objects with ``village`` loaded. With
        ``activating`` it also checks that no helped school is in another active agreement.
        """
        errors = {}

        def add(field, msg):
            errors.setdefault(field, []).append(msg)

        helped = list(helped_schools)
        if helping_school is not None:
            if helping_school.is_weak:
                add("helping_school", _("The helping school must not be a weak school."))
            if helping_school.location not in HELPER_LOCATIONS:
                add("helping_school", _("The helping school must be an urban or county-town school."))
            if any(s.pk == helping_school.pk for s in helped):
                add("helped_schools", _("A school cannot help itself."))
        if not helped:
            add("helped_schools", _("Choose at least one helped school."))
        for s in helped:
            if not s.is_weak:
                add(
                    "helped_schools",
                    _("“%(name)s” is not a weak school; only weak schools can be helped.") % {"name": s.name},
                )
        if len({s.county_id for s in helped}) > 1:
            add("helped_schools", _("The helped schools of one agreement belong to one county."))
        if form == AgreementForm.ONE_TO_ONE and len(helped) > 1:
            add("form", _("A one-to-one agreement has exactly one helped school."))
        if form == AgreementForm.ONE_TO_MANY:
            key = [s.name for s in helped if s.village_id and s.village.poverty in KEY_POVERTY]
            if key:
                add(
                    "form",
                    _("Schools in provincial or municipal key poor villages must be paired one-to-one: %(names)s.")
                    % {"names": "、".join(key)},
                )
            if len(helped) < 2:
                add("form", _("A one-to-many agreement has two or more helped schools."))
        if activating and helped:
            busy = (
                AgreementSchool.objects.filter(school__in=[s.pk for s in helped], active=True)
                .exclude(agreement_id=exclude_pk)
                .select_related("school")
            )
            for link in busy:
                add(
                    "helped_schools",
                    _("“%(name)s” already has an active agreement; end it first.") % {"name": link.school.name},
                )
        return errors


class AgreementSchool(models.Model):
    """A helped school in an agreement. ``active`` mirrors the agreement's status so that the
    database itself refuses a second active agreement for one helped school."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="links", verbose_name=_("agreement")
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="agreement_links", verbose_name=_("helped school")
    )
    active = models.BooleanField(_("active"), default=False, editable=False)

    class Meta:
        verbose_name = _("helped school")
        verbose_name_plural = _("helped schools")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "school"], name="agreementschool_unique"),
            models.UniqueConstraint(
                fields=["school"], condition=Q(active=True), name="one_active_agreement_per_helped_school"
            ),
        ]

    def __str__(self):
        return self.school.name


class SchoolMilestoneKind(models.TextChoices):
    PLAN = "plan", _("Development plan")
    CHARTER = "charter", _("School charter")


class SchoolMilestoneStatus(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    ADOPTED = "adopted", _("Adopted")


class SchoolMilestone(models.Model):
    """A helped school's development plan (发展规划) or school charter (学校章程): drafted, then adopted
    (shown as "milestone" in the interface; adopted by every helped school, it is a compliance evidence)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("school"))
    kind = models.CharField(_("milestone"), max_length=10, choices=SchoolMilestoneKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=SchoolMilestoneStatus.choices, default=SchoolMilestoneStatus.DRAFTED
    )
    drafted_on = models.DateField(_("drafted on"), null=True, blank=True)
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    document = models.FileField(
        _("document"), storage=private_storage, upload_to=upload_milestone, blank=True, max_length=200
    )
    document_name = models.CharField(_("document file name"), max_length=200, blank=True)
    document_type = models.CharField(_("document type"), max_length=40, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.UniqueConstraint(fields=["school", "kind"], name="milestone_unique_per_school"),
            models.CheckConstraint(
                condition=~Q(status=SchoolMilestoneStatus.ADOPTED) | Q(adopted_on__isnull=False),
                name="milestone_adopted_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.school} · {self.get_kind_display()}"

    def clean(self):
        if self.status == SchoolMilestoneStatus.ADOPTED and not self.adopted_on:
            raise ValidationError({"adopted_on": _("Give the date it was adopted.")})
