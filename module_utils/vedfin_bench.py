"""Benchmark of the 13 V-EdFinance analytics queries, plain Python (psycopg 3, redis-py).

``run_bench(target, redis_url=None, ...)`` measures, side by side in one run and on the same
connections, for every query of :data:`vedfin_analytics.QUERIES` with a representative
parameter set picked deterministically from the data:

* ``oracle``            the oracle SQL form, uncached, server settings;
* ``fast``              the fast SQL form, uncached, server settings;
* ``cached``            the fast form through ``vedfin_cache.QueryCache.get_or_compute``
                        (cache-aside; after the warm-up every measured call is a Redis hit);
* ``default_settings``  the fast form on a session whose query-relevant settings were set
                        (``set_config``) to PostgreSQL's built-in defaults (``pg_settings.boot_val``);
* ``tuned_settings``    the fast form on a session whose same settings were set to the tuned
                        values (pg_tune's output passed in, else the server's ``reset_val``).

Variants are interleaved (round robin, rotating start) so that drift on a noisy machine hits
all of them alike.  Then: a mixed workload (Zipf choice of query and params, seeded, C client
threads, bounded by duration AND request count), a single-flight check (50 concurrent misses
on one key -> computes counted), ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` of every fast
form with a plan walk (Seq Scan on "BehaviorLog" in a time-bounded query is flagged), the live
``SHOW`` values of the tuned settings, the top 10 of pg_stat_statements, and a pass/fail table
against the targets of :data:`TARGETS`.  The result is one JSON-safe dict described key by
key in docs/BENCHMARK.md (``schema_version`` :data:`SCHEMA_VERSION`).

*Replica mode* (``read_target``, a hot standby): every read above goes to the standby, while
``target`` (the primary) gets a bounded write load into the scratch table
:data:`WRITE_LOAD_TABLE` and a sampler records replication lag (bytes and seconds) during the
measured run; the result's ``replication`` key holds both (:class:`WriteLoad`, :class:`LagSampler`,
:func:`lag_summary`).

Every loop is bounded in count and in time; the only traffic goes to the given PostgreSQL and
Redis servers.  The database is only read (plus the session-level ``set_config`` calls and, in
replica mode, the scratch table on the primary, dropped at the end);
Redis keys live under ``ved:bench:{run_id}:`` (allowed by the app ACL ``~ved:*``), expire on
their TTL and are deleted at the end (best effort).

Pure helpers (unit tested): :func:`percentile`, :func:`summarize`, :class:`ZipfSampler`,
:func:`walk_plan`, :func:`index_check`, :func:`evaluate`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import random
import secrets
import threading
import time
from bisect import bisect_right

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_pg import VedfinError

try:
    import psycopg

    HAS_PSYCOPG = True
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    psycopg = None
    HAS_PSYCOPG = False

SCHEMA_VERSION = 1
VARIANTS = ("oracle", "fast", "cached", "default_settings", "tuned_settings")
SCALES = ("demo", "staging", "large")

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

# Session-settable (context "user") settings that change how a query is planned or executed;
# pg_tune emits all of them for some profile.  Others pg_tune emits (shared_buffers,
# wal_buffers, max_worker_processes, ...) need a restart or a reload and are reported in
# ``settings.skipped`` with the reason.
QUERY_SETTINGS = (
    "work_mem",
    "random_page_cost",
    "effective_io_concurrency",
    "effective_cache_size",
    "jit",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
)
# What the report shows from SHOW (plus every tuned key passed in).
SHOW_SETTINGS = (
    "max_connections",
    "shared_buffers",
    "effective_cache_size",
    "maintenance_work_mem",
    "checkpoint_completion_target",
    "wal_buffers",
    "default_statistics_target",
    "random_page_cost",
    "effective_io_concurrency",
    "work_mem",
    "huge_pages",
    "jit",
    "wal_compression",
    "min_wal_size",
    "max_wal_size",
    "max_worker_processes",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
    "max_parallel_maintenance_workers",
    "shared_preload_libraries",
)
# Parameters that bound a query to a time window.
TIME_PARAMS = frozenset({"days", "months", "weeks", "start_date", "end_date"})
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
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
BEHAVIOR_LOG = "BehaviorLog"
LIMITS = {
    "iterations": (1, 100_000),
    "warmup": (0, 10_000),
    "concurrency": (1, 256),
    "duration": (0.1, 86_400.0),
    "max_requests": (1, 10_000_000),
    "time_budget": (0.1, 86_400.0),
    "write_load_rate": (0, 100_000),
    "lag_sample_interval": (0.05, 60.0),
}
# Replica mode: the primary's scratch table (a logged table, so it makes WAL), commits per
# second of the write load, and the most points kept in ``replication.series`` (the stats use
# every sample).
WRITE_LOAD_TABLE = "ops.bench_write_load"
WRITE_LOAD_COMMITS_PER_S = 10
LAG_SERIES_MAX = 2000
# Seconds a background thread may take to finish after it is told to stop; its statements
# have this statement_timeout too, so a stuck one cannot hold the run.
THREAD_STOP_S = 10.0


class BenchError(VedfinError):
    """Bad benchmark input or a failure that stops the run; the message is safe to show."""


# -- statistics (pure) -----------------------------------------------------------------------
def percentile(sorted_samples, pct: float) -> float | None:
    """Percentile ``pct`` (0..100) of an ascending list, linear interpolation between the
    closest ranks (numpy's default ``linear`` method); None for an empty list."""
    n = len(sorted_samples)
    if n == 0:
        return None
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct!r}")
    pos = (n - 1) * pct / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * frac)


def _r(value, nd=3):
    return None if value is None else round(float(value), nd)


def summarize(samples_ms) -> dict:
    """n, min/p50/p95/p99/max/mean (ms, 3 dp) of latency samples; Nones when empty."""
    s = sorted(float(x) for x in samples_ms)
    if not s:
        return dict.fromkeys(("min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"), None) | {"n": 0}
    return {
        "n": len(s),
        "min_ms": _r(s[0]),
        "p50_ms": _r(percentile(s, 50)),
        "p95_ms": _r(percentile(s, 95)),
        "p99_ms": _r(percentile(s, 99)),
        "max_ms": _r(s[-1]),
        "mean_ms": _r(math.fsum(s) / len(s)),
    }


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    """Normalised Zipf weights of ranks 1..n: w_k proportional to 1 / k**s."""
    if n < 1:
        raise ValueError(f"a Zipf distribution needs n >= 1, got {n!r}")
    if s < 0:
        raise ValueError(f"the Zipf exponent must be >= 0, got {s!r}")
    raw = [1.0 / (k**s) for k in range(1, n + 1)]
    total = math.fsum(raw)
    return [w / total for w in raw]


class ZipfSampler:
    """Draws ranks 0..n-1 with Zipf weights from its own seeded RNG (deterministic)."""

    def __init__(self, n: int, s: float = 1.1, seed: int = 0):
        self.n = n
        self.weights = zipf_weights(n, s)
        acc, cum = 0.0, []
        for w in self.weights:
            acc += w
            cum.append(acc)
        cum[-1] = 1.0
        self._cum = cum
        self._rng = random.Random(seed)  # noqa: S311 - workload generator, not cryptography

    def sample(self) -> int:
        return min(bisect_right(self._cum, self._rng.random()), self.n - 1)

    def draw(self, k: int) -> list[int]:
        return [self.sample() for _ in range(k)]


# -- plans (pure) ----------------------------------------------------------------------------
def _plan_root(plan):
    """Accept EXPLAIN's JSON as returned ([{"Plan": ...}]), its first item, or a bare node."""
    if isinstance(plan, list):
        if not plan:
            raise ValueError("empty EXPLAIN output")
        plan = plan[0]
    if isinstance(plan, dict) and "Plan" in plan:
        return plan["Plan"]
    if isinstance(plan, dict) and "Node Type" in plan:
        return plan
    raise ValueError("not an EXPLAIN (FORMAT JSON) plan")


def walk_plan(plan) -> dict:
    """Walk a plan tree (iteratively; also InitPlans/SubPlans, which are in ``Plans``).

    Returns ``node_types`` (sorted unique), ``relations`` (sorted unique relation names),
    ``indexes`` (sorted unique index names), ``seq_scans`` (sorted unique relations read by a
    Seq Scan, parallel or not), ``nodes`` (count).
    """
    root = _plan_root(plan)
    node_types, relations, indexes, seq_scans = set(), set(), set(), set()
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        ntype = node.get("Node Type", "?")
        node_types.add(ntype)
        rel = node.get("Relation Name")
        if rel:
            relations.add(rel)
            if ntype == "Seq Scan":
                seq_scans.add(rel)
        if node.get("Index Name"):
            indexes.add(node["Index Name"])
        stack.extend(node.get("Plans") or [])
    return {
        "node_types": sorted(node_types),
        "relations": sorted(relations),
        "indexes": sorted(indexes),
        "seq_scans": sorted(seq_scans),
        "nodes": count,
    }


def is_time_bounded(name: str) -> bool:
    spec = va.QUERIES.get(name)
    return bool(spec) and any(p.name in TIME_PARAMS for p in spec.params)


def index_check(plan, time_bounded: bool) -> dict:
    """:func:`walk_plan` plus ``behaviorlog_seq_scan`` and ``flagged`` (a Seq Scan on
    "BehaviorLog" in a time-bounded query: the window should come from an index or a rollup)."""
    out = walk_plan(plan)
    out["time_bounded"] = bool(time_bounded)
    out["behaviorlog_seq_scan"] = BEHAVIOR_LOG in out["seq_scans"]
    out["flagged"] = out["behaviorlog_seq_scan"] and out["time_bounded"]
    return out


# -- pass/fail (pure) ------------------------------------------------------------------------
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
    listed with a note; it fails the verdict only when enforced and the cause is an error.
    Overall = every enforced check passed (None with ``error`` counts as failed).
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


# -- connections -----------------------------------------------------------------------------
def _connect(target, application_name="ved-db-ops bench", statement_timeout_ms=None):
    if not HAS_PSYCOPG:
        raise BenchError("the Python library psycopg (version 3) is required but not installed")
    if isinstance(target, dict):
        conninfo, kwargs = "", dict(target)
    else:
        conninfo, kwargs = str(target), {}
    kwargs.setdefault("application_name", application_name)
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **kwargs)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if kwargs.get("password"):
            reason = reason.replace(kwargs["password"], "********")
        raise BenchError(f"cannot connect to PostgreSQL: {reason}") from None
    if statement_timeout_ms:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(statement_timeout_ms))])
    return conn


def redact_url(url: str | None) -> str | None:
    """``redis://user:secret@host:port/db`` -> ``redis://user:***@host:port/db``."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    creds, at, hostpart = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user + ':' if user else ''}***@{hostpart}"


# -- replica mode ----------------------------------------------------------------------------
def parse_dsn(dsn: str, option: str = "read_dsn", defaults: dict | None = None) -> dict:
    """libpq keywords (``host=... port=...``) or URL (``postgresql://...``) -> dict of keywords,
    on top of ``defaults`` (the module passes its own ``dbname`` and ``connect_timeout``).

    A dict is what every connection of the run takes (a URL cannot get ``options`` appended);
    the parser's own message may quote the string, password included, so it is not shown."""
    if not HAS_PSYCOPG:
        raise BenchError("the Python library psycopg (version 3) is required but not installed")
    try:
        out = psycopg.conninfo.conninfo_to_dict(str(dsn))
    except psycopg.Error:
        raise BenchError(
            f"{option} is not a valid libpq connection string (keywords or postgresql:// URL)"
        ) from None
    return {**(defaults or {}), **{k: v for k, v in out.items() if v is not None}}


def describe_conn(conn, in_recovery) -> dict:
    """host (or socket directory), port, dbname of an open connection: never the password."""
    info = conn.info
    return {"host": info.host, "port": int(info.port), "dbname": info.dbname, "in_recovery": in_recovery}


def check_roles(primary_conn, read_conn) -> dict:
    """Replica mode needs the module's connection on a primary and ``read_dsn`` on a hot
    standby; raises BenchError naming the one that is not.  Returns the read target."""
    if _scalar(primary_conn, "SELECT pg_is_in_recovery()"):
        where = describe_conn(primary_conn, True)
        raise BenchError(
            f"the module's connection ({where['host']}:{where['port']}) is a standby (in recovery); "
            "with read_dsn set it must reach the primary, which takes the write load"
        )
    target = describe_conn(read_conn, bool(_scalar(read_conn, "SELECT pg_is_in_recovery()")))
    if not target["in_recovery"]:
        raise BenchError(
            f"read_dsn ({target['host']}:{target['port']}/{target['dbname']}) is not a hot standby: "
            "pg_is_in_recovery() is false there; point it at a streaming replica"
        )
    return target


def _connect_read(read_target, application_name, statement_timeout_ms=None):
    try:
        return _connect(read_target, application_name, statement_timeout_ms)
    except BenchError as exc:
        raise BenchError(f"read_dsn: {exc}") from None


class WriteLoad:
    """Background thread inserting ``rate`` rows/s into :data:`WRITE_LOAD_TABLE` on the primary,
    in :data:`WRITE_LOAD_COMMITS_PER_S` commits per second (autocommit, ~200-byte payload).

    Rows due are computed from the elapsed time, so a slow commit is caught up (at most one
    second of rows per batch).  An error stops the thread and is reported, not raised."""

    INSERT = (
        f"INSERT INTO {WRITE_LOAD_TABLE} (payload) "
        "SELECT repeat(md5(random()::text || g::text), 6) FROM generate_series(1, %s) AS g"
    )

    def __init__(self, target, rate: int):
        self.rate = int(rate)
        self.rows = 0
        self.error = None
        self._conn = _connect(target, "ved-db-ops bench write load", int(THREAD_STOP_S * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-write-load", daemon=True)
        self._t0 = self._t1 = None

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        tick = 1.0 / WRITE_LOAD_COMMITS_PER_S
        try:
            while not self._stop.is_set():
                due = min(int(self.rate * (time.monotonic() - self._t0)) - self.rows, self.rate)
                if due > 0:
                    self._conn.execute(self.INSERT, [due])
                    self.rows += due
                self._stop.wait(tick)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]

    def stop(self) -> dict:
        if self._t1 is None:
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(THREAD_STOP_S)
            self._t1 = time.monotonic()
            with contextlib.suppress(Exception):
                self._conn.close()
        seconds = (self._t1 - self._t0) if self._t0 is not None else 0.0
        return {
            "table": WRITE_LOAD_TABLE,
            "rate_target": self.rate,
            "rows": self.rows,
            "seconds": round(seconds, 3),
            "rows_per_s": round(self.rows / seconds, 1) if seconds > 0 else None,
            "error": self.error,
        }


LAG_SQL = (
    "SELECT count(r.pid), "
    "max(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)), "
    "max(COALESCE(EXTRACT(epoch FROM r.replay_lag), 0)), "
    "(SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)) "
    " FROM pg_replication_slots s WHERE s.slot_type = 'physical') "
    "FROM pg_stat_replication r WHERE r.state IS DISTINCT FROM 'backup'"
)


def _num(value):
    return None if value is None else float(value)


class LagSampler:
    """Background thread sampling :data:`LAG_SQL` on the primary every ``interval`` seconds:
    per sample (seconds since start, max lag bytes, max lag seconds over the standbys, number
    of standbys, max WAL retained by a physical slot)."""

    def __init__(self, target, interval: float):
        self.interval = float(interval)
        self.samples: list[tuple] = []
        self.error = None
        self._conn = _connect(target, "ved-db-ops bench lag sampler", int(THREAD_STOP_S * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-lag-sampler", daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            while True:
                n, lag_b, lag_s, slot_b = self._conn.execute(LAG_SQL).fetchone()
                t = time.monotonic() - t0
                self.samples.append((t, _num(lag_b), _num(lag_s), int(n), _num(slot_b)))
                # next tick on the fixed grid, so a slow query does not stretch the interval
                if self._stop.wait(self.interval - (time.monotonic() - t0) % self.interval):
                    return
        except Exception as exc:  # noqa: BLE001 - reported in the result
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]

    def stop(self) -> dict:
        if not self._stopped:
            self._stopped = True
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(THREAD_STOP_S)
            with contextlib.suppress(Exception):
                self._conn.close()
        out = lag_summary(self.samples)
        out["interval_s"] = self.interval
        out["error"] = self.error
        return out


def _dist(values) -> dict:
    s = sorted(v for v in values if v is not None)
    return {"p50": _r(percentile(s, 50)), "p95": _r(percentile(s, 95)), "max": _r(s[-1] if s else None)}


def lag_summary(samples, max_points: int = LAG_SERIES_MAX) -> dict:
    """Lag statistics of :class:`LagSampler` samples ``(t, bytes, seconds, standbys, slot_bytes)``.

    ``bytes``/``seconds``: p50/p95/max over the samples that saw a standby; ``standbys``: the
    most seen at once; ``series``: ``[t, bytes, seconds]``, thinned to at most ``max_points``
    evenly spaced samples (the stats use all of them)."""
    step = max(1, math.ceil(len(samples) / max_points))
    slots = [s[4] for s in samples if s[4] is not None]
    return {
        "samples": len(samples),
        "standbys": max((s[3] for s in samples), default=0),
        "bytes": _dist(s[1] for s in samples),
        "seconds": _dist(s[2] for s in samples),
        "slot_retained_bytes_max": _r(max(slots), 0) if slots else None,
        "series": [[_r(t), _r(b, 0), _r(sec)] for t, b, sec, _n, _slot in samples[::step]],
    }


def create_write_load_table(primary_conn) -> None:
    primary_conn.execute(
        f"CREATE TABLE IF NOT EXISTS {WRITE_LOAD_TABLE} ("
        "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "created_at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
    )


def stop_replication(sampler, load, read_target: dict) -> dict:
    """Stop both threads (bounded; ``load`` is None when the rate is 0) and build the
    ``replication`` result."""
    write = (
        load.stop()
        if load is not None
        else {
            "table": WRITE_LOAD_TABLE,
            "rate_target": 0,
            "rows": 0,
            "seconds": 0.0,
            "rows_per_s": None,
            "error": None,
        }
    )
    lag = sampler.stop()
    series = lag.pop("series")
    return {"read_target": read_target, "write_load": write, "lag": lag, "series": series}


def _require_sql(names) -> None:
    problems = check_sql_forms(names)
    if problems:
        raise BenchError(
            f"the analytics SQL forms are not readable ({problems[0]}); "
            "set sql_dir to a copy of sql/analytics"
        )


def check_sql_forms(names) -> list[str]:
    """Problems with the SQL files of ``names`` (missing/unreadable), as messages."""
    problems = []
    for name in names:
        for form in va.FORMS:
            try:
                va.sql_text(name, form)
            except VedfinError as exc:
                problems.append(str(exc))
    return problems


# -- parameter picks -------------------------------------------------------------------------
def _scalar(conn, sql, params=None):
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _column(conn, sql, params=None) -> list:
    return [r[0] for r in conn.execute(sql, params).fetchall()]


def pick_ids(conn, k: int = 5, seed: int = 1) -> dict:
    """Deterministic ids from the data: the k most active users (events), the k most enrolled
    published courses (progress rows) and the k largest buddy groups; ties by id.

    Above 200 000 BehaviorLog rows the user ranking reads a ``TABLESAMPLE SYSTEM ... REPEATABLE
    (seed)`` of about 200 000 rows (deterministic for the same physical table).
    """
    reltuples = (
        _scalar(conn, "SELECT reltuples::bigint FROM pg_class WHERE oid = '\"BehaviorLog\"'::regclass") or 0
    )
    if reltuples > 200_000:
        pct = max(0.01, min(100.0, 100.0 * 200_000 / reltuples))
        src = f'"BehaviorLog" TABLESAMPLE SYSTEM ({pct:.4f}) REPEATABLE ({int(seed)})'
        method = f"TABLESAMPLE SYSTEM ({pct:.4f}%) REPEATABLE ({int(seed)})"
    else:
        src, method = '"BehaviorLog"', "all rows"
    users = _column(
        conn,
        f'SELECT "userId" FROM {src} WHERE "userId" IS NOT NULL '
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [k],
    )
    if len(users) < k:  # few or no events: fill with students by id
        users += _column(
            conn,
            "SELECT id FROM \"User\" WHERE NOT (id = ANY(%s)) ORDER BY (role = 'STUDENT') DESC, id LIMIT %s",
            [users, k - len(users)],
        )
    courses = _column(
        conn,
        'SELECT l."courseId" FROM "UserProgress" p JOIN "Lesson" l ON l.id = p."lessonId" '
        'JOIN "Course" c ON c.id = l."courseId" AND c.published '
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [k],
    )
    if len(courses) < k:
        courses += _column(
            conn,
            'SELECT id FROM "Course" WHERE NOT (id = ANY(%s)) ORDER BY published DESC, id LIMIT %s',
            [courses, k - len(courses)],
        )
    groups = _column(
        conn, 'SELECT "groupId" FROM "BuddyMember" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s', [k]
    )
    return {"user_ids": users, "course_ids": courses, "group_ids": groups, "user_ranking": method}


def param_catalog(ids: dict, today: _dt.date, tz: str) -> dict[str, list[dict]]:
    """Per query, the parameter sets of the mixed workload; the first one is the
    representative set of the side-by-side measurements.  Every set is validated."""
    users = ids.get("user_ids") or [PLACEHOLDER_ID]
    courses = ids.get("course_ids") or [PLACEHOLDER_ID]
    groups = ids.get("group_ids") or []
    d = today
    raw = {
        "daily_active_users": [{"days": 30}, {"days": 7}, {"days": 90}],
        "monthly_active_users": [{"months": 12}, {"months": 3}],
        "learning_funnel": [{"course_id": None}] + [{"course_id": c} for c in courses[:3]],
        "course_completion_by_level": [{}],
        "leaderboard": [
            {"timeframe": "all"},
            {"timeframe": "week"},
            {"timeframe": "month"},
            *({"group_id": g, "timeframe": tf} for g, tf in zip(groups[:2], ("all", "week"), strict=False)),
        ],
        "top_courses": [{"limit": 10}, {"limit": 5}],
        "student_behavior_summary": [{"user_id": u, "days": 30} for u in users[:5]],
        "cohort_retention": [{"weeks": 12}, {"weeks": 4}],
        "at_risk_students": [{}, {"inactive_days": 14}],
        "student_behavior_pattern": [{"user_id": u, "days": 30} for u in users[:5]],
        "course_engagement": [{"course_id": c} for c in courses[:3]],
        "revenue_metrics": [
            {"start_date": d - _dt.timedelta(days=29), "end_date": d},
            {"start_date": d - _dt.timedelta(days=6), "end_date": d},
        ],
        "gamification_effectiveness": [{}],
    }
    out = {}
    for name, sets in raw.items():
        if name not in va.QUERIES:
            continue
        spec = va.QUERIES[name]
        clean_sets = []
        for s in sets:
            s = dict(s)
            if spec.param("tz") is not None:
                s["tz"] = tz
            clean_sets.append(va.validate(name, s))
        out[name] = clean_sets
    for name in va.QUERIES:  # a query added to the registry later still gets its defaults
        if name not in out:
            try:
                out[name] = [va.validate(name, {"tz": tz} if va.QUERIES[name].param("tz") else {})]
            except VedfinError:
                continue
    return out


def _json_params(params: dict) -> dict:
    return {k: va.to_json_safe(v) for k, v in params.items()}


# -- settings --------------------------------------------------------------------------------
def _settings_rows(conn, names) -> dict:
    rows = conn.execute(
        "SELECT name, setting, unit, current_setting(name) AS show, boot_val, reset_val, source, "
        "context, vartype "
        "FROM pg_settings WHERE name = ANY(%s)",
        [list(names)],
    ).fetchall()
    cols = ("name", "setting", "unit", "show", "boot_val", "reset_val", "source", "context", "vartype")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}


def plan_settings(conn, tuned: dict | None) -> dict:
    """Which settings the default-vs-tuned comparison sets, to what, and which it skips.

    ``compared``: list of {name, default (boot_val, base unit), tuned, unit, context}.
    ``skipped``: list of {name, tuned, reason}.  ``tuned_source``: ``pg_tune`` (passed in) or
    ``server reset_val`` (the live configuration, when nothing was passed).
    """
    tuned = {str(k).lower(): str(v) for k, v in (tuned or {}).items()}
    source = "pg_tune" if tuned else "server reset_val"
    info = _settings_rows(conn, set(QUERY_SETTINGS) | set(tuned))
    compared, skipped = [], []
    names = [n for n in tuned] if tuned else list(QUERY_SETTINGS)
    for name in names:
        row = info.get(name)
        if row is None:
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": "unknown to this server"})
            continue
        if name not in QUERY_SETTINGS:
            why = (
                f"not session-settable (context {row['context']})"
                if row["context"] not in ("user", "superuser")
                else "does not change how a query runs"
            )
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": why})
            continue
        if row["context"] != "user":
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": f"context {row['context']}"})
            continue
        compared.append(
            {
                "name": name,
                "default": row["boot_val"],
                "tuned": tuned.get(name, row["reset_val"]),
                "unit": row["unit"],
                "context": row["context"],
            }
        )
    return {"tuned_source": source, "compared": compared, "skipped": skipped}


def _apply(conn, compared, which: str) -> dict:
    """set_config each compared setting to its ``which`` value; returns the live SHOW values."""
    for s in compared:
        try:
            conn.execute("SELECT set_config(%s, %s, false)", [s["name"], str(s[which])])
        except psycopg.Error as exc:
            raise BenchError(
                f"cannot set {s['name']} = {s[which]!r} ({which}): {' '.join(str(exc).split())}"
            ) from None
    return {s["name"]: _scalar(conn, "SELECT current_setting(%s)", [s["name"]]) for s in compared}


def show_settings(conn, extra=()) -> dict:
    """Live SHOW value (plus source) of the tuned settings, on a session at server settings."""
    names = list(dict.fromkeys([*SHOW_SETTINGS, *extra]))
    rows = _settings_rows(conn, names)
    return {
        n: {"value": rows[n]["show"], "source": rows[n]["source"], "boot_val": rows[n]["boot_val"]}
        for n in names
        if n in rows
    }


# -- EXPLAIN and pg_stat_statements ------------------------------------------------------------
def explain(conn, name: str, params: dict) -> dict:
    text = va.sql_text(name, "fast").rstrip().rstrip(";")
    try:
        row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)\n" + text, params).fetchone()
    except psycopg.Error as exc:
        return {"error": " ".join(str(exc).split())[:500], "flagged": False}
    doc = row[0]
    if isinstance(doc, str):
        import json

        doc = json.loads(doc)
    top = doc[0]
    out = index_check(doc, is_time_bounded(name))
    plan = top["Plan"]
    out.update(
        {
            "planning_ms": _r(top.get("Planning Time")),
            "execution_ms": _r(top.get("Execution Time")),
            "shared_hit_blocks": plan.get("Shared Hit Blocks"),
            "shared_read_blocks": plan.get("Shared Read Blocks"),
            "top_node": plan.get("Node Type"),
        }
    )
    return out


def stat_statements(conn, limit: int = 10) -> dict:
    version = _scalar(conn, "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if version is None:
        return {
            "available": False,
            "note": "extension pg_stat_statements is not installed in this database",
            "top": [],
        }
    try:
        rows = conn.execute(
            "SELECT queryid::text, calls, round(total_exec_time::numeric, 3), "
            "round(mean_exec_time::numeric, 3), "
            "rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 300) "
            "FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT %s",
            [limit],
        ).fetchall()
    except psycopg.Error as exc:
        return {"available": False, "version": version, "note": " ".join(str(exc).split())[:300], "top": []}
    # Other users' statements read "<insufficient privilege>" without pg_read_all_stats (e.g.
    # a read-only login on a standby in replica mode): a top 10 of blanks is not worth showing.
    hidden = sum(1 for r in rows if r[5] == "<insufficient privilege>")
    if hidden:
        return {
            "available": False,
            "version": version,
            "note": f"{hidden} of the top {len(rows)} statements are hidden from this login "
            "(it needs pg_read_all_stats)",
            "top": [],
        }
    cols = ("queryid", "calls", "total_exec_time_ms", "mean_exec_time_ms", "rows", "query")
    return {
        "available": True,
        "version": version,
        "note": "",
        "top": [{k: va.to_json_safe(v) for k, v in zip(cols, r, strict=True)} for r in rows],
    }


# -- measurements ----------------------------------------------------------------------------
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


def _ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


def _aggregate(queries: dict) -> dict:
    def total(v):
        vals = [(q["variants"].get(v) or {}).get("mean_ms") for q in queries.values() if "variants" in q]
        if not vals or any(x is None for x in vals):
            return None
        return round(math.fsum(vals), 3)

    ratios = [q.get("speedup") for q in queries.values() if q.get("speedup")]
    geo = round(math.exp(math.fsum(math.log(r) for r in ratios) / len(ratios)), 2) if ratios else None
    out = {f"{v}_total_mean_ms": total(v) for v in VARIANTS}
    out["speedup"] = _ratio(out["oracle_total_mean_ms"], out["fast_total_mean_ms"])
    out["speedup_geomean"] = geo
    out["cache_speedup"] = _ratio(out["fast_total_mean_ms"], out["cached_total_mean_ms"])
    out["tuning_speedup"] = _ratio(out["default_settings_total_mean_ms"], out["tuned_settings_total_mean_ms"])
    return out


def _make_cache(redis_url, namespace, ttl):
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


def _service(target, cache, max_size: int, statement_timeout_ms: int | None, name: str):
    """A ``vedfin_analytics.Analytics`` service (pool + optional QueryCache): the production
    read path.  ``statement_timeout`` rides on the libpq ``options`` of its connections."""
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
    return va.Analytics(tgt, cache=cache, min_size=1, max_size=max_size, timeout=60.0, application_name=name)


def single_flight(
    svc, name: str, params: dict, callers: int = SINGLE_FLIGHT_CALLERS, timeout: float = 60.0
) -> dict:
    """``callers`` threads released together by a barrier call ``svc.run_with_info`` (cached)
    for one key nobody has read yet.

    ``computes`` is the number of database queries that ran (``QueryCache.stats['computes']``
    of the service's own cache, which counts every call of the compute function); single-flight
    holds when it is exactly 1 and every caller got the same rows.
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
        "params": _json_params(params),
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
    """C client threads over the Analytics service ``svc`` (its pool, its cache if any), each
    with its own seeded Zipf samplers; stops at ``duration`` seconds or ``max_requests``
    requests, whichever comes first.  With a cache every call of the catalog is made once
    before the measured phase (warm-up) and the cache counters are reset."""
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


def _int_in(name, value):
    lo, hi = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise BenchError(f"{name} must be a number within {lo}..{hi}, got {value!r}")
    return value


def validate_options(
    *,
    iterations,
    warmup,
    concurrency,
    duration,
    max_requests,
    time_budget,
    scale,
    tz,
    write_load_rate=1000,
    lag_sample_interval=0.5,
) -> None:
    for key, val in (
        ("iterations", iterations),
        ("warmup", warmup),
        ("concurrency", concurrency),
        ("duration", duration),
        ("max_requests", max_requests),
        ("time_budget", time_budget),
        ("write_load_rate", write_load_rate),
        ("lag_sample_interval", lag_sample_interval),
    ):
        _int_in(key, val)
    if scale not in TARGETS:
        raise BenchError(f"scale {scale!r} is not one of: {', '.join(TARGETS)}")
    try:
        va.validate("daily_active_users", {"tz": tz})
    except VedfinError as exc:
        raise BenchError(f"tz: {exc}") from None


def check_target(target, redis_url=None, tz="UTC", check_sql: bool = True, read_target=None) -> dict:
    """Cheap pre-flight (check mode): connect, server version, schema and rollups present,
    SQL files readable, Redis PING; with ``read_target`` also that ``target`` is a primary and
    ``read_target`` a hot standby (whose schema is then the one checked).  Raises BenchError on
    the first blocking problem."""
    replica = None
    if read_target is not None:
        with (
            _connect(target, "ved-db-ops bench check") as primary,
            _connect_read(read_target, "ved-db-ops bench check") as standby,
        ):
            replica = check_roles(primary, standby)
    with _connect(read_target or target, "ved-db-ops bench check") as conn:
        version = _scalar(conn, "SHOW server_version")
        missing = [
            t
            for t in ("public.User", "public.BehaviorLog", "public.UserProgress", "public.Course")
            if _scalar(conn, "SELECT to_regclass(%s)", ['public."' + t.split(".")[1] + '"']) is None
        ]
        if missing:
            raise BenchError(f"the application schema is missing tables: {', '.join(missing)}")
        db = _scalar(conn, "SELECT current_database()")
    if check_sql:
        _require_sql(va.QUERIES)
    out = {"server_version": version, "database": db, "redis": None, "read_target": replica}
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise BenchError(f"Redis at {redact_url(redis_url)} does not answer: {exc}") from None
        finally:
            client.close()
        out["redis"] = "PONG"
    return out


def run_bench(
    target,
    redis_url: str | None = None,
    *,
    iterations: int = 20,
    warmup: int = 3,
    concurrency: int = 8,
    duration: float = 10.0,
    max_requests: int = 100_000,
    scale: str = "demo",
    tz: str = "UTC",
    tuned_settings: dict | None = None,
    seed: int = 1,
    zipf_s: float = 1.1,
    time_budget: float = 60.0,
    statement_timeout_ms: int = 300_000,
    cache_ttl: float = 900.0,
    queries=None,
    progress=None,
    read_target=None,
    write_load_rate: int = 1000,
    lag_sample_interval: float = 0.5,
) -> dict:
    """Run the whole benchmark; returns the result dict (docs/BENCHMARK.md).

    ``target``: libpq DSN or dict of libpq keywords.  ``redis_url``: None runs without the
    cache (cached variant, single-flight and hit-rate checks are then reported as skipped).
    ``read_target`` (dict of libpq keywords, :func:`parse_dsn`): replica mode - every read goes
    there (a hot standby), ``target`` must be the primary and gets the write load
    (``write_load_rate`` rows/s, 0 = none) while lag is sampled every ``lag_sample_interval`` s.
    ``time_budget``: seconds per query for its warm-up + measured iterations.
    ``progress(msg)``: optional callback for log lines.
    """
    validate_options(
        iterations=iterations,
        warmup=warmup,
        concurrency=concurrency,
        duration=duration,
        max_requests=max_requests,
        time_budget=time_budget,
        scale=scale,
        tz=tz,
        write_load_rate=write_load_rate,
        lag_sample_interval=lag_sample_interval,
    )
    say = progress or (lambda msg: None)
    started = time.monotonic()
    run_id = secrets.token_hex(4)
    names = list(queries) if queries else list(va.QUERIES)
    unknown = [n for n in names if n not in va.QUERIES]
    if unknown:
        raise BenchError(f"unknown queries: {', '.join(unknown)}; allowed: {', '.join(va.QUERIES)}")

    _require_sql(names)
    # replica mode: both roles are checked before anything is created or measured
    primary = replica = None
    reads = target
    if read_target is not None:
        reads = read_target
        primary = _connect(target, "ved-db-ops bench primary", statement_timeout_ms)
        try:
            with _connect_read(read_target, "ved-db-ops bench check") as standby:
                replica = check_roles(primary, standby)
        except BaseException:
            primary.close()
            raise
    conn = conn_default = conn_tuned = None
    conn_lock = threading.Lock()
    cache = sf_cache = svc = sf_svc = None
    sampler = load = None
    table_created = False
    namespace = f"ved:bench:{run_id}"
    result: dict = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "generated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scale": scale,
        "tz": tz,
        "options": {
            "iterations": iterations,
            "warmup": warmup,
            "concurrency": concurrency,
            "duration_s": duration,
            "max_requests": max_requests,
            "seed": seed,
            "zipf_s": zipf_s,
            "time_budget_s": time_budget,
            "statement_timeout_ms": statement_timeout_ms,
        },
        "targets": {
            "query_p95_ms": TARGETS[scale]["query_p95_ms"],
            "cached_p95_ms": CACHED_P95_MS,
            "mixed_hit_rate": HIT_RATE_MIN,
            "aggregate_speedup": SPEEDUP_MIN,
            "speedup_enforced": TARGETS[scale]["enforce_speedup"],
            "index_usage_enforced": TARGETS[scale]["enforce_index_usage"],
            "single_flight_callers": SINGLE_FLIGHT_CALLERS,
        },
    }
    try:
        conn = _connect(reads, "ved-db-ops bench", statement_timeout_ms)
        conn_default = _connect(reads, "ved-db-ops bench default", statement_timeout_ms)
        conn_tuned = _connect(reads, "ved-db-ops bench tuned", statement_timeout_ms)
        result["server"] = {
            "version": _scalar(conn, "SHOW server_version"),
            "database": _scalar(conn, "SELECT current_database()"),
            "user": _scalar(conn, "SELECT current_user"),
            "row_counts": {
                t: _scalar(conn, f"SELECT reltuples::bigint FROM pg_class WHERE oid = '\"{t}\"'::regclass")
                for t in ("User", "Course", "Lesson", "UserProgress", "BehaviorLog")
            },
        }
        result["redis"] = {
            "enabled": bool(redis_url),
            "url": redact_url(redis_url),
            "namespace": namespace if redis_url else None,
        }
        if redis_url:
            cache = _make_cache(redis_url, namespace, cache_ttl)
            sf_cache = _make_cache(redis_url, namespace + ":sf", cache_ttl)
            sf_svc = _service(target, sf_cache, 4, statement_timeout_ms, "ved-db-ops bench single-flight")
        # the production read path (pool + cache) for the cached variant and the mixed workload
        svc = _service(target, cache, max(2, concurrency), statement_timeout_ms, "ved-db-ops bench service")

        # settings: server view, then the two sessions of the comparison
        settings = plan_settings(conn, tuned_settings)
        settings["default_show"] = _apply(conn_default, settings["compared"], "default")
        settings["tuned_show"] = _apply(conn_tuned, settings["compared"], "tuned")
        result["settings"] = settings
        result["show"] = show_settings(conn, [*(tuned_settings or {})])

        today = _scalar(conn, "SELECT (now() AT TIME ZONE %s)::date", [tz])
        ids = pick_ids(conn, 5, seed)
        catalog = param_catalog(ids, today, tz)
        result["picks"] = ids
        result["replication"] = None

        # replica mode: write load on the primary and lag sampling from here to the end of
        # the mixed workload
        if replica is not None:
            create_write_load_table(primary)
            table_created = True
            sampler = LagSampler(target, lag_sample_interval)
            load = WriteLoad(target, write_load_rate) if write_load_rate > 0 else None
            sampler.start()
            if load is not None:
                load.start()

        # side by side per query
        queries_out: dict = {}
        for name in names:
            say(f"measuring {name}")
            params = catalog[name][0]

            def plain(form, c, n=name, p=params):
                def fn():
                    with conn_lock if c is conn else contextlib.nullcontext():
                        return va.run(n, p, form=form, conn=c), None

                return fn

            runners = {"oracle": plain("oracle", conn), "fast": plain("fast", conn)}
            if cache is not None:

                def cached(n=name, p=params):
                    rows, info = svc.run_with_info(n, p, form="fast", cached=True)
                    return rows, info["status"]

                runners["cached"] = cached
            runners["default_settings"] = plain("fast", conn_default)
            runners["tuned_settings"] = plain("fast", conn_tuned)
            entry = {
                "params": _json_params(params),
                "time_bounded": is_time_bounded(name),
                "fast_reuses_oracle": bool(va.QUERIES[name].fast_reuses_oracle),
            }
            try:
                entry.update(measure_query(name, params, runners, iterations, warmup, time_budget))
            except VedfinError as exc:
                entry["error"] = str(exc)
                entry["variants"] = {}
            v = entry["variants"]
            if v:
                entry["speedup"] = _ratio(v["oracle"]["mean_ms"], v["fast"]["mean_ms"])
                entry["cache_speedup"] = _ratio(v["fast"]["mean_ms"], (v.get("cached") or {}).get("mean_ms"))
                entry["tuning_speedup"] = _ratio(
                    v["default_settings"]["mean_ms"], v["tuned_settings"]["mean_ms"]
                )
            queries_out[name] = entry
        result["queries"] = queries_out
        result["aggregate"] = _aggregate({n: q for n, q in queries_out.items() if q.get("variants")})

        # EXPLAIN of every fast form (after the timings: its own run warms nothing we measure)
        say("EXPLAIN ANALYZE of the fast forms")
        result["explain"] = {n: explain(conn, n, catalog[n][0]) for n in names}

        # single flight
        if sf_svc is not None:
            say("single-flight check")
            sf_name = "top_courses" if "top_courses" in catalog else names[0]
            result["single_flight"] = single_flight(sf_svc, sf_name, catalog[sf_name][0])
        else:
            result["single_flight"] = {"ran": False, "note": "no redis_url: single-flight not measured"}

        # mixed workload
        say("mixed workload")
        result["mixed"] = mixed_workload(
            svc,
            {n: catalog[n] for n in names},
            concurrency=concurrency,
            duration=duration,
            max_requests=max_requests,
            seed=seed,
            zipf_s=zipf_s,
        )
        result["mixed"]["catalog"] = {n: [_json_params(p) for p in catalog[n]] for n in names}
        if replica is not None:
            result["replication"] = stop_replication(sampler, load, replica)

        result["pg_stat_statements"] = stat_statements(conn)
        checks, passed = evaluate(result)
        result["checks"] = checks
        result["passed"] = passed
        result["duration_s"] = round(time.monotonic() - started, 3)
        return result
    finally:
        for worker in (load, sampler):  # stopped already unless the run failed; bounded join
            if worker is not None:
                with contextlib.suppress(Exception):
                    worker.stop()
        if table_created:
            with contextlib.suppress(Exception):
                primary.execute(f"DROP TABLE IF EXISTS {WRITE_LOAD_TABLE}")
        for c in (conn, conn_default, conn_tuned, primary):
            if c is not None:
                with contextlib.suppress(Exception):
                    c.close()
        for service in (svc, sf_svc):  # closes its pool and its cache's Redis client
            if service is not None:
                with contextlib.suppress(Exception):
                    service.pool.close()
        for qc in (cache, sf_cache):
            if qc is None:
                continue
            with contextlib.suppress(Exception):
                for deleted, key in enumerate(qc.client.scan_iter(match=qc.namespace + ":*", count=500)):
                    if deleted >= 100_000:
                        break
                    qc.client.unlink(key)
            with contextlib.suppress(Exception):
                qc.close()


__all__ = [
    "QUERY_SETTINGS",
    "SCHEMA_VERSION",
    "TARGETS",
    "VARIANTS",
    "BenchError",
    "ZipfSampler",
    "check_roles",
    "check_target",
    "evaluate",
    "index_check",
    "is_time_bounded",
    "lag_summary",
    "param_catalog",
    "parse_dsn",
    "percentile",
    "pick_ids",
    "plan_settings",
    "redact_url",
    "run_bench",
    "summarize",
    "walk_plan",
    "zipf_weights",
]
