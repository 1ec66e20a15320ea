"""Who sees resident IDs, bank accounts and phone numbers in full: the one policy.

``POLICY`` is the whole rule, one table: for each field (a pupil's or a teacher's resident ID,
a bank account, a phone number) and each place it can appear (a page, an edit form, an Excel
export, the bank file, the auditor's trace of a payment), the roles that see it in **full**;
everyone else sees it masked (``3708********1234``). Nothing else in the code decides this:
templates write ``{% pii obj "pupil_id" %}``, exporters take ``privacy.shower(scope, field,
place)``, and forms call ``privacy.reveal_in_form``.

Full values appear only where the work needs them:

* the bank file (the bank pays to an account and a name checked against the ID);
* an edit form, which only a person who may change that record reaches (an officer in their
  county, a principal for their school's teachers);
* an auditor tracing one payment (the award and payout-batch pages, which they open one by one).

Every full reveal leaves an audit entry (``jinpin.audit.log_reveal``): pages and forms one entry
per record shown, exports one entry per file with the number of values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.translation import gettext_lazy as _

from .idcard import mask as mask_id  # the one resident-ID mask: 3708********1234
from .scope import Role

# -- the fields and the places -----------------------------------------------------
PUPIL_ID = "pupil_id"
TEACHER_ID = "teacher_id"
BANK_ACCOUNT = "bank_account"
PHONE = "phone"

FIELDS = {
    PUPIL_ID: _("Pupil's resident ID"),
    TEACHER_ID: _("Teacher's resident ID"),
    BANK_ACCOUNT: _("Bank account"),
    PHONE: _("Phone number"),
}

PAGE = "page"  # any list or detail page
FORM = "form"  # the edit form of the record (reached only with write access to it)
EXPORT = "export"  # every Excel report but the bank file
BANK_FILE = "bank_file"  # the file sent to the bank for a payout batch
AUDIT_TRACE = "audit_trace"  # one payment traced: award and payout-batch detail pages

PLACES = {
    PAGE: _("Pages"),
    FORM: _("Edit forms"),
    EXPORT: _("Excel exports"),
    BANK_FILE: _("Bank file"),
    AUDIT_TRACE: _("Payment trace"),
}

_WRITERS = frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.PRINCIPAL})
_PAYERS = frozenset({Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR})
_NOBODY: frozenset = frozenset()

#: field -> place -> the roles that see it in full (everyone else: masked).
POLICY: dict[str, dict[str, frozenset]] = {
    PUPIL_ID: {
        PAGE: _NOBODY,
        FORM: _WRITERS,
        EXPORT: _NOBODY,
        BANK_FILE: _PAYERS,
        AUDIT_TRACE: frozenset({Role.AUDITOR}),
    },
    TEACHER_ID: {
        PAGE: _NOBODY,
        FORM: _WRITERS,
        EXPORT: _NOBODY,
        BANK_FILE: _NOBODY,
        AUDIT_TRACE: _NOBODY,
    },
    BANK_ACCOUNT: {
        PAGE: _NOBODY,
        FORM: _WRITERS,
        EXPORT: _NOBODY,
        BANK_FILE: _PAYERS,
        AUDIT_TRACE: frozenset({Role.AUDITOR}),
    },
    PHONE: {
        # the people who run a school or a county call its teachers
        PAGE: _WRITERS,
        FORM: _WRITERS,
        EXPORT: _NOBODY,
        BANK_FILE: _NOBODY,
        AUDIT_TRACE: _NOBODY,
    },
}

#: the attribute holding each field on the records that carry it
ATTRIBUTES = {PUPIL_ID: "id_number", TEACHER_ID: "id_number", BANK_ACCOUNT: "bank_account", PHONE: "phone"}


def is_full(role: str | None, field: str, place: str) -> bool:
    """Does ``role`` see ``field`` in full at ``place``? Unknown fields or places: no."""
    return role is not None and role in POLICY.get(field, {}).get(place, _NOBODY)


# -- masking ---------------------------------------------------------------------------
def mask_account(number: str) -> str:
    """**** **** 1234: the last four digits of a bank account."""
    number = (number or "").replace(" ", "")
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def mask_phone(number: str) -> str:
    """138****5678: the first three and last four digits of a phone number."""
    number = number or ""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


MASKS: dict[str, Callable[[str], str]] = {
    PUPIL_ID: mask_id,
    TEACHER_ID: mask_id,
    BANK_ACCOUNT: mask_account,
    PHONE: mask_phone,
}


def mask(field: str, value) -> str:
    if value in (None, ""):
        return value or ""
    return MASKS[field](str(value))


def shown(role: str | None, field: str, place: str, value) -> str:
    """``value`` as ``role`` may see it at ``place`` (no audit: see ``show`` for pages)."""
    if value in (None, ""):
        return value or ""
    return str(value) if is_full(role, field, place) else mask(field, value)


# -- pages and forms: shown values are recorded, then audited once per request ----------
def show(request, obj, field: str, place: str = PAGE) -> str:
    """The field of ``obj`` for this request's user at ``place``; a full value is noted on the
    request and audited when the response leaves (``PrivacyMiddleware``)."""
    value = getattr(obj, ATTRIBUTES[field], "") if obj is not None else ""
    if value in (None, ""):
        return ""
    scope = getattr(request, "scope", None)
    role = getattr(scope, "role", None)
    if not is_full(role, field, place):
        return mask(field, value)
    _note(request, obj, field, place)
    return str(value)


def reveal_in_form(request, obj, *fields: str) -> None:
    """An edit form about to show ``obj``'s fields in full: audit it (forms hold the real
    value, so there is nothing to mask; only people allowed to edit reach them)."""
    role = getattr(getattr(request, "scope", None), "role", None)
    for field in fields:
        if getattr(obj, ATTRIBUTES[field], "") and is_full(role, field, FORM):
            _note(request, obj, field, FORM)


def _note(request, obj, field, place) -> None:
    if request is None or getattr(obj, "pk", None) is None:
        return
    pending = request.__dict__.setdefault("_jinpin_reveals", {})
    pending.setdefault((type(obj), obj.pk), [obj, set(), set()])
    entry = pending[(type(obj), obj.pk)]
    entry[1].add(field)
    entry[2].add(place)


def flush(request) -> int:
    """Write the audit entries of what this request revealed in full (one per record, one INSERT
    per model); returns how many."""
    pending = request.__dict__.pop("_jinpin_reveals", None)
    if not pending:
        return 0
    from . import audit

    groups: dict = {}
    for obj, fields, places in pending.values():
        groups.setdefault((type(obj), tuple(sorted(fields)), ",".join(sorted(places))), []).append(obj)
    actor = request.user if request.user.is_authenticated else None
    for (model, fields, place), objs in groups.items():
        audit.log_many(
            model,
            [(o.pk, str(o), {}) for o in objs],
            action=audit.Action.ACCESS,
            actor=actor,
            request=request,
            event="reveal",
            fields=list(fields),
            place=place,
        )
    return len(pending)


# -- the audit log: changes to personal fields are a payment trace ------------------------------
#: changed fields in audit entries that hold one of the policy's fields (a teacher's ID is a teacher_id)
AUDITED_FIELDS = {"id_number": PUPIL_ID, "head_id_number": PUPIL_ID, "bank_account": BANK_ACCOUNT, "phone": PHONE}


def audit_changes(request, entry) -> list[tuple[str, str, str]]:
    """(field, before, after) of an audit entry as this request's user may see them (AUDIT_TRACE); a
    full value shown is audited like any other."""
    role = getattr(getattr(request, "scope", None), "role", None)
    is_teacher = entry.content_type.model == "teacher" if entry.content_type_id else False
    out = []
    for name, change in (entry.changes_dict or {}).items():
        before, after = (list(change) + ["", ""])[:2] if isinstance(change, (list, tuple)) else (change, "")
        field = AUDITED_FIELDS.get(name)
        if field == PUPIL_ID and is_teacher:
            field = TEACHER_ID
        if field is not None:
            if is_full(role, field, AUDIT_TRACE):
                if before not in (None, "", "None") or after not in (None, "", "None"):
                    _note(request, entry, field, AUDIT_TRACE)
            else:
                before = mask(field, before) if before not in (None, "None") else before
                after = mask(field, after) if after not in (None, "None") else after
        out.append((name, before, after))
    return out


# -- exports -----------------------------------------------------------------------------
class Shower:
    """A column transform for an exporter: ``show(value)`` is the value as the scope may see it at
    ``place``; full values are counted, and ``audit(obj)`` writes one entry for the file."""

    def __init__(self, scope, field: str, place: str):
        self.scope, self.field, self.place = scope, field, place
        self.full = is_full(scope.role, field, place)
        self.revealed = 0

    def __call__(self, value):
        if value in (None, ""):
            return value or ""
        if self.full:
            self.revealed += 1
            return value
        return MASKS[self.field](str(value))

    def audit(self, obj=None, **data) -> None:
        """One audit entry for the file if it held full values: on ``obj`` (the payout batch of a
        bank file), else on the person's own user record."""
        if not self.revealed:
            return
        from django.contrib.auth import get_user_model

        from . import audit

        if obj is None:
            obj = get_user_model()._default_manager.filter(pk=self.scope.user_id).first()
            if obj is None:
                return
        audit.log_reveal(
            obj, fields=[self.field], place=self.place, user_id=self.scope.user_id, count=self.revealed, **data
        )
        self.revealed = 0


def shower(scope, field: str, place: str = EXPORT) -> Shower:
    return Shower(scope, field, place)


def table() -> list[tuple[str, str, list[tuple[str, bool]]]]:
    """The policy as rows for documentation and tests: (field, place, [(role, full?), ...])."""
    return [
        (field, place, [(role.value, is_full(role, field, place)) for role in Role])
        for field in POLICY
        for place in PLACES
    ]


def full_roles(field: str, place: str) -> Iterable[str]:
    return POLICY[field][place]
