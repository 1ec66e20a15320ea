from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (for pagination and sorting)."""
    query = context["request"].GET.copy()
    for k, v in kwargs.items():
        query[k] = v
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_link(context, field, label):
    """A column header that sorts by ``field``; clicking again reverses."""
    from django.utils.html import format_html

    query = context["request"].GET.copy()
    current = query.get("o", "")
    new = f"-{field}" if current == field else field
    query["o"] = new
    for edge in ("page", "after", "before", "last"):  # a new order starts from its first page
        query.pop(edge, None)
    arrow = " ▲" if current == field else (" ▼" if current == f"-{field}" else "")
    return format_html('<a href="?{}">{}{}</a>', query.urlencode(), label, arrow)


@register.simple_tag(takes_context=True)
def pii(context, obj, field, place=None):
    """``{% pii student "pupil_id" %}``: the field as the user may see it (jinpin.privacy). The place
    is the view's ``pii_place`` (the auditor's payment trace) or a page."""
    from jinpin import privacy

    return privacy.show(context.get("request"), obj, field, place or context.get("pii_place") or privacy.PAGE)


@register.filter
def row_url(pk, name):
    """``{{ a.pk|row_url:"subsidies:award_detail" }}``: ``{% url name pk %}`` for a row's integer id, the
    URL reversed once per page kind and language rather than once per row (jinpin.render)."""
    from jinpin.render import row_url as url

    return url(name, pk)


@register.filter
def select_label(name):
    """``{{ row.name|select_label }}``: a row's tick box label, "Select <name>" — what
    ``{% blocktrans with name=… %}Select {{ name }}{% endblocktrans %}`` writes, without a block tag per row."""
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    return mark_safe(gettext("Select %(name)s") % {"name": conditional_escape(name)})  # noqa: S308 - escaped


@register.filter
def query_pairs(query):
    """``{% for k, v in request.GET|query_pairs %}``: the query string's (key, value) pairs. Never
    ``request.GET.items`` in a template: a template looks up ``items`` as a key first, so
    ``?items=x`` would turn it into the string "x" (an HTTP 500)."""
    return list(query.items())


@register.filter
def yuan(value):
    """``{{ amount|yuan }}``: money with thousands separators and two places (4,123,350.00); "" for
    no value, so ``|yuan|default:"—"`` works. The one way money is written on a page."""
    from jinpin.display import yuan as fmt

    return fmt(value)


@register.filter
def person(user):
    """``{{ step.actor|person }}``: a person's name (full name, else the username); "" for nobody."""
    from jinpin.display import person as name

    return name(user)


@register.filter
def choice(value, field):
    """``{{ h.status_on_date|choice:"subsidies.HouseholdStatus.status" }}``: a stored choice's label
    (the value itself when it is not one of the field's choices)."""
    from jinpin.display import choice_label

    return choice_label(value, field)


@register.filter
def yesno_zh(value):
    """是 / 否 (and "" for no value), translated."""
    from jinpin.display import yes_no

    return yes_no(value)


@register.filter
def readable(value):
    """``{{ draw.params|readable }}``: a stored dict, list or code as labelled words, never a Python repr."""
    from jinpin.auditview import readable as words

    return words(value)


@register.simple_tag
def held_uploads(form, field_name):
    """``[(token, file name)]`` of the files held for ``field_name`` after a failed submit (jinpin.held_uploads)."""
    return getattr(form, "held", {}).get(field_name, [])


@register.filter
def cell(value):
    """``{{ cell|cell }}``: one value of a generic list (work items, a figure's records) as a reader reads it:
    "—" for nothing, 是/否, money with separators, ISO dates; anything else as it is."""
    import datetime as dt
    from decimal import Decimal

    from jinpin import display

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return display.yes_no(value)
    if isinstance(value, Decimal):
        return display.yuan(value)
    if isinstance(value, dt.date):
        return display.date(value)
    return value


@register.simple_tag(takes_context=True)
def rows(context, name):
    """``{% rows "subsidies/rows/awards.jinja" %}``: a list's repeated rows rendered by Jinja2 with the page's
    context (``jinpin.jinja``: the same bytes as the Django template they replace, less CPU per row)."""
    from django.utils.safestring import mark_safe

    from jinpin.jinja import render

    return mark_safe(render(name, context.flatten()))  # noqa: S308 - Jinja2 escaped every value


#: the layout's header as rendered for one language, role, scope and page, with stand-ins for what is each
#: request's own (``layout_header``)
_headers: dict[tuple, str] = {}
_H_CSRF, _H_WHO, _H_NEXT = "\ue000h-csrf\ue001", "\ue000h-who\ue001", "\ue000h-next\ue001"


@register.simple_tag(takes_context=True)
def layout_header(context):
    """``templates/includes/header.html`` — the skip link, the menu, the user's name, the language switch, the
    page's second menu row — rendered once per process for each language, role and scope, staff flag and page
    (what it shows depends on nothing else: the menu is code), with stand-ins for this request's CSRF token, name
    and path filled in each time. The layout rendered it on every request: a tenth of a small page's CPU."""
    from django.template.loader import get_template
    from django.urls import get_script_prefix
    from django.utils.html import conditional_escape, escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    request = context.get("request")
    csrf = context.get("csrf_token")
    template = get_template("includes/header.html").template
    if request is None or csrf is None or str(csrf) == "NOTPROVIDED":  # no request or no token: as it is
        with context.push(next_path=request.get_full_path() if request is not None else ""):
            return mark_safe(template.render(context))  # noqa: S308 - the template escaped every value
    user, scope = context.get("user"), context.get("scope")
    match = getattr(request, "resolver_match", None)
    key = (
        get_language(),
        get_script_prefix(),
        bool(user is not None and user.is_authenticated),
        bool(user is not None and user.is_staff),
        getattr(scope, "role", None),
        getattr(scope, "county_id", None),
        getattr(scope, "school_id", None),
        tuple(sorted(getattr(scope, "inspector_county_ids", ()))),
        getattr(match, "namespace", None),
        getattr(match, "view_name", None),
    )
    html = _headers.get(key)
    if html is None:
        with context.push(csrf_token=_H_CSRF, who=_H_WHO, next_path=_H_NEXT):
            html = template.render(context)
        if len(_headers) < 10_000:
            _headers[key] = html
    return mark_safe(  # noqa: S308 - the stand-ins are filled in escaped, as the template would
        html.replace(_H_CSRF, conditional_escape(str(csrf)))
        .replace(_H_WHO, conditional_escape(context.get("who", "")))
        .replace(_H_NEXT, escape(request.get_full_path()))
    )


#: a list filter's fields as rendered, per process (``filter_fields``); emptied when it reaches ``_FILTER_HTML_MAX``
_filter_html: dict[tuple, str] = {}
_FILTER_HTML_MAX = 2048


@register.simple_tag
def filter_fields(filterset, exclude=""):
    """``{% for field in filter.form %}<label>{{ field.label }} {{ field }}</label>{% endfor %}`` (less the fields
    named in ``exclude``), kept per process for each filter class, field set, language, submitted values and the
    choices offered (their ids and labels themselves, so a renamed or new choice renders anew). Rendering a list's
    six or seven widgets cost a sixth of the award list's CPU. Only a form without errors is kept: an error changes
    the markup (``aria-invalid``) and depends on the database."""
    from django.forms import ModelChoiceField
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    form = filterset.form
    skip = {n for n in exclude.split(",") if n}

    def render():
        return mark_safe(  # noqa: S308 - the label escaped, the widget Django's own (safe) markup
            "".join(f"<label>{conditional_escape(bf.label)} {bf}</label>" for bf in form if bf.name not in skip)
        )

    clean = not form.is_bound or (form._errors is not None and not form._errors)  # never validates here
    if not clean:
        return render()
    choices = []
    for name, field in form.fields.items():
        if isinstance(field, ModelChoiceField):
            if "_choices" not in field.__dict__:  # not kept (no shared cache): its choices would be a query
                return render()
            choices.append((name, tuple(map(tuple, field._choices))))
    # the submitted values of the fields (and of a multi-widget's ``name_0``, ``name_min``… parts)
    data = (
        tuple(
            sorted(
                (k, tuple(form.data.getlist(k)) if hasattr(form.data, "getlist") else repr(form.data[k]))
                for k in form.data
                if k in form.fields or any(k.startswith(n + "_") for n in form.fields)
            )
        )
        if form.is_bound
        else None
    )
    key = (type(filterset), tuple(form.fields), get_language(), exclude, data, tuple(choices))
    html = _filter_html.get(key)
    if html is None:
        if len(_filter_html) >= _FILTER_HTML_MAX:
            _filter_html.clear()
        html = _filter_html[key] = render()
    return html
