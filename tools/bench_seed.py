#!/usr/bin/env python3
"""Benchmark the seeder against ``pgbench -i`` on the same server, in one run.

    tools/bench_seed.py --dsn "host=127.0.0.1 port=5432 user=postgres password=... dbname=postgres"
    tools/bench_seed.py --start-server --logs 1000000      # throwaway PG 15 from tests/servers.py

Creates two fresh databases on the server: one gets the reference schema and the seeder's
load of a preset (default ``large``) with ``--logs`` BehaviorLog rows (default: the
preset's); the other gets ``pgbench -i -s <scale>`` with scale = logs / 100000 (100 per 10M
rows, i.e. the same row count in pgbench_accounts).  Both are timed wall-clock, their
table+index bytes measured with pg_total_relation_size, and MB/s, rows/s and the ratios
(seed / pgbench) are written to ``reports/bench-seed.json`` and printed.  Both databases
are dropped afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
for sub in ("module_utils", "tests"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

import vedfin_seed  # noqa: E402
from vedfin_pg import params_from_conninfo  # noqa: E402

PGBENCH = os.environ.get("VED_PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")
SETTINGS = (
    "server_version",
    "shared_buffers",
    "maintenance_work_mem",
    "max_wal_size",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "max_parallel_maintenance_workers",
)


def _sizes(conn, like=None, tables=None):
    if tables:
        sql = (
            "SELECT coalesce(sum(pg_total_relation_size(to_regclass(format('%%I', t)))), 0) "
            "FROM unnest(%s::text[]) t"
        )
        return int(conn.execute(sql, (list(tables),)).fetchone()[0])
    sql = (
        "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class "
        "WHERE relkind = 'r' AND relname LIKE %s"
    )
    return int(conn.execute(sql, (like,)).fetchone()[0])


def _rate(amount, seconds):
    return round(amount / seconds, 1) if seconds > 0 else None


def run(dsn: str, preset: str, logs: int | None, seed: int, out: Path, keep: bool, chunk_rows: int) -> dict:
    base = conninfo_to_dict(dsn)
    tag = uuid.uuid4().hex[:8]
    seed_db, pgb_db = f"bench_seed_{tag}", f"bench_pgbench_{tag}"
    logs = logs or vedfin_seed.PRESETS.get(preset, {}).get("behavior_logs") or 10_000_000
    scale = max(1, round(logs / 100_000))
    with psycopg.connect(dsn, autocommit=True) as admin:
        settings = {s: admin.execute(f"SHOW {s}").fetchone()[0] for s in SETTINGS}
        admin.execute(f'CREATE DATABASE "{seed_db}"')
        admin.execute(f'CREATE DATABASE "{pgb_db}"')
    try:
        seed_info = dict(base, dbname=seed_db)
        with psycopg.connect(**seed_info, autocommit=True) as conn:
            for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
                conn.execute(sql_file.read_text())
            before = _sizes(conn, tables=vedfin_seed.APP_TABLES)
        t0 = time.monotonic()
        res = vedfin_seed.seed(
            params_from_conninfo(seed_info),
            preset=preset,
            seed=seed,
            behavior_logs=logs,
            anchor_date=dt.date.today().isoformat(),
            chunk_rows=chunk_rows,
        )
        seed_s = time.monotonic() - t0
        with psycopg.connect(**seed_info, autocommit=True) as conn:
            seed_bytes = _sizes(conn, tables=vedfin_seed.APP_TABLES) - before
            log_bytes = _sizes(conn, tables=["BehaviorLog"])
        seed_rows = sum(res["table_counts"].values())

        env = dict(os.environ)
        if base.get("password"):
            env["PGPASSWORD"] = base["password"]
        cmd = [PGBENCH, "-i", "-q", "-s", str(scale)]
        for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
            if base.get(key):
                cmd += [flag, str(base[key])]
        cmd.append(pgb_db)
        t0 = time.monotonic()
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        pgb_s = time.monotonic() - t0
        with psycopg.connect(**dict(base, dbname=pgb_db), autocommit=True) as conn:
            pgb_bytes = _sizes(conn, like="pgbench_%")
            pgb_rows = int(
                conn.execute(
                    "SELECT (SELECT count(*) FROM pgbench_accounts) "
                    "+ (SELECT count(*) FROM pgbench_branches) + (SELECT count(*) FROM pgbench_tellers)"
                ).fetchone()[0]
            )
    finally:
        if not keep:
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{seed_db}" WITH (FORCE)')
                admin.execute(f'DROP DATABASE IF EXISTS "{pgb_db}" WITH (FORCE)')

    seed_mb_s = seed_bytes / 1e6 / seed_s
    pgb_mb_s = pgb_bytes / 1e6 / pgb_s
    report = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "server": {k: v for k, v in base.items() if k in ("host", "port")},
        "settings": settings,
        "cpu_count": os.cpu_count(),
        "seed": {
            "preset": preset,
            "seed": seed,
            "behavior_logs": logs,
            "params": res["params"],
            "seconds": round(seed_s, 2),
            "bytes": seed_bytes,
            "mb": round(seed_bytes / 1e6, 1),
            "behavior_log_mb": round(log_bytes / 1e6, 1),
            "rows": seed_rows,
            "table_counts": res["table_counts"],
            "mb_per_s": round(seed_mb_s, 1),
            "rows_per_s": _rate(seed_rows, seed_s),
            "behavior_log_rows_per_s": _rate(logs, seed_s),
        },
        "pgbench": {
            "scale": scale,
            "seconds": round(pgb_s, 2),
            "bytes": pgb_bytes,
            "mb": round(pgb_bytes / 1e6, 1),
            "rows": pgb_rows,
            "mb_per_s": round(pgb_mb_s, 1),
            "rows_per_s": _rate(pgb_rows, pgb_s),
        },
        "ratio": {
            "mb_per_s": round(seed_mb_s / pgb_mb_s, 3),
            "rows_per_s": round((seed_rows / seed_s) / (pgb_rows / pgb_s), 3),
            "target_mb_per_s": 0.5,
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", help="libpq conninfo of a maintenance database (CREATE DATABASE rights)")
    ap.add_argument(
        "--start-server", action="store_true", help="start a throwaway PostgreSQL 15 (tests/servers.py)"
    )
    ap.add_argument("--preset", default="large", choices=sorted(vedfin_seed.PRESETS))
    ap.add_argument("--logs", type=int, help="BehaviorLog rows (default: the preset's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk-rows", type=int, default=vedfin_seed.DEFAULT_CHUNK_ROWS)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-seed.json")
    ap.add_argument("--keep", action="store_true", help="keep both databases")
    args = ap.parse_args(argv)
    server = None
    if args.start_server:
        from servers import destroy_postgres, start_postgres

        server = start_postgres()
        args.dsn = server.dsn()
    if not args.dsn:
        ap.error("--dsn or --start-server is required")
    try:
        r = run(args.dsn, args.preset, args.logs, args.seed, args.out, args.keep, args.chunk_rows)
    finally:
        if server is not None:
            destroy_postgres(server)
    s, p, q = r["seed"], r["pgbench"], r["ratio"]
    print(
        f"seed    ({s['preset']}, {s['behavior_logs']:,} logs): {s['seconds']:8.2f} s  {s['mb']:9.1f} MB  "
        f"{s['mb_per_s']:7.1f} MB/s  {s['rows_per_s']:11,.0f} rows/s"
    )
    print(
        f"pgbench (-s {p['scale']}):{'':14}{p['seconds']:8.2f} s  {p['mb']:9.1f} MB  "
        f"{p['mb_per_s']:7.1f} MB/s  {p['rows_per_s']:11,.0f} rows/s"
    )
    print(
        f"ratio seed/pgbench: MB/s {q['mb_per_s']:.2f} (target >= {q['target_mb_per_s']}), "
        f"rows/s {q['rows_per_s']:.2f}"
    )
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
