"""How values read on a page, written once (issue 13): money, people, choices, yes/no, dates and the
download file name header. Templates reach these through ``jinpin_tags`` filters; views and exporters
call them directly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.utils import formats
from django.utils.translation import gettext as _


def yuan(value) -> str:
    """4123350 → ``4,123,350.00``; "" for None or "" (not a number: returned as it is)."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{d:,.2f}"


def person(user) -> str:
    """A person as people know them: the full name, else the username; "" for nobody."""
    if user is None or user == "":
        return ""
    full = getattr(user, "get_full_name", None)
    name = full().strip() if callable(full) else ""
    return name or getattr(user, "username", "") or str(user)


def yes_no(value) -> str:
    if value is None or value == "":
        return ""
    return _("Yes") if value else _("No")


def date(value) -> str:
    """A date or datetime in the one format of the site (``FORMAT_MODULE_PATH``); ISO strings too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "DATETIME_FORMAT")
    return formats.date_format(value, "DATE_FORMAT")


def choice_label(value, field: str) -> str:
    """The label of ``value`` among the choices of ``"app.Model.field"``; the value when it is none of them."""
    from django.apps import apps

    if value is None or value == "":
        return ""
    app_label, model, name = field.split(".")
    f = apps.get_model(app_label, model)._meta.get_field(name)
    return str(dict(f.flatchoices).get(value, value))


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """A ``Content-Disposition`` header for a file name in any script (RFC 6266 / RFC 5987): an ASCII
    fallback for old clients and ``filename*=UTF-8''…`` with the real (Chinese) name."""
    kind = "attachment" if attachment else "inline"
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "").strip()
    stem, dot, ext = filename.rpartition(".")
    if not ascii_name or ascii_name.startswith(".") or ascii_name == f".{ext}":
        ascii_name = f"download.{ext}" if dot else "download"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
