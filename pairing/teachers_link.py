"""The seam to the teachers app: participants chosen from the teachers registry, and
挂职交流 written into the teacher's service history through the teachers services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from jinpin import autocomplete
from teachers.models import ServiceKind, Teacher, TeacherStatus
from teachers.services import service_period_close, service_period_open


def teacher_label(t) -> str:
    backbone = _(" (backbone teacher)") if getattr(t, "is_backbone_a", False) else ""
    return f"{t.name}{backbone} · {t.school.name if t.school_id else ''}"


class TeacherChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, t):
        return teacher_label(t)


def pair_teachers(agreement):
    """Active teachers of the two schools of a pair (not narrowed by the user's scope: a principal
    picks colleagues of the partner school too)."""
    return (
        Teacher.objects.filter(school_id__in=agreement.school_ids(), status=TeacherStatus.ACTIVE)
        .with_is_backbone()
        .select_related("school")
        .order_by("school_id", "name")
    )


def pair_teachers_for_request(request):
    """The picker's rows: the teachers of a pair the user may see (``?agreement=<id>``; 404 otherwise)."""
    from jinpin.forms import parse_id

    from .models import Agreement

    agreement = request.scope.get_or_404(Agreement, pk=parse_id(request.GET.get("agreement"), default=0))
    return pair_teachers(agreement)


def participants_field(agreement, label=None):
    field = TeacherChoice(
        label=label or _("Participating teachers (both schools)"), queryset=pair_teachers(agreement), required=False
    )
    autocomplete.use_picker(field, "pair-teachers", agreement=agreement.pk)
    return field


def teacher_field(agreement):
    field = forms.ModelChoiceField(
        label=_("Teacher (from the registry)"), queryset=pair_teachers(agreement), required=False
    )
    field.label_from_instance = lambda t: f"{t.name} · {t.school.name if t.school_id else ''}"
    autocomplete.use_picker(field, "pair-teachers", agreement=agreement.pk)
    return field


def participants_of(activity):
    return list(activity.participants.select_related("school").order_by("name"))


def open_for(secondment, acting_user):
    """A secondment of a registered teacher opens a part-time 挂职交流 period at the host school
    (the home full-time post stays). ``ends_on`` is the last day; the period's end is exclusive."""
    if secondment.teacher_id is None:
        return None
    end = secondment.ends_on + dt.timedelta(days=1) if secondment.ends_on else None
    period = service_period_open(
        teacher=secondment.teacher,
        school=secondment.to_school,
        start=secondment.starts_on,
        end=end,
        full_time=False,
        kind=ServiceKind.SECONDMENT,
        acting_user=acting_user,
        note=str(_("Twinning secondment, agreement %(n)s") % {"n": secondment.agreement_id})[:200],
    )
    secondment.service_period = period
    secondment.save(update_fields=["service_period"])
    return period


def close_for(secondment, acting_user):
    if secondment.service_period_id is None or secondment.ends_on is None:
        return None
    return service_period_close(
        period=secondment.service_period, end=secondment.ends_on + dt.timedelta(days=1), acting_user=acting_user
    )
