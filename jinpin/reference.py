"""The reference date (基准日期): the day every page opens on when the person has not chosen one.

It is today while the records are current, and the last day with records when they stop before the
current school year began (the demo, whose year is 2016–17; an archived city): so the dashboard, the
twinning compliance and coverage pages, the staffing, honours and registry pages, the home pages'
work items and the exports open on the latest period that has data, not on an empty year of the
server's clock.

"The last day with records" is the latest of the dates each app registers with its figures
(``Figure.latest`` in ``jinpin.figures``: the latest hire or move into a poor-village school, the
latest training completed, the latest twinning activity, the latest subsidy period, the latest
campaign), never after today. Each of those is cached under its app's stamp (``jinpin.cache``), so
the reference date costs a few cache reads and moves as soon as a write to that app commits.

Only defaults use it. What is about *now* keeps the real clock: validations ("an activity cannot be
dated in the future"), and deadlines (a finding is overdue when its deadline has passed today, even
if the records are from 2016; a semester is missed once it has ended).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

#: the school year (学年) begins on 1 September
SCHOOL_YEAR_START = (9, 1)


def school_year_start(day: dt.date) -> dt.date:
    """The first day of the school year that contains ``day``."""
    month, d = SCHOOL_YEAR_START
    start = dt.date(day.year, month, d)
    return start if day >= start else dt.date(day.year - 1, month, d)


def last_day_with_data(today: dt.date | None = None) -> dt.date | None:
    """The latest date any registered figure has records for, never after ``today``; None without records."""
    from . import cache, figures

    today = today or timezone.localdate()
    wanted = [f for f in figures.all_figures() if f.latest is not None]
    # "" for no records: the cache keeps it (a None would be computed again on every request)
    latest = cache.cached_each(
        [(f.cache_area, ("latest", f.key), lambda f=f: f.latest() or "") for f in wanted], timeout=figures.WARM_TIMEOUT
    )
    dates = [min(d, today) for d in latest if d]
    return max(dates) if dates else None


def reference_date(today: dt.date | None = None) -> dt.date:
    """Today, unless the records stop before today's school year began: then their last day (worked out
    once per request: ``jinpin.cache.request_memo``)."""
    from . import cache

    today = today or timezone.localdate()
    memo = cache.request_memo()
    if memo is not None and ("reference_date", today) in memo:
        return memo[("reference_date", today)]
    last = last_day_with_data(today)
    value = today if last is None or last >= school_year_start(today) else last
    if memo is not None:
        memo[("reference_date", today)] = value
    return value


def reference_year(today: dt.date | None = None) -> int:
    """The calendar year of the reference date (pages by calendar year: staffing, honours)."""
    return reference_date(today).year
