"""The benchmark's workloads: the side-by-side measurement of the five variants per query
(:func:`measure_query`, :func:`side_by_side`, :func:`aggregate`), the single-flight check and
the mixed Zipf workload, both through a ``vedfin_analytics.Analytics`` service (pool and,
with Redis, a ``vedfin_cache.QueryCache``: the production read path)."""

from __future__ import annotations

import math
import threading
import time

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_bench.catalog import json_params
from ansible.module_utils.vedfin_bench.checks import SINGLE_FLIGHT_CALLERS
from ansible.module_utils.vedfin_bench.common import VARIANTS
from ansible.module_utils.vedfin_bench.plans import is_time_bounded
from ansible.module_utils.vedfin_bench.stats import ZipfSampler, ratio, summarize
from ansible.module_utils.vedfin_pg import VedfinError

# Popularity order of the mixed workload: rank 1 is drawn most often (Zipf).
MIX_ORDER = (
    "leaderboard",
    "student_behavior_summary",
    "top_courses",
    "daily_active_users",
    "course_engagement",
    "learning_funnel",
    "student_behavior_pattern",
    "at_risk_students",
    "monthly_active_users",
    "course_completion_by_level",
    "revenue_metrics",
    "cohort_retention",
    "gamification_effectiveness",
)


# -- the analytics service and its cache ---------------------------------------------------------
def make_cache(redis_url: str, namespace: str, ttl: float):
    """A ``QueryCache`` of the benchmark: every query cached ``ttl`` seconds under ``namespace``,
    2 s Redis timeouts."""
    from ansible.module_utils.vedfin_cache import QueryCache  # only a cached run needs redis-py

    return QueryCache(
        redis_url,
        namespace=namespace,
        ttl_by_query=dict.fromkeys(va.QUERIES, ttl),
        default_ttl=ttl,
        lock_timeout=max(15.0, ttl / 10),
        wait_timeout=30.0,
        socket_timeout=2.0,
        connect_timeout=2.0,
    )


def service(target, cache, max_size: int, statement_timeout_ms: int | None, name: str, sql_dir=None):
    """A ``vedfin_analytics.Analytics`` service (pool + optional QueryCache) on ``target`` with
    the SQL forms of ``sql_dir``: the production read path.  ``statement_timeout`` rides on the
    libpq ``options`` of its connections."""
    if isinstance(target, dict):
        tgt = dict(target)
        if statement_timeout_ms:
            tgt["options"] = (
                tgt.get("options", "") + f" -c statement_timeout={int(statement_timeout_ms)}"
            ).strip()
    else:
        tgt = str(target)
        if statement_timeout_ms:
            tgt += f" options='-c statement_timeout={int(statement_timeout_ms)}'"
    return va.Analytics(
        tgt, cache=cache, min_size=1, max_size=max_size, timeout=60.0, application_name=name, sql_dir=sql_dir
    )


# -- side by side ------------------------------------------------------------------------------
def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000.0


def measure_query(name, params, runners: dict, iterations: int, warmup: int, time_budget: float) -> dict:
    """Interleaved warm-up + measurement of ``runners`` ({variant: fn() -> (rows, status)}).

    Stops early (``truncated``) when ``time_budget`` seconds have passed (at least one
    measured iteration of every variant).  Per variant: summary stats, ``samples_ms``,
    ``rows`` (row count of the last call) and, for ``cached``, ``statuses`` counts.
    """
    order = list(runners)
    samples = {v: [] for v in order}
    rows = dict.fromkeys(order)
    statuses = {v: {} for v in order}
    first_rows = {}
    deadline = time.monotonic() + time_budget
    truncated = False
    for _ in range(warmup):
        for v in order:
            got, _status = runners[v]()
            first_rows.setdefault(v, got)
        if time.monotonic() >= deadline:
            truncated = True
            break
    for i in range(iterations):
        if i > 0 and time.monotonic() >= deadline:
            truncated = True
            break
        rot = i % len(order)
        for v in order[rot:] + order[:rot]:
            (got, status), ms = _timed(runners[v])
            samples[v].append(ms)
            rows[v] = len(got)
            first_rows.setdefault(v, got)
            if status:
                statuses[v][status] = statuses[v].get(status, 0) + 1
    out = {}
    for v in order:
        entry = summarize(samples[v])
        entry["rows"] = rows[v]
        entry["samples_ms"] = [round(x, 3) for x in samples[v]]
        if statuses[v]:
            entry["statuses"] = statuses[v]
        out[v] = entry
    match = None
    if "oracle" in first_rows and "fast" in first_rows:
        match = first_rows["oracle"] == first_rows["fast"]
    return {"variants": out, "truncated": truncated, "rows_match": match}


def _runners(name, params, conn, default_conn, tuned_conn, svc, sql_dir) -> dict:
    """{variant: fn() -> (rows, status)} of one query and parameter set."""

    def plain(form, c):
        return lambda: (va.run(name, params, form=form, conn=c, sql_dir=sql_dir), None)

    runners = {"oracle": plain("oracle", conn), "fast": plain("fast", conn)}
    if svc.cache is not None:

        def cached():
            rows, info = svc.run_with_info(name, params, form="fast", cached=True)
            return rows, info["status"]

        runners["cached"] = cached
    runners["default_settings"] = plain("fast", default_conn)
    runners["tuned_settings"] = plain("fast", tuned_conn)
    return runners


def side_by_side(names, catalog: dict, conn, default_conn, tuned_conn, svc, opts, say) -> dict:
    """Per query of ``names``, its representative parameters (``catalog[name][0]``) measured in
    every variant (:func:`measure_query`): oracle and fast on ``conn``, cached through ``svc``
    (when it has a cache), the fast form on the default- and tuned-settings sessions; with
    the speedups, or the ``error`` that stopped the query."""
    out: dict = {}
    for name in names:
        say(f"measuring {name}")
        params = catalog[name][0]
        runners = _runners(name, params, conn, default_conn, tuned_conn, svc, opts.sql_dir)
        entry = {
            "params": json_params(params),
            "time_bounded": is_time_bounded(name),
            "fast_reuses_oracle": bool(va.QUERIES[name].fast_reuses_oracle),
        }
        try:
            entry.update(measure_query(name, params, runners, opts.iterations, opts.warmup, opts.time_budget))
        except VedfinError as exc:
            entry["error"] = str(exc)
            entry["variants"] = {}
        v = entry["variants"]
        if v:
            entry["speedup"] = ratio(v["oracle"]["mean_ms"], v["fast"]["mean_ms"])
            entry["cache_speedup"] = ratio(v["fast"]["mean_ms"], (v.get("cached") or {}).get("mean_ms"))
            entry["tuning_speedup"] = ratio(v["default_settings"]["mean_ms"], v["tuned_settings"]["mean_ms"])
        out[name] = entry
    return out


def aggregate(queries: dict) -> dict:
    """Per variant the sum of the per-query means (None when one is missing), the speedups of
    those sums and the geometric mean of the per-query speedups."""

    def total(v):
        vals = [(q["variants"].get(v) or {}).get("mean_ms") for q in queries.values() if "variants" in q]
        if not vals or any(x is None for x in vals):
            return None
        return round(math.fsum(vals), 3)

    ratios = [q.get("speedup") for q in queries.values() if q.get("speedup")]
    geo = round(math.exp(math.fsum(math.log(r) for r in ratios) / len(ratios)), 2) if ratios else None
    out = {f"{v}_total_mean_ms": total(v) for v in VARIANTS}
    out["speedup"] = ratio(out["oracle_total_mean_ms"], out["fast_total_mean_ms"])
    out["speedup_geomean"] = geo
    out["cache_speedup"] = ratio(out["fast_total_mean_ms"], out["cached_total_mean_ms"])
    out["tuning_speedup"] = ratio(out["default_settings_total_mean_ms"], out["tuned_settings_total_mean_ms"])
    return out


# -- single flight and the mixed workload ------------------------------------------------------
def single_flight(
    svc, name: str, params: dict, callers: int = SINGLE_FLIGHT_CALLERS, timeout: float = 60.0
) -> dict:
    """``callers`` threads released together by a barrier call ``svc.run_with_info`` (cached)
    for one key nobody has read yet.

    ``computes`` is the number of database queries that ran (``QueryCache.stats['computes']``
    of the service's own cache, which counts every call of the compute function); single-flight
    holds when it is exactly 1.  ``same_rows``: every caller got an answer, all with the same
    number of rows.
    """
    barrier = threading.Barrier(callers)
    results, errors = [None] * callers, []

    def worker(i):
        try:
            barrier.wait(timeout=timeout)
            rows, info = svc.run_with_info(name, params, form="fast", cached=True)
            results[i] = (len(rows), info["status"], info.get("coalesced", False))
        except Exception as exc:  # noqa: BLE001 - reported in the result
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    before = svc.cache.stats
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    after = svc.cache.stats
    done = [r for r in results if r is not None]
    return {
        "ran": True,
        "callers": callers,
        "query": name,
        "params": json_params(params),
        "computes": after["computes"] - before["computes"],
        "hits": sum(1 for r in done if r[1] == "hit"),
        "misses": sum(1 for r in done if r[1] == "miss"),
        "degraded": sum(1 for r in done if r[1] == "degraded"),
        "coalesced": sum(1 for r in done if r[2]),
        "same_rows": len({r[0] for r in done}) <= 1 and len(done) == callers,
        "errors": errors[:5],
        "seconds": round(time.perf_counter() - t0, 3),
    }


def mixed_workload(svc, catalog: dict, *, concurrency: int, duration: float, max_requests: int,
                   seed: int, zipf_s: float) -> dict:  # fmt: skip
    """``concurrency`` client threads over the Analytics service ``svc`` (its pool, its cache if
    any), each with its own seeded Zipf samplers; stops at ``duration`` seconds or
    ``max_requests`` requests, whichever comes first.  With a cache every call of the catalog is
    made once before the measured phase (warm-up) and the cache counters are reset."""
    cache = svc.cache
    names = [n for n in MIX_ORDER if n in catalog] + sorted(n for n in catalog if n not in MIX_ORDER)
    if cache is not None:
        for name in names:
            for params in catalog[name]:
                svc.run_with_info(name, params, form="fast", cached=True)
        cache.reset_stats()
    lock = threading.Lock()
    issued = [0]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    per_query: list[dict] = [{} for _ in range(concurrency)]
    errors: list[str] = []
    n_errors = [0]
    barrier = threading.Barrier(concurrency + 1)
    deadline_box = [0.0]

    def worker(idx):
        qs = ZipfSampler(len(names), zipf_s, seed * 1_000_003 + idx)
        ps = {
            n: ZipfSampler(len(catalog[n]), zipf_s, seed * 7_919 + idx * 31 + i) for i, n in enumerate(names)
        }
        barrier.wait()
        while True:
            with lock:
                if issued[0] >= max_requests:
                    return
                issued[0] += 1
            if time.monotonic() >= deadline_box[0]:
                return
            name = names[qs.sample()]
            params = catalog[name][ps[name].sample()]
            t0 = time.perf_counter()
            try:
                svc.run_with_info(name, params, form="fast", cached=cache is not None)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    n_errors[0] += 1
                    if len(errors) < 5:
                        errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
                continue
            ms = (time.perf_counter() - t0) * 1000.0
            latencies[idx].append(ms)
            per_query[idx].setdefault(name, []).append(ms)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    deadline_box[0] = time.monotonic() + duration
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join(duration + 120)
    elapsed = time.perf_counter() - t0
    all_ms = [x for lst in latencies for x in lst]
    merged: dict[str, list[float]] = {}
    for d in per_query:
        for n, lst in d.items():
            merged.setdefault(n, []).extend(lst)
    stats = cache.stats if cache is not None else None
    return {
        "cached": cache is not None,
        "concurrency": concurrency,
        "duration_limit_s": duration,
        "request_limit": max_requests,
        "zipf_s": zipf_s,
        "seed": seed,
        "query_order": names,
        "requests": len(all_ms),
        "errors": n_errors[0],
        "error_samples": errors,
        "elapsed_s": round(elapsed, 3),
        "stopped_by": "requests" if issued[0] >= max_requests else "duration",
        "throughput_rps": round(len(all_ms) / elapsed, 1) if elapsed > 0 else None,
        "latency": summarize(all_ms),
        "per_query": {
            n: {"n": len(v), "p50_ms": summarize(v)["p50_ms"], "p95_ms": summarize(v)["p95_ms"]}
            for n, v in sorted(merged.items())
        },
        "hit_rate": stats["hit_rate"] if stats else None,
        "cache_stats": stats,
        "redis_p50_ms": stats["p50_ms"] if stats else None,
        "redis_p95_ms": stats["p95_ms"] if stats else None,
    }
