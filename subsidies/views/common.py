"""Helpers shared by the subsidies pages."""

PAGE_SIZE = 50


def _filtered(f):
    """The filter's rows: all when nothing is filtered, none when a filter value is invalid."""
    if not f.is_bound:
        return f.queryset
    return f.qs if f.is_valid() else f.queryset.none()
