"""Helpers shared by the subsidies pages."""

from django.core.paginator import Paginator

from jinpin.scope import Role

PAGE_SIZE = 50


class CountedPaginator(Paginator):
    """A paginator told its count (from an aggregate already needed, or a cheaper queryset):
    on a million rows each COUNT is a full scan, so a page must not do it twice."""

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @property
    def count(self):
        return self._known_count


def _int_param(value, *, default=None, max_value=2**63 - 1):
    """A positive id or number from a query string or a forged POST; ``default`` for anything else."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19 or not 0 < int(value) <= max_value:
        return default
    return int(value)


def _search_text(request) -> str:
    """The search box's text, without the NUL characters PostgreSQL refuses in a string."""
    return (request.GET.get("q") or "").replace("\x00", "").strip()


def _filtered(f):
    """The filter's rows: all when nothing is filtered, none when a filter value is invalid."""
    if not f.is_bound:
        return f.queryset
    return f.qs if f.is_valid() else f.queryset.none()


PAYOUT_ROLES = (Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR)
