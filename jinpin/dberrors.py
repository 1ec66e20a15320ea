"""The database's refusals (triggers of jinpin.0002/0004, subsidies.0009) as messages for people.

Each trigger raises with a constraint name ``jinpin_…``; ``message_for(exc)`` maps it to a translated
sentence, and ``GuardMiddleware`` shows that sentence (HTTP 409) instead of a server error if a request
ever runs into one. Services check the same rules first; this is the last line.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "jinpin_audit_append_only": _("The audit trail is append-only: its entries cannot be changed or deleted."),
    "jinpin_no_truncate": _("Emptying this table is refused: its rows are evidence."),
    "jinpin_award_frozen": _(
        "An approved or paid award's amount, pupil, scheme and period cannot change. Return an unpaid award to "
        "review first; a paid award is corrected by a recovery."
    ),
    "jinpin_line_paid": _("A paid payout line cannot change."),
    "jinpin_line_sealed": _(
        "This payout line is in a batch sent to the bank (sealed): its payee, account and amount cannot change."
    ),
    "jinpin_batch_sealed": _("A payout batch sent to the bank is sealed: no line can be added or removed."),
}


def constraint_of(exc: BaseException) -> str | None:
    cause = exc.__cause__ if isinstance(exc, DatabaseError) else exc
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) if diag is not None else None
    return name if name in MESSAGES else None


def message_for(exc: BaseException) -> str | None:
    """The user's message for a guard's refusal, or None if ``exc`` is something else."""
    name = constraint_of(exc)
    return str(MESSAGES[name]) if name else None


class GuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = message_for(exception) if isinstance(exception, DatabaseError) else None
        if message is None:
            return None
        return render(request, "jinpin/refused.html", {"message": message}, status=409)
