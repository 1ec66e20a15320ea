"""The rows of the long lists, rendered by Jinja2 (issue 14), byte for byte what Django's templates wrote.

In Django's template engine every ``{{ a.b.c }}`` of every row is resolved at render time (a
dictionary lookup tried first, then an attribute, each failure an exception) and every node is
rendered through a chain of calls; Jinja2 compiles a template to Python once, so a row costs a few
attribute reads and string joins. Measured at scale 10 (gunicorn workers' CPU per request, README
"Speed at city scale"): awards 20-24 -> 16-19 ms, pupils 13-15 -> 11-12 ms, households 14 -> 12 ms,
payout lines 16 -> 14 ms (teachers and agreements gained once each row's related list was prefetched
into a plain list, in their views).

Only the repeated part of a page is a Jinja2 template — ``templates/<app>/rows/*.jinja``, included by
the page's Django template with ``{% rows "subsidies/rows/awards.jinja" %}`` (``jinpin_tags.rows``),
which hands it the page's context. Everything else (the layout, forms, messages, CSRF) stays in
Django's templates. The output is what the Django template wrote, byte for byte:

* every printed value goes through ``finalize`` = Django's ``render_value_in_context``: aware
  datetimes in the current time zone, numbers and dates localized, then Django's
  ``conditional_escape`` (``&#x27;`` and ``&quot;``, not markupsafe's ``&#39;``/``&#34;``; a value
  marked safe stays as it is). That is the escaping: Jinja2's own autoescape is off, since it would
  only wrap each escaped value again. Text written in the template itself is not a value and is
  printed as written;
* the same filters as the Django templates, from the same functions (``yuan``, ``row_url``,
  ``select_label``, ``choice``, ``person``, ``cell``…), and ``pii(obj, field)`` as ``{% pii %}``,
  recorded for the privacy audit the same way;
* ``_("…")`` is Django's ``gettext`` (the request's language); ``makemessages`` reads ``.jinja``
  files too (``jinpin/management/commands/makemessages.py``), so their strings stay in the catalogue.

``tests/jinpin/test_jinja_rows.py`` renders every converted list for every role and both languages with
the Django row template it replaced (kept under ``tests/jinpin/dtl_rows/``) and compares the bytes.
"""

from __future__ import annotations

import contextvars
import datetime
import html
from functools import lru_cache

import jinja2
from django.conf import settings
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.translation import gettext, ngettext, pgettext

#: what one ``render`` works out once instead of for every value: whether a date prints as its ISO form in the
#: current language, and the row links' URL prefixes by name (each otherwise asks the language, script prefix
#: and URL configuration: three context-local lookups per link)
_state: contextvars.ContextVar[dict | None] = contextvars.ContextVar("jinpin_jinja_render", default=None)
_MISSING = object()


def _finalize(value):
    """``{{ value }}`` as Django's templates print it (``django.template.base.render_value_in_context``)."""
    cls = value.__class__
    if cls is str:  # Django's escape(), without its lazy-string wrapper: the same characters, the same entities
        return html.escape(value)
    if cls is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)  # what localize() gives an int without grouping; digits need no escaping
    if cls is datetime.date:
        state = _state.get()
        if state is not None and state["iso_dates"]:
            return value.isoformat()  # DATE_FORMAT "Y-m-d" in this language (jinpin/formats)
    return conditional_escape(formats.localize(timezone.template_localtime(value)))


def _row_url(pk, name):
    """``{{ pk|row_url(name) }}``: ``jinpin.render.row_url``, its prefix looked up once per render."""
    from jinpin.render import row_url, url_prefix

    state = _state.get()
    if state is None or pk.__class__ is not int:
        return row_url(name, pk)
    parts = state["prefixes"].get(name, _MISSING)
    if parts is _MISSING:
        parts = state["prefixes"][name] = url_prefix(name)
    return row_url(name, pk) if parts is None else f"{parts[0]}{pk}{parts[1]}"


@jinja2.pass_context
def _pii(context, obj, field, place=None):
    """``{% pii obj "field" %}``: the same tag function, given Jinja2's context (it reads ``request`` and
    ``pii_place`` from it the same way)."""
    from jinpin.templatetags.jinpin_tags import pii

    return pii(context, obj, field, place)


def _date(value, fmt=None):
    """``|date:fmt``; an ISO date without the formatter (the same string, a tenth of the time)."""
    from django.template import defaultfilters

    if fmt == "Y-m-d" and value.__class__ is datetime.date:
        return value.isoformat()
    return defaultfilters.date(timezone.template_localtime(value), fmt)


def _url(name, *args):
    """``{% url name arg… %}``."""
    from django.urls import reverse

    return reverse(name, args=args)


def _filters():
    from django.template import defaultfilters

    from jinpin import display
    from jinpin.auditview import readable
    from jinpin.templatetags import jinpin_tags as tags

    return {
        "yuan": display.yuan,
        "person": display.person,
        "choice": display.choice_label,
        "yesno_zh": display.yes_no,
        "readable": readable,
        "row_url": _row_url,
        "select_label": tags.select_label,
        "cell": tags.cell,
        "truncatechars": defaultfilters.truncatechars,
        "date": _date,
    }


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in settings.TEMPLATES[0]["DIRS"]]),
        # every printed value is escaped by ``finalize`` (Django's escaping); Jinja2's own autoescape would
        # wrap each result a second time
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.ChainableUndefined,  # as Django's templates: a missing value prints as ""
        auto_reload=settings.DEBUG,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=False,
    )
    env.filters.update(_filters())
    env.globals.update(
        {"url": _url, "_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "pii": _pii}
    )
    return env


def render(name: str, context: dict) -> str:
    """The template ``name`` (under ``templates/``) rendered with ``context``; safe HTML."""
    token = _state.set({"iso_dates": formats.get_format("DATE_FORMAT") == "Y-m-d", "prefixes": {}})
    try:
        return environment().get_template(name).render(context)
    finally:
        _state.reset(token)
