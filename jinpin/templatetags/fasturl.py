"""``{% url %}`` as Django's own tag, its URLs without arguments or with one integer id reversed once per process
(``jinpin.render.plain_url`` / ``row_url``): the layout's menu alone reversed some twenty names on every page.
A builtin of the template engine (settings ``TEMPLATES["OPTIONS"]["builtins"]``), so it replaces Django's tag in
every template without a ``{% load %}``. Anything else — keyword arguments, several arguments, a name that does
not reverse — is Django's tag unchanged."""

from django import template
from django.template import defaulttags
from django.utils.html import conditional_escape

from jinpin.render import plain_url, row_url

register = template.Library()


class CachedURLNode(defaulttags.URLNode):
    def render(self, context):
        from django.urls import NoReverseMatch

        if self.kwargs or len(self.args) > 1:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        if args and (not isinstance(args[0], int) or isinstance(args[0], bool) or args[0] < 0):
            return super().render(context)
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        try:
            url = row_url(view_name, args[0], current_app) if args else plain_url(view_name, current_app)
        except NoReverseMatch:
            return super().render(context)  # Django's own error, or "" with ``as var``
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    node.__class__ = CachedURLNode
    return node
