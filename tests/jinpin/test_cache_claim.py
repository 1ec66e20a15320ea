"""jinpin.cache.cached: one computation per value at a time, on the shared cache (Redis where a broker is set)."""

import threading
import time

import pytest
from django.core.cache import cache

from jinpin import cache as jcache


@pytest.fixture(autouse=True)
def _clean():
    cache.clear()
    yield
    cache.clear()


def test_concurrent_misses_compute_once_and_all_get_the_value():
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.5)
        return {"paid": 48140000}

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(jcache.cached("claimtest", ("city",), compute))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert got == [{"paid": 48140000}] * 8


def test_a_failed_computation_lets_the_waiters_compute_themselves():
    started = threading.Event()

    def failing():
        started.set()
        time.sleep(0.3)
        raise RuntimeError("database gone")

    errors = []

    def first():
        try:
            jcache.cached("claimtest", ("county",), failing)
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    started.wait(5)
    begun = time.monotonic()
    assert jcache.cached("claimtest", ("county",), lambda: 7) == 7  # not the full WAIT_SECONDS
    assert time.monotonic() - begun < 5
    t.join()
    assert len(errors) == 1
    assert not cache.get(jcache._key("claimtest", ("county",)) + ":computing")


def test_a_moved_stamp_is_a_new_value_computed_again():
    n = []
    assert jcache.cached("claimtest", ("x",), lambda: n.append(1) or len(n)) == 1
    assert jcache.cached("claimtest", ("x",), lambda: n.append(1) or len(n)) == 1
    jcache._move("claimtest")
    assert jcache.cached("claimtest", ("x",), lambda: n.append(1) or len(n)) == 2
