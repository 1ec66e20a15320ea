"""结对帮扶 workflows: each a keyword-only function, atomic, validated before it writes.

Model saves here are audit-logged by django-auditlog's signals (the actor comes
from the request's middleware); bulk writes add an ``audit.log`` entry.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from jinpin import audit

from .models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementSchool,
    AgreementStatus,
    Attachment,
    Direction,
    Donation,
    JointProject,
    SchoolMilestone,
    SchoolMilestoneStatus,
    SchoolYear,
    Secondment,
    Semester,
)


def _raise(errors):
    if errors:
        raise ValidationError(errors)


def _set_document(obj, document, document_type):
    if document is not None:
        obj.document_type = document_type
        obj.document_name = document.name[:200]
        obj.document.save(document.name, document, save=False)


# -- agreements -------------------------------------------------------------------
@transaction.atomic
def agreement_create(
    *,
    helping_school,
    helped_schools,
    form,
    signed_on,
    starts_on=None,
    ends_on=None,
    content="",
    document=None,
    document_type="",
    acting_user,
    scope=None,
) -> Agreement:
    """Create a draft agreement. The county is the helped schools' county."""
    helped = list(helped_schools)
    _raise(Agreement.check_rules(helping_school=helping_school, helped_schools=helped, form=form))
    if scope is not None and not scope.can_write(Agreement):
        raise PermissionDenied
    agreement = Agreement(
        county_id=helped[0].county_id,
        helping_school=helping_school,
        form=form,
        signed_on=signed_on,
        starts_on=starts_on or signed_on,
        ends_on=ends_on,
        content=content,
        created_by=acting_user,
    )
    if scope is not None and not scope.can_write(Agreement, agreement):
        raise PermissionDenied
    _set_document(agreement, document, document_type)
    agreement.full_clean(exclude=["document"])
    agreement.save()
    AgreementSchool.objects.bulk_create([AgreementSchool(agreement=agreement, school=s) for s in helped])
    audit.log(
        agreement,
        action=audit.Action.UPDATE,
        actor=acting_user,
        changes={"helped_schools": [None, [s.name for s in helped]]},
    )
    return agreement


@transaction.atomic
def agreement_update(
    *,
    agreement,
    helping_school,
    helped_schools,
    form,
    signed_on,
    starts_on=None,
    ends_on=None,
    content="",
    document=None,
    document_type="",
    acting_user,
) -> Agreement:
    """Edit a draft (an active or ended agreement is a signed record: end it and sign a new one)."""
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError(_("Only a draft agreement can be edited."))
    helped = list(helped_schools)
    _raise(
        Agreement.check_rules(helping_school=helping_school, helped_schools=helped, form=form, exclude_pk=agreement.pk)
    )
    agreement.helping_school = helping_school
    agreement.county_id = helped[0].county_id
    agreement.form, agreement.signed_on, agreement.ends_on, agreement.content = form, signed_on, ends_on, content
    agreement.starts_on = starts_on or signed_on
    fields = ["helping_school", "county", "form", "signed_on", "starts_on", "ends_on", "content", "updated_at"]
    if document is not None:
        _set_document(agreement, document, document_type)
        fields += ["document", "document_name", "document_type"]
    agreement.full_clean(exclude=["document"])
    agreement.save(update_fields=fields)
    before = sorted(agreement.links.values_list("school_id", flat=True))
    after = sorted(s.pk for s in helped)
    if before != after:
        agreement.links.exclude(school__in=after).delete()
        AgreementSchool.objects.bulk_create(
            [AgreementSchool(agreement=agreement, school=s) for s in helped if s.pk not in before]
        )
        audit.log(agreement, action=audit.Action.UPDATE, actor=acting_user, changes={"helped_schools": [before, after]})
    return agreement


@transaction.atomic
def agreement_activate(*, agreement, acting_user) -> Agreement:
    """Draft → active. Re-checks every rule; the database refuses a helped school's second active agreement."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError(_("Only a draft agreement can be activated."))
    helped = [link.school for link in agreement.links.select_related("school__village")]
    _raise(
        Agreement.check_rules(
            helping_school=agreement.helping_school,
            helped_schools=helped,
            form=agreement.form,
            exclude_pk=agreement.pk,
            activating=True,
        )
    )
    try:
        with transaction.atomic():
            agreement.links.update(active=True)
    except IntegrityError:
        raise ValidationError(_("One of the helped schools already has an active agreement; end it first.")) from None
    agreement.status = AgreementStatus.ACTIVE
    agreement.save(update_fields=["status", "updated_at"])
    return agreement


@transaction.atomic
def agreement_end(*, agreement, ended_on, reason="", acting_user) -> Agreement:
    """Active → ended on ``ended_on``. The helped schools become free for a new agreement."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(_("Only an active agreement can be ended."))
    if ended_on < agreement.starts_on:
        raise ValidationError(
            {"ended_on": _("An agreement cannot end before it starts (%(d)s).") % {"d": agreement.starts_on}}
        )
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": _("The end date cannot be in the future.")})
    last = agreement.activities.order_by("-held_on").values_list("held_on", flat=True).first()
    if last and last > ended_on:
        raise ValidationError(
            {"ended_on": _("Activities are logged up to %(d)s; the end date cannot be earlier.") % {"d": last}}
        )
    agreement.links.update(active=False)
    agreement.status = AgreementStatus.ENDED
    agreement.ended_on = ended_on
    agreement.end_reason = reason
    agreement.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    return agreement


# -- the activity log ------------------------------------------------------------------
def _check_loggable(agreement, day, field="held_on"):
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(_("Activities are logged only under an active agreement."))
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if not agreement.covers(day):
        raise ValidationError({field: _("The date lies outside the agreement's term.")})


@transaction.atomic
def activity_log(
    *, agreement, kind, held_on, summary, place="", online_link="", pupils=0, participants=(), files=(), acting_user
) -> Activity:
    """Log one session under an active agreement, with its participants and checked files
    (``files`` are ``(upload, content_type)`` pairs already checked by ``uploads.check``)."""
    _check_loggable(agreement, held_on)
    if kind == ActivityKind.BACKBONE_TRAINING:
        _check_backbone(agreement, participants)
    activity = Activity(
        agreement=agreement,
        kind=kind,
        held_on=held_on,
        summary=summary,
        place=place,
        online_link=online_link,
        pupils=pupils or 0,
        created_by=acting_user,
    )
    activity.full_clean()
    activity.save()
    if participants:
        _set_participants(activity, participants)
    for upload, content_type in files:
        attachment_add(activity=activity, upload=upload, content_type=content_type, acting_user=acting_user)
    return activity


def _check_backbone(agreement, participants):
    """A backbone-teacher training visit (骨干教师送教) is run by the helping school's backbone teachers:
    at least one participant of the helping school holds a backbone honour title."""
    from teachers.models import Teacher

    ids = [t.pk for t in participants]
    ok = (
        Teacher.objects.with_is_backbone()
        .filter(pk__in=ids, school_id=agreement.helping_school_id, is_backbone_a=True)
        .exists()
        if ids
        else False
    )
    if not ok:
        raise ValidationError(
            {
                "participants": _(
                    "A training visit by backbone teachers needs at least one backbone teacher (骨干教师) of the helping school "
                    "among the participants."
                )
            }
        )


def _set_participants(activity, participants):
    if hasattr(activity, "participants"):
        allowed = activity.agreement.school_ids()
        bad = [t for t in participants if t.school_id not in allowed]
        if bad:
            raise ValidationError({"participants": _("Participants are teachers of the two schools in the pair.")})
        activity.participants.set(participants)


@transaction.atomic
def attachment_add(*, activity, upload, content_type, acting_user) -> Attachment:
    att = Attachment(
        activity=activity,
        original_name=upload.name[:200],
        content_type=content_type,
        size=upload.size,
        uploaded_by=acting_user,
    )
    att.file.save(upload.name, upload, save=False)
    att.save()
    return att


# -- secondments, projects, donations, milestones -----------------------------------------------
def _pair_schools(agreement, direction, helped_school):
    helped_ids = set(agreement.links.values_list("school_id", flat=True))
    if helped_school is None:
        if len(helped_ids) != 1:
            raise ValidationError({"helped_school": _("Choose which helped school takes part.")})
        helped_id = next(iter(helped_ids))
    else:
        helped_id = helped_school.pk
        if helped_id not in helped_ids:
            raise ValidationError({"helped_school": _("This school is not helped under this agreement.")})
    if direction == Direction.TO_HELPED:
        return agreement.helping_school_id, helped_id
    return helped_id, agreement.helping_school_id


@transaction.atomic
def secondment_record(
    *,
    agreement,
    direction,
    starts_on,
    person_name="",
    teacher=None,
    helped_school=None,
    ends_on=None,
    post="",
    note="",
    acting_user,
) -> Secondment:
    """挂职交流: place a person of one school in the other. With a teacher from the teachers registry
    it also opens a service period at the host school in the teacher's history."""
    _check_loggable(agreement, starts_on, "starts_on")
    if ends_on is not None:
        _check_secondment_end(starts_on, ends_on)
    from_id, to_id = _pair_schools(agreement, direction, helped_school)
    if teacher is not None and teacher.school_id != from_id:
        raise ValidationError({"teacher": _("The teacher must belong to the sending school.")})
    sec = Secondment(
        agreement=agreement,
        direction=direction,
        from_school_id=from_id,
        to_school_id=to_id,
        person_name=(teacher.name if teacher is not None else person_name),
        post=post,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note,
        created_by=acting_user,
    )
    if teacher is not None and hasattr(sec, "teacher"):
        sec.teacher = teacher
    sec.full_clean(exclude=["service_period"] if hasattr(sec, "service_period") else None)
    sec.save()
    _open_service(sec, acting_user)
    return sec


def _open_service(sec, acting_user):
    """Hook filled once the teachers app is present (see ``teachers_link``)."""
    from . import teachers_link

    teachers_link.open_for(sec, acting_user)


def _check_secondment_end(starts_on, ends_on):
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date is before the start.")})
    if ends_on > timezone.localdate() + dt.timedelta(days=366):
        raise ValidationError(
            {"ends_on": _("A secondment lasts at most a year ahead; record a later end when it is known.")}
        )


@transaction.atomic
def secondment_end(*, secondment, ends_on, acting_user) -> Secondment:
    _check_secondment_end(secondment.starts_on, ends_on)
    secondment.ends_on = ends_on
    secondment.save(update_fields=["ends_on"])
    from . import teachers_link

    teachers_link.close_for(secondment, acting_user)
    return secondment


@transaction.atomic
def project_create(
    *, agreement, title, started_on, status, concluded_on=None, outputs="", lead_teachers=(), lead_names="", acting_user
) -> JointProject:
    _check_loggable(agreement, started_on, "started_on")
    project = JointProject(
        agreement=agreement,
        title=title,
        started_on=started_on,
        status=status,
        concluded_on=concluded_on,
        outputs=outputs,
        lead_names=lead_names,
        created_by=acting_user,
    )
    project.full_clean()
    project.save()
    if lead_teachers and hasattr(project, "lead_teachers"):
        allowed = agreement.school_ids()
        if any(t.school_id not in allowed for t in lead_teachers):
            raise ValidationError({"lead_teachers": _("Lead teachers are teachers of the two schools in the pair.")})
        project.lead_teachers.set(lead_teachers)
        names = "、".join(t.name for t in lead_teachers)
        if names != project.lead_names:
            project.lead_names = names[:200]
            project.save(update_fields=["lead_names"])
    return project


@transaction.atomic
def donation_record(*, agreement, recipient, item, category, quantity, value, donated_on, acting_user) -> Donation:
    _check_loggable(agreement, donated_on, "donated_on")
    if recipient.pk not in set(agreement.links.values_list("school_id", flat=True)):
        raise ValidationError({"recipient": _("Donations go to a school helped under this agreement.")})
    donation = Donation(
        agreement=agreement,
        recipient=recipient,
        item=item,
        category=category,
        quantity=quantity,
        value=value,
        donated_on=donated_on,
        created_by=acting_user,
    )
    donation.full_clean()
    donation.save()
    return donation


@transaction.atomic
def donation_confirm(*, donation, received_on, acting_user, scope) -> Donation:
    """The helped school confirms receipt (its principal, or an officer)."""
    if scope.is_principal and scope.school_id != donation.recipient_id:
        raise PermissionDenied
    if not (scope.is_principal or scope.is_county_officer or scope.is_city_admin):
        raise PermissionDenied
    if donation.received_on:
        raise ValidationError(_("Receipt was already confirmed."))
    if received_on < donation.donated_on:
        raise ValidationError({"received_on": _("It cannot be received before it was donated.")})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("The date cannot be in the future.")})
    claimed = Donation.objects.filter(pk=donation.pk, received_on__isnull=True).update(
        received_on=received_on, received_by=acting_user
    )
    if claimed != 1:
        raise ValidationError(_("Receipt was already confirmed."))
    donation.refresh_from_db()
    audit.log(
        donation,
        action=audit.Action.UPDATE,
        actor=acting_user,
        changes={"received_on": [None, str(received_on)], "received_by": [None, str(acting_user)]},
    )
    return donation


@transaction.atomic
def milestone_set(
    *, school, kind, status, drafted_on=None, adopted_on=None, document=None, document_type="", acting_user
) -> SchoolMilestone:
    """Record a helped school's development plan or charter as drafted or adopted."""
    ms = SchoolMilestone.objects.select_for_update().filter(school=school, kind=kind).first() or SchoolMilestone(
        school=school, kind=kind
    )
    if status == SchoolMilestoneStatus.ADOPTED and not adopted_on:
        raise ValidationError({"adopted_on": _("Give the date it was adopted.")})
    if adopted_on and adopted_on > timezone.localdate():
        raise ValidationError({"adopted_on": _("The date cannot be in the future.")})
    if drafted_on and drafted_on > timezone.localdate():
        raise ValidationError({"drafted_on": _("The date cannot be in the future.")})
    if drafted_on and adopted_on and status == SchoolMilestoneStatus.ADOPTED and adopted_on < drafted_on:
        raise ValidationError({"adopted_on": _("It cannot be adopted before it was drafted.")})
    ms.status, ms.drafted_on, ms.adopted_on, ms.updated_by = status, drafted_on, adopted_on, acting_user
    if status == SchoolMilestoneStatus.DRAFTED:
        ms.adopted_on = None
    fields = ["status", "drafted_on", "adopted_on", "updated_by", "updated_at"]
    if document is not None:
        _set_document(ms, document, document_type)
        fields += ["document", "document_name", "document_type"]
    ms.full_clean(exclude=["document"])
    if ms.pk is None:
        try:
            with transaction.atomic():
                ms.save()
        except IntegrityError as e:  # created meanwhile (a double submit): the unique (school, kind) decides
            raise ValidationError(_("This milestone was just recorded by someone else; reload the page.")) from e
    else:
        ms.save(update_fields=fields)
    return ms


# -- the calendar ---------------------------------------------------------------------------
@transaction.atomic
def calendar_reassign(*, acting_user=None) -> int:
    """Re-derive every activity's school year and semester after the calendar changed: one UPDATE."""
    n = Activity.objects.update(
        school_year=Subquery(
            SchoolYear.objects.filter(starts_on__lte=OuterRef("held_on"), ends_on__gte=OuterRef("held_on")).values(
                "pk"
            )[:1]
        ),
        semester=Subquery(
            Semester.objects.filter(starts_on__lte=OuterRef("held_on"), ends_on__gte=OuterRef("held_on")).values("pk")[
                :1
            ]
        ),
    )
    from . import compliance

    compliance.touch()
    year = SchoolYear.objects.order_by("-starts_on").first()
    if year is not None:
        audit.log(year, action=audit.Action.UPDATE, actor=acting_user, event="calendar_reassign", activities=n)
    return n
