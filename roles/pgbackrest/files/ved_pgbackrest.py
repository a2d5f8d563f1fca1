#!/usr/bin/python3
"""ved-pgbackrest: backup, consistent-point checksums, comparison and status files.

Installed on the database host as /usr/local/sbin/ved-pgbackrest by the pgbackrest role.
Runs as postgres (peer auth over the Unix socket) except `failure`, which runs as root
from the OnFailure unit. Needs python3-psycopg (psycopg 3). Subcommands:

  backup    --type full|diff|incr   pgbackrest backup, then `snapshot`, then last-success.json
  snapshot  --label L               per-table row counts + content checksums of every table,
                                    taken in one REPEATABLE READ snapshot that is exactly the
                                    WAL prefix before a recorded LSN (see consistent_point)
  checksums --port P [--host H]     the same sums on any server (the scratch restore)
  compare   --recorded F --port P   per-table comparison with a record, JSON on stdout
  failure   --unit U                last-failure.json + an error line in the journal

Settings (stanza, socket, port, directories, databases) come from the JSON file written by
the role, /etc/pgbackrest/ved-pgbackrest.json; command-line options override them.

Checksum of a table: count(*) and two 60-bit sums of md5(row::text). The sums do not depend
on row order (no sort, no giant string_agg that would hit PostgreSQL's 1 GB text limit on
big tables) and any changed, added or removed row changes them. The text form of a row is
pinned by the session settings in SESSION_SETTINGS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_CONFIG = "/etc/pgbackrest/ved-pgbackrest.json"
DEFAULTS = {
    "stanza": "main",
    "socket": "/var/run/postgresql",
    "port": 5432,
    "record_dir": "/var/lib/pgbackrest/records",
    "status_dir": "/var/lib/pgbackrest/status",
    "databases": [],
    "snapshot_attempts": 200,
}
# Fixed text form of rows: equal contents give equal sums on any server and session.
SESSION_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
    "lc_monetary": "C",
}
TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
ORDER BY 1, 2
"""
DATABASES_SQL = "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"


class VedBackupError(Exception):
    """A failure with a message meant for the operator."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_sum_sql(schema: str, table: str) -> str:
    return (
        "SELECT count(*), "
        "coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::bigint), 0)::text, "
        "coalesce(sum(('x' || substr(h, 17, 15))::bit(60)::bigint), 0)::text "
        f"FROM (SELECT md5(t::text) AS h FROM ONLY {qident(schema)}.{qident(table)} t) s"
    )


def load_config(path: str | None) -> dict:
    cfg = dict(DEFAULTS)
    p = Path(path or DEFAULT_CONFIG)
    if p.exists():
        cfg.update(json.loads(p.read_text()))
    return cfg


def connect(dbname: str, host: str, port: int, user: str | None = None):
    import psycopg  # imported here so `failure` works without psycopg

    kwargs = {"dbname": dbname, "host": host, "port": port, "autocommit": True}
    if user:
        kwargs["user"] = user
    conn = psycopg.connect(**kwargs)
    for name, value in SESSION_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    return conn


def list_databases(host: str, port: int, wanted: list[str]) -> list[str]:
    with connect("postgres", host, port) as conn:
        present = [r[0] for r in conn.execute(DATABASES_SQL).fetchall()]
    if not wanted:
        return present
    missing = [d for d in wanted if d not in present]
    if missing:
        raise VedBackupError(f"databases not found on port {port}: {', '.join(missing)}")
    return list(wanted)


def database_sums(conn) -> dict[str, dict]:
    """Row count and checksum of every permanent table, in the connection's transaction."""
    out = {}
    for schema, table in conn.execute(TABLES_SQL).fetchall():
        rows, s1, s2 = conn.execute(table_sum_sql(schema, table)).fetchone()
        out[f"{schema}.{table}"] = {"rows": int(rows), "checksum": f"{s1}-{s2}"}
    return out


def parse_snapshot(text: str) -> tuple[int, int, list[int]]:
    xmin, xmax, xip = text.split(":")
    return int(xmin), int(xmax), [int(x) for x in xip.split(",") if x]


def consistent_point(conns: dict, attempts: int) -> tuple[str, str, int]:
    """Open one REPEATABLE READ transaction per database whose snapshots equal exactly the
    WAL prefix before a returned LSN, so a restore with --type=lsn --target=<lsn>
    --target-exclusive holds the same rows the sums are taken from.

    Every snapshot is taken, then the WAL insert position B is read, then this session
    takes an xid X. The point is exact when all snapshots are equal, none has a transaction
    in progress (xip empty) and X == xmax: then no xid was handed out between the first
    snapshot and B, so every commit record before B belongs to a transaction that every
    snapshot sees, and every transaction they see committed before B. Under write load the
    conditions hold between two write transactions; retry until they do.
    """
    first = next(iter(conns.values()))
    for attempt in range(1, attempts + 1):
        snaps = []
        for conn in conns.values():
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            snaps.append(conn.execute("SELECT txid_current_snapshot()::text").fetchone()[0])
        lsn = first.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
        xid = first.execute("SELECT txid_current()").fetchone()[0]
        xmin, xmax, xip = parse_snapshot(snaps[0])
        if len(set(snaps)) == 1 and not xip and xmin == xmax and int(xid) == xmax:
            return lsn, snaps[0], attempt
        for conn in conns.values():
            conn.execute("ROLLBACK")
        time.sleep(min(0.01 * attempt, 0.2))
    raise VedBackupError(
        f"no consistent point after {attempts} attempts: write transactions were always in "
        "progress (a long transaction or a prepared transaction blocks this; see pg_stat_activity, "
        "pg_prepared_xacts)"
    )


def write_json(path: Path, data: dict, mode: int = 0o640) -> None:
    """Atomic write: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def snapshot(cfg: dict, label: str, backup_type: str | None = None) -> dict:
    host, port = cfg["socket"], int(cfg["port"])
    started = time.monotonic()
    dbs = list_databases(host, port, cfg["databases"])
    conns = {db: connect(db, host, port) for db in dbs}
    try:
        lsn, snap, attempts = consistent_point(conns, int(cfg["snapshot_attempts"]))
        sums = {db: database_sums(conn) for db, conn in conns.items()}
        for conn in conns.values():
            conn.execute("ROLLBACK")
        first = next(iter(conns.values()))
        # A record after the target (recovery needs one past it) and a WAL switch so the
        # segment holding the target reaches the archive now rather than at archive_timeout.
        restore_point = f"ved-{label}"
        first.execute("SELECT pg_create_restore_point(%s)", (restore_point,))
        first.execute("SELECT pg_switch_wal()")
    finally:
        for conn in conns.values():
            conn.close()
    record = {
        "format": 1,
        "stanza": cfg["stanza"],
        "label": label,
        "backup_type": backup_type,
        "lsn": lsn,
        "snapshot": snap,
        "restore_point": restore_point,
        "attempts": attempts,
        "taken_at": now_iso(),
        "seconds": round(time.monotonic() - started, 3),
        "databases": sums,
    }
    record_dir = Path(cfg["record_dir"])
    write_json(record_dir / f"{label}.json", record)
    write_json(record_dir / "latest.json", record)
    return record


def pgbackrest(cfg: dict, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
    cmd = ["pgbackrest", f"--stanza={cfg['stanza']}", *args]
    return subprocess.run(cmd, capture_output=capture, text=True, check=False)


def backup_info(cfg: dict) -> dict:
    res = pgbackrest(cfg, "--output=json", "info")
    if res.returncode != 0:
        raise VedBackupError(f"pgbackrest info failed: {res.stderr.strip() or res.stdout.strip()}")
    return json.loads(res.stdout)[0]


def run_backup(cfg: dict, backup_type: str) -> dict:
    started_at, t0 = now_iso(), time.monotonic()
    res = pgbackrest(cfg, f"--type={backup_type}", "backup", capture=False)
    if res.returncode != 0:
        raise VedBackupError(f"pgbackrest {backup_type} backup failed with exit code {res.returncode}")
    backup_seconds = round(time.monotonic() - t0, 3)
    latest = backup_info(cfg)["backup"][-1]
    record = snapshot(cfg, latest["label"], latest["type"])
    status = {
        "status": "success",
        "label": latest["label"],
        "type": latest["type"],
        "requested_type": backup_type,
        "started_at": started_at,
        "finished_at": now_iso(),
        "backup_seconds": backup_seconds,
        "record_seconds": record["seconds"],
        "database_bytes": latest["info"]["size"],
        "repo_bytes": latest["info"]["repository"]["delta"],
        "lsn_start": latest["lsn"]["start"],
        "lsn_stop": latest["lsn"]["stop"],
        "record_lsn": record["lsn"],
        "record_file": str(Path(cfg["record_dir"]) / f"{latest['label']}.json"),
    }
    write_json(Path(cfg["status_dir"]) / "last-success.json", status, 0o644)
    return status


def compare(recorded: dict, restored: dict) -> dict:
    tables, mismatches = [], []
    for db in sorted(set(recorded) | set(restored)):
        rec, res = recorded.get(db), restored.get(db)
        if rec is None or res is None:
            where = "restore" if res is None else "record"
            mismatches.append(f"database {db}: missing in the {where}")
            continue
        for name in sorted(set(rec) | set(res)):
            a, b = rec.get(name), res.get(name)
            entry = {
                "database": db,
                "table": name,
                "rows_recorded": a and a["rows"],
                "rows_restored": b and b["rows"],
            }
            if a is None or b is None:
                entry["status"] = "missing_in_restore" if b is None else "not_in_record"
            elif a["rows"] != b["rows"]:
                entry["status"] = "rows_differ"
            elif a["checksum"] != b["checksum"]:
                entry["status"] = "checksum_differs"
            else:
                entry["status"] = "ok"
            if entry["status"] != "ok":
                mismatches.append(
                    f"{db}.{name}: {entry['status']} (rows recorded {entry['rows_recorded']}, "
                    f"restored {entry['rows_restored']})"
                )
            tables.append(entry)
    return {"ok": not mismatches, "mismatches": mismatches, "tables": tables}


def all_sums(host: str, port: int, databases: list[str]) -> dict:
    dbs = list_databases(host, port, databases)
    out = {}
    for db in dbs:
        with connect(db, host, port) as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            out[db] = database_sums(conn)
    return out


def failure(cfg: dict, unit: str) -> dict:
    def out(cmd: list[str]) -> str:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()

    props = dict(
        line.split("=", 1)
        for line in out(["systemctl", "show", unit, "-p", "Result,ExecMainStatus,ExecMainCode"]).splitlines()
        if "=" in line
    )
    tail = out(["journalctl", "-u", unit, "-n", "30", "--no-pager", "-o", "cat"]).splitlines()
    status = {
        "status": "failure",
        "unit": unit,
        "failed_at": now_iso(),
        "result": props.get("Result"),
        "exit_status": props.get("ExecMainStatus"),
        "journal_tail": tail,
    }
    write_json(Path(cfg["status_dir"]) / "last-failure.json", status, 0o644)
    # "<3>" is journald's stdout level prefix: the line is logged at priority err.
    where = Path(cfg["status_dir"]) / "last-failure.json"
    print(f"<3>ved-pgbackrest: {unit} failed (result={status['result']}); see {where}")
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ved-pgbackrest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=None, help=f"settings JSON (default {DEFAULT_CONFIG})")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backup")
    b.add_argument("--type", choices=["full", "diff", "incr"], required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("--label", required=True)
    for name in ("checksums", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--host", default=None, help="socket directory or host of the server to sum")
        p.add_argument("--port", type=int, required=True)
        if name == "compare":
            p.add_argument("--recorded", required=True, help="record JSON written by snapshot")
    f = sub.add_parser("failure")
    f.add_argument("--unit", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    try:
        if args.cmd == "backup":
            result = run_backup(cfg, args.type)
        elif args.cmd == "snapshot":
            result = snapshot(cfg, args.label)
        elif args.cmd == "checksums":
            result = all_sums(args.host or cfg["socket"], args.port, cfg["databases"])
        elif args.cmd == "compare":
            record = json.loads(Path(args.recorded).read_text())
            restored = all_sums(args.host or cfg["socket"], args.port, list(record["databases"]))
            result = compare(record["databases"], restored)
            result.update(label=record["label"], lsn=record["lsn"])
        else:
            result = failure(cfg, args.unit)
    except VedBackupError as exc:
        print(f"ved-pgbackrest {args.cmd}: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(BrokenPipeError):
        json.dump(result, sys.stdout, indent=2, sort_keys=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
