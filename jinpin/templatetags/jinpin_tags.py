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
    query.pop("page", None)
    arrow = " ▲" if current == field else (" ▼" if current == f"-{field}" else "")
    return format_html('<a href="?{}">{}{}</a>', query.urlencode(), label, arrow)


@register.simple_tag(takes_context=True)
def pii(context, obj, field, place=None):
    """``{% pii student "pupil_id" %}``: the field as the user may see it (jinpin.privacy). The place
    is the view's ``pii_place`` (the auditor's payment trace) or a page."""
    from jinpin import privacy

    return privacy.show(context.get("request"), obj, field, place or context.get("pii_place") or privacy.PAGE)


@register.filter
def query_pairs(query):
    """``{% for k, v in request.GET|query_pairs %}``: the query string's (key, value) pairs. Never
    ``request.GET.items`` in a template: a template looks up ``items`` as a key first, so
    ``?items=x`` would turn it into the string "x" (an HTTP 500)."""
    return list(query.items())


@register.simple_tag
def held_uploads(form, field_name):
    """``[(token, file name)]`` of the files held for ``field_name`` after a failed submit (jinpin.held_uploads)."""
    return getattr(form, "held", {}).get(field_name, [])
