"""Deep pages of city-wide lists: keyset pagination and counts that do not scan a million rows.

``keyset_page(qs, request.GET)`` serves a list ordered by primary key page by page from the key
of the page's edge row (``?after=<pk>``, ``?before=<pk>``, ``?last=1``): page 40,000 costs what
page 1 costs, where OFFSET reads and throws away every row before it. The shared
``includes/pagination.html`` shows First / Previous / Next / Last for such a page.

Counts: ``capped_count(qs)`` counts at most ``CAP`` rows (an index scan that stops), and
``estimated_count(model)`` reads the planner's row estimate of a whole table (``pg_class``), for
an unfiltered city-wide list; the page says "about" or "more than".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.utils.functional import cached_property

from .forms import parse_id

CAP = 10_000


@dataclass
class Count:
    n: int
    exact: bool = True
    at_least: bool = False  # more rows than ``n`` (a capped count)


def kept_count(qs, cap: int | None = None) -> int:
    """``qs.count()`` (with ``cap``: of at most ``cap + 1`` rows), kept in the shared cache while every table the
    count reads is unchanged (``jinpin.pagecache.kept``, keyed by the count's own SQL and parameters: the scope and
    the filter are in them). A county's capped count of a million activities read 10,000 index entries on every
    request, and the planner's work for the scope's subqueries came with it."""
    from django.core.exceptions import EmptyResultSet

    from . import pagecache

    inner = qs.order_by().values("pk")
    if cap is not None:
        inner = inner[: cap + 1]
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # ``.none()`` or an empty ``__in``: nothing to count, no query
        return 0
    return pagecache.kept("count", (sql, params, cap), inner.count)


def capped_count(qs, cap: int = CAP) -> Count:
    """The number of rows, counting at most ``cap + 1`` of them (kept: ``kept_count``)."""
    n = kept_count(qs, cap)
    return Count(min(n, cap), exact=n <= cap, at_least=n > cap)


def estimated_count(model) -> Count:
    """The planner's estimate of a whole table's rows (kept fresh by autovacuum's ANALYZE); the exact count
    for a table never analysed (``reltuples`` -1). One query either way, so that a page's query count does not
    depend on whether autovacuum has been by."""
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT CASE WHEN c.reltuples < 0 THEN (SELECT count(*) FROM "
            + connection.ops.quote_name(table)
            + ") ELSE c.reltuples::bigint END, c.reltuples >= 0 FROM pg_class c WHERE c.oid = %s::regclass",
            [table],
        )
        n, estimated = cur.fetchone()
    return Count(n, exact=not estimated)


class KeysetPage:
    """One page of a pk-ordered list, with what the pagination include needs."""

    keyset = True

    def __init__(self, rows, *, has_next, has_previous, count: Count | None):
        self.object_list = rows
        self.has_next = has_next
        self.has_previous = has_previous
        self.count = count
        self.next_after = rows[-1].pk if rows else None
        self.previous_before = rows[0].pk if rows else None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def __getitem__(self, i):
        return self.object_list[i]


def fetch_page(qs, order, n: int, rows_from=None) -> list:
    """The first ``n`` rows of ``qs`` in ``order``. With ``rows_from`` (a queryset of the same model carrying the
    row's joins and columns, no filter), two queries: the keys alone from ``qs`` (its filters, its scope), then
    those rows from ``rows_from`` by key, put back in the keys' order. The keys' query plans no joins, the rows'
    query no filters: a county's activity page planned its five joins together with its scope's subqueries in
    3.1 ms of PostgreSQL, the two queries plan in 0.2 + 0.6 ms (a county's awards: 1.8 → 0.1 + 0.5 ms). The rows are
    read only for keys ``qs`` has just returned, so ``rows_from`` needs no scope of its own; a row deleted between
    the two queries is left out."""
    if rows_from is None:
        return list(qs.order_by(*order)[:n])
    keys = list(qs.order_by(*order).values_list("pk", flat=True)[:n])
    if not keys:
        return []
    rows = {row.pk: row for row in rows_from.filter(pk__in=keys).order_by()}
    return [rows[k] for k in keys if k in rows]


def keyset_page(
    qs, params, *, per_page: int = 50, descending: bool = False, count: Count | None = None, rows_from=None
):
    """The page of ``qs`` (ordered here by pk) that ``params`` (a QueryDict) asks for. One query (two with
    ``rows_from``: ``fetch_page``)."""
    after, before, last = parse_id(params.get("after")), parse_id(params.get("before")), params.get("last") == "1"
    forward_order, backward_order = ("-pk", "pk") if descending else ("pk", "-pk")
    past, until = ("pk__lt", "pk__gt") if descending else ("pk__gt", "pk__lt")
    if before is not None or last:
        if before is not None:
            qs = qs.filter(**{until: before})
        rows = fetch_page(qs, (backward_order,), per_page + 1, rows_from)
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return KeysetPage(rows, has_next=not last, has_previous=more, count=count)
    if after is not None:
        qs = qs.filter(**{past: after})
    rows = fetch_page(qs, (forward_order,), per_page + 1, rows_from)
    more = len(rows) > per_page
    return KeysetPage(rows[:per_page], has_next=more, has_previous=after is not None, count=count)


def _date_cursor(value):
    """``2016-05-03.1234`` (a page edge's date and key) from a query string, or None."""
    day, _sep, pk = (value or "").partition(".")
    pk = parse_id(pk)
    try:
        return (dt.date.fromisoformat(day), pk) if pk is not None else None
    except ValueError:
        return None


class DateKeysetPage(KeysetPage):
    def __init__(self, rows, *, field, **kwargs):
        super().__init__(rows, **kwargs)
        if rows:
            self.next_after = f"{getattr(rows[-1], field).isoformat()}.{rows[-1].pk}"
            self.previous_before = f"{getattr(rows[0], field).isoformat()}.{rows[0].pk}"


def date_keyset_page(qs, params, *, field: str, per_page: int = 50, count: Count | None = None, rows_from=None):
    """The page of ``qs`` ordered newest first by ``(field, pk)`` (a date, then the key) that ``params`` asks
    for: ``?after=``/``?before=`` carry the edge row's ``date.pk``, ``?last=1`` the oldest page. One query (two
    with ``rows_from``: ``fetch_page``), the same cost at any depth on an index of ``(field, id)``; the row
    comparison is what the index reads."""
    after, before = _date_cursor(params.get("after")), _date_cursor(params.get("before"))
    last = params.get("last") == "1"
    newest, oldest = (f"-{field}", "-pk"), (field, "pk")

    def beyond(cursor, older: bool):
        day, pk = cursor
        # the redundant bound on the date alone is where the index scan starts
        if older:
            return Q(**{f"{field}__lte": day}) & (Q(**{f"{field}__lt": day}) | Q(pk__lt=pk))
        return Q(**{f"{field}__gte": day}) & (Q(**{f"{field}__gt": day}) | Q(pk__gt=pk))

    if before is not None or last:
        if before is not None:
            qs = qs.filter(beyond(before, older=False))
        rows = fetch_page(qs, oldest, per_page + 1, rows_from)
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return DateKeysetPage(rows, field=field, has_next=not last, has_previous=more, count=count)
    if after is not None:
        qs = qs.filter(beyond(after, older=True))
    rows = fetch_page(qs, newest, per_page + 1, rows_from)
    more = len(rows) > per_page
    return DateKeysetPage(rows[:per_page], field=field, has_next=more, has_previous=after is not None, count=count)


class KeptCountPaginator(Paginator):
    """A page-number paginator of a queryset whose row count is kept while its tables are unchanged
    (``kept_count``): "page n of N" without a COUNT on every request."""

    @cached_property
    def count(self):
        from django.db.models import QuerySet

        if isinstance(self.object_list, QuerySet):
            return kept_count(self.object_list)
        return super().count


class KnownCountPaginator(Paginator):
    """A page-number paginator told its row count (an estimate for an unfiltered city-wide list), so
    that a request does not COUNT a million rows to draw "page n of N"."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @property
    def count(self):
        return self._known_count


def unfiltered(params, filterset) -> bool:
    """No filter of ``filterset`` has a value in ``params`` (page and sort parameters do not count)."""
    return not any(params.get(name) for name in filterset.filters)


# -- keyset pages in any order ---------------------------------------------------------------------
class OrderedKeysetPage(KeysetPage):
    """A page of a list in an ordering of several columns; its edges are the edge rows' values of every
    ordering column, written as a small JSON list in the query string (``?after=[12,"王芳",3456]``)."""

    def __init__(self, rows, *, ordering, **kwargs):
        super().__init__(rows, **kwargs)
        if rows:
            self.next_after = _cursor_of(rows[-1], ordering)
            self.previous_before = _cursor_of(rows[0], ordering)


def _path_value(row, path: str):
    value = row
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _cursor_of(row, ordering) -> str:
    import json

    values = []
    for name in ordering:
        v = _path_value(row, name.lstrip("-"))
        values.append(v.isoformat() if isinstance(v, dt.date) else v)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _model_field(model, path: str):
    """The field at the end of ``path`` (``school__code``), for parsing a cursor's value."""
    field = None
    for part in path.split("__"):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        if field.is_relation and part != path.split("__")[-1]:
            model = field.related_model
    if field.is_relation:  # ``school`` written as the key
        field = field.target_field
    return field


def _parse_cursor(value, model, ordering):
    """The cursor's values, each parsed by its field; None for anything else (a first page then)."""
    import json

    from django.core.exceptions import ValidationError

    if not value:
        return None
    try:
        values = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != len(ordering):
        return None
    out = []
    for name, v in zip(ordering, values, strict=True):
        if v is None:
            out.append(None)
            continue
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            return None
        field = _model_field(model, name.lstrip("-"))
        try:
            v = field.to_python(v)
            field.get_prep_value(v)
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
        if isinstance(v, int) and not -(2**63) <= v < 2**63:
            return None
        out.append(v)
    return out


def _beyond(ordering, values) -> Q:
    """Rows strictly past the row whose ordering columns hold ``values``, in ``ordering`` as PostgreSQL
    sorts it: ascending with NULLs last, descending with NULLs first. The first column's own bound is
    repeated on its own, where an index scan on it can start."""
    alternatives = Q(pk__in=[])
    tied = Q()
    for name, v in zip(ordering, values, strict=True):
        field, descending = name.lstrip("-"), name.startswith("-")
        if descending:
            past = Q(**{f"{field}__isnull": False}) if v is None else Q(**{f"{field}__lt": v})
        else:
            past = None if v is None else Q(**{f"{field}__gt": v}) | Q(**{f"{field}__isnull": True})
        if past is not None:
            alternatives |= tied & past
        tied &= Q(**{f"{field}__isnull": True}) if v is None else Q(**{field: v})
    first, v = ordering[0].lstrip("-"), values[0]
    if v is not None:
        start = Q(**{f"{first}__lte" if ordering[0].startswith("-") else f"{first}__gte": v})
        if not ordering[0].startswith("-"):
            start |= Q(**{f"{first}__isnull": True})
        return start & alternatives
    return alternatives


def _reversed(ordering):
    return [name[1:] if name.startswith("-") else f"-{name}" for name in ordering]


def ordering_of(qs) -> list[str]:
    """``qs``'s ordering (its own, else the model's) as field paths, with the key last to make it total."""
    raw = list(qs.query.order_by or qs.model._meta.ordering)
    if not all(isinstance(o, str) and o != "?" for o in raw):
        raise ValueError("ordered_keyset_page needs an ordering of field names")
    pk = qs.model._meta.pk.name
    names = ["pk" if n == pk else "-pk" if n == f"-{pk}" else n for n in raw]
    if "pk" not in names and "-pk" not in names:
        names.append("pk")
    return names


def ordered_keyset_page(qs, params, *, per_page: int = 50, count: Count | None = None):
    """The page of ``qs`` in its own ordering (any columns, either direction, NULLs where PostgreSQL puts
    them; the key appended to make it total) that ``params`` asks for: ``?after=``/``?before=`` carry the
    edge row's values, ``?last=1`` the last page. One query; a cursor that does not fit the ordering (a
    sort changed, a hand-edited link) gives the first page."""
    ordering = ordering_of(qs)
    after = _parse_cursor(params.get("after"), qs.model, ordering)
    before = _parse_cursor(params.get("before"), qs.model, ordering)
    last = params.get("last") == "1"
    backwards = _reversed(ordering)
    if before is not None or last:
        if before is not None:
            qs = qs.filter(_beyond(backwards, before))
        rows = list(qs.order_by(*backwards)[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return OrderedKeysetPage(rows, ordering=ordering, has_next=not last, has_previous=more, count=count)
    if after is not None:
        qs = qs.filter(_beyond(ordering, after))
    rows = list(qs.order_by(*ordering)[: per_page + 1])
    more = len(rows) > per_page
    return OrderedKeysetPage(
        rows[:per_page], ordering=ordering, has_next=more, has_previous=after is not None, count=count
    )
