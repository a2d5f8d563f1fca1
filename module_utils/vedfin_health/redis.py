"""Section ``redis``: the cache, one function per check, from one ``INFO all`` and
``SLOWLOG GET``. The client comes from ``ansible.module_utils.vedfin_redis.connect`` (the
runner); the monitor ACL user of the redis role (``+info``, ``+slowlog|get``) is enough.
"""

from __future__ import annotations

from ansible.module_utils.vedfin_health.registry import TOP, Outcome, section
from ansible.module_utils.vedfin_health.status import evaluate, ratio

check = section("redis")

MIN_REDIS_LOOKUPS = 1000


class RedisContext:
    """A redis-py client (``decode_responses=True``) and its ``INFO all``, read at once."""

    def __init__(self, client):
        self.client = client
        self.info = client.info("all")


@check(
    "redis_memory",
    "Redis used memory vs maxmemory",
    unit="ratio",
    anchor="redis-evictions",
    remedy="Raise redis_maxmemory_mb or shorten TTLs",
    above=(0.8, 0.95),
)
def redis_memory(ctx: RedisContext) -> Outcome:
    used, limit = ctx.info.get("used_memory", 0), ctx.info.get("maxmemory", 0)
    details = {"used_memory": used, "maxmemory": limit, "policy": ctx.info.get("maxmemory_policy")}
    if not limit:
        note = "maxmemory is 0 (unbounded): the cache can take the host's memory"
        return Outcome("warn", None, note, details)
    return Outcome(value=round(used / limit, 4), details=details)


@check(
    "redis_hit_rate",
    "Redis keyspace hit rate",
    unit="ratio",
    anchor="redis-evictions",
    remedy="Check TTLs and evictions",
    below=(0.8, 0.5),
)
def redis_hit_rate(ctx: RedisContext) -> Outcome:
    hits, misses = ctx.info.get("keyspace_hits", 0), ctx.info.get("keyspace_misses", 0)
    details = {"hits": hits, "misses": misses}
    if hits + misses < MIN_REDIS_LOOKUPS:
        return Outcome("ok", ratio(hits, misses), f"only {hits + misses} lookups so far; not graded", details)
    return Outcome(value=ratio(hits, misses), details=details)


@check(
    "redis_evicted_keys",
    "Redis evicted keys",
    unit="count",
    anchor="redis-evictions",
    remedy="Raise redis_maxmemory_mb or cache less",
    above=(1, 100000),
)
def redis_evicted_keys(ctx: RedisContext) -> Outcome:
    return Outcome(value=ctx.info.get("evicted_keys", 0), note="since the server started or CONFIG RESETSTAT")


@check(
    "redis_clients",
    "Redis clients vs maxclients",
    unit="ratio",
    anchor="connection-exhaustion",
    remedy="Find leaking clients (CLIENT LIST)",
    above=(0.7, 0.9),
)
def redis_clients(ctx: RedisContext) -> Outcome:
    clients, maxclients = ctx.info.get("connected_clients", 0), ctx.info.get("maxclients", 10000)
    return Outcome(
        value=round(clients / maxclients, 4),
        details={"connected_clients": clients, "maxclients": maxclients},
    )


@check(
    "redis_persistence",
    "Redis persistence (RDB/AOF last status)",
    anchor="redis-persistence-errors",
    remedy="Read the Redis log, check disk space and dir permissions",
)
def redis_persistence(ctx: RedisContext) -> Outcome:
    info = ctx.info
    rdb = info.get("rdb_last_bgsave_status", "ok")
    aof_on = bool(info.get("aof_enabled"))
    aof = (
        [info.get("aof_last_write_status", "ok"), info.get("aof_last_bgrewrite_status", "ok")]
        if aof_on
        else []
    )
    failing = rdb != "ok" or any(s != "ok" for s in aof)
    value = f"rdb {rdb}" + (f", aof {'/'.join(aof)}" if aof_on else ", aof off")
    details = {
        "rdb_changes_since_last_save": info.get("rdb_changes_since_last_save"),
        "rdb_last_save_time": info.get("rdb_last_save_time"),
    }
    return Outcome("crit" if failing else "ok", value, details=details)


def _text(value) -> str:
    # redis-py joins the SLOWLOG GET command as bytes even on a decode_responses client.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@check(
    "redis_slowlog",
    "Redis slowest recent command",
    unit="ms",
    anchor="slow-queries",
    remedy="Look for O(N) commands in SLOWLOG GET",
    above=(20, 200),
)
def redis_slowlog(ctx: RedisContext) -> Outcome:
    entries = [
        {
            "id": e.get("id"),
            "duration_ms": round(e.get("duration", 0) / 1000, 3),
            "command": _text(e.get("command", ""))[:120],
        }
        for e in ctx.client.slowlog_get(TOP)
    ]
    return Outcome(
        value=max((r["duration_ms"] for r in entries), default=0.0),
        note=f"{len(entries)} recent entry(ies) of SLOWLOG GET {TOP}",
        details=entries,
    )


def redis_checks(client, names, thresholds) -> list[dict]:
    """The Redis checks in ``names`` on a connected client. A failing command propagates."""
    return evaluate("redis", RedisContext(client), names, thresholds)
