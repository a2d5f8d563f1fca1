"""module_utils/vedfin_cache.py against the real session redis-server (tests/conftest.py).

The server is shared: every test works under its own namespace ``ved:t<hex>`` and deletes
only its own keys (SCAN, test-side only); the Redis-down test restarts the server.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid

import pytest
import redis
from ansible.module_utils.vedfin_cache import QueryCache

# The app user's commands as roles/redis/defaults/main.yml grants them (redis_app_acl_commands):
# no scripting, no SELECT, no admin. A cache that needs more fails these tests.
APP_COMMANDS = ["-@all", "+ping", "+get", "+set", "+setex", "+del", "+exists", "+incrby"]
APP_COMMANDS += ["+multi", "+exec", "+discard", "+watch", "+unwatch"]


@pytest.fixture
def admin(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    yield client
    client.close()


@pytest.fixture
def make_cache(redis_server, admin):
    """Factory of QueryCache objects on a namespace unique to the test; cleans its keys."""
    namespace = f"ved:t{uuid.uuid4().hex[:10]}"
    made: list[QueryCache] = []

    def make(url=None, **kw):
        kw.setdefault("namespace", namespace)
        kw.setdefault("breaker_seconds", 0.2)
        cache = QueryCache(url or redis_server.url, **kw)
        made.append(cache)
        return cache

    make.namespace = namespace
    yield make
    for cache in made:
        cache.close()
    try:
        keys = list(admin.scan_iter(match=f"{namespace}:*", count=500))
        if keys:
            admin.delete(*keys)
    except redis.ConnectionError:
        pass  # the server was restarted empty


class Source:
    """A stand-in for the database: counts computes, returns the current rows."""

    def __init__(self, rows=None, delay=0.0):
        self.rows = rows if rows is not None else [{"id": "u1", "points": 10}]
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return json.loads(json.dumps(self.rows))


# -- basics -------------------------------------------------------------------------------
def test_miss_then_hit_stores_compact_json_with_ttl(make_cache, admin):
    cache = make_cache(schema_version=4, default_ttl=120)
    src = Source([{"id": "c1", "title": {"vi": "Tiết kiệm", "en": "Saving"}, "enrollments": 3, "rate": 1.5}])
    rows, info = cache.get_or_compute("top_courses", {"limit": 10}, src)
    assert info["status"] == "miss" and rows == src.rows and src.calls == 1
    assert info["key"].startswith(f"{make_cache.namespace}:v4:top_courses:1:")
    rows2, info2 = cache.get_or_compute("top_courses", {"limit": 10}, src)
    assert info2["status"] == "hit" and rows2 == src.rows and src.calls == 1
    assert info2["compute_ms"] is None and info2["redis_ms"] >= 0 and info2["age_s"] >= 0
    raw = admin.get(info["key"]).decode()
    assert " " not in raw.replace("Tiết kiệm", "")  # compact separators
    doc = json.loads(raw)
    assert doc["r"] == src.rows and doc["p"] == {"limit": 10}
    assert 115_000 < admin.pttl(info["key"]) <= 120_000
    assert admin.exists(info["key"] + ":lock") == 0


def test_leaderboard_key_and_ttl_are_the_apps(make_cache, admin):
    cache = make_cache()
    _, info = cache.get_or_compute("leaderboard", {"timeframe": "week", "limit": 10}, Source())
    ns = make_cache.namespace
    gen = int(admin.get(f"{ns}:v1:gen:leaderboard"))
    assert gen > 1_000_000_000_000  # seeded with unix ms, never 0
    assert info["key"] == f"{ns}:v1:leaderboard:global:week:10:g{gen}"
    assert 295_000 < admin.pttl(info["key"]) <= 300_000


def test_ttl_is_honoured(make_cache, admin):
    cache = make_cache(ttl_by_query={"daily_active_users": 0.3})
    src = Source()
    _, info = cache.get_or_compute("daily_active_users", {"days": 7}, src)
    assert 0 < admin.pttl(info["key"]) <= 300
    assert cache.get_or_compute("daily_active_users", {"days": 7}, src)[1]["status"] == "hit"
    time.sleep(0.4)
    assert admin.exists(info["key"]) == 0
    assert cache.get_or_compute("daily_active_users", {"days": 7}, src)[1]["status"] == "miss"
    assert src.calls == 2


def test_no_key_sharing_between_different_params(make_cache):
    cache = make_cache()

    def answer(tag):
        return lambda: [{"tag": tag}]

    calls = {
        "a": ("revenue_metrics", {"start_date": "2024-01-01", "end_date": "2024-01-31"}),
        "b": ("revenue_metrics", {"start_date": "2024-01-01", "end_date": "2024-02-01"}),
        "c": ("learning_funnel", {"course_id": None}),
        "d": ("learning_funnel", {"course_id": "c1"}),
        "e": ("learning_funnel", {}),
        "f": ("top_courses", {"limit": 10}),
        "g": ("top_courses", {"limit": "10"}),
        "h": ("leaderboard", {"group_id": "g1"}),
        "i": ("leaderboard", {"group_id": "g2"}),
        "j": ("leaderboard", {"timeframe": "week"}),
    }
    for tag, (name, params) in calls.items():
        rows, info = cache.get_or_compute(name, params, answer(tag))
        assert info["status"] == "miss", tag
    for tag, (name, params) in calls.items():
        rows, info = cache.get_or_compute(name, params, answer("recomputed"))
        assert (info["status"], rows) == ("hit", [{"tag": tag}]), tag
    # equal after normalisation: the same entry
    import datetime as dt

    rows, info = cache.get_or_compute(
        "revenue_metrics", {"end_date": dt.date(2024, 1, 31), "start_date": dt.date(2024, 1, 1)}, answer("x")
    )
    assert (info["status"], rows) == ("hit", [{"tag": "a"}])
    rows, info = cache.get_or_compute("top_courses", {"limit": 10.0}, answer("x"))
    assert (info["status"], rows) == ("hit", [{"tag": "f"}])
    # another query version or schema version is another entry
    assert cache.get_or_compute("top_courses", {"limit": 10}, answer("v2"), query_version=2)[0] == [
        {"tag": "v2"}
    ]
    other = make_cache(schema_version=2)
    assert other.get_or_compute("top_courses", {"limit": 10}, answer("s2"))[0] == [{"tag": "s2"}]


# -- invalidation ---------------------------------------------------------------------------
def test_points_change_and_award_invalidate_every_board(make_cache):
    cache = make_cache()
    reader = make_cache()  # another process's cache object: no shared in-process state
    db = {"u1": 10, "u2": 5}

    def board():
        return [{"id": u, "points": p} for u, p in sorted(db.items(), key=lambda kv: -kv[1])]

    boards = [{}, {"timeframe": "week"}, {"group_id": "g1", "limit": 10}]
    for params in boards:
        assert cache.get_or_compute("leaderboard", params, board)[1]["status"] == "miss"
    db["u2"] = 500  # the points change commits ...
    stale, info = reader.get_or_compute("leaderboard", {}, board)
    assert info["status"] == "hit" and stale[0]["id"] == "u1"  # (cached: not yet invalidated)
    gen = cache.on_points_changed("u2")  # ... then the application calls the hook
    assert isinstance(gen, int)
    for params in boards:
        rows, info = reader.get_or_compute("leaderboard", params, board)
        assert info["status"] == "miss" and rows[0] == {"id": "u2", "points": 500}, params
        assert info["key"].endswith(f":g{gen}")
    assert reader.get_or_compute("leaderboard", {}, board)[1]["status"] == "hit"
    db["u1"] = 9999
    assert cache.on_achievement_awarded("u1") == gen + 1
    rows, info = reader.get_or_compute("leaderboard", {}, board)
    assert info["status"] == "miss" and rows[0]["id"] == "u1"
    # other queries are not touched by a leaderboard bump
    src = Source()
    cache.get_or_compute("top_courses", {}, src)
    cache.invalidate_leaderboards()
    assert cache.get_or_compute("top_courses", {}, src)[1]["status"] == "hit"


def test_explicit_invalidate(make_cache):
    cache = make_cache()
    src = Source()
    cache.get_or_compute("top_courses", {"limit": 5}, src)
    assert cache.invalidate("top_courses", {"limit": 5}) is True
    assert cache.invalidate("top_courses", {"limit": 5}) is False
    assert cache.get_or_compute("top_courses", {"limit": 5}, src)[1]["status"] == "miss"


def test_failed_bump_is_replayed_before_the_next_read(make_cache, admin):
    """A bump that Redis refuses (here: ACL denial) must not leave a stale board served."""
    user, password = f"vedt{secrets.token_hex(4)}", secrets.token_hex(16)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["ved:*"], commands=APP_COMMANDS)
    try:
        host, port = (
            admin.connection_pool.connection_kwargs["host"],
            admin.connection_pool.connection_kwargs["port"],
        )
        cache = make_cache(f"redis://{user}:{password}@{host}:{port}/0")
        db = {"top": "u1"}
        board = lambda: [{"id": db["top"]}]  # noqa: E731
        assert cache.get_or_compute("leaderboard", {}, board)[0] == [{"id": "u1"}]
        # INCRBY (redis-py's incr, inside the bump transaction) now denied
        admin.acl_setuser(user, enabled=True, commands=["-incrby"])
        db["top"] = "u2"
        assert cache.on_points_changed("u2") is None
        assert cache.stats["invalidation_failures"] == 1
        admin.acl_setuser(user, enabled=True, commands=["+incrby"])
        time.sleep(0.25)  # breaker_seconds
        rows, info = cache.get_or_compute("leaderboard", {}, board)
        assert info["status"] == "miss" and rows == [{"id": "u2"}]
    finally:
        admin.acl_deluser(user)


# -- single-flight ---------------------------------------------------------------------------
def _hammer(caches, name, params, src, n):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        barrier.wait()
        results[i] = caches[i % len(caches)].get_or_compute(name, params, src)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_single_flight_50_threads_one_compute(make_cache, admin):
    cache = make_cache()
    src = Source([{"id": "u1", "score": 42}], delay=0.2)
    results = _hammer([cache], "leaderboard", {"limit": 10}, src, 50)
    assert src.calls == 1
    assert all(r is not None and r[0] == [{"id": "u1", "score": 42}] for r in results)
    statuses = sorted(r[1]["status"] for r in results)
    assert statuses.count("miss") == 1 and statuses.count("hit") == 49
    assert sum(r[1]["coalesced"] for r in results) == 49
    s = cache.stats
    assert (s["computes"], s["misses"], s["hits"], s["coalesced"], s["degraded"]) == (1, 1, 49, 49, 0)
    assert admin.exists(results[0][1]["key"] + ":lock") == 0


def test_single_flight_across_independent_clients(make_cache):
    """Five QueryCache objects (own pools, no shared state: like five processes)."""
    caches = [make_cache() for _ in range(5)]
    src = Source(delay=0.15)
    results = _hammer(caches, "cohort_retention", {"weeks": 12}, src, 40)
    assert src.calls == 1
    assert len({json.dumps(r[0]) for r in results}) == 1


def test_dead_lock_holder_is_taken_over_after_lock_expiry(make_cache, admin):
    cache = make_cache()
    key = cache.key_for("top_courses", {"limit": 3})
    admin.set(key + ":lock", "a-process-that-died", px=300)  # its lock, but it never stores
    src = Source()
    t0 = time.monotonic()
    rows, info = cache.get_or_compute("top_courses", {"limit": 3}, src)
    waited = time.monotonic() - t0
    assert rows == src.rows and src.calls == 1 and info["status"] == "miss"
    assert 0.25 <= waited < 2.0
    assert cache.get_or_compute("top_courses", {"limit": 3}, src)[1]["status"] == "hit"


def test_wait_is_bounded(make_cache, admin):
    cache = make_cache(wait_timeout=0.2)
    key = cache.key_for("top_courses", {"limit": 4})
    admin.set(key + ":lock", "a-very-slow-holder", px=10_000)
    src = Source()
    t0 = time.monotonic()
    rows, info = cache.get_or_compute("top_courses", {"limit": 4}, src)
    assert rows == src.rows and info["status"] == "miss" and src.calls == 1
    assert 0.15 <= time.monotonic() - t0 < 1.5


def test_compute_error_propagates_and_releases_the_lock(make_cache, admin):
    cache = make_cache()

    def broken():
        raise RuntimeError("query failed")

    with pytest.raises(RuntimeError, match="query failed"):
        cache.get_or_compute("top_courses", {"limit": 6}, broken)
    key = cache.key_for("top_courses", {"limit": 6})
    assert admin.exists(key, key + ":lock") == 0
    assert cache.get_or_compute("top_courses", {"limit": 6}, Source())[1]["status"] == "miss"


# -- Redis down ---------------------------------------------------------------------------
def test_redis_down_falls_back_and_recovers(make_cache, redis_server, caplog):
    cache = make_cache(breaker_seconds=0.2)
    db = {"v": 1}

    def compute():
        return [{"v": db["v"]}]

    params = {"days": 30}
    assert cache.get_or_compute("daily_active_users", params, compute)[1]["status"] == "miss"
    assert cache.get_or_compute("daily_active_users", params, compute)[1]["status"] == "hit"
    caplog.set_level(logging.INFO, logger="ansible.module_utils.vedfin_cache")
    redis_server.stop()
    try:
        db["v"] = 2
        t0 = time.monotonic()
        for _ in range(20):
            rows, info = cache.get_or_compute("daily_active_users", params, compute)
            assert rows == [{"v": 2}] and info["status"] == "degraded"
        assert time.monotonic() - t0 < 1.0  # the breaker spares the timeout on most calls
        assert cache.on_points_changed("u1") is None  # no exception either
        rows, info = cache.get_or_compute("leaderboard", {}, compute)
        assert rows == [{"v": 2}] and info["status"] == "degraded"
        time.sleep(0.25)  # breaker elapses: one probe, still down
        assert cache.get_or_compute("daily_active_users", params, compute)[1]["status"] == "degraded"
        s = cache.stats
        assert s["degraded"] == 22 and s["redis_errors"] >= 2
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unavailable" in r.message]
        assert len(warnings) == 1  # once per outage
    finally:
        if redis_server.proc is None:
            redis_server.start()
    time.sleep(0.25)
    db["v"] = 3
    rows, info = cache.get_or_compute("daily_active_users", params, compute)
    assert rows == [{"v": 3}] and info["status"] == "miss"  # the restarted server is empty
    rows, info = cache.get_or_compute("daily_active_users", params, compute)
    assert rows == [{"v": 3}] and info["status"] == "hit"
    assert cache.get_or_compute("leaderboard", {}, compute)[1]["status"] == "miss"
    assert cache.get_or_compute("leaderboard", {}, compute)[1]["status"] == "hit"
    assert any("caching resumed" in r.message for r in caplog.records)


def test_redis_timeout_is_bounded_and_recovers(make_cache, admin):
    """A stalled server (CLIENT PAUSE): the 0.2 s socket timeout, then the breaker, then hits."""
    cache = make_cache(breaker_seconds=0.3)
    src = Source()
    cache.get_or_compute("top_courses", {"limit": 7}, src)
    admin.execute_command("CLIENT", "PAUSE", 700, "ALL")
    try:
        t0 = time.monotonic()
        rows, info = cache.get_or_compute("top_courses", {"limit": 7}, src)
        first = time.monotonic() - t0
        assert rows == src.rows and info["status"] == "degraded"
        assert 0.15 <= first < 0.6  # one socket timeout, not redis-py's default retries
        t0 = time.monotonic()
        assert cache.get_or_compute("top_courses", {"limit": 7}, src)[1]["status"] == "degraded"
        assert time.monotonic() - t0 < 0.1  # breaker open: Redis skipped
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    time.sleep(0.35)
    rows, info = cache.get_or_compute("top_courses", {"limit": 7}, src)
    assert info["status"] == "hit" and rows == src.rows
    assert cache.stats["degraded"] == 2


def test_acl_user_restricted_to_ved_keys(make_cache, admin):
    """The production shape: the role's app ACL (~ved:*, explicit command list, no scripting),
    password in the URL."""
    user, password = f"vedt{secrets.token_hex(4)}", secrets.token_hex(16)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["ved:*"], commands=APP_COMMANDS)
    try:
        kw = admin.connection_pool.connection_kwargs
        url = f"redis://{user}:{password}@{kw['host']}:{kw['port']}/0"
        cache = make_cache(url)
        src = Source(delay=0.05)
        results = _hammer([cache], "leaderboard", {"group_id": "g1"}, src, 10)
        assert src.calls == 1 and {r[1]["status"] for r in results} == {"miss", "hit"}
        assert isinstance(cache.invalidate_leaderboards(), int)
        assert cache.get_or_compute("leaderboard", {"group_id": "g1"}, src)[1]["status"] == "miss"
        assert cache.stats["degraded"] == 0 and cache.stats["redis_errors"] == 0
        # outside ved:* the same user is refused: degraded, never an exception
        outside = make_cache(url, namespace="other")
        rows, info = outside.get_or_compute("top_courses", {}, src)
        assert rows == src.rows and info["status"] == "degraded"
    finally:
        admin.acl_deluser(user)


# -- stats ------------------------------------------------------------------------------
def test_stats_and_cached_read_latency(make_cache):
    cache = make_cache(latency_samples=300)
    rows = [{"id": f"u{i}", "name": {"vi": "Nguyễn Văn A", "en": "A"}, "points": i} for i in range(50)]
    cache.get_or_compute("leaderboard", {}, lambda: rows)
    cache.get_or_compute("top_courses", {}, lambda: rows)
    for _ in range(500):
        assert cache.get_or_compute("top_courses", {}, lambda: rows)[1]["status"] == "hit"
    s = cache.stats
    assert (s["hits"], s["misses"], s["computes"], s["calls"]) == (500, 2, 2, 502)
    assert s["hit_rate"] == round(500 / 502, 4)
    assert s["samples"] == 300  # bounded
    assert 0 < s["p50_ms"] <= s["p95_ms"] < 50
    print(f"\ncached read (GET round trip, loopback): p50={s['p50_ms']} ms p95={s['p95_ms']} ms")
    cache.reset_stats()
    assert cache.stats["calls"] == 0 and cache.stats["p50_ms"] is None
