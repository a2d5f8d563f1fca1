#!/usr/bin/env python3
"""Fast vs oracle forms at a big preset, and the write overhead of the rollup triggers.

    tools/bench_large.py --dsn "host=... dbname=ved_large ..."              # an existing seeded DB
    tools/bench_large.py --start-server --preset large --keep               # seed a throwaway PG 15
    tools/bench_large.py --dsn ... --only writes                            # trigger overhead only

``--start-server`` starts a throwaway PostgreSQL 15 (tests/servers.py) configured with the
``pg_tune`` values of a 4 GB / 2 CPU / SSD web host (what the postgresql role renders for the
VPS), loads the reference schema and the ops migrations and seeds the preset.

Queries: the representative parameter set of each query (the first of
``vedfin_bench.param_catalog``, the same picks as the benchmark module). Per query, the
oracle runs up to ``--oracle-runs`` times (bounded by ``--oracle-budget`` seconds) and the fast
form ``--iterations`` times after ``--warmup`` rounds, interleaved with the oracle runs on one
session, so drift on a noisy machine hits both; the first oracle result must equal the fast
form's (``rows_match``). Reported: p50/p95/max/mean per form, per-query ratio of means and
the aggregate ratio (sum of oracle means / sum of fast means) over the queries whose oracle
ran (``--skip-oracle`` leaves out oracles that take minutes, listed in ``oracle_skipped``).

Writes: ``INSERT`` into "BehaviorLog" of app-like statements (single-row events of existing
users and sessions, and 100-row batches), each variant in its own transaction that is rolled
back, variants interleaved over ``--write-rounds`` rounds: ``no_triggers``
(``session_replication_role = replica``: no trigger fires), ``without_calendar`` (the 0003
rollup trigger, which since 0006 also keeps ops.user_activity; the 0006 calendar trigger
disabled inside the rolled-back transaction) and ``all_triggers``. Rows/s per variant and the
ratios. Needs a superuser; run it on a test database.

Writes ``reports/bench-large.json`` (``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import module_utils_path
import psycopg

ROOT = Path(__file__).resolve().parent.parent
for sub in ("tests", "filter_plugins"):  # servers.py and pg_tune.py, for --start-server
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))
module_utils_path.register()

from ansible.module_utils import vedfin_analytics as va  # noqa: E402
from ansible.module_utils import vedfin_bench  # noqa: E402
from ansible.module_utils.vedfin_seed.params import PRESETS  # noqa: E402

# The VPS profile of the postgresql role (4 GB class, 2 CPUs, SSD, web workload).
HOST_PROFILE = {
    "total_memory_mb": 4096,
    "cpus": 2,
    "max_connections": 100,
    "storage": "ssd",
    "workload": "web",
    "pg_version": 15,
}
# The 0006 calendar trigger on INSERT (the per-user activity rides on the 0003 function).
CALENDAR_TRIGGERS = ("behavior_log_calendar_insert",)


def pct(samples, p):
    return round(vedfin_bench.percentile(sorted(samples), p), 2) if samples else None


def summary(samples):
    return {
        "n": len(samples),
        "p50_ms": pct(samples, 50),
        "p95_ms": pct(samples, 95),
        "max_ms": round(max(samples), 2) if samples else None,
        "mean_ms": round(statistics.fmean(samples), 2) if samples else None,
    }


def timed(conn, name, params, form):
    t0 = time.perf_counter()
    rows = va.execute(conn, name, params, form)
    return rows, (time.perf_counter() - t0) * 1000.0


def bench_queries(conn, names, iterations, warmup, oracle_runs, oracle_budget, say, skip_oracle=()):
    today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    catalog = vedfin_bench.param_catalog(vedfin_bench.pick_ids(conn, 5, 1), today, "UTC")
    out = {}
    for name in names:
        params = catalog[name][0]
        for _ in range(warmup):
            timed(conn, name, params, "fast")
        runs = 0 if name in skip_oracle else oracle_runs
        fast, oracle, match = [], [], None
        slots = max(1, runs)
        per_slot = max(1, iterations // slots)
        spent = 0.0
        for slot in range(slots):
            if slot < runs and (slot == 0 or spent < oracle_budget):
                rows_o, ms = timed(conn, name, params, "oracle")
                oracle.append(ms)
                spent += ms / 1000.0
                if match is None:
                    match = rows_o == timed(conn, name, params, "fast")[0]
            for _ in range(per_slot if slot < slots - 1 else iterations - per_slot * (slots - 1)):
                fast.append(timed(conn, name, params, "fast")[1])
        entry = {"params": {k: va.to_json_safe(v) for k, v in params.items()}, "rows_match": match,
                 "fast": summary(fast), "oracle": summary(oracle) if oracle else None}  # fmt: skip
        entry["ratio_mean"] = (
            round(entry["oracle"]["mean_ms"] / entry["fast"]["mean_ms"], 1) if oracle else None
        )
        out[name] = entry
        say(
            f"{name:28s} fast p50 {entry['fast']['p50_ms']:9.2f} p95 {entry['fast']['p95_ms']:9.2f}  "
            + (f"oracle p50 {entry['oracle']['p50_ms']:10.1f} (n={len(oracle)})  x{entry['ratio_mean']}  "
               f"match={match}" if oracle else "oracle skipped")
        )  # fmt: skip
    measured = [q for q in out.values() if q["oracle"]]
    fast_total = sum(q["fast"]["mean_ms"] for q in measured)
    oracle_total = sum(q["oracle"]["mean_ms"] for q in measured)
    return out, {
        "oracle_skipped": sorted(n for n, q in out.items() if not q["oracle"]),
        "fast_total_mean_ms": round(fast_total, 2),
        "oracle_total_mean_ms": round(oracle_total, 2),
        "ratio": round(oracle_total / fast_total, 1) if fast_total else None,
        "queries_over_100ms_p95": sorted(n for n, q in out.items() if q["fast"]["p95_ms"] >= 100),
    }


def _insert_round(conn, variant, users, single, batches, batch_rows):
    """One rolled-back transaction of app-like inserts; returns (rows, seconds)."""
    rows = 0
    with conn.transaction(force_rollback=True):
        if variant == "no_triggers":
            conn.execute("SET LOCAL session_replication_role = replica")
        elif variant == "without_calendar":
            for trg in CALENDAR_TRIGGERS:
                conn.execute(f'ALTER TABLE "BehaviorLog" DISABLE TRIGGER {trg}')
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(single):  # one event per request, like the application
                u = users[i % len(users)]
                cur.execute(
                    'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration) '
                    "VALUES (%s, %s, %s, %s, 'page_view', 7)",
                    (uuid.uuid4().hex, u, "bench-" + u[:8], "/courses/bench/" + str(i % 5)),
                )
            rows += single
            for b in range(batches):  # a batch of 100 rows in one statement
                cur.execute(
                    'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration) '
                    "SELECT md5(random()::text || g), u, 'bench-' || left(u, 8), '/home', 'video_play', g "
                    "FROM unnest(%s::text[]) WITH ORDINALITY AS t(u, g)",
                    ([users[(b * batch_rows + k) % len(users)] for k in range(batch_rows)],),
                )
            rows += batches * batch_rows
        seconds = time.perf_counter() - t0
    return rows, seconds


def bench_writes(conn, rounds, single, batches, batch_rows, say):
    users = [r[0] for r in conn.execute('SELECT id FROM "User" ORDER BY id LIMIT 500')]
    variants = ("no_triggers", "without_calendar", "all_triggers")
    per = {v: {"rows": 0, "seconds": 0.0, "rounds_rows_per_s": []} for v in variants}
    for r in range(rounds):
        for v in variants[r % 3 :] + variants[: r % 3]:
            rows, sec = _insert_round(conn, v, users, single, batches, batch_rows)
            per[v]["rows"] += rows
            per[v]["seconds"] += sec
            per[v]["rounds_rows_per_s"].append(round(rows / sec, 1))
    out = {}
    for v, d in per.items():
        out[v] = {"rows_per_s": round(d["rows"] / d["seconds"], 1),
                  "median_round_rows_per_s": statistics.median(d["rounds_rows_per_s"]),
                  "rounds_rows_per_s": d["rounds_rows_per_s"]}  # fmt: skip
    base = out["no_triggers"]["median_round_rows_per_s"]
    for v in variants:
        out[v]["vs_no_triggers"] = round(out[v]["median_round_rows_per_s"] / base, 3)
    say(
        "writes (rows/s, median round): "
        + ", ".join(f"{v} {out[v]['median_round_rows_per_s']}" for v in variants)
    )
    return {"statements": {"single_row": single, "batches": batches, "batch_rows": batch_rows},
            "rounds": rounds, "variants": out}  # fmt: skip


def start_and_seed(preset, say):
    import pg_tune
    import servers
    from ansible.module_utils import vedfin_migrate, vedfin_seed
    from ansible.module_utils.vedfin_pg import params_from_conninfo

    tuned = pg_tune.compute(HOST_PROFILE)
    server = servers.start_postgres({k: f"'{v}'" for k, v in tuned.items() if k != "max_connections"})
    info = server.conninfo("ved_bench")
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE ved_bench")
    with psycopg.connect(**info, autocommit=True) as conn:
        for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
            conn.execute(sql_file.read_text())
        vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")
    t0 = time.monotonic()
    vedfin_seed.seed(
        params_from_conninfo(info), preset=preset, seed=1, anchor_date=dt.date.today().isoformat()
    )
    say(f"seeded {preset} in {time.monotonic() - t0:.0f} s on port {server.port} ({server.datadir})")
    return server, info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", help="libpq DSN of a seeded database (superuser for --only writes/all)")
    ap.add_argument("--start-server", action="store_true", help="throwaway PG 15 with pg_tune settings")
    ap.add_argument("--preset", default="large", choices=tuple(PRESETS))
    ap.add_argument("--keep", action="store_true", help="leave the --start-server server running")
    ap.add_argument("--only", choices=("queries", "writes", "all"), default="all")
    ap.add_argument("--queries", help="comma-separated query names (default: all 13)")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--oracle-runs", type=int, default=3)
    ap.add_argument("--oracle-budget", type=float, default=60.0, help="seconds of oracle runs per query")
    ap.add_argument("--skip-oracle", default="", help="comma-separated queries whose oracle is not run")
    ap.add_argument("--write-rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-large.json")
    args = ap.parse_args(argv)
    if not args.dsn and not args.start_server:
        ap.error("give --dsn or --start-server")

    def say(msg):
        print(msg, flush=True)

    server = None
    if args.start_server:
        server, info = start_and_seed(args.preset, say)
        conninfo = info
    else:
        conninfo = psycopg.conninfo.conninfo_to_dict(args.dsn)
    report = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
    }
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            report["row_counts"] = {
                t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in ("User", "Course", "Lesson", "UserProgress", "BehaviorLog")
            }
            report["settings"] = dict(
                conn.execute(
                    "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                    [["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit",
                      "max_parallel_workers_per_gather", "server_version"]],
                ).fetchall()
            )  # fmt: skip
            say(f"row counts {report['row_counts']}")
            if args.only in ("queries", "all"):
                names = args.queries.split(",") if args.queries else list(va.QUERIES)
                report["queries"], report["aggregate"] = bench_queries(
                    conn, names, args.iterations, args.warmup, args.oracle_runs, args.oracle_budget, say,
                    skip_oracle=set(filter(None, args.skip_oracle.split(","))),
                )  # fmt: skip
                say(f"aggregate {report['aggregate']}")
            if args.only in ("writes", "all"):
                report["writes"] = bench_writes(conn, args.write_rounds, 300, 10, 100, say)
    finally:
        report["loadavg_after"] = os.getloadavg()
        if server is not None and not args.keep:
            import servers

            servers.destroy_postgres(server)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
