"""Forms of 结对帮扶: they validate and normalise; services write."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jinpin.scope import ScopedFormMixin
from jinpin.widgets import DateInput
from schools.models import School

from . import uploads
from .models import (
    Activity,
    Agreement,
    Direction,
    DonationCategory,
    ProjectStatus,
    SchoolMilestoneKind,
    SchoolMilestoneStatus,
)
from .models import (
    AgreementForm as Form,
)

DATE = DateInput()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _document_clean(form, field="document"):
    f = form.cleaned_data.get(field)
    if f:
        try:
            form.document_type = uploads.check(f, allowed=uploads.DOCUMENT_TYPES)
        except forms.ValidationError as e:
            form.add_error(field, e)
            return None
    return f


class AgreementEditForm(ScopedFormMixin, forms.Form):
    """Create or edit a draft agreement. School choices are the user's scope; the pairing rules
    themselves are checked by ``Agreement.check_rules`` so each breach gets its own message."""

    helping_school = forms.ModelChoiceField(label=_("Helping school"), queryset=School.objects.all())
    helped_schools = forms.ModelMultipleChoiceField(
        label=_("Helped schools"),
        queryset=School.objects.all(),
        help_text=_("Weak schools; one for a one-to-one agreement."),
    )
    form = forms.ChoiceField(label=_("Form"), choices=Form.choices)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    starts_on = forms.DateField(
        label=_("Term starts on"), widget=DATE, required=False, help_text=_("Defaults to the signing date.")
    )
    ends_on = forms.DateField(label=_("Term ends on"), widget=DATE, required=False)
    content = forms.CharField(label=_("Content of the help"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    document = forms.FileField(label=_("Signed agreement (PDF, JPEG or PNG)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document_type = ""
        self.fields["helping_school"].queryset = (
            self.fields["helping_school"].queryset.filter(is_weak=False).select_related("county")
        )
        self.fields["helped_schools"].queryset = self.fields["helped_schools"].queryset.select_related("county")

    def clean_document(self):
        return _document_clean(self)

    def clean(self):
        data = super().clean()
        helping, helped, form = data.get("helping_school"), data.get("helped_schools"), data.get("form")
        if helping is not None and helped:
            helped = list(School.objects.filter(pk__in=[s.pk for s in helped]).select_related("village"))
            for field, msgs in Agreement.check_rules(helping_school=helping, helped_schools=helped, form=form).items():
                for m in msgs:
                    self.add_error(field if field in self.fields else None, m)
            data["helped_schools"] = helped
        start, end = data.get("starts_on") or data.get("signed_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The term ends before it starts."))
        return data

    FIELDS = ("helping_school", "helped_schools", "form", "signed_on", "starts_on", "ends_on", "content", "document")

    def agreement_fields(self) -> dict:
        """The validated fields as ``services.agreement_create`` / ``agreement_update`` take them."""
        return {**{f: self.cleaned_data[f] for f in self.FIELDS}, "document_type": self.document_type}


class AgreementEndForm(forms.Form):
    ended_on = forms.DateField(label=_("Ended on"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ActivityForm(ScopedFormMixin, forms.ModelForm):
    """Log a session. Participants are teachers of the pair's two schools (set by the view)."""

    online_link = forms.URLField(label=_("Online link"), max_length=500, required=False, assume_scheme="https")
    files = MultipleFileField(label=_("Photos and files (JPEG, PNG or PDF)"), required=False)

    class Meta:
        model = Activity
        fields = ["kind", "held_on", "place", "pupils", "summary"]
        widgets = {"held_on": DATE, "summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        self.checked_files = []
        self.order_fields(["kind", "held_on", "place", "online_link", "pupils", "summary", "files"])
        from . import teachers_link

        field = teachers_link.participants_field(agreement)
        if field is not None:
            self.fields["participants"] = field
            self.order_fields(["kind", "held_on", "place", "online_link", "participants", "pupils", "summary", "files"])

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        errors = []
        for f in files:
            try:
                self.checked_files.append((f, uploads.check(f, allowed=uploads.DOCUMENT_TYPES)))
            except forms.ValidationError as e:
                errors.extend(f"{f.name}: {m}" for m in e.messages)
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self):
        data = super().clean()
        if not data.get("place") and not data.get("online_link"):
            self.add_error("place", _("Give the place or the online link."))
        return data

    def _post_clean(self):
        # the model's own checks run in the service (after the calendar is placed)
        pass


class SecondmentForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    helped_school = forms.ModelChoiceField(label=_("Helped school"), queryset=School.objects.none(), required=False)
    person_name = forms.CharField(label=_("Person"), max_length=50, required=False)
    post = forms.CharField(label=_("Post held"), max_length=100, required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helped_school"].queryset = agreement.helped_schools.all()
        if agreement.is_one_to_one:
            del self.fields["helped_school"]
        from . import teachers_link

        field = teachers_link.teacher_field(agreement)
        if field is not None:
            self.fields["teacher"] = field
            self.order_fields(["direction", "helped_school", "teacher", "person_name"])

    def clean(self):
        data = super().clean()
        if not data.get("person_name") and not data.get("teacher"):
            self.add_error("person_name", _("Choose the teacher or give the person's name."))
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end date is before the start."))
        return data


class SecondmentEndForm(forms.Form):
    ends_on = forms.DateField(label=_("Ends on (last day)"), widget=DATE)


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    lead_names = forms.CharField(label=_("Lead teachers"), max_length=200, required=False)
    started_on = forms.DateField(label=_("Started on"), widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=ProjectStatus.choices, initial=ProjectStatus.ONGOING)
    concluded_on = forms.DateField(label=_("Concluded on"), widget=DATE, required=False)
    outputs = forms.CharField(label=_("Outputs"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        from . import teachers_link

        field = teachers_link.participants_field(agreement, label=_("Lead teachers (both schools)"))
        if field is not None:
            self.fields["lead_teachers"] = field
            self.fields["lead_names"].widget = forms.HiddenInput()
            self.order_fields(["title", "lead_teachers"])

    def clean(self):
        data = super().clean()
        if data.get("status") == ProjectStatus.CONCLUDED and not data.get("concluded_on"):
            self.add_error("concluded_on", _("Give the date it concluded."))
        if data.get("concluded_on") and data.get("started_on") and data["concluded_on"] < data["started_on"]:
            self.add_error("concluded_on", _("It cannot conclude before it started."))
        return data


class DonationForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Received by school"), queryset=School.objects.none())
    item = forms.CharField(label=_("Item"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=DonationCategory.choices)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    value = forms.DecimalField(label=_("Estimated value (yuan)"), min_value=0, max_digits=12, decimal_places=2)
    donated_on = forms.DateField(label=_("Donated on"), widget=DATE)

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = agreement.helped_schools.all()
        if agreement.is_one_to_one:
            self.fields["recipient"].initial = agreement.links.all()[0].school_id if agreement.links.all() else None


class ConfirmReceiptForm(forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=DATE, initial=timezone.localdate)


class SchoolMilestoneForm(forms.Form):
    kind = forms.ChoiceField(label=_("Milestone"), choices=SchoolMilestoneKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=SchoolMilestoneStatus.choices)
    drafted_on = forms.DateField(label=_("Drafted on"), widget=DATE, required=False)
    adopted_on = forms.DateField(label=_("Adopted on"), widget=DATE, required=False)
    document = forms.FileField(label=_("Document (PDF, JPEG or PNG)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document_type = ""

    def clean_document(self):
        return _document_clean(self)

    def clean(self):
        data = super().clean()
        if data.get("status") == SchoolMilestoneStatus.ADOPTED and not data.get("adopted_on"):
            self.add_error("adopted_on", _("Give the date it was adopted."))
        return data


__all__ = [
    "AgreementEditForm",
    "AgreementEndForm",
    "ActivityForm",
    "SecondmentForm",
    "ProjectForm",
    "DonationForm",
    "ConfirmReceiptForm",
    "SchoolMilestoneForm",
    "SecondmentEndForm",
]
