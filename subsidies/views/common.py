"""Helpers shared by the subsidies pages."""

from django.core.paginator import Paginator

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


def _filtered(f):
    """The filter's rows: all when nothing is filtered, none when a filter value is invalid."""
    if not f.is_bound:
        return f.queryset
    return f.qs if f.is_valid() else f.queryset.none()
