"""Benchmark of the 13 V-EdFinance analytics queries, plain Python (psycopg 3, redis-py).

``run_bench(target, redis_url=None, BenchOptions(...))`` measures, side by side in one run and
on the same connections, for every query of ``vedfin_analytics.QUERIES`` with a representative
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
key in docs/BENCHMARK.md (``schema_version`` :data:`SCHEMA_VERSION`); it is computed on the
database host, and the HTML report is rendered from its JSON on the controller
(``vedfin_bench.report``, tools/bench_report.py).

*Replica mode* (``read_target``, a hot standby): every read above goes to the standby, while
``target`` (the primary) gets a bounded write load into the scratch table
:data:`WRITE_LOAD_TABLE` and a sampler records replication lag (bytes and seconds) during the
measured run; the result's ``replication`` key holds both.

Every loop is bounded in count and in time; the only traffic goes to the given PostgreSQL and
Redis servers.  The database is only read (plus the session-level ``set_config`` calls and, in
replica mode, the scratch table on the primary, dropped at the end); Redis keys live under
``ved:bench:{run_id}:`` (allowed by the app ACL ``~ved:*``), expire on their TTL and are
deleted at the end (best effort).

Modules of the package (import name ``ansible.module_utils.vedfin_bench.<module>``):

``options``    :class:`BenchOptions`, the validated options of a run.
``runner``     :func:`run_bench`, :func:`check_target` (pre-flight), the SQL-forms check.
``workloads``  side-by-side measurement, aggregate, single-flight, mixed workload.
``catalog``    parameter picks from the data and the per-query parameter catalog.
``settings``   default-vs-tuned settings and the SHOW values.
``plans``      EXPLAIN, the plan walk and index check, pg_stat_statements.
``replica``    ``read_dsn`` parsing, role checks, write load, lag sampling.
``checks``     targets and the pass/fail table (:func:`evaluate`).
``stats``      percentiles, summaries, Zipf sampling.
``summary``    the plain-text summary table (host and controller).
``report``     the HTML report (controller only: matplotlib; not imported here).
``common``     :class:`BenchError`, the schema version, connections.

Pure helpers (unit tested): :func:`percentile`, :func:`summarize`, :class:`ZipfSampler`,
:func:`walk_plan`, :func:`index_check`, :func:`evaluate`, :func:`lag_summary`,
:func:`summary_table`.
"""

from __future__ import annotations

from ansible.module_utils.vedfin_bench.catalog import PLACEHOLDER_ID, param_catalog, pick_ids
from ansible.module_utils.vedfin_bench.checks import (
    CACHED_P95_MS,
    HIT_RATE_MIN,
    SINGLE_FLIGHT_CALLERS,
    SPEEDUP_MIN,
    TARGETS,
    evaluate,
)
from ansible.module_utils.vedfin_bench.common import SCHEMA_VERSION, VARIANTS, BenchError
from ansible.module_utils.vedfin_bench.options import LIMITS, BenchOptions
from ansible.module_utils.vedfin_bench.plans import (
    explain,
    index_check,
    is_time_bounded,
    stat_statements,
    walk_plan,
)
from ansible.module_utils.vedfin_bench.replica import (
    WRITE_LOAD_TABLE,
    LagSampler,
    WriteLoad,
    check_roles,
    lag_summary,
    parse_dsn,
)
from ansible.module_utils.vedfin_bench.runner import check_sql_forms, check_target, run_bench
from ansible.module_utils.vedfin_bench.settings import QUERY_SETTINGS, plan_settings, show_settings
from ansible.module_utils.vedfin_bench.stats import ZipfSampler, percentile, summarize, zipf_weights
from ansible.module_utils.vedfin_bench.summary import ReportError, replica_line, summary_table
from ansible.module_utils.vedfin_bench.workloads import measure_query
from ansible.module_utils.vedfin_redis import redact_url

__all__ = [
    "CACHED_P95_MS",
    "HIT_RATE_MIN",
    "LIMITS",
    "PLACEHOLDER_ID",
    "QUERY_SETTINGS",
    "SCHEMA_VERSION",
    "SINGLE_FLIGHT_CALLERS",
    "SPEEDUP_MIN",
    "TARGETS",
    "VARIANTS",
    "WRITE_LOAD_TABLE",
    "BenchError",
    "BenchOptions",
    "LagSampler",
    "ReportError",
    "WriteLoad",
    "ZipfSampler",
    "check_roles",
    "check_sql_forms",
    "check_target",
    "evaluate",
    "explain",
    "index_check",
    "is_time_bounded",
    "lag_summary",
    "measure_query",
    "param_catalog",
    "parse_dsn",
    "percentile",
    "pick_ids",
    "plan_settings",
    "redact_url",
    "replica_line",
    "run_bench",
    "show_settings",
    "stat_statements",
    "summarize",
    "summary_table",
    "walk_plan",
    "zipf_weights",
]
