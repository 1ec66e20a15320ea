"""The FilterSet base of every list page and export: filters take ``scope=`` and every
model-choice filter over a registered model offers only in-scope rows (jinpin.scope).

A drop-down's choices (periods, schemes, counties…) are kept in the shared cache while their tables are
unchanged (``kept_choices``): a list page otherwise runs a query and builds model instances for each of them
on every request.

Query strings are parsed here the one way (jinpin.forms): NUL characters are dropped from every
value (PostgreSQL refuses them), and numbers, ids and model choices accept only the ASCII digits
0-9 within a bigint: ``?county=٣`` or ``?page=²`` is "not a valid choice", never an HTTP 500.
"""

import django_filters
from django import forms
from django.core.exceptions import EmptyResultSet
from django.forms.models import ModelChoiceIteratorValue
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import pagecache
from .scope import ScopedFilterSetMixin


def _refuse_non_ascii(field, value) -> None:
    if isinstance(value, str) and not value.isascii():
        code = "invalid_choice" if "invalid_choice" in field.error_messages else "invalid"
        raise forms.ValidationError(field.error_messages[code], code=code, params={"value": value})


def _ascii_only(field_class):
    """``field_class`` refusing numbers and ids written in anything but ASCII (``int("٣") == 3``,
    ``Decimal("٣") == 3``: Django's fields would take them)."""

    class Ascii(field_class):
        def to_python(self, value):
            _refuse_non_ascii(self, value)
            return super().to_python(value)

        def _check_values(self, value):  # ModelMultipleChoiceField's lookup of every chosen id
            for v in value or ():
                _refuse_non_ascii(self, v)
            return super()._check_values(value)

    Ascii.__name__ = Ascii.__qualname__ = f"Ascii{field_class.__name__}"
    return Ascii


_NUMERIC = (forms.ModelChoiceField, forms.IntegerField, forms.DecimalField, forms.FloatField)


def clean_data(data):
    """A copy of a query string without NUL characters in its values (keys with NUL are dropped)."""
    if data is None:
        return None
    if not hasattr(data, "lists"):
        return {k: (v.replace("\x00", "") if isinstance(v, str) else v) for k, v in data.items() if "\x00" not in k}
    out = data.copy()
    for key, values in list(data.lists()):
        if "\x00" in key:
            del out[key]
        elif any("\x00" in v for v in values if isinstance(v, str)):
            out.setlist(key, [v.replace("\x00", "") if isinstance(v, str) else v for v in values])
    return out


class AnyYesNoSelect(forms.NullBooleanSelect):
    """A yes/no filter's drop-down: 不限 / 是 / 否 (Django's own reads 未知 / 是 / 否, "unknown" where the
    list means "any")."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("unknown", pgettext_lazy("yes/no filter", "Any")), ("true", _("Yes")), ("false", _("No")))


class ScopedFilterSet(ScopedFilterSetMixin, django_filters.FilterSet):
    def __init__(self, data=None, *args, **kwargs):
        super().__init__(clean_data(data), *args, **kwargs)
        for f in self.filters.values():
            if isinstance(f, django_filters.BooleanFilter) and "widget" not in f.extra:
                f.extra["widget"] = AnyYesNoSelect
            if issubclass(f.field_class, _NUMERIC) and not f.field_class.__name__.startswith("Ascii"):
                f.field_class = _ascii_only(f.field_class)

    @property
    def form(self):
        """django-filter's form, its drop-downs' choices read from the shared cache (``kept_choices``)."""
        form = super().form
        if not self.__dict__.get("_choices_kept"):
            self._choices_kept = True
            fields = {n: f for n, f in form.fields.items() if isinstance(f, forms.ModelChoiceField)}
            if fields:
                owner = f"{type(self).__module__}.{type(self).__qualname__}"
                for name, choices in kept_choices(owner, fields).items():
                    # what ChoiceField's setter does (django-filter's would wrap the list in its iterator again)
                    fields[name]._choices = fields[name].widget.choices = choices
        return form


def _plain_choices(field: forms.ModelChoiceField) -> list:
    return [
        (value.value if isinstance(value, ModelChoiceIteratorValue) else value, str(label))
        for value, label in field.choices
    ]


def kept_choices(owner: str, fields: dict) -> dict:
    """The choices each of ``fields`` (name -> model choice field) offers, as plain ``(id, label)`` pairs, kept
    together in the shared cache while the tables they were read from are unchanged (``jinpin.pagecache.kept``:
    one cache read for the whole form). Keyed by the choice queries themselves (their SQL and parameters: the
    user's scope, and anything else a filter narrows them by), the language and the release. Validation still asks
    the database (``ModelChoiceField.clean`` reads its queryset), so a choice removed a moment ago is refused even
    while an older list is shown."""
    out, queries = {}, []
    for name, field in fields.items():
        try:
            queries.append((name, *field.queryset.query.sql_with_params()))
        except EmptyResultSet:  # an empty choice (``.none()``): no query, nothing to keep
            out[name] = _plain_choices(field)
    if queries:
        out |= pagecache.kept(
            "choices",
            (owner, translation.get_language(), queries),
            lambda: {name: _plain_choices(fields[name]) for name, *_q in queries},
        )
    return out
