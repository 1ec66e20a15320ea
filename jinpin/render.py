"""Cheaper rendering of what every list page repeats (issue 14), with byte-identical output.

A list page of 50 rows spent most of its time in the template engine rather than the database:
each filter drop-down rendered every ``<option>`` through two included templates, each row's
status label rebuilt a dict of all the field's choices (Django's ``get_FOO_display``), and every
row reversed its links through the URL resolver. The pieces here do the same work once:

* ``FastWidgetRenderer`` (``FORM_RENDERER``): Django's own ``select``/``option``/``input`` widget
  templates written out in Python, used only where the template that would be used is Django's
  own (a project or app override is rendered as before) and only for plain values; anything else
  falls back to the template. ``tests/jinpin/test_render.py`` checks the output against the
  templates, byte for byte, for every filter form of every list page.
* ``install_choice_displays()``: ``get_FOO_display`` of every model field with fixed choices
  reads a dict built once per field and language instead of one per call, its labels translated once.
* ``url_prefix``/``row_url``: a detail URL with one integer argument reversed once per process
  and language, the id spliced in (the ``row_url`` template filter); ``plain_url``: a URL without
  arguments reversed once. Every ``{% url %}`` of the Django templates goes through them
  (``jinpin.templatetags.fasturl``, a builtin replacing Django's tag).
"""

from __future__ import annotations

from functools import partialmethod
from pathlib import Path

import django
from django.forms.renderers import DjangoTemplates
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData

# -- widgets -----------------------------------------------------------------------------------
_DJANGO_WIDGETS = Path(django.__file__).resolve().parent / "forms" / "templates" / "django" / "forms" / "widgets"
_INPUTS = ("text", "number", "search", "email", "url", "password", "hidden", "date", "datetime", "time", "tel")
_PLAIN = (str, int)


def _s(value):
    """``{{ value|stringformat:'s' }}``: ``"%s" % value``, safe again if it was safe, then escaped."""
    if isinstance(value, SafeData):
        return value  # stringformat keeps it safe: not escaped
    return conditional_escape(str(value))  # "%s" % value, for the plain values that get here


def _attrs(attrs) -> str | None:
    """``django/forms/widgets/attrs.html``; None when a value is not plain (the template decides)."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if not isinstance(name, str) or isinstance(name, SafeData):
            return None
        if value is True:
            out.append(" " + conditional_escape(name))
        elif isinstance(value, _PLAIN) or type(value).__name__ == "ModelChoiceIteratorValue":
            out.append(f' {conditional_escape(name)}="{_s(value)}"')
        else:
            return None
    return "".join(out)


def _label(label) -> str | None:
    """``{{ label }}`` for a text label (a number or a date would be localised: the template decides)."""
    if isinstance(label, str) or (isinstance(label, Promise) and not isinstance(label, SafeData)):
        return conditional_escape(str(label))
    return None


def _option(option) -> str | None:
    """``django/forms/widgets/select_option.html`` (with the file's closing newline, kept by the include)."""
    if option.get("template_name") != "django/forms/widgets/select_option.html":
        return None
    value = option["value"]
    if not (isinstance(value, _PLAIN) or value is None or type(value).__name__ == "ModelChoiceIteratorValue"):
        return None
    attrs = _attrs(option["attrs"])
    label = _label(option["label"])
    if attrs is None or label is None:
        return None
    return f'<option value="{_s(value)}"{attrs}>{label}</option>\n'


def _select(widget) -> str | None:
    """``django/forms/widgets/select.html``, for drop-downs without option groups."""
    attrs = _attrs(widget["attrs"])
    if attrs is None or not isinstance(widget["name"], str):
        return None
    parts = [f'<select name="{conditional_escape(widget["name"])}"{attrs}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            return None
        for option in group_choices:
            html = _option(option)
            if html is None:
                return None
            parts.append("\n  ")
            parts.append(html)
    parts.append("\n</select>")
    return "".join(parts)


def _input(widget) -> str | None:
    """``django/forms/widgets/input.html`` as included by ``text.html`` and its siblings."""
    attrs = _attrs(widget["attrs"])
    value = widget["value"]
    if attrs is None or not isinstance(widget["name"], str) or not isinstance(widget["type"], str):
        return None
    if value is None:
        shown = ""
    elif isinstance(value, _PLAIN):
        shown = f' value="{_s(value)}"'
    else:
        return None
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"{shown}{attrs}>'
    )


_FAST = {"django/forms/widgets/select.html": _select} | {
    f"django/forms/widgets/{name}.html": _input for name in _INPUTS
}


class FastWidgetRenderer(DjangoTemplates):
    """Django's default form renderer, with the plain widgets above written in Python (the renderer
    strips the template's outer whitespace, so the functions above leave it out)."""

    def __init__(self):
        super().__init__()
        self._own: dict[str, bool] = {}

    def _is_django_own(self, template_name: str) -> bool:
        """Would ``template_name`` (and what it includes) be Django's own file? Checked once per name."""
        own = self._own.get(template_name)
        if own is None:
            own = True
            names = [template_name]
            if template_name != "django/forms/widgets/select.html":
                names.append("django/forms/widgets/input.html")
            else:
                names += ["django/forms/widgets/select_option.html"]
            names.append("django/forms/widgets/attrs.html")
            for name in names:
                origin = self.get_template(name).origin.name
                if Path(origin).resolve().parent != _DJANGO_WIDGETS:
                    own = False
            self._own[template_name] = own
        return own

    def render(self, template_name, context, request=None):
        fast = _FAST.get(template_name)
        if fast is not None and request is None and self._is_django_own(template_name):
            html = fast(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)


# -- choice labels -----------------------------------------------------------------------------
def _choice_display(field):
    by_language: dict = {}
    missing = object()

    def get_display(self):
        from django.utils.translation import get_language

        language = get_language()
        labels = by_language.get(language)
        if labels is None:  # the labels translated once per language, not on every call
            labels = by_language[language] = {
                k: force_str(v, strings_only=True) for k, v in dict(make_hashable(field.flatchoices)).items()
            }
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, missing)
        except TypeError:  # an unhashable value (a list): as Django does
            label = labels.get(make_hashable(value), missing)
        return force_str(value, strings_only=True) if label is missing else label

    return get_display


def install_choice_displays() -> None:
    """Give every model field with a fixed list of choices a ``get_FOO_display`` reading a dict built
    once (Django's builds ``dict(make_hashable(field.flatchoices))`` on every call). A method a model
    defines itself, and choices given as a callable, are left as they are."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_parents=False):
            if not getattr(field, "choices", None) or not getattr(field, "concrete", False):
                continue
            if not isinstance(field.choices, (list, tuple)):
                continue
            name = f"get_{field.name}_display"
            if isinstance(model.__dict__.get(name), partialmethod):
                setattr(model, name, _choice_display(field))


# -- row links ---------------------------------------------------------------------------------
_SENTINEL = 918273645  # an id no list shows; the reversed URL is cut around it
_prefixes: dict[tuple, tuple[str, str] | None] = {}


def url_prefix(name: str, current_app: str | None = None) -> tuple[str, str] | None:
    """``(before, after)`` of ``reverse(name, args=[pk])`` around the id, once per name, script prefix,
    language and application instance; None when the id cannot be spliced in (then ``reverse`` is called
    each time)."""
    from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
    from django.utils.translation import get_language

    key = (name, get_script_prefix(), get_urlconf(), get_language(), current_app)
    try:
        return _prefixes[key]
    except KeyError:
        pass
    try:
        url = reverse(name, args=[_SENTINEL], current_app=current_app)
    except NoReverseMatch:  # a pattern that takes no such number (a year, say): reversed each time
        _prefixes[key] = None
        return None
    token = str(_SENTINEL)
    parts = (url[: url.index(token)], url[url.index(token) + len(token) :]) if url.count(token) == 1 else None
    _prefixes[key] = parts
    return parts


def row_url(name: str, pk, current_app: str | None = None) -> str:
    """``reverse(name, args=[pk])`` for an integer id, the same string, without the resolver per row."""
    from django.urls import reverse

    parts = url_prefix(name, current_app) if isinstance(pk, int) and not isinstance(pk, bool) else None
    if parts is None:
        return reverse(name, args=[pk], current_app=current_app)
    return f"{parts[0]}{pk}{parts[1]}"


_plain_urls: dict[tuple, str] = {}


def plain_url(name: str, current_app: str | None = None) -> str:
    """``reverse(name)`` of a URL without arguments, once per name, script prefix, language and application
    instance (a page's menu reversed some twenty of them on every request)."""
    from django.urls import get_script_prefix, get_urlconf, reverse
    from django.utils.translation import get_language

    key = (name, get_script_prefix(), get_urlconf(), get_language(), current_app)
    url = _plain_urls.get(key)
    if url is None:
        url = _plain_urls[key] = reverse(name, current_app=current_app)
    return url
