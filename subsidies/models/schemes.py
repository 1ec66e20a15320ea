"""Schemes as data: who is eligible, how much, and effective-dated rates (资助项目与标准)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import Stage

#: an award's amount is numeric(10, 2): a rate must fit in it
MAX_AMOUNT = Decimal("100000000")


class SchemeKind(models.TextChoices):
    CASH = "cash", _("Cash")
    WAIVER = "waiver", _("Fee waiver")
    IN_KIND = "in_kind", _("In kind")
    LOAN = "loan", _("Loan")


class AmountRule(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    BY_STAGE = "by_stage", _("By stage")
    TIERS = "tiers", _("Tiers averaging the published rate")
    PRIORITY = "priority", _("Exclusive categories in priority order")
    CAP = "cap", _("Up to a cap (loans)")


class Group(models.TextChoices):
    """Who a student is, as the rules name it. Each group is defined once, in ``subsidies.eligibility.GROUPS``."""

    ANY = "any", _("Anyone")
    POOR = "poor", _("Registered poor household (verified or returned)")
    DIBAO = "dibao", _("Minimum living guarantee (低保)")
    TEKUN = "tekun", _("Extreme-poverty support (特困)")
    HARDSHIP = "hardship", _("Hardship family (poor, 低保 or 特困)")
    ORPHAN = "orphan", _("Orphan")
    DISABLED = "disabled", _("Disabled")
    SPECIAL_ED = "special_ed", _("Special-education pupil")
    BOARDER = "boarder", _("Boarder")


class FundingSource(models.TextChoices):
    CENTRAL = "central", _("Central and provincial funds")
    CITY = "city", _("City funds")
    COUNTY = "county", _("County funds")


class Scheme(models.Model):
    """A subsidy scheme (资助项目): eligibility and amount rule are data an administrator edits."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=SchemeKind.choices)
    funding_source = models.CharField(
        _("funding source"), max_length=10, choices=FundingSource.choices, default=FundingSource.CENTRAL
    )
    # who is eligible: every condition must hold; ``groups`` is "any of"
    stages = models.JSONField(_("stages"), default=list, blank=True, help_text=_("Empty means every stage."))
    poor_village_school = models.BooleanField(_("only schools in poor villages"), default=False)
    rural_school = models.BooleanField(_("only rural schools"), default=False)
    boarders_only = models.BooleanField(_("only boarders"), default=False)
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, help_text=_("Completed years on the period's decisive date.")
    )
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    groups = models.JSONField(
        _("eligible groups"),
        default=list,
        blank=True,
        help_text=_("The student must belong to at least one; empty means anyone."),
    )
    amount_rule = models.CharField(
        _("amount rule"), max_length=10, choices=AmountRule.choices, default=AmountRule.FIXED
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("scheme")
        verbose_name_plural = _("schemes")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        bad = [s for s in self.stages or [] if s not in Stage.values]
        if bad:
            errors["stages"] = _("Unknown stage(s): %(s)s.") % {"s": ", ".join(map(str, bad))}
        bad = [g for g in self.groups or [] if g not in Group.values]
        if bad:
            errors["groups"] = _("Unknown group(s): %(s)s.") % {"s": ", ".join(map(str, bad))}
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            errors["max_age"] = _("The maximum age is below the minimum age.")
        if (self.kind == SchemeKind.LOAN) != (self.amount_rule == AmountRule.CAP):
            errors["amount_rule"] = _("Loans, and only loans, have a cap as their amount rule.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_cash(self) -> bool:
        return self.kind == SchemeKind.CASH

    def rate_on(self, date: dt.date) -> RateVersion | None:
        return self.rates.filter(effective_from__lte=date).order_by("-effective_from").first()


def condition_label(when: str) -> str:
    """An amount line's condition (``stage:primary``, ``group:orphan``, ``level:postgraduate``, ``any``)
    in words; the code itself when it names nothing known."""
    from .payouts import LoanLevel

    if when == "any":
        return str(Group.ANY.label)
    kind, _sep, value = when.partition(":")
    choices = {"group": Group, "stage": Stage, "level": LoanLevel}.get(kind)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return when


class RateVersion(models.Model):
    """The rates of a scheme from a date on. An award keeps the version it was computed with.

    ``lines`` is an ordered list; the first line whose condition holds gives the amount::

        [{"when": "group:orphan", "amount": "3650.00", "label": "..."},
         {"when": "stage:primary", "amount": "1000.00"},
         {"when": "any", "amount": "600.00", "share": "0.6"}]

    ``when`` is ``any``, ``group:<Group>``, ``stage:<Stage>`` or (loans) ``level:<Level>``.
    Tiers carry a ``share`` (planned proportion of pupils); their weighted mean must
    equal the published ``average``.
    """

    LEVELS = ("undergraduate", "postgraduate")

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="rates", verbose_name=_("scheme"))
    effective_from = models.DateField(_("effective from"))
    lines = models.JSONField(_("amount lines"), default=list)
    average = models.DecimalField(_("published average"), max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rate version")
        verbose_name_plural = _("rate versions")
        ordering = ["scheme", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["scheme", "effective_from"], name="one_rate_version_per_day")]

    def __str__(self):
        return f"{self.scheme} {self.effective_from}"

    def shown_lines(self) -> list[tuple[str, object]]:
        """(condition as people read it, amount) of each line: a line's own label, else 小学 for
        ``stage:primary``, the group's name for ``group:orphan``, 任何学生 for ``any``."""
        return [
            (line.get("label") or condition_label(line.get("when", "")), line.get("amount"))
            for line in self.lines or []
        ]

    def parsed_lines(self) -> list[dict]:
        """Lines with amounts and shares as Decimal (raises ValidationError on bad data)."""
        out = []
        for i, line in enumerate(self.lines or [], 1):
            if not isinstance(line, dict) or "when" not in line or "amount" not in line:
                raise ValidationError(_("Line %(i)s needs a condition and an amount.") % {"i": i})
            try:
                amount = Decimal(str(line["amount"])).quantize(Decimal("0.01"))
                share = Decimal(str(line["share"])) if line.get("share") not in (None, "") else None
            except (InvalidOperation, ValueError):
                raise ValidationError(_("Line %(i)s: the amount or share is not a number.") % {"i": i}) from None
            if not amount.is_finite() or (share is not None and not share.is_finite()):
                raise ValidationError(_("Line %(i)s: the amount or share is not a number.") % {"i": i})
            if amount >= MAX_AMOUNT:
                raise ValidationError(
                    _("Line %(i)s: the amount is more than %(max)s yuan.")
                    % {"i": i, "max": MAX_AMOUNT - Decimal("0.01")}
                )
            if amount < 0:
                raise ValidationError(_("Line %(i)s: the amount is negative.") % {"i": i})
            out.append({"when": str(line["when"]), "amount": amount, "share": share, "label": line.get("label", "")})
        return out

    def clean(self):
        lines = self.parsed_lines()
        if not lines:
            raise ValidationError({"lines": _("At least one amount line is needed.")})
        rule = self.scheme.amount_rule
        whens = [line["when"] for line in lines]
        if len(set(whens)) != len(whens):
            raise ValidationError({"lines": _("Two lines have the same condition.")})
        for w in whens:
            kind, _sep, value = w.partition(":")
            ok = (
                (w == "any")
                or (kind == "group" and value in Group.values)
                or (kind == "stage" and value in Stage.values)
                or (kind == "level" and value in self.LEVELS)
            )
            if not ok:
                raise ValidationError({"lines": _("“%(w)s” is not a condition the rules know.") % {"w": w}})
        if rule == AmountRule.FIXED and whens != ["any"]:
            raise ValidationError({"lines": _("A fixed amount has exactly one line, for anyone.")})
        if rule == AmountRule.BY_STAGE and not all(w.startswith("stage:") for w in whens):
            raise ValidationError({"lines": _("Amounts by stage need one line per stage.")})
        if rule == AmountRule.CAP and not all(w.startswith("level:") for w in whens):
            raise ValidationError({"lines": _("A loan cap needs one line per level (undergraduate, postgraduate).")})
        if rule == AmountRule.PRIORITY and not all(w.startswith("group:") or w == "any" for w in whens):
            raise ValidationError({"lines": _("Priority categories are groups, in order.")})
        if rule == AmountRule.TIERS:
            if self.average is None:
                raise ValidationError({"average": _("Tiers need the published average.")})
            if any(line["share"] is None for line in lines):
                raise ValidationError({"lines": _("Every tier needs its share of pupils.")})
            total = sum(line["share"] for line in lines)
            if total != 1:
                raise ValidationError({"lines": _("The tiers' shares add up to %(t)s, not 1.") % {"t": total}})
            mean = sum(line["share"] * line["amount"] for line in lines).quantize(Decimal("0.01"))
            if mean != self.average:
                raise ValidationError(
                    {
                        "lines": _("The tiers average %(mean)s yuan, but the published average is %(avg)s yuan.")
                        % {"mean": mean, "avg": self.average}
                    }
                )

    def amount_for(self, *, groups: set[str] = frozenset(), stage: str = "", level: str = "") -> Decimal | None:
        """The amount for one student described in Python (forms, loans, tests)."""
        for line in self.parsed_lines():
            kind, _sep, value = line["when"].partition(":")
            if (
                line["when"] == "any"
                or (kind == "group" and value in groups)
                or (kind == "stage" and value == stage)
                or (kind == "level" and value == level)
            ):
                return line["amount"]
        return None


class Period(models.Model):
    """A subsidy period: a school year or a semester, and the date on which eligibility is judged."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    school_year = models.PositiveSmallIntegerField(_("school year"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    decisive_date = models.DateField(
        _("decisive date"), help_text=_("Household status, age and flags are judged on this date.")
    )

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["-starts_on"]

    def __str__(self):
        return self.name

    def clean(self):
        if (
            self.starts_on
            and self.ends_on
            and not (self.starts_on <= (self.decisive_date or self.starts_on) <= self.ends_on)
        ):
            raise ValidationError({"decisive_date": _("The decisive date must fall within the period.")})
