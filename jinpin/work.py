"""The work waiting for each person: items an app registers, each a count on the home page that links to
the exact list it counts.

An app registers ``WorkItem``s in ``AppConfig.ready()`` (this module imports no app). An item's
``rows(scope)`` is the one query: the home page shows ``rows(scope).count()`` and the item's list
page (``/home/work/<key>/``) pages through the same ``rows(scope)``, so the two always agree
(tested per item). ``page(scope)`` may name the app's own full page for the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WorkItem:
    key: str
    label: str
    roles: frozenset
    rows: Callable  # (scope) -> queryset
    columns: list = field(default_factory=list)  # [(label, callable(obj))]
    url: Callable | None = None  # (obj) -> url of one record
    page: Callable | None = None  # (scope) -> url of the app's own page for these records, or None
    order: int = 100
    county_path: str | None = None  # lets the list be narrowed to one county (``?county=``)
    # the home page's count kept in the shared cache (jinpin.cache) under this area's stamp, the person's
    # scope, today's date and ``cache_key(scope)``'s further stamps: only for an item whose every input
    # moves that stamp (or those further stamps) when it changes
    cache_area: str | None = None
    cache_key: Callable | None = None  # (scope) -> tuple of plain values


_items: dict[str, WorkItem] = {}


def register(item: WorkItem) -> WorkItem:
    _items[item.key] = item
    return item


def get(key: str) -> WorkItem | None:
    return _items.get(key)


def items_for(scope) -> list[WorkItem]:
    if scope.role is None:
        return []
    return sorted((i for i in _items.values() if scope.role in i.roles), key=lambda i: (i.order, i.key))


def count(rows) -> int:
    """A queryset's COUNT, or a list's length (an item computed outside SQL, e.g. compliance cells)."""
    return len(rows) if isinstance(rows, list) else rows.count()


def _count(item: WorkItem, scope) -> int:
    if item.cache_area is None:
        return count(item.rows(scope))
    from django.utils import timezone

    from . import cache

    parts = (
        "work",
        item.key,
        scope.role,
        scope.county_id,
        scope.school_id,
        timezone.localdate().isoformat(),
        *(item.cache_key(scope) if item.cache_key else ()),
    )
    return cache.cached(item.cache_area, parts, lambda: count(item.rows(scope)))


def waiting(scope) -> list[dict]:
    """Each of the person's items with its count, those with work first. The counts of the items without a
    cache area of their own (one COUNT query each) are kept together in the shared cache while every table they
    read is unchanged (``jinpin.pagecache.kept``: one cache read instead of a query per item)."""
    from django.urls import reverse
    from django.utils import timezone

    from . import pagecache

    items = items_for(scope)
    plain = [i for i in items if i.cache_area is None]
    counts = {}
    if plain:
        who = (scope.user_id, scope.role, scope.county_id, scope.school_id, tuple(sorted(scope.inspector_county_ids)))
        counts = pagecache.kept(
            "work",
            ([i.key for i in plain], who, timezone.localdate().isoformat()),
            lambda: {i.key: count(i.rows(scope)) for i in plain},
        )
    out = [
        {
            "item": i,
            "count": counts[i.key] if i.key in counts else _count(i, scope),
            "url": reverse("work_list", args=[i.key]),
        }
        for i in items
    ]
    return sorted(out, key=lambda r: (r["count"] == 0, r["item"].order, r["item"].key))


def rows_in(item: WorkItem, scope, county_id: int | None = None):
    """The item's rows, narrowed to one county when asked (and the item knows where its county is)."""
    rows = item.rows(scope)
    if county_id and item.county_path:
        rows = rows.filter(**{item.county_path: county_id})
    return rows


def by_county(item: WorkItem, scope) -> list[dict]:
    """The item's count per county (one grouped query), each with the link to that county's list."""
    from django.db.models import Count
    from django.urls import reverse

    if not item.county_path:
        return []
    base = reverse("work_list", args=[item.key])
    name = item.county_path.removesuffix("_id") + "__name"
    rows = item.rows(scope).order_by().values(item.county_path, name).annotate(n=Count("pk")).order_by(item.county_path)
    return [{"county": r[name], "n": r["n"], "url": f"{base}?county={r[item.county_path]}"} for r in rows]
