"""Form widgets shared by every app."""

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. ``<input type="date">`` accepts only ISO dates (yyyy-mm-dd), whatever
    the page's language renders dates as, so the value is always written in ISO: otherwise an edit
    form comes up blank and loses the stored date."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format="%Y-%m-%d")
