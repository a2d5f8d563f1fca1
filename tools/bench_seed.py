#!/usr/bin/env python3
"""Benchmark the seeder against ``pgbench -i`` on the same server, in one run.

    tools/bench_seed.py --dsn "host=127.0.0.1 port=5432 user=postgres password=... dbname=postgres"
    tools/bench_seed.py --start-server --logs 1000000      # throwaway PG 15 from tests/servers.py

Creates two fresh databases on the server: one gets the reference schema, the ops
migrations (``sql/migrations``: rollup tables and their triggers, as the seed playbook
does; ``--no-migrations`` to skip) and the seeder's load of a preset (default ``large``)
with ``--logs`` BehaviorLog rows (default: the preset's); the other gets
``pgbench -i -s <scale>`` with scale = logs / 100000 (100 per 10M rows, i.e. the same row
count in pgbench_accounts).  pgbench runs once before and once after the seed (fresh
database each time) and the faster run is the reference, so noise from other load on the
machine does not flatter the seeder.  Both are timed wall-clock, the bytes written are the
final pg_total_relation_size (heap + indexes + TOAST) of what each wrote (the app tables,
plus the ops rollup tables the seed rebuilds), and MB/s, rows/s, the ratios
(seed / pgbench) and the seeder's phase timings are written to ``reports/bench-seed.json``
and printed.  Both databases are dropped afterwards unless ``--keep``.

``--start-server`` starts a throwaway PostgreSQL 15 with bulk-load settings
(``SERVER_SETTINGS``: bigger shared_buffers and max_wal_size, so neither load is
checkpoint bound); both loads run on it with the same settings.
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

import module_utils_path
import psycopg
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:  # tests/servers.py, for --start-server
    sys.path.insert(0, str(ROOT / "tests"))
module_utils_path.register()

from ansible.module_utils import vedfin_migrate, vedfin_seed  # noqa: E402
from ansible.module_utils.vedfin_pg import params_from_conninfo  # noqa: E402

PGBENCH = os.environ.get("VED_PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")
# Settings of the --start-server throwaway server: the same for the seed and for pgbench.
SERVER_SETTINGS = {
    "shared_buffers": "'1GB'",
    "max_wal_size": "'16GB'",
    "checkpoint_timeout": "'30min'",
    "wal_buffers": "'64MB'",
}
SETTINGS = (
    "server_version",
    "shared_buffers",
    "maintenance_work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "max_parallel_maintenance_workers",
)


def _rollup_tables(conn) -> list:
    """The ops rollup tables the seed rebuilds (ops.rollup_tables(), sql/migrations/0012), if any."""
    if conn.execute("SELECT to_regprocedure('ops.rollup_tables()')").fetchone()[0] is None:
        return []
    return [t for (t,) in conn.execute("SELECT t::text FROM ops.rollup_tables() t").fetchall()]


def _sizes(conn, like=None, tables=None):
    if tables:
        sql = (
            "SELECT coalesce(sum(pg_total_relation_size(coalesce(to_regclass(format('%%I', t)), "
            "to_regclass(t)))), 0) FROM unnest(%s::text[]) t"
        )
        return int(conn.execute(sql, (list(tables),)).fetchone()[0])
    sql = (
        "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class "
        "WHERE relkind = 'r' AND relname LIKE %s"
    )
    return int(conn.execute(sql, (like,)).fetchone()[0])


def _rate(amount, seconds):
    return round(amount / seconds, 1) if seconds > 0 else None


def _pgbench(base: dict, dbname: str, scale: int) -> dict:
    """``pgbench -i -s scale`` into a fresh database ``dbname``: seconds, bytes, rows."""
    with psycopg.connect(**dict(base, dbname=base.get("dbname") or "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    env = dict(os.environ)
    if base.get("password"):
        env["PGPASSWORD"] = base["password"]
    cmd = [PGBENCH, "-i", "-q", "-s", str(scale)]
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if base.get(key):
            cmd += [flag, str(base[key])]
    cmd.append(dbname)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    with psycopg.connect(**dict(base, dbname=dbname), autocommit=True) as conn:
        size = _sizes(conn, like="pgbench_%")
        rows = int(
            conn.execute(
                "SELECT (SELECT count(*) FROM pgbench_accounts) "
                "+ (SELECT count(*) FROM pgbench_branches) + (SELECT count(*) FROM pgbench_tellers)"
            ).fetchone()[0]
        )
    steps = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("done in")]
    return {"seconds": seconds, "bytes": size, "rows": rows, "phases": steps[-1] if steps else None}


def run(
    dsn: str,
    preset: str,
    logs: int | None,
    seed: int,
    out: Path,
    keep: bool,
    chunk_rows: int,
    migrations: bool = True,
) -> dict:
    base = conninfo_to_dict(dsn)
    tag = uuid.uuid4().hex[:8]
    seed_db, pgb_dbs = f"bench_seed_{tag}", [f"bench_pgbench_{tag}_a", f"bench_pgbench_{tag}_b"]
    logs = logs or vedfin_seed.PRESETS.get(preset, {}).get("behavior_logs") or 10_000_000
    scale = max(1, round(logs / 100_000))
    with psycopg.connect(dsn, autocommit=True) as admin:
        settings = {s: admin.execute(f"SHOW {s}").fetchone()[0] for s in SETTINGS}
        admin.execute(f'CREATE DATABASE "{seed_db}"')
    pgb_runs = []
    try:
        pgb_runs.append(_pgbench(base, pgb_dbs[0], scale))
        seed_info = dict(base, dbname=seed_db)
        with psycopg.connect(**seed_info, autocommit=True) as conn:
            for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
                conn.execute(sql_file.read_text())
            if migrations:
                vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")
            measured = list(vedfin_seed.APP_TABLES) + _rollup_tables(conn)
            before = _sizes(conn, tables=measured)
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
            seed_bytes = _sizes(conn, tables=measured) - before
            log_bytes = _sizes(conn, tables=["BehaviorLog"])
            rollup_bytes = _sizes(conn, tables=[t for t in measured if t.startswith("ops.")])
        seed_rows = sum(res["table_counts"].values())
        pgb_runs.append(_pgbench(base, pgb_dbs[1], scale))
    finally:
        if not keep:
            with psycopg.connect(dsn, autocommit=True) as admin:
                for db in [seed_db, *pgb_dbs]:
                    admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    pgb = min(pgb_runs, key=lambda r: r["seconds"])
    pgb_s, pgb_bytes, pgb_rows = pgb["seconds"], pgb["bytes"], pgb["rows"]
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
            "migrations": migrations,
            "params": res["params"],
            "seconds": round(seed_s, 2),
            "bytes": seed_bytes,
            "mb": round(seed_bytes / 1e6, 1),
            "behavior_log_mb": round(log_bytes / 1e6, 1),
            "rollup_mb": round(rollup_bytes / 1e6, 1),
            "rows": seed_rows,
            "table_counts": res["table_counts"],
            "mb_per_s": round(seed_mb_s, 1),
            "rows_per_s": _rate(seed_rows, seed_s),
            "behavior_log_rows_per_s": _rate(logs, seed_s),
            "rollups": res.get("rollups"),
            "warnings": res.get("warnings", []),
            "phases": res.get("phases"),
        },
        "pgbench": {
            "scale": scale,
            "seconds": round(pgb_s, 2),
            "bytes": pgb_bytes,
            "mb": round(pgb_bytes / 1e6, 1),
            "rows": pgb_rows,
            "mb_per_s": round(pgb_mb_s, 1),
            "rows_per_s": _rate(pgb_rows, pgb_s),
            "phases": pgb["phases"],
            "runs_seconds": [round(r["seconds"], 2) for r in pgb_runs],
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


def _phase_lines(phases: dict | None) -> list[str]:
    if not phases:
        return []
    out = [
        "seed phases (s): prepare {prepare}, generate {generate} (overlapped with COPY), "
        "indexes {indexes_wall} wall, constraints {constraints_wall}, analyze {analyze}, "
        "rollups {rollups_wall}".format(
            **{
                k: phases.get(k)
                for k in (
                    "prepare",
                    "generate",
                    "indexes_wall",
                    "constraints_wall",
                    "analyze",
                    "rollups_wall",
                )
            }
        )
    ]
    out.append(
        "  copy per table (incl. generation): "
        + ", ".join(
            f"{t} {v:.2f}"
            for t, v in sorted(phases.get("copy", {}).items(), key=lambda kv: -kv[1])
            if v >= 0.05
        )
    )
    out.append(
        "  index builds: "
        + ", ".join(
            f"{n} {v:.2f}"
            for n, v in sorted(phases.get("indexes", {}).items(), key=lambda kv: -kv[1])
            if v >= 0.05
        )
    )
    slow = [f"{n} {v:.2f}" for n, v in sorted(phases.get("constraints", {}).items(), key=lambda kv: -kv[1])]
    out.append("  constraints: " + ", ".join(slow[:6]))
    if phases.get("rollups"):
        out.append("  rollup rebuilds: " + ", ".join(f"{n} {v:.2f}" for n, v in phases["rollups"].items()))
    return out


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
    ap.add_argument(
        "--no-migrations", action="store_true", help="seed the bare reference schema (no rollup triggers)"
    )
    args = ap.parse_args(argv)
    server = None
    if args.start_server:
        from servers import destroy_postgres, start_postgres

        server = start_postgres(SERVER_SETTINGS)
        args.dsn = server.dsn()
    if not args.dsn:
        ap.error("--dsn or --start-server is required")
    try:
        r = run(
            args.dsn,
            args.preset,
            args.logs,
            args.seed,
            args.out,
            args.keep,
            args.chunk_rows,
            migrations=not args.no_migrations,
        )
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
    for line in _phase_lines(s.get("phases")):
        print(line)
    if p.get("phases"):
        print(f"pgbench -i: {p['phases']}")
    for w in s.get("warnings") or []:
        print(f"warning: {w}")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
