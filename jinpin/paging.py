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

from .forms import parse_id

CAP = 10_000


@dataclass
class Count:
    n: int
    exact: bool = True
    at_least: bool = False  # more rows than ``n`` (a capped count)


def capped_count(qs, cap: int = CAP) -> Count:
    """The number of rows, counting at most ``cap + 1`` of them."""
    n = qs.order_by().values("pk")[: cap + 1].count()
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


def keyset_page(qs, params, *, per_page: int = 50, descending: bool = False, count: Count | None = None):
    """The page of ``qs`` (ordered here by pk) that ``params`` (a QueryDict) asks for. One query."""
    after, before, last = parse_id(params.get("after")), parse_id(params.get("before")), params.get("last") == "1"
    forward_order, backward_order = ("-pk", "pk") if descending else ("pk", "-pk")
    past, until = ("pk__lt", "pk__gt") if descending else ("pk__gt", "pk__lt")
    if before is not None or last:
        if before is not None:
            qs = qs.filter(**{until: before})
        rows = list(qs.order_by(backward_order)[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return KeysetPage(rows, has_next=not last, has_previous=more, count=count)
    if after is not None:
        qs = qs.filter(**{past: after})
    rows = list(qs.order_by(forward_order)[: per_page + 1])
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


def date_keyset_page(qs, params, *, field: str, per_page: int = 50, count: Count | None = None):
    """The page of ``qs`` ordered newest first by ``(field, pk)`` (a date, then the key) that ``params`` asks
    for: ``?after=``/``?before=`` carry the edge row's ``date.pk``, ``?last=1`` the oldest page. One query,
    the same cost at any depth on an index of ``(field, id)``; the row comparison is what the index reads."""
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
        rows = list(qs.order_by(*oldest)[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return DateKeysetPage(rows, field=field, has_next=not last, has_previous=more, count=count)
    if after is not None:
        qs = qs.filter(beyond(after, older=True))
    rows = list(qs.order_by(*newest)[: per_page + 1])
    more = len(rows) > per_page
    return DateKeysetPage(rows[:per_page], field=field, has_next=more, has_previous=after is not None, count=count)


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


def paginate(qs, params, *, per_page: int, city_wide_unfiltered: bool):
    """``Paginator(qs).get_page(...)``, counted by the planner's estimate when the list is the whole
    unfiltered table (a million activities), exactly otherwise."""
    if city_wide_unfiltered:
        paginator = KnownCountPaginator(qs, per_page, count=estimated_count(qs.model).n)
    else:
        paginator = Paginator(qs, per_page)
    return paginator.get_page(params.get("page"))
