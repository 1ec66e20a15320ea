"""Work waiting in 结对帮扶 (registered with ``jinpin.work``): minimums not yet met this semester."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jinpin import work
from jinpin.scope import Role

from . import compliance
from .models import Agreement, AgreementStatus


def due_cells(scope, day=None) -> list:
    """The minimums of the person's active agreements not yet met for the current semester or school year
    (not yet, or missed), from the compliance engine (one SQL statement). "Current": those containing ``day``,
    by default the reference date (the latest period with records, ``compliance.current_periods``); whether a
    minimum is missed or not yet is judged against the real today."""
    year, semester = compliance.current_periods(day)
    if year is None:
        return []
    agreements = scope.filter(Agreement).filter(status=AgreementStatus.ACTIVE)
    cells = compliance.cells(agreements, years=[year], today=timezone.localdate())
    current = [
        c
        for c in cells
        if c.state != compliance.MET and (c.period_kind == "year" or (semester and c.period_id == semester.pk))
    ]
    return sorted(current, key=lambda c: (c.agreement_id, str(c.minimum)))


def agreements_due(scope):
    ids = {c.agreement_id for c in due_cells(scope)}
    return scope.filter(Agreement).filter(pk__in=ids).select_related("helping_school").order_by("pk")


def register():
    work.register(
        work.WorkItem(
            key="agreements_due",
            label=_("Agreements with a minimum not yet met this semester"),
            roles=frozenset({Role.COUNTY_OFFICER}),
            rows=agreements_due,
            columns=[(_("Agreement"), lambda a: str(a)), (_("Helping school"), lambda a: a.helping_school.name)],
            url=lambda a: reverse("pairing:agreement_detail", args=[a.pk]),
            order=15,
            # the compliance engine over the county's agreements (about 0.1 s at city scale): kept until an
            # agreement, activity, minimum or calendar write moves the twinning stamp, or a school's or
            # village's write the "teachers" stamp (a helping school's county is the scope)
            cache_area="teachers",
            cache_key=lambda scope: (compliance.generation(),),
        )
    )
    work.register(
        work.WorkItem(
            key="minimums_due",
            label=_("Minimums of your agreement still to log this semester"),
            roles=frozenset({Role.PRINCIPAL}),
            rows=due_cells,
            columns=[
                (_("Minimum"), lambda c: str(c.minimum)),
                (_("State"), lambda c: c.state_label),
                (_("Logged"), lambda c: c.count),
            ],
            url=lambda c: reverse("pairing:agreement_detail", args=[c.agreement_id]),
            order=10,
        )
    )
