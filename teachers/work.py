"""Work waiting in the teachers app (registered with ``jinpin.work``)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jinpin import work
from jinpin.scope import Role

from . import invalidation
from . import training_compliance as comp
from .models import Teacher


def short_of_training(scope):
    """Staff of the training rule's target group below its minimum hours, in scope (the compliance page's list)."""
    rule = comp.active_rule()
    if rule is None:
        return Teacher.objects.none()
    return comp.short_of(rule, scope.filter(Teacher)).select_related("school")


def register():
    work.register(
        work.WorkItem(
            key="short_of_training",
            label=_("Staff short of the training hours"),
            roles=frozenset({Role.PRINCIPAL, Role.COUNTY_OFFICER}),
            rows=short_of_training,
            columns=[
                (_("Name"), lambda t: t.name),
                (_("School"), lambda t: t.school.name),
                (_("Hours"), lambda t: t.hours),
            ],
            url=lambda t: reverse("teachers:teacher_detail", args=[t.pk]),
            page=lambda scope: reverse("teachers:compliance"),
            order=40,
            # every teacher's hours against the rule: kept until a teacher, service, attendance, course, rule
            # or school write moves the "teachers" stamp (as the compliance page's own summaries are)
            cache_area=invalidation.AREA,
        )
    )
