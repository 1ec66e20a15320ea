"""The shared cache: what pages may keep between requests, and how it is invalidated.

With a Redis URL configured (``CACHE_URL``, or the Celery broker's ``CELERY_BROKER_URL``) every
web and worker process shares one Redis cache; without one, each process has its own LocMem
cache (development, ``make run``).

Cached figures are keyed by a *stamp*: one small counter per area of data ("subsidies",
"teachers"), stored in the same cache. A service that changes that area calls
``bump("subsidies")``, which moves the stamp once the transaction commits, so every key built
from the old stamp is simply never read again (it expires by its timeout). A reader that
computes while a write commits stores its result under the stamp it read before computing:
at worst that entry is never used. Each entry also has a timeout, a backstop for a write path
that forgot to bump.

    rows = cached("subsidies", ("recon", scope.county_id, year), lambda: reconciliation(...))

Within a request (``RequestMemoMiddleware``) each area's stamp is read from the cache once and kept
for the rest of the request — the home page asked Redis for the same five stamps 28 times, the
reference date's figures three times over — and a stamp this request moves (its own write, on
commit) is updated in that memo too. A request therefore reads every cached figure as of one moment,
as a request that started a few milliseconds earlier would.
"""

from __future__ import annotations

import contextvars
import hashlib
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction

from . import pagecache

DEFAULT_TIMEOUT = 600


class _SharedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one ``redis.Redis`` object per connection pool.

    Django builds a new ``redis.Redis`` object — its option parsing and its table of response callbacks —
    for every cache call; a dashboard reading 75 cached figures spent about a fifth of its CPU there. One
    object per pool is enough: redis-py's client is safe to share between threads (each command takes a
    connection from the pool and gives it back) and its pool notices a fork (a Celery pool process).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class PrefixedRedisCache(RedisCache):
    """Django's Redis cache whose ``clear()`` deletes only this cache's keys (its KEY_PREFIX), never
    the whole Redis database: the cache may share a database with Celery's queues; and whose client
    object is made once per connection pool, not once per call (``_SharedClientRedisCacheClient``)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient

    def clear(self):
        client = self._cache.get_client(None, write=True)
        pattern = self.make_key("*", version=self.version).rsplit(":", 2)[0] + ":*"
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


#: the current request's memo (stamps read, values derived from them), or None outside a request
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("jinpin_cache_memo", default=None)


def request_memo() -> dict | None:
    """The dict this request keeps derived values in (``jinpin.reference``), or None outside a request."""
    return _memo.get()


class RequestMemoMiddleware:
    """Each stamp read once per request (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)


def _stamp_key(area: str) -> str:
    return f"stamp:{area}"


def stamp(area: str) -> int:
    """The current stamp of ``area`` (one cache read, once per request; created on first use). A page being
    recorded for the page cache (``jinpin.pagecache``) notes it: the page is as valid as this figure."""
    memo = _memo.get()
    if memo is not None and ("stamp", area) in memo:
        value = memo[("stamp", area)]
    else:
        value = cache.get(_stamp_key(area))
        if value is None:
            value = _create(area)
        if memo is not None:
            memo[("stamp", area)] = value
    recording = pagecache.recording_areas()
    if recording is not None:
        recording[area] = value
    return value


def _create(area: str) -> int:
    value = time.time_ns()
    cache.add(_stamp_key(area), value, None)
    return cache.get(_stamp_key(area), value)


def stamps(areas) -> dict:
    """The current stamps of ``areas`` (``stamp`` for many: one cache read for those not yet read in this request)."""
    memo = _memo.get()
    out, missing = {}, []
    for a in areas:
        if memo is not None and ("stamp", a) in memo:
            out[a] = memo[("stamp", a)]
        else:
            missing.append(a)
    if missing:
        got = cache.get_many([_stamp_key(a) for a in missing])
        for a in missing:
            value = got.get(_stamp_key(a))
            if value is None:
                value = _create(a)
            out[a] = value
            if memo is not None:
                memo[("stamp", a)] = value
    return out


def _move(*areas: str) -> None:
    now = time.time_ns()
    cache.set_many({_stamp_key(a): now for a in areas}, None)
    memo = _memo.get()
    if memo is not None:  # this request's own write: what it reads next is computed afresh
        memo.clear()
        memo.update({("stamp", a): now for a in areas})


def bump(*areas: str) -> None:
    """Invalidate every cached figure of ``areas`` once the current transaction commits
    (at once when there is none)."""
    transaction.on_commit(lambda: _move(*areas))


def _key(area: str, parts: tuple, current: int | None = None) -> str:
    raw = ":".join(map(str, (stamp(area) if current is None else current, *parts)))
    return f"{area}:" + hashlib.sha1(raw.encode()).hexdigest()


def is_cached(area: str, parts: tuple) -> bool:
    """Whether ``cached(area, parts, …)`` would be a hit now (a cache warmer asks before computing)."""
    return cache.get(_key(area, parts)) is not None


def cached_many(area: str, parts_list: list[tuple], compute_one, timeout: int = DEFAULT_TIMEOUT) -> list:
    """``[cached(area, parts, lambda: compute_one(i)) for i, parts in enumerate(parts_list)]`` with the hits read
    in one round trip (one MGET; a dashboard's chart of eleven counties asked Redis eleven times); each miss
    goes through ``cached`` (its claim: one computation at a time)."""
    return cached_each([(area, parts, lambda i=i: compute_one(i)) for i, parts in enumerate(parts_list)], timeout)


def cached_each(wanted: list[tuple], timeout: int = DEFAULT_TIMEOUT) -> list:
    """``[cached(area, parts, compute) for area, parts, compute in wanted]``, the areas' stamps read in one round
    trip (those this request has not read yet) and the hits in one more (the reference date's six latest days, each
    under its own app's stamp, were twelve reads)."""
    current = stamps(dict.fromkeys(area for area, _p, _c in wanted))
    recording = pagecache.recording_areas()
    if recording is not None:  # a page being recorded is as valid as these figures (as ``stamp`` notes it)
        recording.update(current)
    keys = [_key(area, parts, current[area]) for area, parts, _c in wanted]
    hits = cache.get_many(keys)
    return [
        hits[key] if hits.get(key) is not None else cached(area, parts, compute, timeout)
        for key, (area, parts, compute) in zip(keys, wanted, strict=True)
    ]


#: how long a computation may hold its claim on a key (a crashed process's claim lapses after this)
CLAIM_SECONDS = 60
#: how long a request waits for another process's computation of the same value before computing it itself
WAIT_SECONDS = 15


def cached(area: str, parts: tuple, compute, timeout: int = DEFAULT_TIMEOUT):
    """``compute()``'s value, kept under ``area``'s current stamp and ``parts`` (plain values).

    One computation per value at a time (no stampede): when a write moves the stamp, or the cache is wiped, the
    first request to miss claims the key (``cache.add``, atomic in Redis and in LocMem) and computes; requests
    for the same value meanwhile wait for its result instead of running the same queries beside it (twenty
    clients opening the dashboard would otherwise run the city's figures twenty times at once). A waiter that
    sees the claim end without a value (the computation failed) or waits ``WAIT_SECONDS`` computes itself."""
    key = _key(area, parts)
    hit = cache.get(key)
    if hit is not None:
        return hit
    claim = key + ":computing"
    if not cache.add(claim, 1, CLAIM_SECONDS):
        deadline, delay = time.monotonic() + WAIT_SECONDS, 0.01
        while time.monotonic() < deadline:
            time.sleep(delay)
            hit = cache.get(key)
            if hit is not None:
                return hit
            if cache.get(claim) is None:
                break
            delay = min(delay * 2, 0.2)
        claim = None
    try:
        hit = compute()
        cache.set(key, hit, timeout)
    finally:
        if claim:
            cache.delete(claim)
    return hit
