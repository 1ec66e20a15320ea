"""Small form helpers shared by every app, and the one way to read numbers and text from a query string.

Query strings are input like any form. Every id, year, page number and search text a view or a
job reads from one goes through ``AsciiIntegerField`` (for filters and forms) or the ``parse_*``
functions below (which are that field, with a default instead of an error):

* only the ASCII digits 0-9 are digits: ``"²".isdigit()`` and ``"٣".isdigit()`` are true, and
  ``int("٣") == 3``, but nobody types a record id in Arabic-Indic digits or superscripts;
* a number is at most a bigint (25 digits would overflow PostgreSQL's columns);
* text loses its NUL characters (PostgreSQL refuses them in a string).
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_BIGINT = 2**63 - 1
ASCII_INTEGER = re.compile(r"-?[0-9]{1,19}")
ASCII_DIGITS = re.compile(r"[0-9]+")


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


class AsciiIntegerField(forms.IntegerField):
    """An integer written with the ASCII digits 0-9, within a bigint (Django's IntegerField takes
    ``int("٣")`` and full-width digits, and any size)."""

    default_error_messages = {"invalid": _("Enter a whole number using the digits 0-9.")}

    def __init__(self, *, min_value=None, max_value=MAX_BIGINT, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value)  # " 1" is no plain id either
        if not ASCII_INTEGER.fullmatch(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


def parse_int(value, *, default=None, min_value=None, max_value=MAX_BIGINT):
    """An integer from a query string or a job's parameters, or ``default`` for anything else."""
    try:
        number = AsciiIntegerField(required=False, min_value=min_value, max_value=max_value).clean(value)
    except ValidationError:
        return default
    return default if number is None else number


def parse_id(value, default=None) -> int | None:
    """A record id (a positive bigint) from a query string or a job's parameters, or ``default``."""
    return parse_int(value, default=default, min_value=1)


def parse_year(value, default=None, *, first: int = 1900, last: int = 2100) -> int | None:
    """A year between ``first`` and ``last``, or ``default``."""
    return parse_int(value, default=default, min_value=first, max_value=last)


def parse_choice(value, choices, default=None):
    """One of ``choices`` (a list of values or of (value, label) pairs), or ``default``."""
    allowed = {c[0] if isinstance(c, (tuple, list)) else c for c in choices}
    return value if isinstance(value, (str, int)) and value in allowed else default


def clean_text(value, *, max_length: int = 200) -> str:
    """Search text from a query string: without NUL characters, trimmed, at most ``max_length``."""
    return str(value or "").replace("\x00", "").strip()[:max_length]


def validate_ascii_code(value) -> None:
    """A code that may hold letters (a course code, a household number): ASCII letters, digits and - _ / only."""
    if value and not re.fullmatch(r"[0-9A-Za-z_/-]+", str(value)):
        raise ValidationError(
            _("A code is written with the digits 0-9, the letters A-Z and - _ / only."), code="ascii_code"
        )


def validate_ascii_digits(value) -> None:
    """A registry code (school, town, village, teacher, course codes ...): ASCII digits only."""
    if value and not ASCII_DIGITS.fullmatch(str(value)):
        raise ValidationError(
            _("A code is written with the digits 0-9 only (no full-width, Arabic-Indic or other digits)."),
            code="ascii_digits",
        )
