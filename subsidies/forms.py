from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jinpin.scope import ScopedFormMixin
from jinpin.widgets import DateInput
from schools.models import County, Stage

from .models import Allocation, Group, Period, RateVersion, Scheme
from .services.workflow import ACTIONS, A


class BatchForm(ScopedFormMixin, forms.Form):
    period = forms.ModelChoiceField(label=_("Period"), queryset=Period.objects.all())
    county = forms.ModelChoiceField(
        label=_("County"),
        queryset=County.objects.all(),
        required=False,
        help_text=_("Leave empty for the whole city (city administrator)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.scope.is_county_officer:
            self.fields["county"].initial = self.scope.county_id
            self.fields["county"].required = True
            self.fields["county"].empty_label = None
            self.fields["county"].help_text = ""  # "leave empty for the whole city" is the administrator's choice only

    def clean(self):
        data = super().clean()
        if not data.get("county") and not self.scope.is_city_admin:
            self.add_error("county", _("Choose your county."))
        return data


class AwardActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=[])
    reason = forms.CharField(
        label=_("Reason"), max_length=300, required=False, help_text=_("Required to return or reject.")
    )
    ids = forms.CharField(required=False, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(label=_("All awards matching the filter"), required=False)

    def __init__(self, *args, actions, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import AwardStep

        labels = dict(AwardStep.Action.choices)
        self.fields["action"].choices = [(a, labels[a]) for a in actions]

    def clean(self):
        data = super().clean()
        if data.get("action") in (A.RETURN, A.REJECT) and not (data.get("reason") or "").strip():
            self.add_error("reason", _("A return or a rejection needs a reason."))
        return data


class AllocationForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Allocation
        fields = ["scheme", "county", "school_year", "amount", "note"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount < 0:
            raise ValidationError(_("An allocation cannot be negative."))
        return amount


class SchemeForm(ScopedFormMixin, forms.ModelForm):
    stages = forms.MultipleChoiceField(
        label=_("Stages"),
        choices=Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means every stage."),
    )
    groups = forms.MultipleChoiceField(
        label=_("Eligible groups (any of)"),
        choices=[c for c in Group.choices if c[0] != Group.ANY],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Scheme
        fields = [
            "code",
            "name",
            "kind",
            "funding_source",
            "stages",
            "poor_village_school",
            "rural_school",
            "boarders_only",
            "min_age",
            "max_age",
            "groups",
            "amount_rule",
            "is_active",
            "order",
            "description",
        ]


def condition_choices(rule: str | None = None) -> list:
    """The conditions an amount line can name, grouped for a drop-down; only those the amount rule
    ``rule`` allows (all of them when None)."""
    from .models import AmountRule, LoanLevel

    groups = [(f"group:{v}", label) for v, label in Group.choices if v != Group.ANY]
    stages = [(f"stage:{v}", label) for v, label in Stage.choices]
    levels = [(f"level:{v}", label) for v, label in LoanLevel.choices]
    anyone = [("any", Group.ANY.label)]
    by_rule = {
        AmountRule.FIXED: [(_("Everyone"), anyone)],
        AmountRule.BY_STAGE: [(_("Stage"), stages)],
        AmountRule.CAP: [(_("Loan level"), levels)],
        AmountRule.PRIORITY: [(pgettext_lazy("subsidy condition", "Group"), groups), (_("Everyone"), anyone)],
    }
    every = [
        (_("Everyone"), anyone),
        (pgettext_lazy("subsidy condition", "Group"), groups),
        (_("Stage"), stages),
        (_("Loan level"), levels),
    ]
    return [("", "---------"), *by_rule.get(rule, every)]


class RateLineForm(forms.Form):
    """One amount line (one tier): its condition from a drop-down, the amount, a tier's share, a label."""

    when = forms.ChoiceField(label=_("Condition"), choices=condition_choices)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("99999999.99"),
    )
    share = forms.DecimalField(
        label=_("Share of pupils (tiers only)"),
        required=False,
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
    )
    label = forms.CharField(label=_("Label"), required=False, max_length=40)

    def __init__(self, *args, rule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["when"].choices = condition_choices(rule)

    def as_line(self) -> dict:
        data = self.cleaned_data
        line = {"when": data["when"], "amount": f"{data['amount']:.2f}"}
        if data.get("share") is not None:
            line["share"] = format(data["share"].normalize(), "f")
        if data.get("label"):
            line["label"] = data["label"]
        return line


class BaseRateLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.lines():
            raise ValidationError(_("At least one amount line is needed."))

    def lines(self) -> list[dict]:
        """The filled lines, in the order shown (the first that matches a pupil gives the amount)."""
        return [
            f.as_line()
            for f in self.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("when")
        ]


RateLineFormSet = forms.formset_factory(RateLineForm, formset=BaseRateLineFormSet, extra=3, can_delete=True)


class RateVersionForm(forms.ModelForm):
    """Rates from a date on, with one row per amount line (tier) in ``self.rows`` (a formset of
    drop-downs and numbers); the current version's lines come filled in. Existing versions never
    change: a new date is a new version, and awards keep the version they used."""

    #: carries the model's rules about the lines as a whole (a tiers' mean, one line per stage ...)
    lines = forms.Field(required=False, widget=forms.HiddenInput)

    class Meta:
        model = RateVersion
        fields = ["effective_from", "average", "note"]
        widgets = {"effective_from": DateInput()}

    def __init__(self, *args, scheme, **kwargs):
        self.scheme = scheme
        super().__init__(*args, **kwargs)
        self.instance.scheme = scheme
        current = scheme.rates.order_by("-effective_from").first()
        initial = None
        if current is not None and not self.is_bound:
            initial = [
                {
                    "when": line["when"],
                    "amount": line["amount"],
                    "share": line.get("share") or None,
                    "label": line.get("label") or "",
                }
                for line in current.lines
            ]
            self.fields["average"].initial = current.average
        self.rows = RateLineFormSet(
            self.data if self.is_bound else None,
            initial=initial,
            prefix="lines",
            form_kwargs={"rule": scheme.amount_rule},
        )

    def is_valid(self):
        rows_ok = self.rows.is_valid()  # both are checked, so every mistake shows at once
        return super().is_valid() and rows_ok

    def clean(self):
        data = super().clean()
        if (
            data.get("effective_from")
            and RateVersion.objects.filter(scheme=self.scheme, effective_from=data["effective_from"]).exists()
        ):
            self.add_error(
                "effective_from",
                _(
                    "This scheme already has rates from that date; choose another date (awards keep the version they used)."
                ),
            )
        return data

    def _post_clean(self):
        if self.rows.is_valid():
            self.instance.lines = self.rows.lines()
            super()._post_clean()  # the model's rules about the lines as a whole
        # otherwise the rows' own errors show first; the rules about all the lines run once each row is right


__all__ = [
    "BatchForm",
    "AwardActionForm",
    "AllocationForm",
    "SchemeForm",
    "RateVersionForm",
    "RateLineFormSet",
    "ACTIONS",
]


class PayoutPrepareForm(ScopedFormMixin, forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=County.objects.all())
    period = forms.ModelChoiceField(label=_("Period"), queryset=Period.objects.all())
    funding_source = forms.ChoiceField(label=_("Funding source"), choices=[])

    def __init__(self, *args, **kwargs):
        from .models import FundingSource

        super().__init__(*args, **kwargs)
        self.fields["funding_source"].choices = FundingSource.choices
        if self.scope.is_county_officer:
            self.fields["county"].initial = self.scope.county_id


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx)"))


class RecoveryForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to recover"), max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ResolveDifferenceForm(forms.Form):
    """How an officer settles a batch rerun's open difference on an award, and why."""

    resolution = forms.ChoiceField(
        label=_("Resolution"),
        choices=[
            ("accept", _("Accept the new amount")),
            ("withdraw", _("Withdraw the award")),
            ("keep", _("Keep as is (justify)")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class LoanForm(ScopedFormMixin, forms.ModelForm):
    id_number = forms.CharField(label=_("Student's resident ID"), max_length=18)

    class Meta:
        from .models import LoanApplication

        model = LoanApplication
        fields = ["county", "school_year", "level", "institution", "amount"]

    def clean_id_number(self):
        from django.db.models import Exists, OuterRef

        from .models import Household, Student

        number = self.cleaned_data["id_number"].strip().upper()
        # only the user's area: a pupil enrolled there, or of a poor household there. Whether the ID exists elsewhere
        # in the city is never revealed (one message for "nowhere" and "not in your area")
        households = self.scope.filter(Household).filter(pk=OuterRef("household_id"))
        candidates = Student.objects.filter(id_number=number)
        student = self.scope.filter(candidates).first() or candidates.filter(Exists(households)).first()
        if student is None:
            raise ValidationError(_("No student with this ID in the registry of your area."))
        self.instance.student = student
        return number

    def clean(self):
        from .models import LoanApplication

        data = super().clean()
        # the (student, year) constraint involves a field the form does not show, so ModelForm skips it
        student_id, year = self.instance.student_id, data.get("school_year")
        if (
            student_id
            and year
            and LoanApplication.objects.filter(student_id=student_id, school_year=year)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error(
                "school_year", _("This student already has a loan application for %(year)s.") % {"year": year}
            )
        return data


class HouseholdStatusForm(forms.ModelForm):
    """A status change of a household (动态管理): a new record, never an edit of the past."""

    class Meta:
        from .models import HouseholdStatus

        model = HouseholdStatus
        fields = ["status", "effective_on", "reason"]
        widgets = {"effective_on": DateInput()}

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the status changes (e.g. the 回头看 review, 稳定脱贫)."))
        return reason


# -- the pupil's record, its payment details and transfers (owning side; see subsidies.scoping) -------------------
class StudentForm(forms.Form):
    """A pupil's name, flags and household link. Identity (ID, birth date, sex) comes from the ID number; payee and
    bank account change through a confirmed request."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50)
    household_number = forms.CharField(
        label=_("Household number"), max_length=30, required=False, help_text=_("Empty: no poor household.")
    )
    is_orphan = forms.BooleanField(label=_("Orphan"), required=False)
    is_disabled = forms.BooleanField(label=_("Disabled"), required=False)
    is_special_ed = forms.BooleanField(label=_("Special-education pupil"), required=False)
    is_boarder = forms.BooleanField(label=_("Boarder"), required=False)
    is_dibao = forms.BooleanField(label=_("Urban 低保 family"), required=False)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_household_number(self):
        from .models import Household

        number = self.cleaned_data["household_number"].replace("\x00", "").strip()
        if not number:
            self.cleaned_data["household"] = None
            return ""
        household = Household.objects.filter(number=number).first()
        if household is None:
            raise ValidationError(
                _("No registered poor household has the number %(n)s; import the households first.") % {"n": number}
            )
        self.cleaned_data["household"] = household
        return number

    def record_values(self) -> dict:
        from .services.registry import RECORD_FIELDS

        return {k: self.cleaned_data[k] for k in RECORD_FIELDS}


class PaymentChangeForm(forms.Form):
    payee = forms.CharField(label=_("New payee"), max_length=50, help_text=_("The guardian who receives the money."))
    account = forms.CharField(label=_("New bank account"), max_length=32)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_account(self):
        from .services.transfers import clean_account

        return clean_account(self.cleaned_data["account"])


class DecisionForm(forms.Form):
    """Confirm or reject a request; a rejection needs a note."""

    decision = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("A rejection needs a note."))
        return data


class TransferRequestForm(ScopedFormMixin, forms.Form):
    """转学: the receiving side names the pupil by resident ID *and* name. Whether the pupil is on file, and where,
    is not told: one message for "no such pupil" and "the name does not match"."""

    id_number = forms.CharField(label=_("Pupil's resident ID"), max_length=18)
    name = forms.CharField(label=_("Pupil's name"), max_length=50)
    to_school = forms.ModelChoiceField(label=_("Receiving school"), queryset=None)
    school_year = forms.IntegerField(label=_("From school year"), min_value=2000, max_value=2100)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    grade = forms.IntegerField(label=_("Grade"), min_value=1, max_value=12)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, scope, **kwargs):
        from schools.models import School

        self.base_fields["to_school"].queryset = School.objects.order_by("code")
        super().__init__(*args, scope=scope, **kwargs)
        if scope.is_principal:
            self.fields["to_school"].initial = scope.school_id
        self.student = None

    def clean_id_number(self):
        from jinpin import idcard

        number = self.cleaned_data["id_number"].replace("\x00", "").strip().upper()
        try:
            return idcard.parse(number).number
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

    def clean(self):
        from .models import Student

        data = super().clean()
        number, name = data.get("id_number"), " ".join((data.get("name") or "").split())
        if number and name:
            self.student = Student.objects.filter(id_number=number, name=name).first()
            if self.student is None:
                self.add_error("id_number", _("No pupil with this resident ID and name is registered."))
        return data


class PromoteForm(forms.Form):
    """Bulk action on the pupils list: enrol the ticked pupils for the next school year."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    from_year = forms.IntegerField(min_value=2000, max_value=2100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any positive id parses; whether the pupils are the user's own is the service's question (all or nothing)
        self.fields["ids"].valid_value = lambda value: (
            str(value).isascii() and str(value).isdigit() and len(str(value)) < 19
        )
