from django import forms
from django.utils.translation import gettext_lazy as _

from jinpin.scope import ScopedFormMixin

from .models import County, School, Town, Village


class SchoolForm(ScopedFormMixin, forms.ModelForm):
    """Create or edit a school. Every choice is narrowed to the user's scope."""

    class Meta:
        model = School
        fields = ["code", "name", "county", "town", "village", "stage", "location", "is_weak", "address", "pupils"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = self.fields["town"].queryset.select_related("county")
        self.fields["village"].queryset = self.fields["village"].queryset.select_related("town")
        if self.scope.is_county_officer:
            self.fields["county"].initial = self.scope.county_id

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if len(code) != 10:
            raise forms.ValidationError(_("The school code has 10 digits."))
        return code

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


__all__ = ["SchoolForm", "County", "Town", "Village"]
