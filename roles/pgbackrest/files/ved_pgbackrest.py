#!/usr/bin/python3
"""ved-pgbackrest: backup, consistent-point checksums, restore drill, status files and metrics.

Installed on the database host as /usr/local/sbin/ved-pgbackrest by the pgbackrest role.
Runs as postgres (peer auth over the Unix socket) except `failure` and `metrics`, which run
as root (the OnFailure unit; ExecStartPost=+/ExecStopPost=+ of the backup and drill units).
Needs python3-psycopg (psycopg 3). Subcommands:

  backup    --type full|diff|incr   pgbackrest backup, then `snapshot`, then last-success.json
                                    and backup-state.json
  snapshot  --label L               per-table row counts + content checksums of every table,
                                    taken in one REPEATABLE READ snapshot that is exactly the
                                    WAL prefix before a recorded LSN (see consistent_point)
  checksums --port P [--host H]     the same sums on any server (the scratch restore)
  compare   --recorded F --port P   per-table comparison with a record, JSON on stdout
  restore-verify [--set L] [--target-time T | --target-lsn L] [--[no-]compare]
                 [--scratch-dir D] [--port P]
                                    restore a backup into a scratch instance, check it
                                    (verify, consistency, pg_amcheck, checksums), always remove
                                    it, write last-verify.json; exit 1 when it failed
  state                             backup-state.json from pgbackrest info (per-type last
                                    success, PITR window); the backup writes it too
  metrics                           ved_backup.prom and ved_restore_drill.prom for
                                    node-exporter's textfile collector, from the JSON files
                                    only (never runs pgbackrest); rewritten only on change
  failure   --unit U                last-failure.json + an error line in the journal

Settings (stanza, socket, port, directories, databases, schedules, drill) come from the JSON
file written by the role, /etc/pgbackrest/ved-pgbackrest.json; options override them.

Checksum of a table: count(*) and two 60-bit sums of md5(row::text). The sums do not depend
on row order (no sort, no giant string_agg that would hit PostgreSQL's 1 GB text limit on
big tables) and any changed, added or removed row changes them. The text form of a row is
pinned by the session settings in SESSION_SETTINGS.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
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
    "pg_bin": "/usr/lib/postgresql/15/bin",
    # Must equal the monitoring role's monitoring_textfile_dir; nothing is written without it.
    "textfile_dir": "/var/lib/prometheus/node-exporter",
    "retention_full": 2,
    # The backup timers: [{"type": "full", "on_calendar": "Sun *-*-* 02:30:00"}, ...]
    "schedules": [],
    "randomized_delay": "10min",
    "backup_timeout": "6h",
    "drill": {
        "enabled": False,
        "scratch_dir": "/var/lib/postgresql/ved-restore-drill",
        "port": 5498,
        "space_factor": 1.2,
        "space_reserve_mb": 1024,
        "start_timeout": 3600,
    },
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
    cfg["drill"] = {**DEFAULTS["drill"], **(cfg.get("drill") or {})}
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
    info = backup_info(cfg)
    latest = info["backup"][-1]
    record = snapshot(cfg, latest["label"], latest["type"])
    finished = now_iso()
    status = {
        "status": "success",
        "label": latest["label"],
        "type": latest["type"],
        "requested_type": backup_type,
        "started_at": started_at,
        "finished_at": finished,
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
    # The info read above is after pgBackRest's expire: the PITR window as it is now.
    write_state(cfg, info, (latest["type"], latest["label"], parse_time(finished)))
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


# ---- Status files and the failure hook ------------------------------------------------

BACKUP_UNIT = re.compile(r"^ved-pgbackrest-backup@(?P<type>[a-z]+)\.service$")


def parse_time(text) -> float | None:
    """ISO 8601 (as written by now_iso) to epoch seconds; None when missing or malformed."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def read_json(path: Path) -> dict | None:
    """A status file, or None when it is missing or unreadable (said on stderr)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        print(f"ved-pgbackrest: ignoring unreadable {path}: {exc}", file=sys.stderr)
        return None


def stale_report(report: dict, unit_started: str) -> bool:
    """Whether last-verify.json predates the failed drill unit's start (systemctl's
    ``@<epoch>``)."""
    finished = parse_time(report.get("finished_at"))
    started = unit_started.lstrip("@")
    if finished is None:
        return True
    return started.isdigit() and finished < int(started)


def unit_failed_report(cfg: dict, unit: str, status: dict, tail: list[str]) -> dict:
    return {
        "status": "failed",
        "reason": "unit_failed",
        "failed_step": None,
        "error": f"{unit} failed (result={status['result']}, exit status {status['exit_status']}) "
        "before its restore-verify wrote a report; see journal_tail",
        "stanza": cfg["stanza"],
        "started_at": status["failed_at"],
        "finished_at": status["failed_at"],
        "journal_tail": tail,
        "tables": [],
        "mismatches": [],
        "durations_seconds": {},
    }


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
    status_dir = Path(cfg["status_dir"])
    backup = BACKUP_UNIT.match(unit)
    if backup:
        # One file, the newest failure; by_type keeps the newest failure of each type, so a
        # failed diff does not hide a failed full from the metrics.
        previous = read_json(status_dir / "last-failure.json") or {}
        by_type = dict(previous.get("by_type") or {})
        old = BACKUP_UNIT.match(str(previous.get("unit", "")))
        if old and old["type"] not in by_type and previous.get("failed_at"):
            by_type[old["type"]] = previous["failed_at"]
        by_type[backup["type"]] = status["failed_at"]
        status.update(type=backup["type"], by_type=by_type)
        where = status_dir / "last-failure.json"
        write_json(where, status, 0o644)
    else:
        # The drill writes its own report (last-verify.json), also when stopped by a timeout;
        # not when it died before Python ran or was SIGKILLed (the sandbox refused to start,
        # the OOM killer). Then the report left is an older run's, maybe "passed": replace it.
        where = status_dir / "last-verify.json"
        started = out(
            ["systemctl", "show", "--timestamp=unix", unit, "-p", "ExecMainStartTimestamp", "--value"]
        )
        report = read_json(where) or {}
        if stale_report(report, started):
            write_json(where, unit_failed_report(cfg, unit, status, tail), 0o644)
    # "<3>" is journald's stdout level prefix: the line is logged at priority err.
    print(f"<3>ved-pgbackrest: {unit} failed (result={status['result']}); see {where}")
    try:
        write_metrics(cfg)
    except Exception as exc:  # noqa: BLE001 the failure record above matters more
        print(f"<4>ved-pgbackrest: metrics not written: {exc}")
    return status


# ---- Backup state: per-type last success and the PITR window ----------------------------


def wal_order(segment: str) -> tuple[str, str]:
    """A WAL file name (TTTTTTTTLLLLLLLLSSSSSSSS) ordered by position, then timeline."""
    return segment[8:24], segment[:8]


def pitr_window_start(info: dict) -> dict | None:
    """The oldest backup from whose start the archive still holds the WAL, and the window's
    start: that backup's end (the first consistent point a restore can stop at), or None."""
    mins = {a["database"]["id"]: a.get("min") for a in info.get("archive") or []}
    restorable = [
        b
        for b in info.get("backup") or []
        if (b.get("archive") or {}).get("start")
        and mins.get(b["database"]["id"])
        and wal_order(b["archive"]["start"]) >= wal_order(mins[b["database"]["id"]])
    ]
    if not restorable:
        return None
    oldest = min(restorable, key=lambda b: b["timestamp"]["start"])
    return {"label": oldest["label"], "start": int(oldest["timestamp"]["stop"])}


def backup_state(info: dict, previous: dict | None, now: float, finished: tuple | None = None) -> dict:
    """backup-state.json: the newest success of each type (kept across expiry, which removes
    old backups from `info`), the first backup ever seen, and the PITR window as of `now`.
    `finished` = (type, label, epoch) of the backup that just ended (it includes its record)."""
    prev = previous or {}
    last = {kind: dict(v) for kind, v in (prev.get("last_success") or {}).items()}

    def seen(kind: str, label: str, at: float) -> None:
        if at >= last.get(kind, {}).get("at", 0):
            last[kind] = {"label": label, "at": int(at)}

    backups = info.get("backup") or []
    for b in backups:
        seen(b["type"], b["label"], b["timestamp"]["stop"])
    if finished:
        seen(*finished)
    # The end of the first backup: the history the PITR window can cover (it opens at a
    # backup's end), so a young stanza's target is never longer than its window can be.
    ends = [int(b["timestamp"]["stop"]) for b in backups]
    if prev.get("first_backup_end") is not None:
        ends.append(int(prev["first_backup_end"]))
    window = pitr_window_start(info)
    if window:
        window["seconds"] = max(0, int(now) - window["start"])
    return {
        "format": 1,
        "stanza": info.get("name"),
        "as_of": int(now),
        "as_of_iso": datetime.fromtimestamp(int(now), UTC).isoformat(),
        "backups": len(backups),
        "last_success": last,
        "first_backup_end": min(ends) if ends else None,
        "pitr_window": window,
    }


def write_state(cfg: dict, info: dict, finished: tuple | None = None) -> dict:
    path = Path(cfg["status_dir"]) / "backup-state.json"
    state = backup_state(info, read_json(path), time.time(), finished)
    write_json(path, state, 0o644)
    return state


# ---- Metrics for node-exporter's textfile collector -------------------------------------

# Longest time between two runs of a schedule, from this many of its next runs (UTC, so a
# DST change does not move the number between runs).
CALENDAR_ITERATIONS = 100
ELAPSE = re.compile(r"^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", re.M)
# After the longest gap, the random delay and the backup's timeout: time for the record.
AGE_SLACK_SECONDS = 3600


def calendar_max_gap(output: str) -> int | None:
    """Longest gap (s) between consecutive runs in `systemd-analyze calendar --iterations` output."""
    runs = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S") for t in ELAPSE.findall(output)]
    gaps = [(b - a).total_seconds() for a, b in zip(runs, runs[1:], strict=False)]
    return int(max(gaps)) if gaps else None


def timespan_seconds_of(output: str) -> float | None:
    """Seconds from `systemd-analyze timespan` output (its "μs: N" line)."""
    m = re.search(r"^\s*\S*s: (\d+)\s*$", output, re.M)
    return int(m.group(1)) / 1e6 if m else None


def systemd_analyze(*args: str) -> str | None:
    res = subprocess.run(
        ["systemd-analyze", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TZ": "UTC"},
    )
    if res.returncode != 0:
        print(f"ved-pgbackrest: systemd-analyze {' '.join(args)}: {res.stderr.strip()}", file=sys.stderr)
        return None
    return res.stdout


def schedule_facts(cfg: dict) -> dict:
    """Longest gap of each scheduled backup type, the timers' random delay and the timeout."""
    gaps = {}
    for entry in cfg.get("schedules") or []:
        out = systemd_analyze("calendar", f"--iterations={CALENDAR_ITERATIONS}", entry["on_calendar"])
        gap = calendar_max_gap(out) if out else None
        if gap:
            gaps[entry["type"]] = max(gap, gaps.get(entry["type"], 0))

    def span(text: str) -> float:
        out = systemd_analyze("timespan", str(text))
        return (timespan_seconds_of(out) if out else None) or 0.0

    return {"gaps": gaps, "delay": span(cfg["randomized_delay"]), "timeout": span(cfg["backup_timeout"])}


def prom_value(value) -> str:
    v = float(value)
    return str(int(v)) if v.is_integer() else repr(round(v, 3))


def render_metrics(metrics: list[tuple[str, str, list[tuple[dict, float]]]]) -> str:
    """Prometheus text format; metrics without samples are left out."""
    lines = []
    for name, help_text, samples in metrics:
        if not samples:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            text = ",".join(
                '{}="{}"'.format(k, str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                for k, v in sorted(labels.items())
            )
            lines.append(f"{name}{{{text}}} {prom_value(value)}")
    return "\n".join(lines) + "\n" if lines else ""


def pitr_target(
    retention_full: int, full_gap: float | None, delay: float, history: float | None
) -> float | None:
    """The window the retention promises: the oldest of `retention_full` fulls taken every
    `full_gap` seconds (less the timers' random delay), but never more than the history the
    stanza has (a new host has not had the time to build its window yet)."""
    if not full_gap:
        return None
    promise = max(0.0, (int(retention_full) - 1) * full_gap - delay)
    return min(promise, max(0.0, history)) if history is not None else 0.0


def render_backup_metrics(cfg: dict, state: dict | None, failure_status: dict | None, facts: dict) -> str:
    stanza = {"stanza": cfg["stanza"]}
    state = state or {}
    success = [
        ({**stanza, "type": kind}, v["at"]) for kind, v in sorted((state.get("last_success") or {}).items())
    ]
    by_type = dict((failure_status or {}).get("by_type") or {})
    legacy = BACKUP_UNIT.match(str((failure_status or {}).get("unit", "")))
    if legacy and legacy["type"] not in by_type:
        by_type[legacy["type"]] = failure_status.get("failed_at")
    failures = [
        ({**stanza, "type": kind}, parse_time(at)) for kind, at in sorted(by_type.items()) if parse_time(at)
    ]
    max_age = [
        ({**stanza, "type": kind}, gap + facts["delay"] + facts["timeout"] + AGE_SLACK_SECONDS)
        for kind, gap in sorted(facts["gaps"].items())
    ]
    window = state.get("pitr_window")
    first = state.get("first_backup_end")
    history = state["as_of"] - first if state.get("as_of") and first is not None else None
    target = pitr_target(cfg["retention_full"], facts["gaps"].get("full"), facts["delay"], history)
    return render_metrics(
        [
            (
                "ved_backup_last_success_timestamp_seconds",
                "End of the newest successful backup of this type (pgbackrest info and the backup runs).",
                success,
            ),
            (
                "ved_backup_last_failure_timestamp_seconds",
                "Time the newest failed backup run of this type failed (OnFailure hook).",
                failures,
            ),
            (
                "ved_backup_max_age_seconds",
                "Longest gap of this type's schedule plus random delay, timeout and slack.",
                max_age,
            ),
            (
                "ved_backup_pitr_window_seconds",
                "How far back PITR reaches (oldest backup with its WAL), as of the state time.",
                [(stanza, window["seconds"])] if window else [],
            ),
            (
                "ved_backup_pitr_window_target_seconds",
                "The PITR window the full retention and schedule promise (capped by the history).",
                [(stanza, target)] if target is not None and state else [],
            ),
            (
                "ved_backup_state_timestamp_seconds",
                "When backup-state.json (the PITR window) was last computed.",
                [(stanza, state["as_of"])] if state.get("as_of") else [],
            ),
        ]
    )


def render_drill_metrics(cfg: dict, report: dict | None, state: dict | None) -> str:
    stanza = {"stanza": cfg["stanza"]}
    samples: dict[str, list] = {}
    if report and parse_time(report.get("finished_at")):
        durations = report.get("durations_seconds") or {}
        compared = [t for t in report.get("tables") or [] if t.get("status") != "not_compared"]
        samples = {
            "last_run": [(stanza, parse_time(report["finished_at"]))],
            "success": [(stanza, 1 if report.get("status") == "passed" else 0)],
            "rto": [(stanza, durations["rto_estimate"])] if "rto_estimate" in durations else [],
            "duration": [(stanza, durations["total"])] if "total" in durations else [],
            "tables": [(stanza, len(compared) if report.get("compared") else 0)],
        }
    elif cfg["drill"].get("enabled") and (state or {}).get("first_backup_end"):
        # No drill yet: count staleness from the first backup, so a drill timer that never
        # runs still raises RestoreDrillStale, and a new host gets its first week.
        samples = {"last_run": [(stanza, state["first_backup_end"])]}
    return render_metrics(
        [
            (
                "ved_restore_drill_last_run_timestamp_seconds",
                "End of the last restore-verify (drill or restore_verify.yml); before any, the first backup.",
                samples.get("last_run", []),
            ),
            (
                "ved_restore_drill_success",
                "1 when the last restore-verify passed, 0 when it failed.",
                samples.get("success", []),
            ),
            (
                "ved_restore_drill_rto_seconds",
                "Restore plus WAL replay time of the last restore-verify.",
                samples.get("rto", []),
            ),
            (
                "ved_restore_drill_duration_seconds",
                "Whole run time of the last restore-verify.",
                samples.get("duration", []),
            ),
            (
                "ved_restore_drill_tables_compared",
                "Tables compared with the backup's record in the last restore-verify.",
                samples.get("tables", []),
            ),
        ]
    )


def write_text_if_changed(path: Path, text: str) -> bool:
    """Atomic replace (a temporary file in the same directory, not named *.prom, then rename),
    only when the content differs."""
    with contextlib.suppress(FileNotFoundError):
        if path.read_text() == text:
            return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return True


def write_metrics(cfg: dict, textfile_dir: str | None = None) -> dict:
    directory = Path(textfile_dir or cfg["textfile_dir"])
    if not directory.is_dir():
        return {
            "changed": False,
            "written": [],
            "skipped": f"{directory} does not exist (no textfile collector)",
        }
    status_dir = Path(cfg["status_dir"])
    state = read_json(status_dir / "backup-state.json")
    files = {
        "ved_backup.prom": render_backup_metrics(
            cfg, state, read_json(status_dir / "last-failure.json"), schedule_facts(cfg)
        ),
        "ved_restore_drill.prom": render_drill_metrics(
            cfg, read_json(status_dir / "last-verify.json"), state
        ),
    }
    written = [name for name, text in files.items() if write_text_if_changed(directory / name, text)]
    return {"changed": bool(written), "written": written, "dir": str(directory)}


# ---- Restore verification (restore_verify.yml and the drill timer) ----------------------

RPO_SQL = """
SELECT json_build_object(
  'current_lsn', pg_current_wal_lsn(),
  'last_archived_wal', last_archived_wal,
  'last_archived_time', last_archived_time,
  'seconds_since_last_archive', round(extract(epoch FROM now() - last_archived_time)::numeric, 1),
  'unarchived_wal_bytes', greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') -
    (('x' || substr(last_archived_wal, 9, 8))::bit(32)::bigint * 4294967296
     + (('x' || substr(last_archived_wal, 17, 8))::bit(32)::bigint + 1)
     * (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'))),
  'archive_timeout', current_setting('archive_timeout'),
  'failed_count', failed_count, 'last_failed_wal', last_failed_wal)
FROM pg_stat_archiver
"""
RECOVERY_LOG = re.compile(
    r"consistent recovery state reached|recovery stopping|last completed transaction|FATAL|PANIC"
)
VERIFY_PROBLEM = re.compile(r"invalid|missing|status: error|ERROR|WARN")
MIB = 1024 * 1024


class Busy(VedBackupError):
    """Another restore-verify holds the lock: not a failed drill, so no report is written."""


# Exit status of a restore-verify refused because another one runs (sysexits' EX_TEMPFAIL);
# the drill unit counts it as a success (SuccessExitStatus), the playbook as an error.
EXIT_BUSY = 75


class Terminated(Exception):
    """SIGTERM (systemd's stop or timeout): unwind so the scratch instance is removed."""


class StepFailed(Exception):
    def __init__(self, step: str, message: str, reason: str = "error"):
        super().__init__(message)
        self.step, self.reason = step, reason


def verify_problems(rc: int, stdout: str, stderr: str) -> list[str]:
    """Damage that `pgbackrest verify` found. It exits 0 even then: the result is in its log
    (status: error, "invalid checksum '<file>'", "missing ...")."""
    if rc == 0 and "status: error" not in stdout:
        return []
    lines = [line.strip() for line in stdout.splitlines() if VERIFY_PROBLEM.search(line)]
    return lines + ([stderr.strip()] if stderr.strip() else []) or [f"exit code {rc}"]


def space_check(free_bytes: int, database_bytes: int, factor: float, reserve_mb: float) -> dict:
    """The scratch restore needs the database's size times `factor` (WAL replayed, the
    log) and must leave `reserve_mb` free for the live cluster on a shared filesystem."""
    needed = int(database_bytes * float(factor) + float(reserve_mb) * MIB)
    return {
        "free_bytes": int(free_bytes),
        "database_bytes": int(database_bytes),
        "factor": float(factor),
        "reserve_bytes": int(float(reserve_mb) * MIB),
        "needed_bytes": needed,
        "ok": free_bytes >= needed,
    }


def free_bytes_at(path: Path) -> int:
    """Free bytes (for an unprivileged user) of the filesystem that holds `path` or would."""
    while not path.exists():
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def choose_target(target_time: str, target_lsn: str, record: dict | None) -> dict:
    if target_time:
        return {"type": "time", "target": target_time}
    if target_lsn:
        return {"type": "lsn", "target": target_lsn}
    if record:
        return {"type": "lsn", "target": record["lsn"]}
    return {"type": "immediate", "target": ""}


def check_scratch_dir(scratch: Path, pg_path: str | None) -> None:
    """Refuse a scratch directory that holds, or sits inside, the live cluster."""
    if not scratch.is_absolute() or len(scratch.parts) < 3:
        raise VedBackupError(f"scratch directory {scratch}: give an absolute path at least two levels deep")
    if pg_path:
        live = Path(pg_path)
        if scratch == live or live.is_relative_to(scratch) or scratch.is_relative_to(live):
            raise VedBackupError(f"scratch directory {scratch} overlaps the live data directory {live}")


class ScratchInstance:
    """<scratch>/data (the restored cluster), <scratch>/postgresql.log and the instance's socket
    in <scratch>. Only these are ever removed; <scratch> itself only when this run created it
    (the drill's one is kept by the role: its parent is read-only inside the unit's sandbox)."""

    def __init__(self, scratch: Path, port: int, pg_bin: str):
        self.dir, self.port, self.pg_bin = scratch, int(port), pg_bin
        self.data = scratch / "data"
        self.log = scratch / "postgresql.log"
        self.created = self.prepared = False

    def prepare(self) -> None:
        """Only after the path checks and under the lock: from here on, close() cleans up."""
        self.prepared = True
        if not self.dir.exists():
            self.dir.mkdir(mode=0o700, parents=True)
            self.created = True
        self.remove()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [f"{self.pg_bin}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                check=False,
            )

    def remove(self) -> None:
        self.stop()
        if self.data.exists():
            shutil.rmtree(self.data)
        for path in (self.log, self.dir / f".s.PGSQL.{self.port}", self.dir / f".s.PGSQL.{self.port}.lock"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def close(self) -> None:
        if not self.prepared:
            return
        self.remove()
        if self.created:
            with contextlib.suppress(OSError):
                self.dir.rmdir()

    def configure(self) -> None:
        settings = {
            "port": self.port,
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.dir}'",
            "shared_buffers": "128MB",
            "max_connections": 20,
            "archive_mode": "off",
            "hot_standby": "off",
            "max_wal_size": "1GB",
            "timezone": "'UTC'",
            # Files in the data directory instead of /dev/shm; no JIT (W^X sandbox).
            "dynamic_shared_memory_type": "mmap",
            "jit": "off",
        }
        conf = "# Scratch instance of ved-pgbackrest restore-verify: removed when it ends.\n"
        conf += "".join(f"{k} = {v}\n" for k, v in settings.items())
        for name, text in (
            ("postgresql.conf", conf),
            ("pg_hba.conf", "local all postgres peer\n"),
            ("pg_ident.conf", ""),
        ):
            (self.data / name).write_text(text)
            os.chmod(self.data / name, 0o600)

    def start(self, timeout: int) -> None:
        # Also on the command line: postgresql.auto.conf (ALTER SYSTEM on the live cluster,
        # restored with the data) overrides postgresql.conf, but not these.
        opts = f"-p {self.port} -k {shlex.quote(str(self.dir))} -h '' -c archive_mode=off -c hot_standby=off"
        res = subprocess.run(
            [
                f"{self.pg_bin}/pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                opts,
                "-w",
                "-t",
                str(timeout),
                "start",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            raise VedBackupError(
                f"pg_ctl start failed: {res.stderr.strip() or res.stdout.strip()}; log: {self.log_tail()}"
            )

    def wait_promoted(self, timeout: int) -> None:
        # With hot_standby=off, pg_ctl -w returns as soon as replay starts: the wait for the
        # end of recovery (the documented start timeout) is this one.
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with connect("postgres", str(self.dir), self.port) as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
                    last = "still in recovery"
            except Exception as exc:  # noqa: BLE001 not accepting connections yet
                last = str(exc).strip()
            time.sleep(1)
        raise VedBackupError(f"not promoted after {timeout} s ({last})")

    def recovery_log(self) -> list[str]:
        with contextlib.suppress(FileNotFoundError):
            return [
                line
                for line in self.log.read_text(errors="replace").splitlines()
                if RECOVERY_LOG.search(line)
            ]
        return []

    def log_tail(self, n: int = 5) -> str:
        with contextlib.suppress(FileNotFoundError):
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-n:])
        return "(no log)"


def run_step(ctx: dict, step: str, cmd: list[str]) -> subprocess.CompletedProcess:
    ctx["step"] = step
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def restore_verify(cfg: dict, opts: argparse.Namespace) -> dict:
    """Restore a backup into a scratch instance and prove it: the whole of restore_verify.yml
    and of the drill timer. Returns the report (also written to last-verify.json)."""
    drill = cfg["drill"]
    scratch = Path(opts.scratch_dir or drill["scratch_dir"])
    port = int(opts.port or drill["port"])
    report: dict = {
        "status": "failed",
        "error": "",
        "failed_step": None,
        "reason": None,
        "host": opts.inventory_name or socket.gethostname(),
        "stanza": cfg["stanza"],
        "started_at": now_iso(),
        "backup": {},
        "record": {"lsn": None, "taken_at": None},
        "target": None,
        "compared": False,
        "durations_seconds": {},
        "rpo_estimate": {},
        "recovery_log": [],
        "mismatches": [],
        "tables": [],
        "scratch": {"dir": str(scratch), "port": port},
    }
    durations = report["durations_seconds"]
    ctx = {"step": "Check the options"}
    t0 = time.monotonic()
    instance = ScratchInstance(scratch, port, cfg["pg_bin"])
    # SIGTERM: systemctl stop or the unit's timeout; SIGHUP: the playbook's SSH session lost.
    old_handlers = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    lock = None
    busy = False
    try:
        if opts.target_time and opts.target_lsn:
            raise VedBackupError("give at most one of --target-time and --target-lsn")
        if opts.target_lsn and not re.fullmatch(r"[0-9A-Fa-f]+/[0-9A-Fa-f]+", opts.target_lsn):
            raise VedBackupError(f"--target-lsn {opts.target_lsn}: an LSN looks like 0/5000028")
        if port == int(cfg["port"]):
            raise VedBackupError(f"scratch port {port} is the live cluster's port")
        check_scratch_dir(scratch, cfg.get("pg_path"))

        ctx["step"] = "Take the restore-verify lock"
        lock = open(Path(cfg["status_dir"]) / "restore-verify.lock", "a")  # noqa: SIM115 held until the end
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("another restore-verify (drill or restore_verify.yml) is running") from None

        ctx["step"] = "Measure the WAL not yet archived (RPO estimate)"
        try:
            with connect("postgres", cfg["socket"], int(cfg["port"])) as conn:
                report["rpo_estimate"] = conn.execute(RPO_SQL).fetchone()[0]
        except Exception as exc:  # noqa: BLE001 the backups can be proven without the primary
            report["rpo_estimate"] = {"error": str(exc).strip()}

        ctx["step"] = "Read the repository (pgbackrest info)"
        backups = backup_info(cfg).get("backup") or []
        chosen = [b for b in backups if b["label"] == opts.set] if opts.set else backups[-1:]
        if not chosen:
            raise VedBackupError(
                f"no backup {opts.set or '(none at all)'} in stanza {cfg['stanza']}: labels present are "
                f"{[b['label'] for b in backups]}"
            )
        bset = chosen[0]
        report["backup"] = {
            "label": bset["label"],
            "type": bset["type"],
            "started_at": datetime.fromtimestamp(bset["timestamp"]["start"], UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "duration_seconds": bset["timestamp"]["stop"] - bset["timestamp"]["start"],
            "database_bytes": bset["info"]["size"],
            "backup_delta_bytes": bset["info"]["delta"],
            "repo_bytes": bset["info"]["repository"]["size"],
            "repo_delta_bytes": bset["info"]["repository"]["delta"],
            "lsn_stop": bset["lsn"]["stop"],
        }
        record_file = Path(cfg["record_dir"]) / f"{bset['label']}.json"
        record = read_json(record_file)
        report["record"] = {"lsn": (record or {}).get("lsn"), "taken_at": (record or {}).get("taken_at")}
        want_compare = opts.compare if opts.compare is not None else not (opts.target_time or opts.target_lsn)
        report["compared"] = compare_it = bool(want_compare and record)
        target = report["target"] = choose_target(opts.target_time, opts.target_lsn, record)
        if not compare_it:
            why = (
                "restore compare is off"
                if record
                else f"no checksum record for {bset['label']} (backup taken outside ved-pgbackrest backup)"
            )
            print(
                f"ved-pgbackrest restore-verify: WARNING: {why}: tables are summed, not compared",
                file=sys.stderr,
            )

        ctx["step"] = "Remove a scratch instance left by an earlier run"
        instance.prepare()

        ctx["step"] = "Check the free disk for the scratch restore"
        space = space_check(
            free_bytes_at(scratch),
            bset["info"]["size"],
            opts.space_factor if opts.space_factor is not None else drill["space_factor"],
            opts.space_reserve_mb if opts.space_reserve_mb is not None else drill["space_reserve_mb"],
        )
        report["scratch"].update(space)
        if not space["ok"]:
            raise StepFailed(
                ctx["step"],
                f"not enough free disk in {scratch} for the scratch restore: "
                f"{space['free_bytes'] / MIB:.0f} MiB free, {space['needed_bytes'] / MIB:.0f} MiB needed "
                f"(database {space['database_bytes'] / MIB:.0f} MiB x {space['factor']:g} + "
                f"{space['reserve_bytes'] / MIB:.0f} MiB kept free for the live cluster); nothing was "
                "restored. Free space, or move the scratch directory to a bigger filesystem",
                "insufficient_space",
            )

        # check switches WAL and waits for the segment in the repository, so the recovery
        # target (recorded after the backup) is reachable from the archive.
        res = run_step(
            ctx,
            "Push the current WAL to the repository (pgbackrest check)",
            ["pgbackrest", f"--stanza={cfg['stanza']}", "check"],
        )
        if res.returncode != 0:
            raise VedBackupError(res.stderr.strip() or res.stdout.strip())

        t = time.monotonic()
        res = run_step(
            ctx,
            "Verify the repository (pgbackrest verify)",
            ["pgbackrest", f"--stanza={cfg['stanza']}", "--log-level-console=info", "verify"],
        )
        durations["verify"] = round(time.monotonic() - t, 3)
        problems = verify_problems(res.returncode, res.stdout, res.stderr)
        if problems:
            raise StepFailed(
                ctx["step"],
                "pgbackrest verify found damage in the repository: " + " | ".join(problems),
                "damaged_repository",
            )

        # --archive-mode=off: the promoted scratch instance must never push WAL into the
        # repository (it would fork the stanza's timeline history).
        instance.data.mkdir(mode=0o700)
        cmd = [
            "pgbackrest",
            f"--stanza={cfg['stanza']}",
            f"--pg1-path={instance.data}",
            f"--set={bset['label']}",
            "--archive-mode=off",
            f"--type={target['type']}",
            "--target-action=promote",
            "--log-level-console=warn",
        ]
        if target["target"]:
            cmd.append(f"--target={target['target']}")
        if target["type"] == "lsn" and not opts.target_lsn:
            cmd.append("--target-exclusive")
        t = time.monotonic()
        res = run_step(ctx, "Restore the chosen backup into the scratch directory", [*cmd, "restore"])
        durations["restore"] = round(time.monotonic() - t, 3)
        if res.returncode != 0:
            raise VedBackupError(res.stderr.strip() or res.stdout.strip())

        ctx["step"] = "Configure the scratch instance"
        instance.configure()
        ctx["step"] = "Start the scratch instance and wait for recovery to end"
        t = time.monotonic()
        start_timeout = int(opts.start_timeout or drill["start_timeout"])
        instance.start(start_timeout)
        ctx["step"] = "Wait for the promotion"
        instance.wait_promoted(start_timeout)
        durations["recovery"] = round(time.monotonic() - t, 3)
        durations["rto_estimate"] = round(durations["restore"] + durations["recovery"], 3)
        ctx["step"] = "Check the instance reached consistency"
        report["recovery_log"] = instance.recovery_log()
        if not any("consistent recovery state reached" in line for line in report["recovery_log"]):
            raise VedBackupError(
                "the scratch instance never logged 'consistent recovery state reached': "
                f"{report['recovery_log']}"
            )

        t = time.monotonic()
        res = run_step(
            ctx,
            "Check heap and every index (pg_amcheck --all --heapallindexed)",
            [
                f"{cfg['pg_bin']}/pg_amcheck",
                "-h",
                str(scratch),
                "-p",
                str(port),
                "--all",
                "--heapallindexed",
                "--install-missing",
            ],
        )
        durations["amcheck"] = round(time.monotonic() - t, 3)
        if res.returncode != 0:
            raise StepFailed(
                ctx["step"],
                f"pg_amcheck found corruption: {(res.stdout + res.stderr).strip()[-2000:]}",
                "corruption",
            )

        ctx["step"] = "Compare row counts and checksums with the record"
        t = time.monotonic()
        if compare_it:
            restored = all_sums(str(scratch), port, list(record["databases"]))
            result = compare(record["databases"], restored)
            report["tables"], report["mismatches"] = result["tables"], result["mismatches"]
        else:
            restored = all_sums(str(scratch), port, cfg["databases"])
            report["tables"] = [
                {
                    "database": db,
                    "table": name,
                    "rows_recorded": None,
                    "rows_restored": v["rows"],
                    "status": "not_compared",
                }
                for db, tables in sorted(restored.items())
                for name, v in sorted(tables.items())
            ]
        durations["compare"] = round(time.monotonic() - t, 3)
        if report["mismatches"]:
            raise StepFailed(
                ctx["step"],
                f"restored tables differ from the record of {bset['label']} (LSN {record['lsn']}): "
                + "; ".join(report["mismatches"]),
                "mismatch",
            )
        report["status"] = "passed"
        report["failed_step"] = None
    except Busy:
        busy = True
        raise
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 every failure goes into the report
        step = exc.step if isinstance(exc, StepFailed) else ctx["step"]
        reason = (
            exc.reason
            if isinstance(exc, StepFailed)
            else "terminated"
            if isinstance(exc, (Terminated, KeyboardInterrupt))
            else "error"
        )
        message = str(exc).strip() or type(exc).__name__
        if not isinstance(exc, (VedBackupError, StepFailed, Terminated)):
            message = f"{type(exc).__name__}: {message}"
        report.update(error=f"{step}: {message}", failed_step=step, reason=reason)
    finally:
        try:
            instance.close()
        except OSError as exc:
            report["error"] = (report["error"] + f"; scratch not removed: {exc}").lstrip("; ")
            report["status"] = "failed"
        durations["total"] = round(time.monotonic() - t0, 3)
        report["finished_at"] = now_iso()
        if not busy:  # the running one writes the report
            write_json(
                Path(opts.report) if opts.report else Path(cfg["status_dir"]) / "last-verify.json",
                report,
                0o644,
            )
        if lock:
            lock.close()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    return report


def _raise_terminated(signum, frame):
    raise Terminated(
        f"stopped by {signal.Signals(signum).name} (systemctl stop, the unit's timeout, a lost session)"
    )


# ---- Command line -----------------------------------------------------------------------

# Commands that run pgBackRest or write its files: as root they would leave root-owned files
# that break the next run as postgres.
NOT_AS_ROOT = {"backup", "snapshot", "state", "restore-verify"}


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
    r = sub.add_parser("restore-verify", help="restore into a scratch instance and verify it")
    r.add_argument("--set", default="", help="backup label (default: the latest)")
    r.add_argument("--target-time", default="", help="point in time (PITR) instead of the record's LSN")
    r.add_argument("--target-lsn", default="", help="an explicit LSN")
    r.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compare with the record (default: without a target)",
    )
    r.add_argument("--scratch-dir", default=None, help="scratch area (default: the drill's)")
    r.add_argument("--port", type=int, default=None, help="scratch instance port (default: the drill's)")
    r.add_argument(
        "--space-factor", type=float, default=None, help="free disk needed = database size x this + reserve"
    )
    r.add_argument(
        "--space-reserve-mb", type=float, default=None, help="MiB that must stay free after the restore"
    )
    r.add_argument("--start-timeout", type=int, default=None, help="seconds for WAL replay and promotion")
    r.add_argument("--inventory-name", default=None, help="host name for the report (default: hostname)")
    r.add_argument("--report", default=None, help="report path (default: <status_dir>/last-verify.json)")
    sub.add_parser("state", help="backup-state.json from pgbackrest info")
    m = sub.add_parser("metrics", help="write the textfile collector's .prom files")
    m.add_argument("--textfile-dir", default=None)
    f = sub.add_parser("failure")
    f.add_argument("--unit", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if args.cmd in NOT_AS_ROOT and os.geteuid() == 0:
        print(
            f"ved-pgbackrest {args.cmd}: run it as postgres (sudo -u postgres ved-pgbackrest ...)",
            file=sys.stderr,
        )
        return 2
    rc = 0
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
        elif args.cmd == "restore-verify":
            result = restore_verify(cfg, args)
            if result["status"] != "passed":
                print(f"ved-pgbackrest restore-verify: FAILED: {result['error']}", file=sys.stderr)
                rc = 1
        elif args.cmd == "state":
            result = write_state(cfg, backup_info(cfg))
        elif args.cmd == "metrics":
            result = write_metrics(cfg, args.textfile_dir)
        else:
            result = failure(cfg, args.unit)
    except Busy as exc:
        print(f"ved-pgbackrest {args.cmd}: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except VedBackupError as exc:
        print(f"ved-pgbackrest {args.cmd}: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(BrokenPipeError):
        json.dump(result, sys.stdout, indent=2, sort_keys=True)
        print()
    return rc


if __name__ == "__main__":
    sys.exit(main())
