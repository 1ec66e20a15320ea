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


class _Counting:
    """The cache, counting its reads."""

    def __init__(self, real):
        self.real, self.gets, self.get_manys = real, 0, 0

    def get(self, *a, **k):
        self.gets += 1
        return self.real.get(*a, **k)

    def get_many(self, *a, **k):
        self.get_manys += 1
        return self.real.get_many(*a, **k)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_cached_many_reads_its_hits_in_one_round_trip_and_computes_each_miss_once(monkeypatch):
    parts = [("county", i) for i in range(5)]
    assert jcache.cached("manytest", parts[1], lambda: {"n": 1}) == {"n": 1}  # one value already kept
    calls = []

    def compute(i):
        calls.append(i)
        return {"n": i * 10}

    first = jcache.cached_many("manytest", parts, compute)
    assert first == [{"n": 0}, {"n": 1}, {"n": 20}, {"n": 30}, {"n": 40}] and calls == [0, 2, 3, 4]
    # what ``cached`` gives for the same keys, one by one
    assert [jcache.cached("manytest", p, lambda: None) for p in parts] == first

    spy = _Counting(cache)
    monkeypatch.setattr(jcache, "cache", spy)
    calls.clear()
    assert jcache.cached_many("manytest", parts, compute) == first
    assert calls == [] and spy.get_manys == 2 and spy.gets == 0  # one MGET for the stamps, one for the values


def test_cached_each_reads_several_areas_in_two_round_trips_and_follows_each_areas_stamp(monkeypatch):
    wanted = [("area_a", ("x",), lambda: "a1"), ("area_b", ("y",), lambda: "b1"), ("area_a", ("z",), lambda: "a2")]
    assert jcache.cached_each(wanted) == ["a1", "b1", "a2"]
    spy = _Counting(cache)
    monkeypatch.setattr(jcache, "cache", spy)
    later = [("area_a", ("x",), lambda: "A"), ("area_b", ("y",), lambda: "B"), ("area_a", ("z",), lambda: "Z")]
    assert jcache.cached_each(later) == ["a1", "b1", "a2"]  # kept values, not recomputed
    assert spy.get_manys == 2 and spy.gets == 0  # the two stamps in one MGET, the three values in one more
    monkeypatch.setattr(jcache, "cache", spy.real)
    jcache._move("area_b")  # a write to b's data: only b's value is computed again
    assert jcache.cached_each(later) == ["a1", "B", "a2"]


def test_the_redis_client_object_is_made_once_and_shared_by_threads():
    from django.conf import settings

    # make test and CI always give the tests a Redis (a private redis-server or CELERY_BROKER_URL's)
    assert settings.CACHES["default"]["BACKEND"] == "jinpin.cache.PrefixedRedisCache"
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share the pool
    errors = []

    def work(n):
        try:
            for i in range(200):
                cache.set(f"shared-client-{n}-{i}", (n, i))
                assert cache.get(f"shared-client-{n}-{i}") == (n, i)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and cache._cache.get_client() is client
