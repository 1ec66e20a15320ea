"""Forms of 督查抽查: they validate and normalise, never write."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from jinpin.scope import ScopedFormMixin
from jinpin.widgets import DateInput
from schools.models import County, Village

from .models import Campaign, DrawItem, Finding, FindingCategory, Group, HouseholdCheck, light


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "kind", "starts_on", "ends_on", "registry_date", "status"]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "registry_date": DateInput(),
        }


class InspectorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name}（{obj.username}）" if name else obj.username


def inspector_users():
    """The active users whose active role is inspector: the people a group is made of."""
    from django.contrib.auth import get_user_model

    from jinpin.scope import Role

    return (
        get_user_model()
        .objects.filter(is_active=True, membership__role=Role.INSPECTOR, membership__is_active=True)
        .order_by("username")
    )


class GroupForm(forms.ModelForm):
    """A group of a campaign (督查抽查组), its inspectors and its assignment (counties, and how many
    city departments are to be drawn for it at the meeting)."""

    members = InspectorChoiceField(
        label=_("Inspectors"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only users whose role is inspector can be members."),
    )
    counties = forms.ModelMultipleChoiceField(
        label=_("Assigned counties"), queryset=County.objects.order_by("code"), widget=forms.CheckboxSelectMultiple
    )
    departments_to_draw = forms.IntegerField(
        label=_("City departments to draw"),
        min_value=0,
        max_value=100,
        initial=0,
        help_text=_("Drawn at random on the spot, from the group's page, once the campaign runs."),
    )

    class Meta:
        model = Group
        fields = ["name", "members"]

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.campaign = campaign
        self.fields["members"].queryset = inspector_users()
        assignment = getattr(self.instance, "assignment", None) if self.instance.pk else None
        if assignment is not None and not self.is_bound:
            self.fields["counties"].initial = list(assignment.counties.values_list("pk", flat=True))
            self.fields["departments_to_draw"].initial = assignment.departments_to_draw

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = Group.objects.filter(campaign=self.instance.campaign, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This campaign already has a group of this name."))
        return name


class DrawForm(forms.Form):
    """The parameters of a draw. Households: stratified by village at a rate with a minimum per
    village. Payments: stratified by county and scheme at a rate. Departments: a count."""

    seed = forms.CharField(
        label=_("Seed"),
        max_length=100,
        required=False,
        help_text=_("Type the digits read out at the meeting, or leave empty and jinpin generates one."),
    )
    rate = forms.DecimalField(
        label=_("Rate"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        decimal_places=4,
        required=False,
        help_text=_("A fraction, e.g. 0.1069 for 10.69%."),
    )
    minimum = forms.IntegerField(label=_("Minimum per stratum"), min_value=0, max_value=1000, required=False)
    count = forms.IntegerField(label=_("How many"), min_value=1, max_value=1000, required=False)
    reason = forms.CharField(
        label=_("Reason for drawing again"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "departments":
            del self.fields["rate"], self.fields["minimum"]
            self.fields["count"].required = True
        else:
            del self.fields["count"]
            self.fields["rate"].required = True
            self.fields["minimum"].initial = 1

    def clean_seed(self):
        seed = self.cleaned_data["seed"].strip()
        if any(c in seed for c in "|\r\n\x00"):
            raise forms.ValidationError(_("A seed cannot contain | or line breaks."))
        return seed

    def params(self) -> dict:
        d = self.cleaned_data
        if self.kind == "departments":
            return {"count": d["count"]}
        return {"rate": format(d["rate"].normalize(), "f"), "minimum": d.get("minimum") or 0, "rounding": "half_up"}


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


class CheckSubmissionForm(forms.Form):
    """A check as the phone sends it (JSON body, parsed into a dict)."""

    client_uuid = forms.UUIDField()
    item = forms.IntegerField(min_value=1)
    outcome = forms.ChoiceField(choices=HouseholdCheck.Outcome.choices)
    not_found_reason = forms.CharField(max_length=200, required=False)
    note = forms.CharField(max_length=2000, required=False)
    checked_at = forms.DateTimeField(required=False)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope

    def clean_item(self):
        item = (
            self.scope.filter(DrawItem)
            .filter(pk=self.cleaned_data["item"])
            .select_related("draw")
            .defer(*light("draw"))
            .first()
        )
        if item is None:
            raise forms.ValidationError(_("This household is not in your assignment."))
        return item

    def results(self) -> dict[int, tuple[bool, str]]:
        out = {}
        for r in self.data.get("results") or []:
            if not isinstance(r, dict):
                continue
            try:
                key = int(r.get("item"))
            except (TypeError, ValueError):
                continue
            out[key] = (bool(r.get("passed")), str(r.get("note") or "")[:300])
        return out


class PhotoUploadForm(ScopedFormMixin, forms.Form):
    client_uuid = forms.UUIDField()
    image = forms.FileField()
    item = forms.ModelChoiceField(queryset=DrawItem.objects.all(), required=False)
    village = forms.IntegerField(required=False, min_value=1)
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all())
    captured_at = forms.DateTimeField(required=False)
    latitude = forms.CharField(required=False, max_length=20)
    longitude = forms.CharField(required=False, max_length=20)

    def _coord(self, name, limit):
        raw = self.cleaned_data.get(name)
        if not raw:
            return None
        try:
            v = Decimal(raw).quantize(Decimal("0.000001"))
        except InvalidOperation:
            raise forms.ValidationError(_("Not a coordinate.")) from None
        if abs(v) > limit:
            raise forms.ValidationError(_("Not a coordinate."))
        return v

    def clean_latitude(self):
        return self._coord("latitude", 90)

    def clean_longitude(self):
        return self._coord("longitude", 180)

    def clean(self):
        d = super().clean()
        item, village_id = d.get("item"), d.get("village")
        if item is None and village_id is None:
            raise forms.ValidationError(_("A photo belongs to a household or a village."))
        if village_id is not None:
            # a village photo: the village must be one of this campaign's drawn villages in scope
            drawn = self.scope.filter(DrawItem).filter(village_id=village_id, draw__group__campaign=d.get("campaign"))
            if not drawn.exists():
                self.add_error("village", _("This village is not in your sample."))
            else:
                d["village_obj"] = Village.objects.get(pk=village_id)
        return d


class FindingForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Finding
        fields = [
            "category",
            "severity",
            "description",
            "responsible_level",
            "responsible_unit",
            "deadline",
            "county",
        ]
        widgets = {
            "deadline": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, scope, counties=None, **kwargs):
        super().__init__(*args, scope=scope, **kwargs)
        self.fields["category"].queryset = FindingCategory.objects.filter(is_active=True)
        qs = County.objects.all() if counties is None else County.objects.filter(pk__in=counties)
        self.fields["county"].queryset = qs


class AnomalyFindingForm(FindingForm):
    """A finding from a hit of the anomaly report: the campaign it belongs to is chosen among the
    running campaigns whose groups check the hit's county."""

    class Meta(FindingForm.Meta):
        fields = ["campaign", *FindingForm.Meta.fields]

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["campaign"].empty_label = None


class MeasuresForm(forms.Form):
    measures = forms.CharField(label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    evidence = forms.FileField(label=_("Evidence photo"), required=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("close", _("Accept and close")), ("return", _("Return"))])
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean(self):
        d = super().clean()
        if d.get("decision") == "return" and not (d.get("reason") or "").strip():
            self.add_error("reason", _("Say why the measures are returned."))
        return d


class TraceForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
