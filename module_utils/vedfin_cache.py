"""Cache-aside for the V-EdFinance analytics queries over Redis (redis-py), plain Python.

``QueryCache.get_or_compute(query, params, compute)`` returns the cached rows of a query call
or runs ``compute()`` (the real query), stores its rows with the query's TTL and returns
them.  It never lets a Redis problem reach the caller: when Redis is down or slow it
computes directly (``info['status'] == 'degraded'``) and Redis hits resume by themselves
once it is back.

Key scheme (versioned, canonical)
---------------------------------
Every key lives under ``{namespace}:`` (default ``ved``, the only prefix the application's
Redis ACL user may touch: ``~ved:*``).  ``{schema}`` is the integer ``schema_version``: bump
it when the database schema or the shape of the results changes and every old key is
simply never read again (it expires on its TTL).

* generic queries::

      ved:v{schema}:{query}:{qv}:{sha256(canonical JSON of params)[:16]}

  ``qv`` is the per-query ``query_version`` (default ``1``; ``1`` and ``"1"`` are the
  same).  Canonical JSON = sorted keys, compact separators, UTF-8, and normalised values:
  ``date``/``datetime``/``time`` -> ISO 8601 string (aware datetimes converted to UTC),
  ``Decimal`` and floats -> ``int`` when integral (``5``, ``5.0`` and ``Decimal('5')`` are
  the same), ``UUID`` -> string, tuples -> lists, sets -> sorted lists, ``None`` kept as ``null`` (so
  ``{"course_id": None}`` and ``{}`` are *different* calls: fill defaults first, e.g. with
  ``vedfin_analytics.validate``).  Strings are never coerced (``"5"`` is not ``5``); NaN and
  infinities are rejected.  The stored value carries the canonical params and is checked
  on read, so even a 64-bit digest collision can never serve another call's rows.

* the leaderboard (query 5), human-readable like the application's
  ``leaderboard:{group|global}:{timeframe}:{limit}``::

      ved:v{schema}:leaderboard:{group_id|global}:{timeframe}:{limit}[:tz={tz}][:q{qv}]:g{generation}

  ``tz`` appears only when it is not ``UTC`` and ``q{qv}`` only when ``query_version`` is
  not 1, so the common key reads ``ved:v1:leaderboard:global:week:50:g17``.  Text segments
  are percent-encoded (``:``, ``%``, spaces, ...) and a group literally named ``global``
  is written ``%67lobal``, so the key is injective.  Missing params take the registry's
  defaults (group_id None, timeframe ``all``, limit 50, tz ``UTC``); other params are an
  error.  ``{generation}`` is the counter ``ved:v{schema}:gen:leaderboard``: every points
  change or achievement award calls :meth:`QueryCache.invalidate_leaderboards` (INCR), so
  the next read uses a new key and recomputes; old boards just expire.  A missing counter
  (first use, or evicted under ``allkeys-lru``) is seeded with the current Unix time in ms,
  never 0, so an evicted counter can never come back to a generation that is still cached.

* internal keys: ``{key}:lock`` (single-flight lock), ``ved:v{schema}:gen:{scope}``.

Values are compact JSON: ``{"p": <canonical params>, "t": <unix time computed>, "r": rows}``.

Single-flight
-------------
On a miss the caller takes ``SET {key}:lock <token> NX PX lock_timeout``.  The holder
computes, then stores the value and releases its own lock in one MULTI/EXEC transaction
guarded by ``WATCH`` on the lock.  Everybody else polls ``GET key`` (+ ``EXISTS lock``, one
round trip, backoff 2 -> 50 ms) until the value appears (``info['coalesced'] = True``), at
most ``wait_timeout`` seconds.  If the lock disappears without a value (the holder died and
its lock expired, or its compute raised) one waiter takes the lock over and computes.  Works
across threads and processes; needs no pub/sub permission.  (If a compute outlives
``lock_timeout`` a second caller may compute too: set ``lock_timeout`` above the slowest query.)

No Lua: the application's ACL user may not run scripts (roles/redis, redis_app_acl_commands
allows exactly these commands on ``~ved:*``): GET, SET (NX, PX), DEL, EXISTS, INCRBY
(redis-py's ``incr``), MULTI, EXEC, DISCARD, WATCH, UNWATCH, and PING (the benchmark's
pre-flight).

Redis down
----------
Any ``redis.RedisError`` (refused, timeout, ACL denial, ...) -> compute directly, count
``stats['degraded']``, log one warning per outage (and one info line when Redis answers
again).  A circuit breaker then skips Redis for ``breaker_seconds`` (one probe after that), so
an outage costs one socket timeout per ``breaker_seconds``, not one per call.  A client
built from a URL (``vedfin_redis.client``) uses 0.2 s connect/read timeouts (the defaults of
``socket_timeout`` / ``connect_timeout``) and no automatic retries.  A generation bump that
fails is remembered and replayed before the next Redis read of this process.

How ``vedfin_analytics.Analytics.run_with_info(..., cached=True)`` uses it::

    clean = validate(name, params)                      # defaults filled, types coerced
    if self.cache is None or not cached:
        return self._query(name, clean, form), {"status": "uncached"}
    return self.cache.get_or_compute(
        name,
        to_json_safe(clean),                            # dates as ISO strings
        lambda: self._query(name, clean, form),         # pooled connection, JSON-safe rows
        query_version=1 if form == "fast" else form,    # the oracle form has its own keys
    )

Application hooks (after the database transaction commits)::

    cache.on_points_changed(user_id)        # or cache.on_achievement_awarded(user_id)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import quote

import redis
from ansible.module_utils import vedfin_redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

LEADERBOARD = "leaderboard"
LEADERBOARD_DEFAULTS = {"group_id": None, "timeframe": "all", "limit": 50, "tz": "UTC"}
DEFAULT_TTLS = {LEADERBOARD: 300}  # the application's leaderboard TTL: 5 minutes
DIGEST_LEN = 16

# How often a compare-and-delete of a lock retries when WATCH sees the lock change under it
# (only when it expires or is taken over at that very moment).
_CAS_ATTEMPTS = 5


# -- canonical params and keys (pure) ---------------------------------------------------------
def normalize(value):
    """A JSON-ready, canonical form of a parameter value (see the module docstring)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cache params must be finite numbers, got {value!r}")
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"cache params must be finite numbers, got {value!r}")
            if value == value.to_integral_value():
                return int(value)
            return float(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, _dt.datetime) and value.utcoffset() is not None:
        return value.astimezone(_dt.UTC).isoformat()  # the same instant, one spelling
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cache param names must be strings, got {k!r}")
            out[k] = normalize(v)
        return out
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((normalize(v) for v in value), key=_dumps)
    raise TypeError(f"cannot use a {type(value).__name__} as a cache param: {value!r}")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(params: dict | None) -> str:
    """Canonical JSON text of a params dict: normalised values, sorted keys, compact."""
    return _dumps(normalize(dict(params or {})))


def params_digest(params: dict | None) -> str:
    return hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()[:DIGEST_LEN]


def _seg(text: str) -> str:
    """A key segment: percent-encode everything but unreserved characters and '/', '+', '='."""
    return quote(text, safe="/+=@,")


def _qv(query_version) -> str:
    qv = normalize(query_version)
    if not isinstance(qv, (int, str)) or isinstance(qv, bool) or qv == "":
        raise ValueError(f"query_version must be a non-empty str or an int, got {query_version!r}")
    return _seg(str(qv))


def leaderboard_params(params: dict | None) -> dict:
    """The leaderboard params with defaults filled and types checked (canonical form)."""
    params = normalize(dict(params or {}))
    unknown = sorted(set(params) - set(LEADERBOARD_DEFAULTS))
    if unknown:
        raise ValueError(
            f"leaderboard: unknown cache params {unknown}; allowed {sorted(LEADERBOARD_DEFAULTS)}"
        )
    out = {k: (params[k] if params.get(k) is not None else d) for k, d in LEADERBOARD_DEFAULTS.items()}
    if out["group_id"] is not None and not isinstance(out["group_id"], str):
        raise ValueError(f"leaderboard: group_id must be a string or None, got {out['group_id']!r}")
    if not isinstance(out["timeframe"], str) or not isinstance(out["tz"], str):
        raise ValueError("leaderboard: timeframe and tz must be strings")
    if not isinstance(out["limit"], int) or isinstance(out["limit"], bool):
        raise ValueError(f"leaderboard: limit must be an integer, got {out['limit']!r}")
    return out


def cache_key(
    query_name: str,
    params: dict | None,
    *,
    namespace: str = "ved",
    schema_version: int = 1,
    query_version: str | int = 1,
    generation: int | None = None,
) -> str:
    """The cache key of one call (scheme in the module docstring).

    ``generation`` is required for the leaderboard (the value of its generation counter).
    """
    if not isinstance(query_name, str) or not query_name:
        raise ValueError(f"query name must be a non-empty string, got {query_name!r}")
    base = f"{namespace}:v{int(schema_version)}"
    qv = _qv(query_version)
    if query_name != LEADERBOARD:
        return f"{base}:{_seg(query_name)}:{qv}:{params_digest(params)}"
    if generation is None or isinstance(generation, bool) or not isinstance(generation, int):
        raise ValueError("the leaderboard key needs its generation (an int)")
    p = leaderboard_params(params)
    group = "global" if p["group_id"] is None else _seg(p["group_id"])
    if p["group_id"] == "global":
        group = "%67lobal"  # a group whose id is literally "global" is not the global board
    parts = [base, LEADERBOARD, group, _seg(p["timeframe"]), str(p["limit"])]
    if p["tz"] != "UTC":
        parts.append("tz=" + _seg(p["tz"]))
    if qv != "1":
        parts.append("q" + qv)
    parts.append(f"g{generation}")
    return ":".join(parts)


def _canonical_for(query_name: str, params: dict | None):
    return leaderboard_params(params) if query_name == LEADERBOARD else normalize(dict(params or {}))


def _percentile(sorted_samples: list[float], pct: float) -> float | None:
    if not sorted_samples:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_samples)))
    return round(sorted_samples[rank - 1], 3)


# -- the cache ----------------------------------------------------------------------------
class QueryCache:
    """Cache-aside with single-flight, generation invalidation and a Redis-down fallback.

    ``client_or_url``: a ``redis.Redis`` (used as given: set its socket timeouts yourself)
    or a URL such as ``redis://app:secret@127.0.0.1:6379/0`` (ACL user and password).
    TTLs are seconds (floats allowed); ``ttl_by_query`` overrides ``DEFAULT_TTLS``
    (leaderboard 300 s) and ``default_ttl`` covers every other query.
    """

    def __init__(
        self,
        client_or_url,
        *,
        namespace: str = "ved",
        schema_version: int = 1,
        ttl_by_query: dict[str, float] | None = None,
        default_ttl: float = 300,
        lock_timeout: float = 15.0,
        wait_timeout: float = 20.0,
        socket_timeout: float = 0.2,
        connect_timeout: float = 0.2,
        breaker_seconds: float = 1.0,
        latency_samples: int = 2048,
    ):
        if isinstance(client_or_url, str):
            self.client = vedfin_redis.client(
                client_or_url,
                timeout=socket_timeout,
                socket_connect_timeout=connect_timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._owns_client = True
        else:
            self.client = client_or_url
            self._owns_client = False
        if not isinstance(schema_version, int) or isinstance(schema_version, bool) or schema_version < 0:
            raise ValueError(f"schema_version must be a non-negative int, got {schema_version!r}")
        self.namespace = namespace
        self.schema_version = schema_version
        self.ttl_by_query = {**DEFAULT_TTLS, **(ttl_by_query or {})}
        self.default_ttl = default_ttl
        for name, ttl in [*self.ttl_by_query.items(), ("default_ttl", default_ttl)]:
            if not isinstance(ttl, (int, float)) or isinstance(ttl, bool) or ttl <= 0:
                raise ValueError(f"TTL of {name} must be a positive number of seconds, got {ttl!r}")
        if lock_timeout <= 0 or wait_timeout < 0 or breaker_seconds < 0:
            raise ValueError("lock_timeout must be > 0, wait_timeout and breaker_seconds >= 0")
        self.lock_timeout = lock_timeout
        self.wait_timeout = wait_timeout
        self.breaker_seconds = breaker_seconds
        self._mutex = threading.Lock()
        self._counts = dict.fromkeys(
            ("hits", "misses", "degraded", "computes", "coalesced", "redis_errors", "invalidation_failures"),
            0,
        )
        self._latency: deque[float] = deque(maxlen=latency_samples)
        self._open_until: float | None = None  # circuit breaker: skip Redis until then
        self._outage = False
        self._pending_bumps: set[str] = set()

    # -- public API ----------------------------------------------------------------------
    def ttl_for(self, query_name: str) -> float:
        return self.ttl_by_query.get(query_name, self.default_ttl)

    def generation_key(self, scope: str = LEADERBOARD) -> str:
        return f"{self.namespace}:v{self.schema_version}:gen:{_seg(scope)}"

    def key_for(self, query_name: str, params: dict | None, *, query_version: str | int = 1) -> str:
        """The key a call uses now (reads the generation counter for the leaderboard)."""
        gen = self._generation(LEADERBOARD) if query_name == LEADERBOARD else None
        return self._key(query_name, params, query_version, gen)

    def get_or_compute(
        self,
        query_name: str,
        params: dict | None,
        compute: Callable[[], list[dict]],
        *,
        query_version: str | int = 1,
    ) -> tuple[list[dict], dict]:
        """Cached rows of the call, or ``compute()``'s rows (stored with the query's TTL).

        Returns ``(rows, info)``; ``info``: ``status`` (``hit`` / ``miss`` / ``degraded``),
        ``key``, ``redis_ms`` (lookup round trips, None when Redis was skipped),
        ``compute_ms`` (None on a hit), ``coalesced`` (served by another caller's compute),
        ``age_s`` (age of a cached value), ``ttl_s``.  Exceptions of ``compute`` propagate;
        Redis errors never do.  Bad params (unnormalisable values) raise ValueError/TypeError.
        """
        canon = _canonical_for(query_name, params)  # validates params before touching Redis
        info = {
            "status": None,
            "key": None,
            "redis_ms": None,
            "compute_ms": None,
            "coalesced": False,
            "age_s": None,
            "ttl_s": self.ttl_for(query_name),
        }
        if not self._redis_allowed():
            return self._degraded(compute, info)
        try:
            t0 = time.perf_counter()
            self._flush_pending_bumps()
            gen = self._generation(LEADERBOARD) if query_name == LEADERBOARD else None
            key = self._key(query_name, params, query_version, gen)
            raw = self.client.get(key)
            ms = (time.perf_counter() - t0) * 1000.0
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return self._degraded(compute, info)
        self._redis_ok()
        info["key"], info["redis_ms"] = key, round(ms, 3)
        with self._mutex:
            self._latency.append(ms)
        found = self._decode(raw, canon)
        if found is not None:
            rows, info["age_s"] = found
            return rows, self._count(info, "hit")
        return self._fill(key, canon, compute, info)

    def bump_generation(self, scope: str = LEADERBOARD) -> int | None:
        """INCR the generation counter of ``scope``; returns the new generation.

        On a Redis error (or while the breaker is open) returns None, logs, and replays the
        bump before this process's next Redis read.
        """
        if self._redis_allowed():
            try:
                gen = self._bump(self.generation_key(scope))
            except redis.RedisError as exc:
                self._redis_failed(exc)
            else:
                self._redis_ok()
                return int(gen)
        with self._mutex:
            self._pending_bumps.add(scope)
            self._counts["invalidation_failures"] += 1
        log.warning("vedfin_cache: could not bump generation %r now; will retry when Redis answers", scope)
        return None

    def invalidate_leaderboards(self) -> int | None:
        return self.bump_generation(LEADERBOARD)

    def on_points_changed(self, user_id: str) -> int | None:
        """Call after the transaction that changed a user's points commits."""
        log.debug("vedfin_cache: points changed for user %s: invalidating leaderboards", user_id)
        return self.invalidate_leaderboards()

    def on_achievement_awarded(self, user_id: str) -> int | None:
        """Call after the transaction that awarded an achievement commits."""
        log.debug("vedfin_cache: achievement awarded to user %s: invalidating leaderboards", user_id)
        return self.invalidate_leaderboards()

    def invalidate(self, query_name: str, params: dict | None, *, query_version: str | int = 1) -> bool:
        """Delete the current key of one call; False when it was absent or Redis failed."""
        try:
            deleted = self.client.delete(self.key_for(query_name, params, query_version=query_version))
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return False
        self._redis_ok()
        return bool(deleted)

    @property
    def stats(self) -> dict:
        """Snapshot: hits, misses, degraded, computes, coalesced, redis_errors,
        invalidation_failures, calls, hit_rate (hits / calls), p50_ms / p95_ms of the Redis
        lookup round trips (last ``latency_samples`` lookups), samples."""
        with self._mutex:
            out = dict(self._counts)
            samples = sorted(self._latency)
        calls = out["hits"] + out["misses"] + out["degraded"]
        out["calls"] = calls
        out["hit_rate"] = round(out["hits"] / calls, 4) if calls else 0.0
        out["p50_ms"] = _percentile(samples, 50)
        out["p95_ms"] = _percentile(samples, 95)
        out["samples"] = len(samples)
        return out

    def reset_stats(self) -> None:
        with self._mutex:
            for k in self._counts:
                self._counts[k] = 0
            self._latency.clear()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _key(self, query_name, params, query_version, generation) -> str:
        return cache_key(
            query_name,
            params,
            namespace=self.namespace,
            schema_version=self.schema_version,
            query_version=query_version,
            generation=generation,
        )

    def _generation(self, scope: str) -> int:
        gkey = self.generation_key(scope)
        raw = self.client.get(gkey)
        if raw is None:  # first use, or evicted: seed with a value no old key can carry
            self.client.set(gkey, int(time.time() * 1000), nx=True)
            raw = self.client.get(gkey)
        return int(raw)

    def _flush_pending_bumps(self) -> None:
        if not self._pending_bumps:
            return
        with self._mutex:
            scopes, self._pending_bumps = self._pending_bumps, set()
        try:
            for scope in scopes:
                self._bump(self.generation_key(scope))
        except redis.RedisError:
            with self._mutex:
                self._pending_bumps |= scopes
            raise
        log.info("vedfin_cache: replayed generation bumps %s", sorted(scopes))

    def _ttl_ms(self, ttl: float) -> int:
        return max(1, int(ttl * 1000))

    def _encode(self, canon, rows) -> str:
        return _dumps({"p": canon, "t": round(time.time(), 3), "r": rows})

    @staticmethod
    def _decode(raw, canon):
        """(rows, age_s) of a stored value for exactly these params, else None."""
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            if doc.get("p") != canon:  # digest collision or foreign value: not ours
                return None
            return doc["r"], round(max(0.0, time.time() - float(doc["t"])), 3)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def _compute(self, compute, info):
        with self._mutex:
            self._counts["computes"] += 1
        t0 = time.perf_counter()
        rows = compute()
        info["compute_ms"] = round((time.perf_counter() - t0) * 1000.0, 3)
        return rows

    def _count(self, info, status):
        info["status"] = status
        with self._mutex:
            self._counts[{"hit": "hits", "miss": "misses", "degraded": "degraded"}[status]] += 1
            if info["coalesced"]:
                self._counts["coalesced"] += 1
        return info

    def _degraded(self, compute, info):
        rows = self._compute(compute, info)
        return rows, self._count(info, "degraded")

    def _fill(self, key, canon, compute, info):
        """Miss path: single-flight through ``{key}:lock``."""
        lock_key = key + ":lock"
        token = secrets.token_hex(16)
        ttl_ms = self._ttl_ms(info["ttl_s"])
        lock_ms = max(1, int(self.lock_timeout * 1000))
        deadline = time.monotonic() + self.wait_timeout
        while True:
            try:
                acquired = self.client.set(lock_key, token, nx=True, px=lock_ms)
            except redis.RedisError as exc:
                self._redis_failed(exc)
                return self._degraded(compute, info)
            if acquired:
                try:  # re-check: the previous holder may have stored the value since our GET
                    found = self._decode(self.client.get(key), canon)
                except redis.RedisError as exc:
                    self._release(lock_key, token)
                    self._redis_failed(exc)
                    return self._degraded(compute, info)
                if found is not None:
                    self._release(lock_key, token)
                    rows, info["age_s"] = found
                    info["coalesced"] = True
                    return rows, self._count(info, "hit")
                try:
                    rows = self._compute(compute, info)
                    payload = self._encode(canon, rows)
                except BaseException:
                    self._release(lock_key, token)
                    raise
                try:
                    self._store_and_unlock(key, lock_key, payload, ttl_ms, token)
                except redis.RedisError as exc:
                    self._redis_failed(exc)
                    return rows, self._count(info, "degraded")
                return rows, self._count(info, "miss")
            # Somebody else computes: wait for the value, or for the lock to vanish.
            delay = 0.002
            while True:
                if time.monotonic() >= deadline:
                    log.warning(
                        "vedfin_cache: waited %.1fs for %s; computing without the lock",
                        self.wait_timeout,
                        key,
                    )
                    rows = self._compute(compute, info)
                    try:
                        self.client.set(key, self._encode(canon, rows), px=ttl_ms)
                    except redis.RedisError as exc:
                        self._redis_failed(exc)
                        return rows, self._count(info, "degraded")
                    return rows, self._count(info, "miss")
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 1.5, 0.05)
                try:
                    pipe = self.client.pipeline(transaction=False)
                    pipe.get(key)
                    pipe.exists(lock_key)
                    raw, locked = pipe.execute()
                except redis.RedisError as exc:
                    self._redis_failed(exc)
                    return self._degraded(compute, info)
                found = self._decode(raw, canon)
                if found is not None:
                    rows, info["age_s"] = found
                    info["coalesced"] = True
                    return rows, self._count(info, "hit")
                if not locked:
                    break  # holder gone (died: lock expired; or its compute failed): take over

    # -- atomic steps as MULTI/EXEC transactions (the app's ACL denies EVAL/EVALSHA) --------
    def _bump(self, gkey: str) -> int:
        """SET the counter to now (unix ms) if missing, then INCR it: one atomic transaction."""
        pipe = self.client.pipeline(transaction=True)
        pipe.set(gkey, int(time.time() * 1000), nx=True)
        pipe.incr(gkey)
        return int(pipe.execute()[1])

    def _store_and_unlock(self, key, lock_key, payload, ttl_ms, token) -> None:
        """SET the value and DEL the lock only if it still holds our token, atomically."""
        self._cas_lock(lock_key, token, lambda pipe: pipe.set(key, payload, px=ttl_ms))
        # (if WATCH kept failing, _cas_lock stored the value without touching the lock)

    def _unlock(self, lock_key, token) -> None:
        """DEL the lock only if it still holds our token (never another caller's lock)."""
        self._cas_lock(lock_key, token, None)

    def _cas_lock(self, lock_key, token, also) -> None:
        """WATCH lock; GET; MULTI [also(pipe)] [DEL lock if ours] EXEC; retried on WatchError."""
        with self.client.pipeline(transaction=True) as pipe:
            for _ in range(_CAS_ATTEMPTS):
                try:
                    pipe.watch(lock_key)
                    held = pipe.get(lock_key)
                    if isinstance(held, bytes):
                        held = held.decode("utf-8", "replace")
                    if also is None and held != token:
                        return  # not ours (expired, taken over): leave it; reset() UNWATCHes
                    pipe.multi()
                    if also is not None:
                        also(pipe)
                    if held == token:
                        pipe.delete(lock_key)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue  # the lock changed hands between GET and EXEC: look again
        if also is not None:  # the lock keeps changing: store the value, leave the lock alone
            pipe = self.client.pipeline(transaction=False)
            also(pipe)
            pipe.execute()

    def _release(self, lock_key, token) -> None:
        try:
            self._unlock(lock_key, token)
        except redis.RedisError as exc:
            self._redis_failed(exc)

    # -- circuit breaker -----------------------------------------------------------------
    def _redis_allowed(self) -> bool:
        if self._open_until is None:
            return True
        with self._mutex:
            if self._open_until is None:
                return True
            now = time.monotonic()
            if now < self._open_until:
                return False
            self._open_until = now + self.breaker_seconds  # this caller probes; others skip
            return True

    def _redis_failed(self, exc: Exception) -> None:
        with self._mutex:
            self._open_until = time.monotonic() + self.breaker_seconds
            self._counts["redis_errors"] += 1
            first = not self._outage
            self._outage = True
        if first:
            log.warning(
                "vedfin_cache: Redis unavailable (%s: %s); computing uncached, retrying every %.1fs",
                type(exc).__name__,
                exc,
                self.breaker_seconds,
            )
            # drop idle pooled sockets: they are dead after a server restart (best effort)
            with contextlib.suppress(Exception):
                self.client.connection_pool.disconnect(inuse_connections=False)

    def _redis_ok(self) -> None:
        if not self._outage and self._open_until is None:
            return
        with self._mutex:
            recovered = self._outage
            self._outage = False
            self._open_until = None
        if recovered:
            log.info("vedfin_cache: Redis answers again; caching resumed")


__all__ = [
    "DEFAULT_TTLS",
    "LEADERBOARD",
    "QueryCache",
    "cache_key",
    "canonical_json",
    "leaderboard_params",
    "normalize",
    "params_digest",
]
