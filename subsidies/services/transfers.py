"""转学 and changes of payment details: requests confirmed by a second party, every step audited.

A transfer is asked by the receiving side and confirmed by the sending side's county office (the city administrator
for a move between counties); only then is the pupil enrolled at the receiving school, which makes it the owner of
the record. A change of payee or bank account is asked by the owning side and confirmed by a different person of the
owning side (four eyes); only then is it written to the pupil, so a payout batch always pays the account confirmed
before it was prepared. Who may do what is decided in ``subsidies.scoping``.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jinpin import audit
from schools.models import School

from .. import scoping
from ..models import Enrolment, PaymentDetailChange, PupilTransfer, RequestStatus, Student

ACCOUNT = re.compile(r"[0-9]{8,32}")


def _lock_student(student: Student) -> Student:
    """Serialise changes to one pupil (a transfer and a payment change confirmed at once wait for each other)."""
    return Student.objects.select_for_update().get(pk=student.pk)


# -- 转学 ------------------------------------------------------------------------------------
@transaction.atomic
def transfer_request(
    *,
    student: Student,
    to_school: School,
    school_year: int,
    stage: str,
    grade: int,
    reason: str,
    acting_user,
    scope,
    request=None,
) -> PupilTransfer:
    """The receiving side asks for a pupil. Nothing of the pupil changes until the sending side confirms."""
    if not scoping.can_request_transfer(scope, to_school) or not scope.filter(School).filter(pk=to_school.pk).exists():
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the pupil changes school."))
    student = _lock_student(student)
    current = student.current_enrolment()
    if current is None:
        raise ValidationError(_("This pupil has no enrolment to transfer from; ask the city education bureau."))
    if current.school_id == to_school.pk:
        raise ValidationError(_("The pupil is already enrolled at this school."))
    if school_year < current.school_year:
        raise ValidationError(_("A transfer takes effect in the pupil's current school year or a later one."))
    transfer = PupilTransfer(
        student=student,
        from_school=current.school,
        to_school=to_school,
        school_year=school_year,
        stage=stage,
        grade=grade,
        reason=reason,
        requested_by=acting_user,
    )
    transfer.full_clean(exclude=["student", "from_school", "to_school", "requested_by"])
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        raise ValidationError(_("A transfer of this pupil is already waiting for confirmation.")) from None
    audit.log(
        transfer,
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        event="transfer_request",
        student=student.pk,
        from_school=current.school_id,
        to_school=to_school.pk,
        school_year=school_year,
        reason=reason,
    )
    return transfer


def _claim(model, pk, *, status, **fields) -> None:
    """Decide a pending request (a transfer or a payment change) atomically: a second decision finds it decided."""
    n = model.objects.filter(pk=pk, status=RequestStatus.PENDING).update(status=status, **fields)
    if n != 1:
        raise ValidationError(_("This request has already been decided."))


def _log_decision(obj, *, status, event, acting_user, request, **data) -> None:
    audit.log(
        obj,
        action=audit.Action.UPDATE,
        actor=acting_user,
        request=request,
        event=event,
        changes={"status": [RequestStatus.PENDING.value, status.value]},
        **data,
    )


def _decided(transfer_pk, *, status, acting_user, note) -> None:
    _claim(
        PupilTransfer, transfer_pk, status=status, decided_by=acting_user, decided_at=timezone.now(), decision_note=note
    )


def _locked_transfer(transfer: PupilTransfer, scope, acting_user) -> PupilTransfer:
    transfer = (
        PupilTransfer.objects.select_for_update(of=("self",))
        .select_related("from_school", "to_school", "student")
        .get(pk=transfer.pk)
    )
    if transfer.status != RequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if transfer.requested_by_id == acting_user.pk:
        raise ValidationError(_("You asked for this transfer: the sending side confirms it."))
    if not scoping.can_decide_transfer(scope, transfer, acting_user.pk):
        raise PermissionDenied
    return transfer


@transaction.atomic
def transfer_confirm(*, transfer: PupilTransfer, acting_user, scope, request=None, note: str = "") -> Enrolment:
    """The sending side confirms: the pupil is enrolled at the receiving school from the transfer's year (the
    enrolment of that year moves if there is one). Awards keep the period and school they were made for (they
    hold their own school and county). A payment change still waiting is rejected: the new owner decides anew."""
    transfer = _locked_transfer(transfer, scope, acting_user)
    student = _lock_student(transfer.student)
    current = student.current_enrolment()
    if current is None or current.school_id != transfer.from_school_id or current.school_year > transfer.school_year:
        raise ValidationError(
            _("The pupil's enrolment has changed since this transfer was asked for; reject it and ask again.")
        )
    with audit.set_actor(acting_user):
        if current.school_year == transfer.school_year:
            before = {"school": current.school_id, "stage": current.stage, "grade": current.grade}
            current.school, current.stage, current.grade = transfer.to_school, transfer.stage, transfer.grade
            current.save(update_fields=["school", "stage", "grade"])
            enrolment = current
        else:
            before = {}
            enrolment = Enrolment(
                student=student,
                school=transfer.to_school,
                school_year=transfer.school_year,
                stage=transfer.stage,
                grade=transfer.grade,
            )
            enrolment.full_clean()
            enrolment.save()
    _decided(transfer.pk, status=RequestStatus.CONFIRMED, acting_user=acting_user, note=(note or "").strip()[:300])
    superseded = list(
        PaymentDetailChange.objects.filter(student=student, status=RequestStatus.PENDING).values_list("pk", flat=True)
    )
    PaymentDetailChange.objects.filter(pk__in=superseded).update(
        status=RequestStatus.REJECTED,
        decision_note=_("Superseded by the transfer to another school."),
    )
    _log_decision(
        transfer,
        status=RequestStatus.CONFIRMED,
        event="transfer_confirm",
        acting_user=acting_user,
        request=request,
        enrolment=enrolment.pk,
        moved_from=before or None,
        payment_changes_rejected=superseded,
    )
    return enrolment


@transaction.atomic
def transfer_reject(*, transfer: PupilTransfer, acting_user, scope, note: str, request=None) -> None:
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say why the transfer is rejected."))
    transfer = _locked_transfer(transfer, scope, acting_user)
    _decided(transfer.pk, status=RequestStatus.REJECTED, acting_user=acting_user, note=note[:300])
    _log_decision(
        transfer,
        status=RequestStatus.REJECTED,
        event="transfer_reject",
        acting_user=acting_user,
        request=request,
        note=note,
    )


# -- payee and bank account --------------------------------------------------------------------
def clean_account(account: str) -> str:
    account = (account or "").strip()
    if not (account.isascii() and ACCOUNT.fullmatch(account)):
        raise ValidationError(_("A bank account is 8 to 32 digits (0–9), without spaces."))
    return account


@transaction.atomic
def payment_change_request(
    *,
    student: Student,
    payee: str,
    account: str,
    reason: str,
    acting_user,
    scope,
    request=None,
    source: str = PaymentDetailChange.Source.FORM,
) -> PaymentDetailChange:
    """The owning side asks to change who receives the pupil's cash awards, or where. Written to the pupil only once
    a different person confirms it."""
    if not scoping.can_change_student(scope, student):
        raise PermissionDenied
    student = _lock_student(student)
    payee, account, reason = (payee or "").strip(), clean_account(account), (reason or "").strip()
    if not payee:
        raise ValidationError(_("Name the payee (the guardian who receives the money)."))
    if not reason:
        raise ValidationError(_("Say why the payee or account changes."))
    if (payee, account) == (student.payee_name, student.bank_account):
        raise ValidationError(_("These are the payment details already on file."))
    change = PaymentDetailChange(
        student=student,
        old_payee=student.payee_name,
        old_account=student.bank_account,
        new_payee=payee,
        new_account=account,
        reason=reason[:300],
        source=source,
        requested_by=acting_user,
    )
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError:
        raise ValidationError(
            _("A change of this pupil's payment details is already waiting for confirmation; decide it first.")
        ) from None
    audit.log(
        change,
        action=audit.Action.CREATE,
        actor=acting_user,
        request=request,
        event="payment_change_request",
        student=student.pk,
        changes={"payee_name": [change.old_payee, payee], "bank_account": [change.old_account, account]},
        reason=change.reason,
    )
    return change


def _locked_change(change, scope, acting_user) -> PaymentDetailChange:
    change = PaymentDetailChange.objects.select_for_update(of=("self",)).select_related("student").get(pk=change.pk)
    if change.status != RequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if not scoping.can_change_student(scope, change.student):
        raise PermissionDenied
    return change


@transaction.atomic
def payment_change_confirm(*, change: PaymentDetailChange, acting_user, scope, request=None) -> Student:
    """A second person of the owning side confirms; the pupil's payee and account change now (audited)."""
    change = _locked_change(change, scope, acting_user)
    if change.requested_by_id == acting_user.pk:
        raise ValidationError(
            _("You asked for this change: another person responsible for this pupil must confirm it (four eyes).")
        )
    student = _lock_student(change.student)
    if (student.payee_name, student.bank_account) != (change.old_payee, change.old_account):
        raise ValidationError(
            _("The pupil's payment details have changed since this request was made; reject it and ask again.")
        )
    _claim(
        PaymentDetailChange,
        change.pk,
        status=RequestStatus.CONFIRMED,
        confirmed_by=acting_user,
        confirmed_at=timezone.now(),
    )
    student.payee_name, student.bank_account = change.new_payee, change.new_account
    with audit.set_actor(acting_user):
        student.save(update_fields=["payee_name", "bank_account", "updated_at"])
    _log_decision(
        change,
        status=RequestStatus.CONFIRMED,
        event="payment_change_confirm",
        acting_user=acting_user,
        request=request,
        student=student.pk,
        requested_by=change.requested_by_id,
    )
    return student


@transaction.atomic
def payment_change_reject(*, change: PaymentDetailChange, acting_user, scope, note: str, request=None) -> None:
    """The owning side (or the person who asked, withdrawing it) turns a request down; the pupil is unchanged."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say why the change is rejected."))
    change = _locked_change(change, scope, acting_user)
    _claim(
        PaymentDetailChange,
        change.pk,
        status=RequestStatus.REJECTED,
        # the person who asked may withdraw it; the four-eyes constraint keeps "decided by" for someone else
        confirmed_by=None if acting_user.pk == change.requested_by_id else acting_user,
        confirmed_at=timezone.now(),
        decision_note=note[:300],
    )
    _log_decision(
        change,
        status=RequestStatus.REJECTED,
        event="payment_change_reject",
        acting_user=acting_user,
        request=request,
        note=note,
    )
