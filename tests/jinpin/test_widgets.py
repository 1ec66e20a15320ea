"""Date inputs are rendered in ISO whatever the language; the favicon exists."""

import datetime as dt

import pytest
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


def _form_classes():
    import importlib
    import inspect

    for app in ("schools", "teachers", "pairing", "subsidies", "inspections"):
        for module_name in (f"{app}.forms", f"{app}.filters"):
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError:
                continue
            for _name, obj in inspect.getmembers(module, inspect.isclass):
                if obj.__module__ == module.__name__ and hasattr(obj, "base_fields"):
                    yield obj
                if obj.__module__ == module.__name__ and hasattr(obj, "base_filters"):
                    for f in obj.base_filters.values():
                        yield type(f"{obj.__name__}_{f.field_name}", (forms.Form,), {"x": f.field})


def test_every_date_field_of_every_form_is_the_iso_date_input():
    """Every form and filter class of every app: a date field renders through jinpin.widgets.DateInput (or a
    plain text input for a year or range it does not hold), never Django's localised text date input."""
    checked, wrong = 0, []
    for cls in _form_classes():
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
                checked += 1
                if not isinstance(field.widget, DateInput):
                    wrong.append(f"{cls.__module__}.{cls.__name__}.{name}: {type(field.widget).__name__}")
    assert checked >= 15, checked
    assert not wrong, wrong


@pytest.mark.django_db
def test_edit_forms_come_up_with_the_stored_dates(world, client_for):
    """The edit pages' date inputs carry the stored date in ISO, in Chinese as in English."""

    from pairing.models import AgreementStatus
    from tests.pairing.factories import agreement

    draft = agreement(
        world.strong_a,
        world.weak_a,
        signed_on=dt.date(2016, 9, 1),
        status=AgreementStatus.DRAFT,
        ends_on=dt.date(2019, 7, 31),
    )
    c = client_for(world.officer_a)
    for lang in ("zh-hans", "en"):
        page = c.get(f"/pairing/{draft.pk}/edit/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert 'name="signed_on" value="2016-09-01"' in page, lang
        assert 'name="ends_on" value="2019-07-31"' in page, lang
