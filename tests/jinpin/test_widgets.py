"""Date inputs are rendered in ISO whatever the language; the favicon exists."""

import datetime as dt

from django import forms
from django.test import override_settings
from django.utils import translation

from jinpin.widgets import DateInput
from pairing.forms import DATE as PAIRING_DATE
from teachers.forms import DATE as TEACHERS_DATE


class _Form(forms.Form):
    on = forms.DateField(widget=DateInput())


def test_date_input_renders_iso_in_every_language():
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            html = _Form(initial={"on": dt.date(2016, 9, 26)}).as_p()
        assert 'type="date"' in html
        assert 'value="2016-09-26"' in html


def test_every_app_uses_the_one_date_widget():
    assert isinstance(PAIRING_DATE, DateInput) and isinstance(TEACHERS_DATE, DateInput)
    assert PAIRING_DATE.format == TEACHERS_DATE.format == "%Y-%m-%d"


@override_settings(STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
def test_favicon_is_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith("favicon.svg")
