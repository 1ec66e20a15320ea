"""Resident identity numbers (居民身份证号码, GB 11643-1999).

18 characters: 6-digit area code, 8-digit birth date, 3-digit sequence (odd for
men, even for women), and a check character computed with ISO 7064 MOD 11-2.
Used by the teachers and subsidies registries and by their imports.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
PATTERN = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=False)) % 11]


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def parse(value: str) -> IdInfo:
    """Validate and decode an ID number; raises ValidationError with a Chinese-translatable message."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters (this has %(n)s)."), params={"n": len(number)}, code="length"
        )
    if not PATTERN.match(number):
        raise ValidationError(_("A resident ID number is 17 digits followed by a digit or X."), code="format")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in the ID number (%(d)s) is not a real date."), params={"d": number[6:14]}, code="birth"
        ) from None
    if birth.year < 1900 or birth > timezone.localdate():
        raise ValidationError(
            _("The birth date in the ID number (%(d)s) is impossible."), params={"d": number[6:14]}, code="birth"
        )
    expected = check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _(
                "The check character of this ID number is wrong (the last character should be %(c)s): a digit was probably mistyped."
            ),
            params={"c": expected},
            code="checksum",
        )
    return IdInfo(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def validate(value: str) -> None:
    """A model/form field validator."""
    parse(value)


def mask(number: str) -> str:
    """3708********1234: the first four and last four characters (who sees what: jinpin.privacy)."""
    if not number or len(number) < 8:
        return number
    return number[:4] + "********" + number[-4:]


def make(area: str, birth: dt.date, seq: int, sex: str) -> str:
    """Build a valid ID number (demo data and tests)."""
    s = seq % 1000
    if (s % 2 == 1) != (sex == "M"):
        s = (s + 1) % 1000
    first17 = f"{area[:6]}{birth:%Y%m%d}{s:03d}"
    return first17 + check_char(first17)
