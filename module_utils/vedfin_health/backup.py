"""Section ``backup``: pgBackRest backups, one function per check.

Reads the status files that ved-pgbackrest writes (``last-success.json``,
``last-failure.json``; an unreadable one is a HealthError), ``pgbackrest info`` for the backup
ages, and ``systemctl is-active`` for the timers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

from ansible.module_utils.vedfin_health.registry import HealthError, Outcome, section
from ansible.module_utils.vedfin_health.status import evaluate

check = section("backup")

PGBACKREST_TIMERS = ("ved-pgbackrest-full.timer", "ved-pgbackrest-diff.timer")
# What run_health uses for the keys of its ``backup`` argument that are not given.
DEFAULTS = {
    "status_dir": "/var/lib/pgbackrest/status",
    "stanza": "main",
    "pgbackrest_cmd": "pgbackrest",
    "timers": PGBACKREST_TIMERS,
}


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
    """(``pgbackrest info`` JSON or None, why not)."""
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
    """``systemctl is-active`` of each timer: one state per line, in the order asked."""
    exe = shutil.which("systemctl")
    if exe is None:
        return {t: "unknown (no systemctl)" for t in timers}
    res = subprocess.run([exe, "is-active", *timers], capture_output=True, text=True, timeout=30, check=False)
    states = res.stdout.split()
    return {t: (states[i] if i < len(states) else "unknown") for i, t in enumerate(timers)}


class BackupContext:
    """The status files (read at once), and the backup ages as of the start (``pgbackrest
    info`` runs on first use, once)."""

    def __init__(self, *, status_dir, stanza, pgbackrest_cmd, timers):
        self.now = time.time()
        status_dir = Path(status_dir)
        self.stanza, self.pgbackrest_cmd, self.timers = stanza, pgbackrest_cmd, timers
        self.success = _read_json(status_dir / "last-success.json")
        self.failure = _read_json(status_dir / "last-failure.json")
        self._ages: tuple[dict, str] | None = None

    def ages(self) -> tuple[dict, str]:
        """(backup_ages now, a note on why ``pgbackrest info`` gave nothing, or "")."""
        if self._ages is None:
            info, note = _pgbackrest_info(self.pgbackrest_cmd, self.stanza)
            self._ages = backup_ages(info, self.success, self.now), note
        return self._ages


def _age(ctx: BackupContext, key: str) -> Outcome:
    ages, info_note = ctx.ages()
    if ages[key] is None:
        return Outcome("crit", None, "no backup found" + (f" ({info_note})" if info_note else ""))
    return Outcome(value=ages[key], note=info_note)


@check(
    "backup_full_age",
    "Age of the last full backup",
    unit="h",
    anchor="failed-backup-timer",
    remedy="Check the timer and run playbooks/backup.yml -e backup_type=full",
    above=(8 * 24, 15 * 24),
)
def backup_full_age(ctx: BackupContext) -> Outcome:
    return _age(ctx, "full")


@check(
    "backup_diff_age",
    "Age of the last backup (any type)",
    unit="h",
    anchor="failed-backup-timer",
    remedy="Check the timer and run playbooks/backup.yml",
    above=(30, 54),
)
def backup_diff_age(ctx: BackupContext) -> Outcome:
    return _age(ctx, "any")


@check(
    "backup_last_failure",
    "Last backup run failed",
    anchor="failed-backup-timer",
    remedy="Read last-failure.json and the unit's journal",
)
def backup_last_failure(ctx: BackupContext) -> Outcome:
    success, failure = ctx.success, ctx.failure
    failed_at = _parse_time((failure or {}).get("failed_at"))
    ok_at = _parse_time((success or {}).get("finished_at"))
    failed = failed_at is not None and (ok_at is None or failed_at > ok_at)
    note = (
        f"{failure.get('unit')} failed at {failure.get('failed_at')} (result {failure.get('result')})"
        if failed
        else ("no failure recorded" if failure is None else "a success followed the last failure")
    )
    details = {"last_success": success, "last_failure": failure}
    return Outcome("crit" if failed else "ok", failed, note, details)


@check(
    "backup_timers",
    "pgBackRest timers not active",
    unit="count",
    anchor="failed-backup-timer",
    remedy="systemctl enable --now the ved-pgbackrest timers",
    above=(None, 1),
)
def backup_timers(ctx: BackupContext) -> Outcome:
    states = _timer_states(ctx.timers)
    return Outcome(value=sum(1 for s in states.values() if s != "active"), details=states)


def backup_checks(names, thresholds, *, status_dir, stanza, pgbackrest_cmd, timers) -> list[dict]:
    """The backup checks in ``names``. An unreadable status file raises HealthError."""
    ctx = BackupContext(status_dir=status_dir, stanza=stanza, pgbackrest_cmd=pgbackrest_cmd, timers=timers)
    return evaluate("backup", ctx, names, thresholds)
