"""``makemessages`` as Django's, reading the Jinja2 rows templates (``templates/**/*.jinja``) too.

Their strings are written ``{{ _("…") }}``, which Django's own template lexer extracts, so the rows
that moved from Django templates to Jinja2 (``jinpin.jinja``) keep their entries in the catalogue.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["extensions"] = [*(options.get("extensions") or ["html", "txt", "py"]), "jinja"]
        return super().handle(*args, **options)
