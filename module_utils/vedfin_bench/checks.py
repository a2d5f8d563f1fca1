"""Targets and the pass/fail table of a benchmark result (pure): :func:`evaluate`."""

from __future__ import annotations

# Targets per scale label (docs/BENCHMARK.md). staging uses the large query target; the
# fast-vs-oracle speedup and the index-usage check are enforced at large only.
TARGETS = {
    "demo": {"query_p95_ms": 5.0, "enforce_speedup": False, "enforce_index_usage": False},
    "staging": {"query_p95_ms": 100.0, "enforce_speedup": False, "enforce_index_usage": True},
    "large": {"query_p95_ms": 100.0, "enforce_speedup": True, "enforce_index_usage": True},
}
CACHED_P95_MS = 1.0
HIT_RATE_MIN = 0.95
SPEEDUP_MIN = 20.0
SINGLE_FLIGHT_CALLERS = 50


def targets(scale: str) -> dict:
    """The ``targets`` block of a result at ``scale``."""
    return {
        "query_p95_ms": TARGETS[scale]["query_p95_ms"],
        "cached_p95_ms": CACHED_P95_MS,
        "mixed_hit_rate": HIT_RATE_MIN,
        "aggregate_speedup": SPEEDUP_MIN,
        "speedup_enforced": TARGETS[scale]["enforce_speedup"],
        "index_usage_enforced": TARGETS[scale]["enforce_index_usage"],
        "single_flight_callers": SINGLE_FLIGHT_CALLERS,
    }


def _check(name, metric, op, target, value, enforced, note=""):
    if value is None:
        passed = None
    elif op == "<":
        passed = value < target
    elif op == ">=":
        passed = value >= target
    elif op == "==":
        passed = value == target
    else:  # pragma: no cover - programming error
        raise ValueError(op)
    return {
        "name": name,
        "metric": metric,
        "op": op,
        "target": target,
        "value": value,
        "passed": passed,
        "enforced": bool(enforced),
        "note": note,
    }


def evaluate(result: dict) -> tuple[list[dict], bool]:
    """The pass/fail table of a result (``scale``, ``queries``, ``aggregate``, ``mixed``,
    ``single_flight``, ``explain``) and the overall verdict.

    A check with ``passed: None`` was not measurable (no Redis, failed query, ...): it is
    listed with a note; it fails the verdict only when enforced and the note is an error.
    Overall = every enforced check passed (``passed: None`` with a note counts as failed).
    """
    scale = result.get("scale", "demo")
    t = TARGETS[scale]
    checks = []
    queries = result.get("queries") or {}
    for name in sorted(queries):
        q = queries[name]
        variants = q.get("variants") or {}
        fast = (variants.get("fast") or {}).get("p95_ms")
        note = q.get("error") or ""
        checks.append(_check(f"query_p95:{name}", "fast p95 ms", "<", t["query_p95_ms"], fast, True, note))
        if "cached" in variants or result.get("redis", {}).get("enabled"):
            cached = (variants.get("cached") or {}).get("p95_ms")
            checks.append(
                _check(f"cached_p95:{name}", "cached p95 ms", "<", CACHED_P95_MS, cached, True, note)
            )
    mixed = result.get("mixed") or {}
    if mixed.get("cached"):
        checks.append(_check("mixed_hit_rate", "hit rate", ">=", HIT_RATE_MIN, mixed.get("hit_rate"), True))
    else:
        checks.append(
            _check(
                "mixed_hit_rate", "hit rate", ">=", HIT_RATE_MIN, None, False, "no Redis: mixed ran uncached"
            )
        )
    agg = (result.get("aggregate") or {}).get("speedup")
    checks.append(
        _check(
            "aggregate_speedup",
            "sum oracle mean / sum fast mean",
            ">=",
            SPEEDUP_MIN,
            agg,
            t["enforce_speedup"],
            "" if t["enforce_speedup"] else f"reported, not enforced at {scale} scale",
        )
    )
    sf = result.get("single_flight") or {}
    if sf.get("ran"):
        checks.append(
            _check(
                "single_flight",
                f"DB computes for {sf.get('callers')} concurrent misses",
                "==",
                1,
                sf.get("computes"),
                True,
            )
        )
    else:
        checks.append(
            _check(
                "single_flight",
                "DB computes for concurrent misses",
                "==",
                1,
                None,
                False,
                sf.get("note", "not run"),
            )
        )
    explain = result.get("explain") or {}
    flagged = sorted(n for n, e in explain.items() if e.get("flagged"))
    checks.append(
        _check(
            "index_usage",
            'time-bounded queries with a Seq Scan on "BehaviorLog"',
            "==",
            0,
            len(flagged) if explain else None,
            t["enforce_index_usage"],
            ", ".join(flagged)
            if flagged
            else ("" if t["enforce_index_usage"] else f"reported, not enforced at {scale} scale"),
        )
    )
    overall = all(
        c["passed"] is True for c in checks if c["enforced"] and (c["passed"] is not None or c["note"])
    )
    return checks, overall
