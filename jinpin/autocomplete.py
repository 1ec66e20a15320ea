"""Searchable, scoped pickers: a server-side autocomplete for selects with many options (teachers,
schools, pupils), shown with tom-select (static/vendor/tom-select, started by static/js/pickers.js).

Apps register a *source* (``register``): a name, the model, how to search it, how to label a row and,
where a picker offers less than the user's scope (a pair's teachers), a function narrowing the rows.
``ScopedFormMixin`` gives every model choice field over a registered model the picker widget, so a
form offers only the rows already chosen; typing asks ``/autocomplete/<source>/?q=…&page=N``, which
answers (login required) only rows in the user's scope, ``PAGE`` at a time, from ``MIN_CHARS`` typed.
The field's own queryset still decides on submit what may be chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

MIN_CHARS = 1
PAGE = 20


@dataclass(frozen=True)
class Source:
    name: str
    model: type
    search: tuple  # lookups OR-ed with the typed text, e.g. ("name__icontains", "code__startswith")
    label: Callable | None = None
    #: ``fn(request) -> queryset``: the rows offered, when not simply the user's scope of ``model``
    #: (a pair's teachers, from its ``agreement`` parameter); it answers 404 for what is out of scope
    rows: Callable | None = None
    order: tuple = ("name", "pk")


_sources: dict[str, Source] = {}
_by_model: dict[type, str] = {}


def register(name, model, *, search, label=None, rows=None, order=("name", "pk"), default=True) -> None:
    """Add a source; ``default``: model choice fields over ``model`` use it unless told otherwise."""
    _sources[name] = Source(name, model, tuple(search), label, rows, tuple(order))
    if default:
        _by_model.setdefault(model, name)


def source_for(model) -> str | None:
    return _by_model.get(model._meta.concrete_model)


def url(source: str, **params) -> str:
    base = reverse("autocomplete", args=[source])
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


class _Picker:
    """Renders only the chosen options (not thousands) and tells pickers.js where to search."""

    def __init__(self, *args, source: str, params: dict | None = None, **kwargs):
        self.source, self.params = source, params or {}
        super().__init__(*args, **kwargs)

    def get_context(self, name, value, attrs):
        attrs = {
            **(attrs or {}),
            "data-autocomplete": url(self.source, **self.params),
            "data-min-chars": MIN_CHARS,
            "data-placeholder": str(_("Type to search")),
        }
        return super().get_context(name, value, attrs)

    def optgroups(self, name, value, attrs=None):
        chosen = [v for v in value if v not in ("", None)]
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return super().optgroups(name, value, attrs)
        field = self.choices.field
        kept = queryset.filter(pk__in=[v for v in chosen if str(v).isascii() and str(v).isdigit()]) if chosen else []
        groups = []
        if not self.allow_multiple_selected:
            groups.append((None, [self.create_option(name, "", field.empty_label or "", False, 0)], 0))
        for i, obj in enumerate(kept, start=1):
            groups.append(
                (None, [self.create_option(name, obj.pk, field.label_from_instance(obj), True, i, attrs=None)], i)
            )
        return groups


class PickerSelect(_Picker, forms.Select):
    pass


class PickerSelectMultiple(_Picker, forms.SelectMultiple):
    pass


def use_picker(field, source: str | None = None, **params) -> None:
    """Give a model choice field the searchable picker of ``source`` (by default its model's)."""
    source = source or source_for(field.queryset.model)
    if source is None:
        return
    cls = PickerSelectMultiple if isinstance(field, forms.ModelMultipleChoiceField) else PickerSelect
    widget = cls(source=source, params=params, attrs=field.widget.attrs)
    widget.choices = field.choices
    widget.is_required = field.required
    field.widget = widget


def _label(source: Source, obj) -> str:
    return source.label(obj) if source.label else str(obj)


@require_GET
@login_required
def search_view(request, source):
    src = _sources.get(source)
    if src is None:
        raise Http404
    q = (request.GET.get("q") or "").strip()[:50]
    try:
        page = max(1, min(int(request.GET.get("page") or 1), 1000))
    except ValueError:
        page = 1
    if len(q) < MIN_CHARS:
        return JsonResponse({"results": [], "more": False, "min_chars": MIN_CHARS})
    qs = src.rows(request) if src.rows is not None else request.scope.filter(src.model)
    qs = qs.filter(reduce(or_, (Q(**{lookup: q}) for lookup in src.search))).order_by(*src.order)
    start = (page - 1) * PAGE
    rows = list(qs[start : start + PAGE + 1])
    return JsonResponse(
        {
            "results": [{"value": str(o.pk), "text": _label(src, o)} for o in rows[:PAGE]],
            "more": len(rows) > PAGE,
        }
    )
