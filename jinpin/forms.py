"""Small form helpers shared by every app."""

from django.core.exceptions import ValidationError


def add_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on ``form``: field errors on their fields (or on the
    whole form when the form has no such field), message-only errors on the whole form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def show_errors(request, errors) -> None:
    """Show errors where there is no form to render again (an action button): every message of a service's
    ``ValidationError``, or of an action form that did not validate, as an error message on the next page.
    With a form to render, use ``add_errors``: these two are the only ways errors reach the user."""
    from django.contrib import messages

    if isinstance(errors, ValidationError):
        texts = errors.messages
    else:
        texts = [e for field_errors in errors.errors.values() for e in field_errors]
    for text in texts:
        messages.error(request, text)


def parse_id(value) -> int | None:
    """A record id from a query string or a job's parameters, or None.

    Only ASCII digits, at most 18 of them: ``"²".isdigit()`` is true but ``int("²")`` fails,
    and a 20-digit number overflows a bigint.
    """
    value = str(value or "")
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
