"""The benchmark run: :func:`check_target` (the check-mode pre-flight) and :func:`run_bench`
(the whole measurement, one JSON-safe result dict: docs/BENCHMARK.md)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import secrets
import time

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils import vedfin_redis
from ansible.module_utils.vedfin_bench.catalog import json_params, param_catalog, pick_ids
from ansible.module_utils.vedfin_bench.checks import evaluate, targets
from ansible.module_utils.vedfin_bench.common import SCHEMA_VERSION, BenchError, connect, scalar
from ansible.module_utils.vedfin_bench.options import BenchOptions
from ansible.module_utils.vedfin_bench.plans import explain, stat_statements
from ansible.module_utils.vedfin_bench.replica import Replication, check_roles, connect_read
from ansible.module_utils.vedfin_bench.settings import compare_settings, show_settings
from ansible.module_utils.vedfin_bench.workloads import (
    aggregate,
    make_cache,
    mixed_workload,
    service,
    side_by_side,
    single_flight,
)
from ansible.module_utils.vedfin_pg import VedfinError

APP_TABLES = ("User", "BehaviorLog", "UserProgress", "Course")
ROW_COUNT_TABLES = ("User", "Course", "Lesson", "UserProgress", "BehaviorLog")


# -- SQL forms ---------------------------------------------------------------------------------
def check_sql_forms(names, sql_dir=None) -> list[str]:
    """Problems with the SQL files of ``names`` in ``sql_dir`` (missing/unreadable), as messages."""
    problems = []
    for name in names:
        for form in va.FORMS:
            try:
                va.sql_text(name, form, sql_dir)
            except VedfinError as exc:
                problems.append(str(exc))
    return problems


def require_sql(names, sql_dir=None) -> None:
    """Raise BenchError when a SQL form of ``names`` cannot be read from ``sql_dir``."""
    problems = check_sql_forms(names, sql_dir)
    if problems:
        raise BenchError(
            f"the analytics SQL forms are not readable ({problems[0]}); "
            "set sql_dir to a copy of sql/analytics"
        )


# -- pre-flight ------------------------------------------------------------------------------------
def _ping_redis(redis_url: str) -> None:
    """PING with 2 s timeouts; BenchError "Redis at <url, password redacted> does not answer"."""
    try:
        client = vedfin_redis.connect(redis_url, error=BenchError, timeout=2)
    except BenchError as exc:
        where = vedfin_redis.redact_url(redis_url)
        reason = str(exc).removeprefix(f"cannot connect to Redis at {where}: ")
        raise BenchError(f"Redis at {where} does not answer: {reason}") from None
    client.close()


def check_target(target, redis_url=None, *, check_sql: bool = True, read_target=None, sql_dir=None) -> dict:
    """Cheap pre-flight (check mode): connect, server version, schema and rollups present,
    SQL files in ``sql_dir`` readable (unless ``check_sql`` is false), Redis PING; with
    ``read_target`` also that ``target`` is a primary and ``read_target`` a hot standby (whose
    schema is then the one checked).  Raises BenchError on the first blocking problem."""
    replica = None
    if read_target is not None:
        with (
            connect(target, "ved-db-ops bench check") as primary,
            connect_read(read_target, "ved-db-ops bench check") as standby,
        ):
            replica = check_roles(primary, standby)
    with connect(read_target or target, "ved-db-ops bench check") as conn:
        version = scalar(conn, "SHOW server_version")
        missing = [
            f"public.{t}"
            for t in APP_TABLES
            if scalar(conn, "SELECT to_regclass(%s)", [f'public."{t}"']) is None
        ]
        if missing:
            raise BenchError(f"the application schema is missing tables: {', '.join(missing)}")
        db = scalar(conn, "SELECT current_database()")
    if check_sql:
        require_sql(va.QUERIES, sql_dir)
    out = {"server_version": version, "database": db, "redis": None, "read_target": replica}
    if redis_url:
        _ping_redis(redis_url)
        out["redis"] = "PONG"
    return out


# -- the run -----------------------------------------------------------------------------------
def _quietly(fn, *args) -> None:
    """Run a clean-up step; a failure there must not hide the run's own outcome."""
    with contextlib.suppress(Exception):
        fn(*args)


def _drop_cache(qc) -> None:
    """Delete the run's keys (at most 100 000, SCAN + UNLINK), then close the cache."""
    with contextlib.suppress(Exception):
        for deleted, key in enumerate(qc.client.scan_iter(match=qc.namespace + ":*", count=500)):
            if deleted >= 100_000:
                break
            qc.client.unlink(key)
    _quietly(qc.close)


def _server_info(conn) -> dict:
    return {
        "version": scalar(conn, "SHOW server_version"),
        "database": scalar(conn, "SELECT current_database()"),
        "user": scalar(conn, "SELECT current_user"),
        "row_counts": {
            t: scalar(conn, f"SELECT reltuples::bigint FROM pg_class WHERE oid = '\"{t}\"'::regclass")
            for t in ROW_COUNT_TABLES
        },
    }


def run_bench(target, redis_url: str | None = None, options: BenchOptions | None = None, *,
              read_target=None, progress=None) -> dict:  # fmt: skip
    """Run the whole benchmark with ``options`` (default :class:`BenchOptions`); returns the
    result dict (docs/BENCHMARK.md).

    ``target``: libpq DSN or dict of libpq keywords.  ``redis_url``: None runs without the
    cache (cached variant, single-flight and hit-rate checks are then reported as skipped).
    ``read_target`` (dict of libpq keywords, ``parse_dsn``): replica mode - every read goes
    there (a hot standby), ``target`` must be the primary and gets the write load
    (``options.write_load_rate`` rows/s, 0 = none) while lag is sampled every
    ``options.lag_sample_interval`` s.  ``progress(msg)``: optional callback for log lines.

    Everything the run opens (connections, pools, Redis keys, the replica's threads and
    scratch table) is closed, deleted or dropped on the way out, also when it fails.
    """
    opts = options if options is not None else BenchOptions()
    say = progress or (lambda msg: None)
    started = time.monotonic()
    run_id = secrets.token_hex(4)
    names = opts.names
    require_sql(names, opts.sql_dir)
    reads = target if read_target is None else read_target
    timeout_ms = opts.statement_timeout_ms
    with contextlib.ExitStack() as cleanup:
        # replica mode: both roles are checked before anything is created or measured
        primary = replica = None
        if read_target is not None:
            primary = connect(target, "ved-db-ops bench primary", timeout_ms)
            cleanup.callback(_quietly, primary.close)
            with connect_read(read_target, "ved-db-ops bench check") as standby:
                replica = check_roles(primary, standby)
        namespace = f"ved:bench:{run_id}"
        result: dict = {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "generated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "scale": opts.scale,
            "tz": opts.tz,
            "options": opts.as_result(),
            "targets": targets(opts.scale),
        }
        sessions = []
        for name in ("ved-db-ops bench", "ved-db-ops bench default", "ved-db-ops bench tuned"):
            sessions.append(connect(reads, name, timeout_ms))
            cleanup.callback(_quietly, sessions[-1].close)
        conn, conn_default, conn_tuned = sessions
        result["server"] = _server_info(conn)
        result["redis"] = {
            "enabled": bool(redis_url),
            "url": vedfin_redis.redact_url(redis_url),
            "namespace": namespace if redis_url else None,
        }
        cache = sf_svc = None
        if redis_url:
            cache = make_cache(redis_url, namespace, opts.cache_ttl)
            cleanup.callback(_drop_cache, cache)
            sf_cache = make_cache(redis_url, namespace + ":sf", opts.cache_ttl)
            cleanup.callback(_drop_cache, sf_cache)
            sf_svc = service(reads, sf_cache, 4, timeout_ms, "ved-db-ops bench single-flight", opts.sql_dir)
            cleanup.callback(_quietly, sf_svc.pool.close)  # its cache: _drop_cache, after this
        # the production read path (pool + cache) for the cached variant and the mixed workload
        svc = service(
            reads, cache, max(2, opts.concurrency), timeout_ms, "ved-db-ops bench service", opts.sql_dir
        )
        cleanup.callback(_quietly, svc.pool.close)

        # settings: server view, then the two sessions of the comparison
        result["settings"] = compare_settings(conn, conn_default, conn_tuned, opts.tuned_settings)
        result["show"] = show_settings(conn, [*opts.tuned_settings])

        today = scalar(conn, "SELECT (now() AT TIME ZONE %s)::date", [opts.tz])
        ids = pick_ids(conn, 5, opts.seed)
        catalog = param_catalog(ids, today, opts.tz)
        result["picks"] = ids
        result["replication"] = None

        # replica mode: write load on the primary and lag sampling from here to the end of
        # the mixed workload
        replication = None
        if replica is not None:
            replication = Replication(primary, target, opts.write_load_rate, opts.lag_sample_interval)
            cleanup.callback(replication.close)
            replication.start()

        result["queries"] = side_by_side(names, catalog, conn, conn_default, conn_tuned, svc, opts, say)
        result["aggregate"] = aggregate({n: q for n, q in result["queries"].items() if q.get("variants")})

        # EXPLAIN of every fast form (after the timings: its own run warms nothing we measure)
        say("EXPLAIN ANALYZE of the fast forms")
        result["explain"] = {n: explain(conn, n, catalog[n][0], opts.sql_dir) for n in names}

        if sf_svc is not None:
            say("single-flight check")
            sf_name = "top_courses" if "top_courses" in catalog else names[0]
            result["single_flight"] = single_flight(sf_svc, sf_name, catalog[sf_name][0])
        else:
            result["single_flight"] = {"ran": False, "note": "no redis_url: single-flight not measured"}

        say("mixed workload")
        result["mixed"] = mixed_workload(
            svc,
            {n: catalog[n] for n in names},
            concurrency=opts.concurrency,
            duration=opts.duration,
            max_requests=opts.max_requests,
            seed=opts.seed,
            zipf_s=opts.zipf_s,
        )
        result["mixed"]["catalog"] = {n: [json_params(p) for p in catalog[n]] for n in names}
        if replication is not None:
            result["replication"] = replication.result(replica)

        result["pg_stat_statements"] = stat_statements(conn)
        result["checks"], result["passed"] = evaluate(result)
        result["duration_s"] = round(time.monotonic() - started, 3)
        return result
