from django.utils.translation import gettext_lazy as _

from jinpin import exports
from jinpin.exports import Column

from .filters import SchoolFilter
from .models import Location, Poverty, School, Stage


@exports.register
class SchoolExporter(exports.ListExporter):
    """The schools list, with the list page's filters, in the starter's scope."""

    identifier = "schools.schools"
    verbose_name = _("Schools")
    columns = [
        Column(_("School code"), 14),
        Column(_("School name"), 32),
        Column(_("County"), 12),
        Column(_("Town"), 14),
        Column(_("Village"), 14),
        Column(_("Poverty designation"), 16),
        Column(_("Stage"), 16),
        Column(_("Location class"), 12),
        Column(_("Weak school"), 10),
        Column(_("Pupils"), 10, "int"),
        Column(_("Address"), 30),
        Column(_("Updated at"), 18, "datetime"),
    ]

    filterset = SchoolFilter

    def base_queryset(self):
        return self.scope.filter(School).select_related("county", "town", "village")

    def rows(self):
        stages, locations, poverty = dict(Stage.choices), dict(Location.choices), dict(Poverty.choices)
        yes, no = str(_("Yes")), str(_("No"))
        for s in self.queryset().iterator(chunk_size=2000):
            yield (
                s.code,
                s.name,
                s.county.name,
                s.town.name if s.town else "",
                s.village.name if s.village else "",
                str(poverty[s.village.poverty]) if s.village else str(poverty[Poverty.NONE]),
                str(stages[s.stage]),
                str(locations[s.location]),
                yes if s.is_weak else no,
                s.pupils,
                s.address,
                s.updated_at,
            )
