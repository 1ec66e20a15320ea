"""jinpin.render: the Python widgets, choice labels and row links give exactly what Django gives."""

from functools import partialmethod

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from jinpin import render
from jinpin.render import FastWidgetRenderer

CASES = [
    forms.Select(choices=[("", "---------"), ("a", "甲 <b>&"), ("b'\"", 'B "quoted"')]),
    forms.Select(choices=[(1, "one"), (2, "two")], attrs={"class": "picker", "data-x": 'a"b', "required": True}),
    forms.Select(choices=[("x", mark_safe("<i>safe</i>"))]),
    forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]),
    forms.NullBooleanSelect(),
    forms.TextInput(attrs={"placeholder": "名字 <x>", "autofocus": True, "disabled": False}),
    forms.NumberInput(attrs={"min": 0}),
    forms.DateInput(attrs={"type": "date"}),
    forms.HiddenInput(),
    forms.EmailInput(),
    forms.Select(choices=[("G", [("a", "A"), ("b", "B")])]),  # option groups: the template renders them
]
VALUES = [None, "", "a", "b'\"", 1, "2", ["a", "c"], True, False, "<script>", 'x"y&z', 0]


@pytest.mark.parametrize("widget", CASES, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_fast_widgets_render_the_same_bytes_as_the_templates(widget, lang):
    fast, slow = FastWidgetRenderer(), DjangoTemplates()
    with translation.override(lang):
        for value in VALUES:
            attrs = {"id": "id_f", "aria-label": "<名>"}
            try:
                expected = widget.render("f", value, attrs, slow)
            except TypeError:  # a value this widget cannot take at all (a list for yes/no)
                continue
            assert widget.render("f", value, attrs, fast) == expected, value


def test_the_python_path_is_taken_for_plain_widgets(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the template was rendered")

    monkeypatch.setattr(DjangoTemplates, "render", boom)
    r = FastWidgetRenderer()
    assert forms.Select(choices=[("a", "A")]).render("s", "a", {"id": "id_s"}, r).startswith('<select name="s"')
    assert forms.TextInput().render("t", "v", {}, r) == '<input type="text" name="t" value="v">'
    with pytest.raises(AssertionError):  # a group: the template's business
        forms.Select(choices=[("G", [("a", "A")])]).render("s", "a", {}, r)


def test_an_overridden_widget_template_is_respected(monkeypatch):
    r = FastWidgetRenderer()
    r._own["django/forms/widgets/select.html"] = False  # as if a project template replaced Django's
    monkeypatch.setattr(render, "_select", lambda w: pytest.fail("the Python select was used"))
    assert "<select" in forms.Select(choices=[("a", "A")]).render("s", "a", {}, r)


def test_django_own_templates_are_recognised():
    r = FastWidgetRenderer()
    assert r._is_django_own("django/forms/widgets/select.html")
    assert r._is_django_own("django/forms/widgets/text.html")


def _django_display(obj, field):
    """Django's own ``_get_FIELD_display``, the reference."""
    from django.db.models import Model

    return Model._get_FIELD_display(obj, field)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_choice_labels_are_djangos(lang):
    from schools.models import Membership
    from subsidies.models import Award

    with translation.override(lang):
        for model, name, values in [
            (Award, "status", ["paid", "approved", "applied", "rejected", "no-such", "", None]),
            (Membership, "role", ["city_admin", "county_officer", "principal", "auditor", "x"]),
        ]:
            field = model._meta.get_field(name)
            assert not isinstance(model.__dict__[f"get_{name}_display"], partialmethod)  # installed
            for value in values:
                obj = model(**{field.attname: value})
                assert getattr(obj, f"get_{name}_display")() == _django_display(obj, field), value


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_row_urls_are_the_reversed_urls(lang):
    with translation.override(lang):
        for name in ("subsidies:award_detail", "teachers:teacher_detail", "pairing:agreement_detail"):
            for pk in (1, 42, 918273645, 10**12):
                assert render.row_url(name, pk) == reverse(name, args=[pk])
        assert render.row_url("subsidies:import", "students") == reverse("subsidies:import", args=["students"])
