"""Search boxes over people on a million rows: part of a name, or the last digits of a resident ID.

Served by PostgreSQL indexes (migrations subsidies 0009/0010, teachers 0004/0005):

* 3 characters or more of a name: ``UPPER(name) LIKE '%…%'`` (what ``icontains`` writes) on a pg_trgm
  GIN index;
* 1 or 2 characters (a Chinese surname or given name): trigrams cannot serve them, so the name's
  characters as an array, ``regexp_split_to_array(UPPER(name), '') @> '{张}'``, on a GIN index,
  with the LIKE as the exact check;
* 4 to 18 digits (an X at the end allowed): ``id_number LIKE '%…'`` (``endswith``) on a pg_trgm
  index — the last digits of an ID; a full ID is its own end.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Upper


class _Characters(Func):
    function = "regexp_split_to_array"
    output_field = ArrayField(TextField())


def id_digits(q: str) -> bool:
    """Text that can only be (the end of) a resident ID: 4 to 18 ASCII digits, an X at the end allowed."""
    body = q[:-1] if q[-1:] in "Xx" else q
    return 4 <= len(q) <= 18 and body.isascii() and body.isdigit()


def people(qs, q: str, *, name: str = "name", id_number: str = "id_number", also: Q | None = None):
    """``qs`` narrowed to the rows whose ``name`` contains ``q`` or whose ``id_number`` ends with it
    (or that match ``also``)."""
    if id_digits(q):
        cond = Q(**{f"{id_number}__endswith": q.upper()})
    else:
        cond = Q(**{f"{name}__icontains": q})
        if len(q) < 3 and connection.vendor == "postgresql":
            qs = qs.alias(_name_chars=_Characters(Upper(name), Value("")))
            cond &= Q(_name_chars__contains=list(q.upper()))
    if also is not None:
        cond |= also
    return qs.filter(cond)
