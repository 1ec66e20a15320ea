"""A request reads each cache stamp once (``jinpin.cache.RequestMemoMiddleware``), and sees its own writes."""

import datetime as dt

import pytest
from django.core.cache import cache as django_cache

from jinpin import cache, reference


class Counting:
    """The shared cache, counting the reads of each key."""

    def __init__(self):
        self.reads = []

    def get(self, key, default=None):
        self.reads.append(key)
        return django_cache.get(key, default)

    def __getattr__(self, name):
        return getattr(django_cache, name)


@pytest.fixture
def counting(monkeypatch):
    c = Counting()
    monkeypatch.setattr(cache, "cache", c)
    django_cache.clear()
    django_cache.set("stamp:memo-test", 1, None)  # an existing stamp (creating one reads it twice)
    return c


def in_request(view):
    """``view()`` run inside the middleware, as a request is."""
    return cache.RequestMemoMiddleware(lambda request: view())(None)


def _stamp_reads(c, area):
    return sum(1 for k in c.reads if k == f"stamp:{area}")


def test_a_request_reads_each_stamp_once(counting):
    def view():
        values = [cache.cached("memo-test", ("n", i), lambda i=i: i * 10) for i in range(5)]
        return values, cache.stamp("memo-test")

    values, stamp = in_request(view)
    assert values == [0, 10, 20, 30, 40]
    assert _stamp_reads(counting, "memo-test") == 1
    assert cache.request_memo() is None  # gone with the request


def test_outside_a_request_every_read_goes_to_the_cache(counting):
    cache.stamp("memo-test")
    cache.stamp("memo-test")
    assert _stamp_reads(counting, "memo-test") == 2


@pytest.mark.django_db
def test_a_request_sees_its_own_write(counting, django_capture_on_commit_callbacks):
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    def view():
        first = cache.cached("memo-test", ("figure",), compute)
        with django_capture_on_commit_callbacks(execute=True):
            cache.bump("memo-test")  # this request's write commits
        second = cache.cached("memo-test", ("figure",), compute)
        return first, second, cache.stamp("memo-test") == django_cache.get("stamp:memo-test")

    first, second, same_stamp = in_request(view)
    assert (first, second) == (1, 2)  # computed again after the write, in the same request
    assert same_stamp


def test_another_process_write_is_seen_by_the_next_request(counting):
    def view():
        return cache.cached("memo-test", ("figure",), lambda: "old-" + str(cache.stamp("memo-test")))

    before = in_request(view)
    cache._move("memo-test")  # another process's write, committed between two requests
    after = in_request(view)
    assert before != after


def test_the_reference_date_is_worked_out_once_a_request(counting, monkeypatch):
    calls = []

    def last_day(today=None):
        calls.append(today)
        return dt.date(2017, 6, 30)

    monkeypatch.setattr(reference, "last_day_with_data", last_day)
    today = dt.date(2026, 12, 2)
    got = in_request(lambda: [reference.reference_date(today) for _ in range(3)] + [reference.reference_year(today)])
    assert got == [dt.date(2017, 6, 30)] * 3 + [2017]
    assert len(calls) == 1
    assert reference.reference_date(today) == dt.date(2017, 6, 30) and len(calls) == 2  # no memo outside
