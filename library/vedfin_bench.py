#!/usr/bin/python
"""Ansible module: benchmark the 13 analytics queries and write the JSON result (thin shell).
The HTML report is rendered from that JSON on the controller (tools/bench_report.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vedfin_bench
short_description: Benchmark the V-EdFinance analytics queries (p50/p95/p99) and write the result
description:
  - Runs on the database host. For each of the 13 analytics queries, with a representative
    parameter set picked deterministically from the data (most active users, most enrolled
    courses, largest buddy groups), measures side by side in one run the oracle SQL form, the
    fast form, the fast form through the Redis cache (cache-aside, C(vedfin_cache)), and the fast
    form with PostgreSQL's built-in defaults versus the tuned values of the session-settable
    query settings (work_mem, random_page_cost, effective_io_concurrency, effective_cache_size,
    jit, max_parallel_workers_per_gather, max_parallel_workers).
  - Then a mixed workload (Zipf choice of query and parameters from a seeded RNG, O(concurrency)
    client threads, bounded by O(duration) and O(max_requests)), a single-flight check (50
    concurrent cache misses on one key must cause exactly one database query),
    C(EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)) of every fast form with an index-usage check, the
    live C(SHOW) values, the top 10 of pg_stat_statements and a pass/fail table against the
    targets of O(scale).
  - Writes the full result as JSON (schema in docs/BENCHMARK.md) to O(output_json) on the host
    and returns its summary. The module draws no chart - C(playbooks/bench.yml) fetches the
    JSON and renders the self-contained HTML report from it on the controller
    (C(tools/bench_report.py), matplotlib in the controller's virtualenv).
  - Reads the database only (plus session-level C(set_config)); Redis keys are written under
    C(ved:bench:<run id>:) and deleted at the end.
  - Replica mode (O(read_dsn) set) - every analytics read (all variants, the parameter picks,
    the mixed workload, single-flight, EXPLAIN, SHOW, pg_stat_statements) goes to the hot
    standby O(read_dsn), while the module's own connection (the primary) gets a bounded write
    load (O(write_load_rate) rows/s into the scratch table C(ops.bench_write_load), created at
    the start and dropped at the end, also on error) and replication lag is sampled from
    C(pg_stat_replication) every O(lag_sample_interval) seconds. The result then has a
    C(replication) key (read target, write load, lag percentiles and series).
version_added: "1.0.0"
author: ved-db-ops
requirements:
  - psycopg >= 3.1
  - psycopg_pool
  - redis (redis-py), when O(redis_url) is set
extends_documentation_fragment:
  - vedfin_pg
options:
  db:
    description: Database holding the application schema and the ops migrations.
    type: str
    required: true
    aliases: [login_db]
  redis_url:
    description:
      - Redis URL of the cache, e.g. V(redis://app:secret@127.0.0.1:6379/0) (ACL user allowed
        on C(ved:*)). Without it the cached variant, the single-flight check and the cache hit
        rate are reported as not measured.
    type: str
  iterations:
    description: Measured iterations per query and variant (1..100000).
    type: int
    default: 20
  warmup:
    description: Warm-up iterations per query and variant, not measured (0..10000).
    type: int
    default: 3
  time_budget:
    description: Seconds per query for its warm-up and measured iterations; the loop stops
      early when it is spent (at least one measured iteration). 0.1..86400.
    type: float
    default: 60
  concurrency:
    description: Client threads of the mixed workload (1..256), each with its own connection.
    type: int
    default: 8
  duration:
    description: Maximum length of the mixed workload in seconds (0.1..86400).
    type: float
    default: 10
  max_requests:
    description: Maximum number of requests of the mixed workload (1..10000000).
    type: int
    default: 100000
  scale:
    description:
      - Data scale label; chooses the targets. V(demo) fast p95 < 5 ms per query; V(staging)
        and V(large) < 100 ms. The fast-vs-oracle speedup (>= 20x) is enforced at V(large)
        only and the index-usage check at V(staging) and V(large).
    type: str
    default: demo
    choices: [demo, staging, large]
  read_dsn:
    description:
      - libpq connection string (V(host=... port=... dbname=... user=... password=...)) or
        URL (V(postgresql://user:secret@host:5432/db)) of a hot standby of the primary that
        the module's own connection reaches. Turns on the replica mode (see description).
        Its C(dbname) and C(connect_timeout) default to O(db) and O(connect_timeout).
      - The standby must be in recovery (C(pg_is_in_recovery())) and the module's connection
        must not be; either mistake fails before anything is written. The password never
        appears in the result or in error messages.
      - The lag columns of C(pg_stat_replication) are visible to superusers and members of
        C(pg_monitor) only; use such a login (e.g. postgres over the Unix socket) for the
        module's own connection.
    type: str
  write_load_rate:
    description: Replica mode only - rows per second inserted on the primary during the
      measured run (10 commits per second, about 200-byte rows); V(0) measures lag without
      a write load. 0..100000.
    type: int
    default: 1000
  lag_sample_interval:
    description: Replica mode only - seconds between two replication lag samples on the
      primary (0.05..60).
    type: float
    default: 0.5
  tz:
    description: Reporting time zone passed to the queries (IANA name).
    type: str
    default: UTC
  tuned_settings:
    description:
      - The tuned PostgreSQL settings (name -> value), normally the output of the C(pg_tune)
        filter for this host. Only the session-settable query settings are compared; the
        others are listed as skipped. Empty - the server's configured values
        (C(pg_settings.reset_val)) are the tuned side.
    type: dict
    default: {}
  seed:
    description: Seed of the mixed workload's random choices and of the user sampling.
    type: int
    default: 1
  statement_timeout:
    description: statement_timeout of the benchmark sessions, in milliseconds.
    type: int
    default: 300000
  sql_dir:
    description:
      - Directory holding the analytics SQL forms (a copy of the repository's C(sql/analytics)
        on the host). Required when the module_utils do not sit next to C(sql/analytics),
        which is the case for any real run through Ansible.
    type: path
  output_json:
    description: Path of the JSON result on the host; parent directories are created.
      C(tools/bench_report.py) renders the HTML report from it.
    type: path
attributes:
  check_mode:
    support: full
    details: Validates the options, connects to PostgreSQL (schema present, SQL forms readable)
      and pings Redis; runs no query and writes nothing.
  diff_mode:
    support: none
notes:
  - Targets and every key of the JSON result are described in docs/BENCHMARK.md.
  - Run it with C(async) so that a long run does not hit the connection timeout.
seealso:
  - name: docs/BENCHMARK.md
    description: Result schema, targets and method.
  - module: vedfin_seed
"""

EXAMPLES = r"""
- name: Benchmark the demo data over the Unix socket as postgres
  become: true
  become_user: postgres
  vedfin_bench:
    login_unix_socket: /var/run/postgresql
    db: vedfin
    redis_url: "redis://app:{{ vault_redis_app_password }}@127.0.0.1:6379/0"
    sql_dir: /var/lib/ved-db-ops/sql/analytics
    scale: demo
    tuned_settings: "{{ profile | pg_tune }}"
    output_json: /var/lib/ved-db-ops/reports/bench.json
  async: 1800
  poll: 15
  register: bench

- name: Fetch the JSON result to the controller
  ansible.builtin.fetch:
    src: /var/lib/ved-db-ops/reports/bench.json
    dest: "{{ playbook_dir }}/../reports/bench-{{ inventory_hostname }}.json"
    flat: true

- name: Render the HTML report on the controller
  ansible.builtin.command:
    argv:
      - "{{ ansible_playbook_python }}"
      - "{{ playbook_dir }}/../tools/bench_report.py"
      - "{{ playbook_dir }}/../reports/bench-{{ inventory_hostname }}.json"
  delegate_to: localhost
  become: false
  changed_when: true

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ bench.summary.split('\n') }}"

- name: Analytics on the hot standby while the primary takes 1000 rows/s
  become: true
  become_user: postgres
  vedfin_bench:
    login_unix_socket: /var/run/postgresql
    db: vedfin
    read_dsn: "host=10.0.0.12 port=5432 user=analytics password='{{ vault_analytics_password }}'"
    write_load_rate: 1000
    lag_sample_interval: 0.5
    sql_dir: /var/lib/ved-db-ops/sql/analytics
    output_json: /var/lib/ved-db-ops/reports/bench.json
  async: 1800
  poll: 15
  register: bench_replica
"""

RETURN = r"""
changed:
  description: True when the JSON result was written; the database is never changed.
  returned: always
  type: bool
  sample: true
summary:
  description: Plain-text table (query, p95 oracle/fast/cached/default/tuned, speedup, result)
    plus aggregate lines and the overall verdict.
  returned: success, not in check mode
  type: str
  sample: "query  rows  p95 oracle  p95 fast ...\n...\noverall: PASS"
passed:
  description: Whether every enforced check passed.
  returned: success, not in check mode
  type: bool
  sample: true
failed_checks:
  description: Names of the enforced checks that failed.
  returned: success, not in check mode
  type: list
  elements: str
  sample: ["query_p95:top_courses"]
checks:
  description: The pass/fail table (name, metric, op, target, value, passed, enforced, note).
  returned: success, not in check mode
  type: list
  elements: dict
  sample: [{"name": "mixed_hit_rate", "metric": "hit rate", "op": ">=", "target": 0.95,
            "value": 0.99, "passed": true, "enforced": true, "note": ""}]
aggregate:
  description: Sums of the per-query means per variant and the ratios (speedup = oracle / fast).
  returned: success, not in check mode
  type: dict
  sample: {"speedup": 9.1, "speedup_geomean": 4.2, "cache_speedup": 6.0, "tuning_speedup": 1.0}
mixed:
  description: Mixed workload summary (requests, throughput_rps, latency, hit_rate, redis_p95_ms, ...).
  returned: success, not in check mode
  type: dict
  sample: {"requests": 13000, "throughput_rps": 6500.0, "hit_rate": 1.0}
single_flight:
  description: Result of the single-flight check (callers, computes, hits, coalesced, ...).
  returned: success, not in check mode
  type: dict
  sample: {"ran": true, "callers": 50, "computes": 1}
settings:
  description: Settings compared default-vs-tuned (name, default, tuned, unit) and skipped ones
    with the reason.
  returned: success, not in check mode
  type: dict
  sample: {"tuned_source": "pg_tune",
           "compared": [{"name": "work_mem", "default": "4096", "tuned": "10082kB"}]}
schema_version:
  description: Version of the JSON result schema.
  returned: success, not in check mode
  type: int
  sample: 1
duration_s:
  description: Wall time of the benchmark in seconds.
  returned: success, not in check mode
  type: float
  sample: 42.5
output_json:
  description: Path of the JSON result written on the host.
  returned: when O(output_json) is set and not in check mode
  type: str
  sample: /var/lib/ved-db-ops/reports/bench.json
replication:
  description:
    - Replica mode result, V(null) without O(read_dsn). C(read_target) (host, port, dbname,
      in_recovery; never the password), C(write_load) (table, rate_target, rows, seconds,
      rows_per_s, error), C(lag) (samples, standbys, bytes and seconds p50/p95/max,
      slot_retained_bytes_max, interval_s, error) and C(series) (C([t, lag_bytes, lag_seconds])
      per sample, at most 2000 points).
  returned: success, not in check mode
  type: dict
  sample: {"read_target": {"host": "10.0.0.12", "port": 5432, "dbname": "vedfin", "in_recovery": true},
           "write_load": {"table": "ops.bench_write_load", "rate_target": 1000, "rows": 23982,
                          "seconds": 24.062, "rows_per_s": 996.7, "error": null},
           "lag": {"samples": 121, "standbys": 1, "bytes": {"p50": 240.0, "p95": 41168.0, "max": 73784.0},
                   "seconds": {"p50": 0.214, "p95": 0.234, "max": 0.251},
                   "slot_retained_bytes_max": 40960.0, "interval_s": 0.2, "error": null},
           "series": [[0.0, 19880.0, 0.0], [0.2, 0.0, 0.004]]}
preflight:
  description: What the check-mode pre-flight found (server_version, database, redis, and the
    read_target in replica mode).
  returned: in check mode
  type: dict
  sample: {"server_version": "15.14", "database": "vedfin", "redis": "PONG", "read_target": null}
"""

import json
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.vedfin_bench import (
    BenchError,
    BenchOptions,
    check_target,
    parse_dsn,
    run_bench,
    summary_table,
)
from ansible.module_utils.vedfin_pg import (
    HAS_PSYCOPG,
    PSYCOPG_IMPORT_ERROR,
    VedfinError,
    connection_kwargs,
    pg_connection_argument_spec,
    redact,
)
from ansible.module_utils.vedfin_seed.params import PRESETS  # the scale labels


def _has(lib: str) -> bool:
    try:
        __import__(lib)
    except ImportError:
        return False
    return True


def _options(p: dict) -> BenchOptions:
    """The module params as the run's options (BenchError names a bad one)."""
    return BenchOptions(
        iterations=p["iterations"],
        warmup=p["warmup"],
        concurrency=p["concurrency"],
        duration=p["duration"],
        max_requests=p["max_requests"],
        time_budget=p["time_budget"],
        scale=p["scale"],
        tz=p["tz"],
        tuned_settings={str(k): str(v) for k, v in (p["tuned_settings"] or {}).items()},
        seed=p["seed"],
        statement_timeout_ms=p["statement_timeout"],
        write_load_rate=p["write_load_rate"],
        lag_sample_interval=p["lag_sample_interval"],
        sql_dir=p["sql_dir"],
    )


def _write_json(result: dict, path: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, sort_keys=False)
        fh.write("\n")
    return path


def main():
    argument_spec = pg_connection_argument_spec()
    argument_spec.update(
        redis_url=dict(type="str", no_log=True),
        iterations=dict(type="int", default=20),
        warmup=dict(type="int", default=3),
        time_budget=dict(type="float", default=60.0),
        concurrency=dict(type="int", default=8),
        duration=dict(type="float", default=10.0),
        max_requests=dict(type="int", default=100000),
        scale=dict(type="str", default="demo", choices=list(PRESETS)),
        tz=dict(type="str", default="UTC"),
        read_dsn=dict(type="str", no_log=True),
        write_load_rate=dict(type="int", default=1000),
        lag_sample_interval=dict(type="float", default=0.5),
        tuned_settings=dict(type="dict", default={}),
        seed=dict(type="int", default=1),
        statement_timeout=dict(type="int", default=300000),
        sql_dir=dict(type="path"),
        output_json=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=PSYCOPG_IMPORT_ERROR)
    if not _has("psycopg_pool"):
        module.fail_json(msg=missing_required_lib("psycopg_pool (Debian: python3-psycopg-pool)"))
    if p["redis_url"] and not _has("redis"):
        module.fail_json(msg=missing_required_lib("redis"))
    target = connection_kwargs(p)
    check_sql = True
    read_target = None
    secret = None  # the read_dsn password: no_log masks read_dsn whole, a message may quote it alone
    try:
        if p["sql_dir"] and module.check_mode and not os.path.isdir(p["sql_dir"]):
            # In --check the playbook's copy task does not create it: warn, check the rest.
            module.warn(f"sql_dir {p['sql_dir']} does not exist yet; the SQL forms were not checked")
            check_sql = False
        options = _options(p)
        if p["read_dsn"]:
            inherited = {k: target[k] for k in ("dbname", "connect_timeout") if k in target}
            read_target = parse_dsn(p["read_dsn"], defaults=inherited)
            secret = read_target.get("password")
        if module.check_mode:
            preflight = check_target(
                target, p["redis_url"], check_sql=check_sql, read_target=read_target, sql_dir=p["sql_dir"]
            )
            module.exit_json(changed=False, preflight=preflight)
        result = run_bench(target, p["redis_url"] or None, options, read_target=read_target)
        summary = summary_table(result)
    except (BenchError, VedfinError) as exc:
        module.fail_json(msg=redact(f"vedfin_bench: {exc}", secret))
    except Exception as exc:  # noqa: BLE001 - report any database/Redis error with its cause
        module.fail_json(
            msg=redact("vedfin_bench failed: {}".format(" ".join(str(exc).split())), secret),
            exception=redact(traceback.format_exc(), secret),
        )
    out = {}
    if p["output_json"]:
        try:
            out["output_json"] = _write_json(result, p["output_json"])
        except OSError as exc:
            module.fail_json(msg=f"vedfin_bench: cannot write the report: {exc}", summary=summary)
    mixed = {k: v for k, v in result["mixed"].items() if k not in ("catalog", "per_query", "query_order")}
    module.exit_json(
        changed=bool(out),
        summary=summary,
        passed=result["passed"],
        failed_checks=[c["name"] for c in result["checks"] if c["enforced"] and c["passed"] is False],
        checks=result["checks"],
        aggregate=result["aggregate"],
        mixed=mixed,
        single_flight=result["single_flight"],
        replication=result["replication"],
        settings={k: result["settings"][k] for k in ("tuned_source", "compared", "skipped")},
        schema_version=result["schema_version"],
        duration_s=result["duration_s"],
        **out,
    )


if __name__ == "__main__":
    main()
