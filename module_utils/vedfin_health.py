"""Health checks of the database stack: PostgreSQL, Redis, pgBackRest backups and the host.

Plain Python (psycopg 3, redis-py; no Ansible API): ``library/vedfin_health.py`` is a thin
shell over it and pytest calls it directly.

Every check returns a dict::

    {"name": "pg_connections", "section": "postgresql", "title": "Connections vs max_connections",
     "value": 0.12, "unit": "ratio", "threshold": {"warn": 0.7, "crit": 0.9, "direction": "above"},
     "status": "ok" | "warn" | "crit", "remedy": "<one line> -> docs/...#anchor",
     "note": "...", "details": ...}

``status`` comes from ``grade(value, threshold)``: with direction ``above`` a value at or
above ``warn``/``crit`` is bad (connections, bloat), with ``below`` a value at or below is bad
(hit ratios). ``crit: None`` means the check never goes crit. Checks without a threshold are
informational (``threshold: None``, status ok). A section whose server cannot be reached gives
one crit ``<section>_connection`` check with the cause; a check that errors gives ``warn``
with the error in ``note``. The thresholds are ``DEFAULT_THRESHOLDS``, overridable per name
(``validate_thresholds``).

Public API: ``HealthError``, ``SECTIONS``, ``CHECKS``, ``DEFAULT_THRESHOLDS``,
``validate_thresholds``, ``select_checks``, ``grade``, ``normalize_setting``,
``backup_ages``, ``run_health``, ``summarize``, ``RUNBOOK``; the security baseline
(section ``security``): ``validate_security``, ``security_checks`` and the pure ``sec_*``
functions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from ansible.module_utils.vedfin_pg import VedfinError, connect
from ansible.module_utils.vedfin_preflight import check as app_schema_check

SCHEMA_VERSION = 1
RUNBOOK = "docs/DATABASE_TROUBLESHOOTING.md"
DEFAULT_SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "health"
STATUSES = ("ok", "warn", "crit")


class HealthError(VedfinError):
    """Bad input to the health checks (unknown check, bad threshold, missing SQL)."""


# name -> (section, title, unit, runbook anchor, one-line remedy)
CHECKS: dict[str, tuple[str, str, str, str, str]] = {
    "pg_version": ("postgresql", "PostgreSQL version", "", "reading-the-health-report", "Information only"),
    "pg_uptime": ("postgresql", "Uptime", "s", "reading-the-health-report", "Information only"),
    "pg_connections": (
        "postgresql",
        "Connections vs max_connections",
        "ratio",
        "connection-exhaustion",
        "Find idle or leaking clients, pool connections",
    ),
    "pg_cache_hit_ratio": (
        "postgresql",
        "Buffer cache hit ratio",
        "ratio",
        "cache-hit-rate-low",
        "Check shared_buffers against the working set",
    ),
    "pg_index_hit_ratio": (
        "postgresql",
        "Index cache hit ratio",
        "ratio",
        "cache-hit-rate-low",
        "Check shared_buffers and oversized indexes",
    ),
    "pg_dead_tuples": (
        "postgresql",
        "Tables with many dead tuples",
        "ratio",
        "dead-tuples-and-bloat",
        "VACUUM (ANALYZE) the listed tables, check autovacuum",
    ),
    "pg_bloat": (
        "postgresql",
        "Table bloat estimate",
        "ratio",
        "dead-tuples-and-bloat",
        "VACUUM, then pg_repack",
    ),
    "pg_unused_indexes": (
        "postgresql",
        "Unused indexes",
        "count",
        "unused-and-duplicate-indexes",
        "Confirm over a full cycle, then DROP INDEX CONCURRENTLY",
    ),
    "pg_duplicate_indexes": (
        "postgresql",
        "Duplicate indexes",
        "count",
        "unused-and-duplicate-indexes",
        "Drop all but one of each group (migration)",
    ),
    "pg_long_transactions": (
        "postgresql",
        "Longest running transaction",
        "s",
        "long-transactions-and-lock-waits",
        "Find the session, end it with pg_cancel_backend",
    ),
    "pg_idle_in_transaction": (
        "postgresql",
        "Longest idle-in-transaction session",
        "s",
        "long-transactions-and-lock-waits",
        "Fix the client, set idle_in_transaction_session_timeout",
    ),
    "pg_lock_waits": (
        "postgresql",
        "Longest lock wait",
        "s",
        "long-transactions-and-lock-waits",
        "Find the blocker in pg_blocking_pids",
    ),
    "pg_checkpoints": (
        "postgresql",
        "Requested share of checkpoints",
        "ratio",
        "disk-full-or-wal-growth",
        "Raise max_wal_size (pg_tune) if WAL volume forces checkpoints",
    ),
    "pg_wal_rate": (
        "postgresql",
        "WAL written per hour",
        "bytes/h",
        "disk-full-or-wal-growth",
        "Compare with max_wal_size",
    ),
    "pg_replication_slots": (
        "postgresql",
        "WAL retained by replication slots",
        "bytes",
        "replication-lag",
        "Drop inactive slots or bring the consumer back",
    ),
    "pg_replication_lag": (
        "postgresql",
        "Standby replay lag",
        "s",
        "replication-lag",
        "Check the standby's I/O and network",
    ),
    "pg_sizes": (
        "postgresql",
        "Database and table sizes",
        "bytes",
        "disk-full-or-wal-growth",
        "Watch the growth",
    ),
    "pg_slow_statements": (
        "postgresql",
        "Slowest statement (mean time)",
        "ms",
        "slow-queries",
        "EXPLAIN (ANALYZE, BUFFERS) the top statements",
    ),
    "pg_settings_drift": (
        "postgresql",
        "Settings that differ from the recommendation",
        "count",
        "pending-restart-after-tuning",
        "Roll the tuning out with playbooks/tune.yml",
    ),
    "pg_pending_restart": (
        "postgresql",
        "Settings waiting for a restart",
        "count",
        "pending-restart-after-tuning",
        "Restart through playbooks/tune.yml (serial)",
    ),
    "pg_app_schema": (
        "postgresql",
        "App schema vs what the ops objects read",
        "count",
        "app-schema-preflight-failed--warns",
        "The app changed a table the rollups read: fix its migration or add an ops migration",
    ),
    "pg_sec_hba_auth": (
        "security",
        "pg_hba: no trust/password/md5, no ident over the network",
        "count",
        "security-pg_hba-authentication",
        "Use scram-sha-256 (peer on the socket), hostssl, narrow addresses",
    ),
    "pg_sec_password_encryption": (
        "security",
        "password_encryption is scram-sha-256",
        "",
        "security-password-hashes",
        "Set password_encryption = scram-sha-256 (postgresql role)",
    ),
    "pg_sec_md5_passwords": (
        "security",
        "Roles still holding an MD5 password hash",
        "count",
        "security-password-hashes",
        "Set those roles' passwords again under scram-sha-256",
    ),
    "pg_sec_superusers": (
        "security",
        "Superusers and superuser-equivalent roles",
        "count",
        "security-superusers-and-privileged-roles",
        "ALTER ROLE ... NOSUPERUSER / NOCREATEROLE; REVOKE pg_*_server_* roles",
    ),
    "pg_sec_file_modes": (
        "security",
        "Data directory and config file owner/modes",
        "count",
        "security-data-directory-and-config-file-modes",
        "chown postgres, chmod 0700 the data directory, no group/other write on config files",
    ),
    "pg_sec_ssl": (
        "security",
        "TLS on with a TLSv1.2 floor",
        "",
        "security-tls",
        "ssl = on, ssl_min_protocol_version = TLSv1.2 (postgresql role)",
    ),
    "pg_sec_logging": (
        "security",
        "Connection logging and log_line_prefix",
        "count",
        "security-connection-logging",
        "log_connections/log_disconnections on, user, database and time in log_line_prefix",
    ),
    "pg_sec_untrusted_languages": (
        "security",
        "Untrusted procedural languages installed",
        "count",
        "security-untrusted-languages",
        "DROP EXTENSION plperlu/plpython3u/pltclu where nothing needs it",
    ),
    "pg_sec_public_schema": (
        "security",
        "PUBLIC may CREATE in schema public",
        "count",
        "security-create-on-schema-public",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC in each listed database",
    ),
    "pg_sec_preload_libraries": (
        "security",
        "Preloaded libraries outside the allow-list",
        "count",
        "security-preload-libraries",
        "Remove the library from *_preload_libraries or add it to health_security_preload_libraries",
    ),
    "redis_memory": (
        "redis",
        "Redis used memory vs maxmemory",
        "ratio",
        "redis-evictions",
        "Raise redis_maxmemory_mb or shorten TTLs",
    ),
    "redis_hit_rate": (
        "redis",
        "Redis keyspace hit rate",
        "ratio",
        "redis-evictions",
        "Check TTLs and evictions",
    ),
    "redis_evicted_keys": (
        "redis",
        "Redis evicted keys",
        "count",
        "redis-evictions",
        "Raise redis_maxmemory_mb or cache less",
    ),
    "redis_clients": (
        "redis",
        "Redis clients vs maxclients",
        "ratio",
        "connection-exhaustion",
        "Find leaking clients (CLIENT LIST)",
    ),
    "redis_persistence": (
        "redis",
        "Redis persistence (RDB/AOF last status)",
        "",
        "redis-persistence-errors",
        "Read the Redis log, check disk space and dir permissions",
    ),
    "redis_slowlog": (
        "redis",
        "Redis slowest recent command",
        "ms",
        "slow-queries",
        "Look for O(N) commands in SLOWLOG GET",
    ),
    "backup_full_age": (
        "backup",
        "Age of the last full backup",
        "h",
        "failed-backup-timer",
        "Check the timer and run playbooks/backup.yml -e backup_type=full",
    ),
    "backup_diff_age": (
        "backup",
        "Age of the last backup (any type)",
        "h",
        "failed-backup-timer",
        "Check the timer and run playbooks/backup.yml",
    ),
    "backup_last_failure": (
        "backup",
        "Last backup run failed",
        "",
        "failed-backup-timer",
        "Read last-failure.json and the unit's journal",
    ),
    "backup_timers": (
        "backup",
        "pgBackRest timers not active",
        "count",
        "failed-backup-timer",
        "systemctl enable --now the ved-pgbackrest timers",
    ),
    "host_disk": (
        "host",
        "Disk use of the data directory's filesystem",
        "ratio",
        "disk-full-or-wal-growth",
        "Free space; look for WAL growth first",
    ),
    "host_memory": (
        "host",
        "Host memory in use",
        "ratio",
        "host-memory",
        "Find the process; check the memory budget",
    ),
}
SECTIONS = ("postgresql", "security", "redis", "backup", "host")

# name -> {"warn", "crit", "direction"}: direction "above" = higher is worse.
DEFAULT_THRESHOLDS: dict[str, dict] = {
    "pg_connections": {"warn": 0.7, "crit": 0.9, "direction": "above"},
    "pg_cache_hit_ratio": {"warn": 0.99, "crit": 0.95, "direction": "below"},
    "pg_index_hit_ratio": {"warn": 0.99, "crit": 0.95, "direction": "below"},
    "pg_dead_tuples": {"warn": 0.2, "crit": 0.5, "direction": "above"},
    "pg_bloat": {"warn": 0.5, "crit": 0.8, "direction": "above"},
    "pg_unused_indexes": {"warn": 1, "crit": None, "direction": "above"},
    "pg_duplicate_indexes": {"warn": 1, "crit": None, "direction": "above"},
    "pg_long_transactions": {"warn": 300, "crit": 1800, "direction": "above"},
    "pg_idle_in_transaction": {"warn": 60, "crit": 600, "direction": "above"},
    "pg_lock_waits": {"warn": 10, "crit": 60, "direction": "above"},
    "pg_checkpoints": {"warn": 0.3, "crit": 0.7, "direction": "above"},
    "pg_replication_slots": {"warn": 1024**3, "crit": 5 * 1024**3, "direction": "above"},
    "pg_replication_lag": {"warn": 30, "crit": 300, "direction": "above"},
    "pg_slow_statements": {"warn": 100, "crit": 1000, "direction": "above"},
    "pg_settings_drift": {"warn": 1, "crit": None, "direction": "above"},
    "pg_pending_restart": {"warn": 1, "crit": None, "direction": "above"},
    "redis_memory": {"warn": 0.8, "crit": 0.95, "direction": "above"},
    "redis_hit_rate": {"warn": 0.8, "crit": 0.5, "direction": "below"},
    "redis_evicted_keys": {"warn": 1, "crit": 100000, "direction": "above"},
    "redis_clients": {"warn": 0.7, "crit": 0.9, "direction": "above"},
    "redis_slowlog": {"warn": 20, "crit": 200, "direction": "above"},
    "backup_full_age": {"warn": 8 * 24, "crit": 15 * 24, "direction": "above"},
    "backup_diff_age": {"warn": 30, "crit": 54, "direction": "above"},
    "backup_timers": {"warn": None, "crit": 1, "direction": "above"},
    "host_disk": {"warn": 0.8, "crit": 0.9, "direction": "above"},
    "host_memory": {"warn": 0.9, "crit": 0.97, "direction": "above"},
}

# Minimum traffic before a ratio means something, and size floors of the table checks.
MIN_CACHE_BLOCKS = 1000
MIN_REDIS_LOOKUPS = 1000
MIN_CHECKPOINTS = 5
MIN_DEAD_ROWS = 1000
MIN_STATEMENT_CALLS = 5
MIN_BLOAT_BYTES = 1024 * 1024
TOP = 10
PGBACKREST_TIMERS = ("ved-pgbackrest-full.timer", "ved-pgbackrest-diff.timer")


# -- input ---------------------------------------------------------------------------------
def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_thresholds(overrides) -> dict:
    """Defaults merged with ``{check: {"warn": x, "crit": y}}``; raises HealthError naming the
    check and the allowed names/values."""
    merged = {name: dict(t) for name, t in DEFAULT_THRESHOLDS.items()}
    if overrides in (None, {}):
        return merged
    if not isinstance(overrides, dict):
        raise HealthError(f"thresholds must be a mapping of check name -> {{warn, crit}}, got {overrides!r}")
    for name, spec in overrides.items():
        if name not in DEFAULT_THRESHOLDS:
            raise HealthError(
                f"thresholds: unknown or threshold-less check {name!r}; "
                f"allowed: {', '.join(sorted(DEFAULT_THRESHOLDS))}"
            )
        if not isinstance(spec, dict) or not spec or set(spec) - {"warn", "crit"}:
            raise HealthError(f"thresholds.{name} must be a mapping with keys warn and/or crit, got {spec!r}")
        for key, value in spec.items():
            if value is not None and not _number(value):
                raise HealthError(f"thresholds.{name}.{key} must be a number or null, got {value!r}")
        t = merged[name]
        t.update(spec)
        warn, crit = t["warn"], t["crit"]
        if warn is not None and crit is not None:
            wrong = warn > crit if t["direction"] == "above" else warn < crit
            if wrong:
                order = "<=" if t["direction"] == "above" else ">="
                raise HealthError(
                    f"thresholds.{name}: warn must be {order} crit (higher values are "
                    f"{'worse' if t['direction'] == 'above' else 'better'}), got warn={warn} crit={crit}"
                )
    return merged


def select_checks(include=None, exclude=None) -> list[str]:
    """Check names to run: ``include`` lists sections or check names (default: all),
    ``exclude`` check names or sections to leave out. Unknown names are a HealthError."""
    allowed = set(SECTIONS) | set(CHECKS)

    def expand(names, what):
        if names is None:
            return set()
        if isinstance(names, str) or not isinstance(names, (list, tuple, set)):
            raise HealthError(f"{what} must be a list of section or check names, got {names!r}")
        unknown = sorted(str(n) for n in names if n not in allowed)
        if unknown:
            raise HealthError(
                f"{what}: unknown check(s) {', '.join(unknown)}; allowed sections: {', '.join(SECTIONS)}; "
                f"checks: {', '.join(CHECKS)}"
            )
        out = set()
        for n in names:
            out |= {c for c, spec in CHECKS.items() if spec[0] == n} if n in SECTIONS else {n}
        return out

    wanted = expand(include, "include") if include else set(CHECKS)
    wanted -= expand(exclude, "exclude")
    if not wanted:
        raise HealthError("include/exclude leave no check to run")
    return [c for c in CHECKS if c in wanted]


# -- grading -------------------------------------------------------------------------------
def grade(value, threshold: dict | None) -> str:
    """ok/warn/crit of a numeric value against ``{"warn", "crit", "direction"}``."""
    if threshold is None or value is None:
        return "ok"
    above = threshold["direction"] == "above"
    for status in ("crit", "warn"):
        limit = threshold.get(status)
        if limit is not None and (value >= limit if above else value <= limit):
            return status
    return "ok"


def worst(statuses) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


def _check(name, value, thresholds, *, status=None, note="", details=None) -> dict:
    section, title, unit, anchor, remedy = CHECKS[name]
    threshold = thresholds.get(name)
    return {
        "name": name,
        "section": section,
        "title": title,
        "value": value,
        "unit": unit,
        "threshold": threshold,
        "status": status or grade(value, threshold),
        "remedy": f"{remedy}: {RUNBOOK}#{anchor}",
        "note": note,
        "details": details if details is not None else [],
    }


def summarize(checks: list[dict]) -> dict:
    counts = {s: 0 for s in STATUSES}
    for c in checks:
        counts[c["status"]] += 1
    return {
        "status": worst(c["status"] for c in checks),
        "counts": counts,
        "crit": [c["name"] for c in checks if c["status"] == "crit"],
        "warn": [c["name"] for c in checks if c["status"] == "warn"],
    }


# -- settings normalization ----------------------------------------------------------------
_MEM = {"B": 1 / 1024, "kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}
_UNIT_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_BOOL = {
    "on": "on",
    "off": "off",
    "true": "on",
    "false": "off",
    "yes": "on",
    "no": "off",
    "1": "on",
    "0": "off",
}


def _scaled_unit(unit: str | None) -> tuple[str | None, float]:
    """pg_settings unit ('8kB', 'kB', 'ms', 's', 'min') -> (kind, factor to kB or ms)."""
    if not unit:
        return None, 1.0
    m = re.match(r"^(\d*)(\w+)$", unit)
    count = float(m.group(1) or 1)
    base = m.group(2)
    if base in _MEM:
        return "mem", count * _MEM[base]
    if base in _TIME:
        return "time", count * _TIME[base]
    return None, 1.0


def normalize_setting(value, unit: str | None = None, vartype: str = "string"):
    """A setting value in a comparable form: memory in kB, time in ms, bool on/off, numbers
    as float, other strings lower-cased. ``unit`` is pg_settings.unit (the unit of a bare
    number), e.g. shared_buffers '16384' with unit '8kB' -> 131072.0 == '128MB'."""
    text = str(value).strip()
    if vartype == "bool":
        return _BOOL.get(text.lower(), text.lower())
    kind, factor = _scaled_unit(unit)
    m = _UNIT_RE.match(text)
    if m and vartype in ("integer", "real"):
        number, suffix = float(m.group(1)), m.group(2)
        if not suffix:
            return number * factor
        if kind == "mem" and suffix in _MEM:
            return number * _MEM[suffix]
        if kind == "time" and suffix in _TIME:
            return number * _TIME[suffix]
    return text.lower().strip("'")


def settings_drift(rows: list[dict], recommended: dict) -> tuple[list[dict], list[str]]:
    """(differences, unknown names) between pg_settings rows and a recommendation dict."""
    by_name = {r["name"]: r for r in rows}
    diffs, unknown = [], []
    for name in sorted(recommended):
        row = by_name.get(name)
        if row is None:
            unknown.append(name)
            continue
        want = normalize_setting(recommended[name], row["unit"], row["vartype"])
        have = normalize_setting(row["setting"], row["unit"], row["vartype"])
        same = (
            abs(want - have) < 1e-9 * max(1.0, abs(want))
            if isinstance(want, float) and isinstance(have, float)
            else want == have
        )
        if not same:
            unit = row["unit"] or ""
            diffs.append(
                {
                    "name": name,
                    "current": f"{row['setting']}{' ' + unit if unit else ''}",
                    "recommended": str(recommended[name]),
                    "source": row["source"],
                }
            )
    return diffs, unknown


# -- backups -------------------------------------------------------------------------------
def _parse_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def backup_ages(info: list | None, last_success: dict | None, now: float) -> dict:
    """Hours since the last full backup and since the last backup of any type.

    ``info`` is ``pgbackrest info --output=json`` (a list of stanzas; each backup has
    ``type`` and ``timestamp.stop`` in epoch seconds); ``last_success`` the status file
    written by ved-pgbackrest (``type``, ``finished_at`` ISO 8601), used when info is missing.
    """
    stops: dict[str, float] = {}

    def seen(kind: str, ts: float | None) -> None:
        if ts is not None:
            for key in {kind, "any"}:
                stops[key] = max(stops.get(key, 0.0), ts)

    for stanza in info or []:
        for b in stanza.get("backup") or []:
            seen("full" if b.get("type") == "full" else "other", (b.get("timestamp") or {}).get("stop"))
    if last_success:
        seen(
            "full" if last_success.get("type") == "full" else "other",
            _parse_time(last_success.get("finished_at")),
        )
    return {k: (round((now - stops[k]) / 3600, 2) if k in stops else None) for k in ("full", "any")}


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise HealthError(f"cannot read {path}: {exc}") from None


def _pgbackrest_info(cmd: str, stanza: str) -> tuple[list | None, str]:
    exe = shutil.which(cmd)
    if exe is None:
        return None, f"{cmd} is not installed"
    res = subprocess.run(
        [exe, f"--stanza={stanza}", "--output=json", "info"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if res.returncode != 0:
        return None, f"pgbackrest info failed: {' '.join((res.stderr or res.stdout).split())[:300]}"
    return json.loads(res.stdout), ""


def _timer_states(timers) -> dict[str, str]:
    exe = shutil.which("systemctl")
    if exe is None:
        return {t: "unknown (no systemctl)" for t in timers}
    res = subprocess.run([exe, "is-active", *timers], capture_output=True, text=True, timeout=30, check=False)
    states = res.stdout.split()
    return {t: (states[i] if i < len(states) else "unknown") for i, t in enumerate(timers)}


def backup_checks(names, thresholds, *, status_dir, stanza, pgbackrest_cmd, timers, now=None) -> list[dict]:
    now = time.time() if now is None else now
    status_dir = Path(status_dir)
    out = []
    success = _read_json(status_dir / "last-success.json")
    failure = _read_json(status_dir / "last-failure.json")
    info, info_note = (None, "")
    if {"backup_full_age", "backup_diff_age"} & set(names):
        info, info_note = _pgbackrest_info(pgbackrest_cmd, stanza)
    ages = backup_ages(info, success, now)
    for name, key in (("backup_full_age", "full"), ("backup_diff_age", "any")):
        if name not in names:
            continue
        if ages[key] is None:
            note = "no backup found" + (f" ({info_note})" if info_note else "")
            out.append(_check(name, None, thresholds, status="crit", note=note))
        else:
            out.append(_check(name, ages[key], thresholds, note=info_note))
    if "backup_last_failure" in names:
        failed_at = _parse_time((failure or {}).get("failed_at"))
        ok_at = _parse_time((success or {}).get("finished_at"))
        failed = failed_at is not None and (ok_at is None or failed_at > ok_at)
        note = (
            f"{failure.get('unit')} failed at {failure.get('failed_at')} (result {failure.get('result')})"
            if failed
            else ("no failure recorded" if failure is None else "a success followed the last failure")
        )
        out.append(
            _check(
                "backup_last_failure",
                failed,
                thresholds,
                status="crit" if failed else "ok",
                note=note,
                details={"last_success": success, "last_failure": failure},
            )
        )
    if "backup_timers" in names:
        states = _timer_states(timers)
        inactive = sum(1 for s in states.values() if s != "active")
        out.append(_check("backup_timers", inactive, thresholds, details=states))
    return out


# -- host ----------------------------------------------------------------------------------
def meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    out = {}
    with open(path, encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0]) * (1024 if len(fields) > 1 and fields[1] == "kB" else 1)
    return out


def host_checks(names, thresholds, data_directory: str | None) -> list[dict]:
    out = []
    if "host_disk" in names:
        path = data_directory or "/"
        st = os.statvfs(path)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used = (total - free) / total if total else 0.0
        out.append(
            _check(
                "host_disk",
                round(used, 4),
                thresholds,
                note=f"filesystem of {path}",
                details={"path": path, "total_bytes": total, "available_bytes": free},
            )
        )
    if "host_memory" in names:
        mem = meminfo()
        total, avail = mem.get("MemTotal", 0), mem.get("MemAvailable", 0)
        out.append(
            _check(
                "host_memory",
                round(1 - avail / total, 4) if total else None,
                thresholds,
                details={
                    "total_bytes": total,
                    "available_bytes": avail,
                    "swap_used_bytes": mem.get("SwapTotal", 0) - mem.get("SwapFree", 0),
                },
            )
        )
    return out


# -- PostgreSQL ------------------------------------------------------------------------------
def load_sql(sql_dir=None, texts: dict | None = None) -> dict[str, str]:
    """The health queries by name, from ``texts`` (name -> SQL) or ``sql_dir``/*.sql."""
    if texts:
        return {str(k).removesuffix(".sql"): v for k, v in texts.items()}
    directory = Path(sql_dir) if sql_dir else DEFAULT_SQL_DIR
    files = sorted(directory.glob("*.sql")) if directory.is_dir() else []
    if not files:
        raise HealthError(f"no health SQL found in {directory} (expected the repository's sql/health/*.sql)")
    return {f.stem: f.read_text(encoding="utf-8") for f in files}


REQUIRED_SQL = (
    "overview",
    "hit_ratios",
    "dead_tuples",
    "bloat",
    "unused_indexes",
    "duplicate_indexes",
    "sessions",
    "lock_waits",
    "checkpoints",
    "replication",
    "sizes",
    "statements",
    "settings",
)


def _rows(conn, sql: str, params: dict | None = None) -> list[dict]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params or None)
        return [dict(r) for r in cur.fetchall()]


def _ratio(hit: float, read: float) -> float | None:
    return round(hit / (hit + read), 4) if hit + read else None


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def pg_checks(
    conn, names, thresholds, sql: dict[str, str], recommended: dict | None
) -> tuple[list[dict], dict]:
    """The PostgreSQL checks in ``names`` on an autocommit connection; returns (checks, overview)."""
    missing = [n for n in REQUIRED_SQL if n not in sql]
    if missing:
        raise HealthError(f"health SQL missing: {', '.join(missing)}")
    ov = _rows(conn, sql["overview"])[0]
    out: list[dict] = []

    def add(name, fn):
        if name not in names:
            return
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - one failing check must not hide the others
            out.append(
                _check(
                    name, None, thresholds, status="warn", note=f"check failed: {' '.join(str(exc).split())}"
                )
            )

    add("pg_version", lambda: _check("pg_version", ov["version"], thresholds))
    add("pg_uptime", lambda: _check("pg_uptime", round(ov["uptime_s"]), thresholds))

    def connections():
        usable = ov["max_connections"] - ov["reserved_connections"]
        return _check(
            "pg_connections",
            round(ov["connections"] / usable, 4) if usable > 0 else 1.0,
            thresholds,
            details={
                "connections": ov["connections"],
                "max_connections": ov["max_connections"],
                "superuser_reserved": ov["reserved_connections"],
            },
        )

    add("pg_connections", connections)

    def hits(name, hit_key, read_key):
        h = _rows(conn, sql["hit_ratios"])[0]
        blocks = h[hit_key] + h[read_key]
        if blocks < MIN_CACHE_BLOCKS:
            return _check(
                name,
                _ratio(h[hit_key], h[read_key]),
                thresholds,
                status="ok",
                note=f"only {int(blocks)} block reads so far; ratio not graded",
                details={"hit": h[hit_key], "read": h[read_key]},
            )
        return _check(
            name,
            _ratio(h[hit_key], h[read_key]),
            thresholds,
            details={"hit": h[hit_key], "read": h[read_key]},
        )

    add("pg_cache_hit_ratio", lambda: hits("pg_cache_hit_ratio", "cache_hit", "cache_read"))
    add("pg_index_hit_ratio", lambda: hits("pg_index_hit_ratio", "index_hit", "index_read"))

    def dead():
        t = thresholds["pg_dead_tuples"]
        rows = _rows(conn, sql["dead_tuples"], {"min_dead": MIN_DEAD_ROWS, "min_ratio": t["warn"] or 0})
        top = max((r["ratio"] for r in rows), default=0.0)
        return _check(
            "pg_dead_tuples",
            top,
            thresholds,
            details=_jsonable(rows),
            note=f"{len(rows)} table(s) at or above the warn ratio with >= {MIN_DEAD_ROWS} dead rows",
        )

    add("pg_dead_tuples", dead)

    def bloat():
        rows = _rows(conn, sql["bloat"], {"min_bytes": MIN_BLOAT_BYTES})
        top = max((r["ratio"] or 0.0 for r in rows), default=0.0)
        bad = [r for r in rows if grade(r["ratio"], thresholds["pg_bloat"]) != "ok"]
        return _check(
            "pg_bloat",
            top,
            thresholds,
            details=rows[:TOP],
            note=f"{len(bad)} table(s) >= 1 MB over the warn ratio; estimate, needs fresh ANALYZE",
        )

    add("pg_bloat", bloat)

    def unused():
        rows = _rows(conn, sql["unused_indexes"], {"min_bytes": 0})
        return _check(
            "pg_unused_indexes",
            len(rows),
            thresholds,
            details=rows,
            note="idx_scan = 0 since the last statistics reset",
        )

    add("pg_unused_indexes", unused)

    def duplicates():
        rows = _rows(conn, sql["duplicate_indexes"])
        return _check("pg_duplicate_indexes", len(rows), thresholds, details=rows)

    add("pg_duplicate_indexes", duplicates)

    sessions: list[dict] = []
    if {"pg_long_transactions", "pg_idle_in_transaction"} & set(names):
        sessions = _rows(conn, sql["sessions"])

    def long_tx():
        active = [s for s in sessions if s["state"] != "idle in transaction"]
        top = max((s["xact_age_s"] for s in active), default=0.0)
        return _check("pg_long_transactions", round(top, 1), thresholds, details=active[:TOP])

    def idle_tx():
        idle = [s for s in sessions if s["state"] in ("idle in transaction", "idle in transaction (aborted)")]
        top = max((s["state_age_s"] for s in idle), default=0.0)
        return _check("pg_idle_in_transaction", round(top, 1), thresholds, details=idle[:TOP])

    add("pg_long_transactions", long_tx)
    add("pg_idle_in_transaction", idle_tx)

    def locks():
        rows = _rows(conn, sql["lock_waits"])
        top = max((r["wait_s"] for r in rows), default=0.0)
        return _check(
            "pg_lock_waits",
            round(top, 1),
            thresholds,
            details=rows,
            note=f"{len(rows)} session(s) waiting for a lock",
        )

    add("pg_lock_waits", locks)

    cp: dict = {}
    if {"pg_checkpoints", "pg_wal_rate"} & set(names):
        cp = _rows(conn, sql["checkpoints"])[0]

    def checkpoints():
        total = cp["checkpoints_timed"] + cp["checkpoints_req"]
        value = round(cp["checkpoints_req"] / total, 4) if total else 0.0
        details = {"timed": cp["checkpoints_timed"], "requested": cp["checkpoints_req"]}
        if total < MIN_CHECKPOINTS:
            return _check(
                "pg_checkpoints",
                value,
                thresholds,
                status="ok",
                details=details,
                note=f"only {total} checkpoint(s) since the reset; not graded",
            )
        return _check("pg_checkpoints", value, thresholds, details=details)

    def wal_rate():
        window = cp["wal_window_s"] or 0
        rate = round(cp["wal_bytes"] / window * 3600) if window > 0 else None
        return _check(
            "pg_wal_rate",
            rate,
            thresholds,
            details={
                "wal_bytes": cp["wal_bytes"],
                "window_s": window,
                "max_wal_size_bytes": cp["max_wal_size_bytes"],
            },
        )

    add("pg_checkpoints", checkpoints)
    add("pg_wal_rate", wal_rate)

    repl: list[dict] = []
    if {"pg_replication_slots", "pg_replication_lag"} & set(names):
        repl = _rows(conn, sql["replication"])

    def slots():
        rows = [r for r in repl if r["kind"] == "slot"]
        inactive = [r["name"] for r in rows if not r["active"]]
        top = max((r["retained_bytes"] or 0 for r in rows), default=0)
        status = worst([grade(top, thresholds["pg_replication_slots"]), "warn" if inactive else "ok"])
        note = f"inactive slot(s): {', '.join(inactive)}" if inactive else f"{len(rows)} slot(s)"
        return _check("pg_replication_slots", top, thresholds, status=status, note=note, details=rows)

    def lag():
        rows = [r for r in repl if r["kind"] == "standby"]
        if not rows:
            return _check("pg_replication_lag", None, thresholds, note="no standby connected")
        return _check("pg_replication_lag", max(r["lag_s"] or 0 for r in rows), thresholds, details=rows)

    add("pg_replication_slots", slots)
    add("pg_replication_lag", lag)

    def sizes():
        rows = _rows(conn, sql["sizes"], {"top": TOP})
        dbs = [r for r in rows if r["kind"] == "database"]
        return _check(
            "pg_sizes",
            sum(r["size_bytes"] for r in dbs),
            thresholds,
            details={"databases": dbs, "tables": [r for r in rows if r["kind"] == "table"]},
            note=f"{len(dbs)} database(s); largest tables of {ov['database']}",
        )

    add("pg_sizes", sizes)

    def statements():
        ext = _rows(conn, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        if not ext:
            return _check(
                "pg_slow_statements",
                None,
                thresholds,
                note=f"pg_stat_statements is not installed in database {ov['database']}; skipped",
            )
        by_total = _rows(
            conn, sql["statements"], {"by": "total", "min_calls": 1, "dml_only": False, "top": TOP}
        )
        # Graded: queries run at least a few times; a migration's CREATE INDEX is not a slow query.
        by_mean = _rows(
            conn,
            sql["statements"],
            {"by": "mean", "min_calls": MIN_STATEMENT_CALLS, "dml_only": True, "top": TOP},
        )
        top = max((r["mean_ms"] for r in by_mean), default=0.0)
        return _check(
            "pg_slow_statements",
            top,
            thresholds,
            details={"by_total": by_total, "by_mean": by_mean},
            note=f"graded over queries with >= {MIN_STATEMENT_CALLS} calls (no DDL, COPY or maintenance)",
        )

    add("pg_slow_statements", statements)

    settings: list[dict] = []
    if {"pg_settings_drift", "pg_pending_restart"} & set(names):
        settings = _rows(conn, sql["settings"])

    def drift():
        if not recommended:
            return _check("pg_settings_drift", None, thresholds, note="no recommendation given; skipped")
        diffs, unknown = settings_drift(settings, recommended)
        note = f"unknown setting(s) in the recommendation: {', '.join(unknown)}" if unknown else ""
        return _check("pg_settings_drift", len(diffs), thresholds, details=diffs, note=note)

    def pending():
        rows = [r["name"] for r in settings if r["pending_restart"]]
        return _check("pg_pending_restart", len(rows), thresholds, details=rows)

    add("pg_settings_drift", drift)
    add("pg_pending_restart", pending)

    def app_schema():
        # The migrations' preflight, run again between deployments: the app's own migrations may
        # have changed what the rollups read since the ops migrations were applied.
        if conn.execute("SELECT to_regclass('ops.schema_migrations')").fetchone()[0] is None:
            note = "no ops migrations in this database: not checked"
            return _check("pg_app_schema", None, thresholds, note=note)
        verdict = app_schema_check(conn)
        found = verdict["problems"] + verdict["warnings"]
        status = "crit" if verdict["problems"] else "warn" if verdict["warnings"] else "ok"
        return _check("pg_app_schema", len(found), thresholds, status=status, details=found)

    add("pg_app_schema", app_schema)
    return out, ov


# -- security baseline -----------------------------------------------------------------------
# dev-sec postgres-baseline (postgres-04..15) and CIS PostgreSQL 15 (3.1 logging, 4 roles,
# 5 authentication, 6.7/6.8 TLS), as health checks. Each ``sec_*`` function is pure: rows in,
# (status, value, note, details) out. docs/DATABASE_TROUBLESHOOTING.md#postgresql-security-baseline.
SECURITY_SQL = (
    "security_settings",
    "security_hba",
    "security_roles",
    "security_databases",
    "security_database",
)
DEFAULT_SUPERUSERS = ("postgres",)
# Libraries this project preloads or would: statistics, plan logging, audit, cache warm-up.
DEFAULT_PRELOAD_LIBRARIES = ("pg_stat_statements", "auto_explain", "pgaudit", "pg_prewarm")
PASSWORD_METHODS = ("scram-sha-256", "md5", "password", "ldap", "radius", "pam")
TLS_ORDER = ("tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3")


def _finding(status: str, what: str, **extra) -> dict:
    return {"status": status, "finding": what, **extra}


def _graded(findings: list[dict], ok_note: str, status: str | None = None):
    """(status, value, note, details) of a list of findings."""
    if not findings:
        return "ok", 0, ok_note, []
    top = status or worst(f["status"] for f in findings)
    note = "; ".join(f["finding"] for f in findings[:3]) + (
        f" (+{len(findings) - 3} more)" if len(findings) > 3 else ""
    )
    return top, len(findings), note, findings


def _csv(text) -> list[str]:
    return [x.strip().strip('"') for x in str(text or "").split(",") if x.strip()]


def _network(address, netmask=None):
    """ipaddress network of a pg_hba address/netmask, or None for names and keywords."""
    import ipaddress

    if not address:
        return None
    try:
        if netmask and "/" not in address:
            prefix = bin(int(ipaddress.ip_address(netmask))).count("1")
            return ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        return ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None


def listens_beyond_loopback(listen_addresses) -> bool:
    """True when listen_addresses holds anything but loopback (or is a wildcard)."""
    import ipaddress

    for addr in _csv(listen_addresses):
        if addr == "localhost":
            continue
        try:
            if ipaddress.ip_address(addr).is_loopback:
                continue
        except ValueError:
            pass  # '*', host names: reachable from outside
        return True
    return False


def sec_hba(rules: list[dict], listen_addresses="localhost"):
    """pg_hba_file_rules rows -> findings. trust anywhere, password and ident over the network
    are crit; md5, cleartext-capable non-TLS lines from beyond loopback, world-open addresses
    (when the server listens beyond loopback) and lines that would not load are warn."""
    exposed = listens_beyond_loopback(listen_addresses)
    findings = []
    for r in rules:
        line, kind, method = r.get("line_number"), r.get("type") or "", (r.get("auth_method") or "").lower()
        where = (
            f"line {line} ({kind} {','.join(r.get('database') or [])} {','.join(r.get('user_name') or [])}"
        )
        where += f" {r.get('address')})" if r.get("address") else ")"
        if r.get("error"):
            findings.append(_finding("warn", f"{where}: does not load: {r['error']}", line=line))
            continue
        network = kind.startswith("host")
        net = _network(r.get("address"), r.get("netmask"))
        loopback = net is not None and net.network_address.is_loopback and net.broadcast_address.is_loopback
        if r.get("address") in ("samehost",):
            loopback = True
        if method == "trust":
            findings.append(_finding("crit", f"{where}: trust lets anyone in without a password", line=line))
        elif method == "password":
            status = "warn" if kind in ("local", "hostssl") else "crit"
            findings.append(
                _finding(status, f"{where}: password sends the password in clear text", line=line)
            )
        elif method == "md5":
            findings.append(_finding("warn", f"{where}: md5 (use scram-sha-256)", line=line))
        elif method == "ident" and network:
            findings.append(
                _finding("crit", f"{where}: ident over TCP trusts the client's identd", line=line)
            )
        if not network or loopback:
            continue
        if kind in ("host", "hostnossl") and method in PASSWORD_METHODS:
            findings.append(_finding("warn", f"{where}: not TLS-only (use hostssl)", line=line))
        open_v4 = net is not None and net.version == 4 and net.prefixlen < 8
        open_v6 = net is not None and net.version == 6 and net.prefixlen < 16
        if exposed and method != "reject" and (r.get("address") == "all" or open_v4 or open_v6):
            findings.append(
                _finding(
                    "warn", f"{where}: open to the whole Internet (postgresql_allow_world_open?)", line=line
                )
            )
    return _graded(findings, f"{len(rules)} rule(s), none weak")


def sec_password_encryption(setting):
    value = str(setting or "").lower()
    if value == "scram-sha-256":
        return "ok", value, "", []
    return "crit", value, "new passwords are stored as MD5 hashes (a password equivalent)", []


def sec_md5_passwords(roles: list[dict]):
    """Roles whose stored secret is an MD5 hash. They cannot log in on scram-sha-256 hba lines
    and the hash itself is enough to log in on md5 lines."""
    findings = [
        _finding("warn", f"{r['rolname']} has an MD5 hash", role=r["rolname"])
        for r in roles
        if r.get("md5_password")
    ]
    status, value, note, details = _graded(findings, "no MD5 hash stored")
    no_pw = [r["rolname"] for r in roles if r.get("rolcanlogin") and r.get("no_password")]
    if no_pw:
        note += f"; login role(s) without a password (peer/cert only): {', '.join(no_pw)}"
    return status, value, note, details


def sec_superusers(roles: list[dict], allowed=DEFAULT_SUPERUSERS):
    """Superusers outside ``allowed`` and superuser-equivalents (members of
    pg_execute_server_program / pg_read_server_files / pg_write_server_files) are crit;
    CREATEROLE (can grant itself those roles before PostgreSQL 16) and BYPASSRLS are warn."""
    allowed = set(allowed or ())
    findings = []
    for r in roles:
        name = r["rolname"]
        if name in allowed:
            continue
        if r.get("rolsuper"):
            findings.append(_finding("crit", f"{name} is SUPERUSER", role=name))
            continue
        if r.get("server_file_roles"):
            roles_ = ", ".join(r["server_file_roles"])
            findings.append(
                _finding("crit", f"{name} is a member of {roles_} (superuser-equivalent)", role=name)
            )
        if r.get("rolcreaterole"):
            findings.append(_finding("warn", f"{name} has CREATEROLE", role=name))
        if r.get("rolbypassrls"):
            findings.append(_finding("warn", f"{name} has BYPASSRLS", role=name))
    return _graded(
        findings, f"superusers: {', '.join(sorted(r['rolname'] for r in roles if r.get('rolsuper'))) or '-'}"
    )


def file_facts(paths: dict[str, str]) -> dict[str, dict]:
    """{label: path} -> {label: {path, mode, owner, uid, is_dir} or {path, error}} (os.stat on
    the host the module runs on)."""
    import pwd
    import stat

    out = {}
    for label, path in paths.items():
        if not path:
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            out[label] = {"path": path, "error": exc.strerror or str(exc)}
            continue
        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = str(st.st_uid)
        out[label] = {
            "path": path,
            "mode": f"{stat.S_IMODE(st.st_mode):04o}",
            "owner": owner,
            "is_dir": stat.S_ISDIR(st.st_mode),
        }
    return out


def sec_file_modes(facts: dict[str, dict], os_user: str = "postgres"):
    """The data directory must be 0700 (or 0750 with group access) and owned by ``os_user``;
    config files owned by ``os_user`` or root, never group/other writable; pg_hba.conf and
    pg_ident.conf not world-readable. A path the module cannot stat is warn."""
    findings = []
    for label, f in facts.items():
        if "error" in f:
            findings.append(
                _finding("warn", f"{label} {f['path']}: cannot stat ({f['error']}); run on the database host")
            )
            continue
        mode = int(f["mode"], 8)
        if label == "data_directory":
            if f["owner"] != os_user:
                findings.append(_finding("crit", f"data directory owned by {f['owner']}, not {os_user}"))
            if mode not in (0o700, 0o750):
                findings.append(_finding("crit", f"data directory mode {f['mode']} (want 0700 or 0750)"))
            continue
        if f["owner"] not in (os_user, "root"):
            findings.append(_finding("crit", f"{label} {f['path']} owned by {f['owner']}"))
        if mode & 0o022:
            findings.append(
                _finding("crit", f"{label} {f['path']} mode {f['mode']}: writable by group/other")
            )
        elif label in ("hba_file", "ident_file") and mode & 0o004:
            findings.append(_finding("warn", f"{label} {f['path']} mode {f['mode']}: world-readable"))
    return _graded(findings, ", ".join(f"{k} {v.get('mode', '?')}" for k, v in facts.items()))


def sec_ssl(settings: dict):
    """ssl off is crit when the server listens beyond loopback (warn on a socket/loopback-only
    server); a protocol floor below TLSv1.2 is crit."""
    ssl = normalize_setting(settings.get("ssl", "off"), vartype="bool")
    floor = str(settings.get("ssl_min_protocol_version") or "").lower()
    value = f"ssl {ssl}, min {settings.get('ssl_min_protocol_version') or '-'}"
    if ssl != "on":
        if listens_beyond_loopback(settings.get("listen_addresses")):
            return "crit", value, "ssl is off and the server listens beyond loopback", []
        return "warn", value, "ssl is off (the server listens on loopback/socket only)", []
    if floor not in TLS_ORDER or TLS_ORDER.index(floor) < TLS_ORDER.index("tlsv1.2"):
        return "crit", value, "ssl_min_protocol_version below TLSv1.2", []
    return "ok", value, "", []


def sec_logging(settings: dict):
    """log_connections, log_disconnections on; log_line_prefix with user (%u), database (%d)
    and a time stamp (%t, %m or %n). Each gap is warn."""
    findings = []
    for name in ("log_connections", "log_disconnections"):
        if normalize_setting(settings.get(name, "off"), vartype="bool") != "on":
            findings.append(_finding("warn", f"{name} is off"))
    prefix = str(settings.get("log_line_prefix") or "")
    for want, escapes in (("user", ("%u",)), ("database", ("%d",)), ("time", ("%t", "%m", "%n"))):
        if not any(e in prefix for e in escapes):
            findings.append(
                _finding("warn", f"log_line_prefix {prefix!r} has no {want} ({'/'.join(escapes)})")
            )
    status, value, note, details = _graded(findings, "connections logged with user, database and time")
    extra = {k: settings.get(k) for k in ("log_min_duration_statement", "log_statement") if k in settings}
    return status, value, note, {"findings": details, **extra}


def _unvisited(per_db: list[dict]) -> list[dict]:
    return [
        _finding("warn", f"{d['database']}: not checked ({d['error']})", database=d["database"])
        for d in per_db
        if d.get("error")
    ]


def sec_untrusted_languages(per_db: list[dict]):
    findings = _unvisited(per_db) + [
        _finding("warn", f"{d['database']}: {', '.join(d['untrusted_languages'])}", database=d["database"])
        for d in per_db
        if d.get("untrusted_languages")
    ]
    return _graded(findings, f"{len(per_db)} database(s) checked")


def sec_public_schema(per_db: list[dict]):
    findings = _unvisited(per_db) + [
        _finding("warn", f"{d['database']}: PUBLIC has CREATE on schema public", database=d["database"])
        for d in per_db
        if d.get("public_create")
    ]
    return _graded(findings, f"{len(per_db)} database(s) checked")


def sec_preload_libraries(settings: dict, allowed=DEFAULT_PRELOAD_LIBRARIES):
    """Every library of shared/session/local_preload_libraries must be on ``allowed``: they
    run inside every backend with the server's privileges."""
    allowed = set(allowed or ())
    findings = []
    for name in ("shared_preload_libraries", "session_preload_libraries", "local_preload_libraries"):
        for lib in _csv(settings.get(name)):
            base = lib.rsplit("/", 1)[-1].removesuffix(".so").removeprefix("$libdir/")
            if base not in allowed:
                findings.append(_finding("warn", f"{name}: {lib} is not on the allow-list", library=lib))
    return _graded(findings, f"shared_preload_libraries = {settings.get('shared_preload_libraries') or '-'}")


def validate_security(options) -> dict:
    """``{superusers, os_user, preload_libraries}`` with defaults; HealthError naming the key."""
    out = {
        "superusers": list(DEFAULT_SUPERUSERS),
        "os_user": "postgres",
        "preload_libraries": list(DEFAULT_PRELOAD_LIBRARIES),
    }
    if options in (None, {}):
        return out
    if not isinstance(options, dict) or set(options) - set(out):
        raise HealthError(f"security must be a mapping with keys {', '.join(out)}, got {options!r}")
    for key in ("superusers", "preload_libraries"):
        value = options.get(key, out[key])
        if (
            isinstance(value, str)
            or not isinstance(value, (list, tuple))
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise HealthError(f"security.{key} must be a list of names, got {value!r}")
        out[key] = list(value)
    os_user = options.get("os_user", out["os_user"])
    if not isinstance(os_user, str) or not os_user:
        raise HealthError(f"security.os_user must be an OS user name, got {os_user!r}")
    out["os_user"] = os_user
    return out


def security_checks(
    conn, names, thresholds, sql: dict[str, str], pg_params: dict, options: dict | None = None
):
    """The security checks in ``names`` on an autocommit superuser connection; the
    per-database ones connect to every database that allows connections."""
    options = options or {}
    out: list[dict] = []
    wanted = [n for n in CHECKS if CHECKS[n][0] == "security" and n in names]
    if not wanted:
        return out
    missing = [n for n in SECURITY_SQL if n not in sql]
    if missing:
        raise HealthError(f"health SQL missing: {', '.join(missing)}")

    cache: dict = {}

    def once(key, fn):
        if key not in cache:
            cache[key] = fn()
        return cache[key]

    def settings():
        return once(
            "settings", lambda: {r["name"]: r["setting"] for r in _rows(conn, sql["security_settings"])}
        )

    def roles():
        return once("roles", lambda: _rows(conn, sql["security_roles"]))

    def per_db():
        def visit():
            rows = []
            for db in [r["datname"] for r in _rows(conn, sql["security_databases"])]:
                if db == conn.info.dbname:
                    rows += _rows(conn, sql["security_database"])
                    continue
                try:
                    other = connect(
                        {**pg_params, "db": db}, autocommit=True, application_name="ved-db-ops health"
                    )
                except VedfinError as exc:
                    rows.append({"database": db, "error": " ".join(str(exc).split())})
                    continue
                try:
                    rows += _rows(other, sql["security_database"])
                finally:
                    other.close()
            return rows

        return once("per_db", visit)

    def run(name, fn):
        if name not in names:
            return
        try:
            status, value, note, details = fn()
            out.append(_check(name, value, thresholds, status=status, note=note, details=details))
        except Exception as exc:  # noqa: BLE001 - one failing check must not hide the others
            reason = " ".join(str(exc).split())
            hint = " (the security checks need a superuser)" if "permission denied" in reason else ""
            out.append(_check(name, None, thresholds, status="warn", note=f"check failed: {reason}{hint}"))

    run(
        "pg_sec_hba_auth",
        lambda: sec_hba(_rows(conn, sql["security_hba"]), settings().get("listen_addresses")),
    )
    run("pg_sec_password_encryption", lambda: sec_password_encryption(settings().get("password_encryption")))
    run("pg_sec_md5_passwords", lambda: sec_md5_passwords(roles()))
    run("pg_sec_superusers", lambda: sec_superusers(roles(), options.get("superusers", DEFAULT_SUPERUSERS)))

    def file_modes():
        s = settings()
        paths = {k: s.get(k) for k in ("data_directory", "config_file", "hba_file", "ident_file")}
        return sec_file_modes(file_facts(paths), options.get("os_user") or "postgres")

    run("pg_sec_file_modes", file_modes)
    run("pg_sec_ssl", lambda: sec_ssl(settings()))
    run("pg_sec_logging", lambda: sec_logging(settings()))
    run("pg_sec_untrusted_languages", lambda: sec_untrusted_languages(per_db()))
    run("pg_sec_public_schema", lambda: sec_public_schema(per_db()))
    run(
        "pg_sec_preload_libraries",
        lambda: sec_preload_libraries(
            settings(), options.get("preload_libraries", DEFAULT_PRELOAD_LIBRARIES)
        ),
    )
    return out


# -- Redis ---------------------------------------------------------------------------------
def redis_connect(params: dict):
    """A redis-py client from ``host``/``port``/``unix_socket``/``username``/``password``;
    pinged, so that a wrong password or an unreachable server fails here, clearly."""
    try:
        import redis
    except ImportError:
        raise HealthError("the Python library redis (redis-py) is required for the Redis checks") from None
    kwargs = {"socket_timeout": params.get("timeout", 5), "socket_connect_timeout": params.get("timeout", 5)}
    if params.get("unix_socket"):
        kwargs["unix_socket_path"] = params["unix_socket"]
        where = params["unix_socket"]
    else:
        kwargs.update(host=params.get("host") or "127.0.0.1", port=int(params.get("port") or 6379))
        where = f"{kwargs['host']}:{kwargs['port']}"
    if params.get("username"):
        kwargs["username"] = params["username"]
    if params.get("password"):
        kwargs["password"] = params["password"]
    client = redis.Redis(decode_responses=True, **kwargs)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = " ".join(str(exc).split())
        if params.get("password"):
            reason = reason.replace(params["password"], "********")
        user = params.get("username") or "default"
        raise VedfinError(f"cannot connect to Redis at {where} as {user}: {reason}") from None
    return client


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def redis_checks(client, names, thresholds) -> list[dict]:
    info = client.info("all")
    out = []
    if "redis_memory" in names:
        used, limit = info.get("used_memory", 0), info.get("maxmemory", 0)
        details = {"used_memory": used, "maxmemory": limit, "policy": info.get("maxmemory_policy")}
        if not limit:
            out.append(
                _check(
                    "redis_memory",
                    None,
                    thresholds,
                    status="warn",
                    details=details,
                    note="maxmemory is 0 (unbounded): the cache can take the host's memory",
                )
            )
        else:
            out.append(_check("redis_memory", round(used / limit, 4), thresholds, details=details))
    if "redis_hit_rate" in names:
        hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
        rate = _ratio(hits, misses)
        details = {"hits": hits, "misses": misses}
        if hits + misses < MIN_REDIS_LOOKUPS:
            out.append(
                _check(
                    "redis_hit_rate",
                    rate,
                    thresholds,
                    status="ok",
                    details=details,
                    note=f"only {hits + misses} lookups so far; not graded",
                )
            )
        else:
            out.append(_check("redis_hit_rate", rate, thresholds, details=details))
    if "redis_evicted_keys" in names:
        out.append(
            _check(
                "redis_evicted_keys",
                info.get("evicted_keys", 0),
                thresholds,
                note="since the server started or CONFIG RESETSTAT",
            )
        )
    if "redis_clients" in names:
        clients, maxclients = info.get("connected_clients", 0), info.get("maxclients", 10000)
        out.append(
            _check(
                "redis_clients",
                round(clients / maxclients, 4),
                thresholds,
                details={"connected_clients": clients, "maxclients": maxclients},
            )
        )
    if "redis_persistence" in names:
        rdb = info.get("rdb_last_bgsave_status", "ok")
        aof_on = bool(info.get("aof_enabled"))
        aof = (
            [info.get("aof_last_write_status", "ok"), info.get("aof_last_bgrewrite_status", "ok")]
            if aof_on
            else []
        )
        failing = rdb != "ok" or any(s != "ok" for s in aof)
        value = f"rdb {rdb}" + (f", aof {'/'.join(aof)}" if aof_on else ", aof off")
        out.append(
            _check(
                "redis_persistence",
                value,
                thresholds,
                status="crit" if failing else "ok",
                details={
                    "rdb_changes_since_last_save": info.get("rdb_changes_since_last_save"),
                    "rdb_last_save_time": info.get("rdb_last_save_time"),
                },
            )
        )
    if "redis_slowlog" in names:
        entries = client.slowlog_get(TOP)
        rows = [
            {
                "id": e.get("id"),
                "duration_ms": round(e.get("duration", 0) / 1000, 3),
                "command": _text(e.get("command", ""))[:120],
            }
            for e in entries
        ]
        top = max((r["duration_ms"] for r in rows), default=0.0)
        out.append(
            _check(
                "redis_slowlog",
                top,
                thresholds,
                details=rows,
                note=f"{len(rows)} recent entry(ies) of SLOWLOG GET {TOP}",
            )
        )
    return out


# -- orchestration ---------------------------------------------------------------------------
def _unreachable(section: str, exc: Exception) -> dict:
    anchor = "service-unreachable"
    return {
        "name": f"{section}_connection",
        "section": section,
        "title": f"{section} reachable",
        "value": False,
        "unit": "",
        "threshold": None,
        "status": "crit",
        "remedy": f"Check the service, address and credentials: {RUNBOOK}#{anchor}",
        "note": " ".join(str(exc).split()),
        "details": [],
    }


def run_health(
    pg_params: dict | None = None,
    redis_params: dict | None = None,
    *,
    include=None,
    exclude=None,
    thresholds=None,
    recommended: dict | None = None,
    sql_dir=None,
    sql_texts: dict | None = None,
    backup: dict | None = None,
    host: str = "",
    security: dict | None = None,
) -> dict:
    """Run the selected checks and return the result (schema in docs/DATABASE_TROUBLESHOOTING.md).

    ``pg_params``: vedfin_pg module params (None: the postgresql checks are skipped);
    ``redis_params``: see ``redis_connect`` (None: the redis checks are skipped);
    ``backup``: ``{status_dir, stanza, pgbackrest_cmd, timers}`` overrides;
    ``security``: ``{superusers, os_user, preload_libraries}`` of the security checks.
    Bad input raises HealthError before anything is contacted.
    """
    limits = validate_thresholds(thresholds)
    names = select_checks(include, exclude)
    security = validate_security(security)
    if recommended is not None and not isinstance(recommended, dict):
        raise HealthError(f"recommended_settings must be a mapping of setting -> value, got {recommended!r}")
    sections = {CHECKS[n][0] for n in names}
    for section, server, params in (
        ("postgresql", "postgresql", pg_params),
        ("security", "postgresql", pg_params),
        ("redis", "redis", redis_params),
    ):
        if include and section in sections and params is None:
            raise HealthError(f"include asks for {section} checks but no {server} connection is given")
    if pg_params is None:
        sections -= {"postgresql", "security"}
    if redis_params is None:
        sections.discard("redis")
    # host_disk looks at the filesystem of PostgreSQL's data directory when it can.
    use_pg = bool({"postgresql", "security"} & sections) or ("host_disk" in names and pg_params is not None)
    sql = load_sql(sql_dir, sql_texts) if use_pg else {}
    started = time.monotonic()
    checks: list[dict] = []
    overview: dict = {}
    if use_pg:
        try:
            conn = connect(pg_params, autocommit=True, application_name="ved-db-ops health")
        except VedfinError as exc:
            checks.append(_unreachable("postgresql", exc))
        else:
            try:
                pg, overview = pg_checks(conn, names, limits, sql, recommended)
                checks += pg
                if "security" in sections:
                    checks += security_checks(conn, names, limits, sql, pg_params, security)
            finally:
                conn.close()
    if "redis" in sections:
        try:
            client = redis_connect(redis_params)
        except VedfinError as exc:
            checks.append(_unreachable("redis", exc))
        else:
            try:
                checks += redis_checks(client, names, limits)
            finally:
                client.close()
    if "backup" in sections:
        b = {
            "status_dir": "/var/lib/pgbackrest/status",
            "stanza": "main",
            "pgbackrest_cmd": "pgbackrest",
            "timers": list(PGBACKREST_TIMERS),
            **(backup or {}),
        }
        checks += backup_checks(names, limits, **b)
    if "host" in sections:
        checks += host_checks(names, limits, overview.get("data_directory"))
    return {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "summary": summarize(checks),
        "checks": _jsonable(checks),
    }
