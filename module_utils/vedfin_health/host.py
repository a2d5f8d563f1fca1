"""Section ``host``: the machine the module runs on, one function per check (disk of
PostgreSQL's data directory, memory, the memory budget)."""

from __future__ import annotations

import os
from typing import NamedTuple

from ansible.module_utils.vedfin_health.registry import HealthError, Outcome, section
from ansible.module_utils.vedfin_health.status import evaluate

check = section("host")


class HostContext(NamedTuple):
    # PostgreSQL's data directory when the PostgreSQL checks ran, else None (then "/").
    data_directory: str | None
    # The postgresql role's memory budget (validate_memory_budget), None when not given.
    memory_budget: dict | None = None


MIB = 1024 * 1024
# pg_tune's smallest input (filter_plugins/pg_tune.py MIN_MEMORY_MB), for the note.
PG_TUNE_MIN_MEMORY_MB = 256


def meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    """/proc/meminfo in bytes (``kB`` fields times 1024)."""
    out = {}
    with open(path, encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0]) * (1024 if len(fields) > 1 and fields[1] == "kB" else 1)
    return out


@check(
    "host_disk",
    "Disk use of the data directory's filesystem",
    unit="ratio",
    anchor="disk-full-or-wal-growth",
    remedy="Free space; look for WAL growth first",
    above=(0.8, 0.9),
)
def host_disk(ctx: HostContext) -> Outcome:
    path = ctx.data_directory or "/"
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    free = st.f_bavail * st.f_frsize
    used = (total - free) / total if total else 0.0
    return Outcome(
        value=round(used, 4),
        note=f"filesystem of {path}",
        details={"path": path, "total_bytes": total, "available_bytes": free},
    )


@check(
    "host_memory",
    "Host memory in use",
    unit="ratio",
    anchor="host-memory",
    remedy="Find the process; check the memory budget",
    above=(0.9, 0.97),
)
def host_memory(ctx: HostContext) -> Outcome:
    mem = meminfo()
    total, avail = mem.get("MemTotal", 0), mem.get("MemAvailable", 0)
    return Outcome(
        value=round(1 - avail / total, 4) if total else None,
        details={
            "total_bytes": total,
            "available_bytes": avail,
            "swap_used_bytes": mem.get("SwapTotal", 0) - mem.get("SwapFree", 0),
        },
    )


def _whole_mb(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_memory_budget(budget) -> dict | None:
    """The postgresql role's memory budget (``__postgresql_memory_budget``, from the
    ``pg_memory_budget`` filter) checked for what ``host_memory_budget`` reads: ``ram_mb`` (> 0),
    ``reservations`` (name -> MB) and ``postgresql_mb``, ints of MB. Other keys are kept.
    None or {} means "not given". Raises HealthError naming the bad key."""
    if budget in (None, {}):
        return None
    if not isinstance(budget, dict):
        raise HealthError(f"memory_budget must be a mapping (the postgresql role's budget), got {budget!r}")
    missing = [key for key in ("ram_mb", "reservations", "postgresql_mb") if key not in budget]
    if missing:
        raise HealthError(f"memory_budget is missing {', '.join(missing)}")
    reservations = budget["reservations"]
    bad = [key for key in ("ram_mb", "postgresql_mb") if not _whole_mb(budget[key])]
    if not isinstance(reservations, dict):
        bad.append("reservations")
    else:
        bad += [f"reservations.{name}" for name, mb in reservations.items() if not _whole_mb(mb)]
    if bad or budget["ram_mb"] == 0:
        raise HealthError(
            f"memory_budget: {', '.join(bad) or 'ram_mb'} must be integers of MB (ram_mb > 0), got {budget!r}"
        )
    return budget


@check(
    "host_memory_budget",
    "Memory reserved beyond RAM (other services + PostgreSQL's plan)",
    unit="bytes",
    anchor="memory-budget",
    remedy="Lower a reservation or postgresql_tune_memory_mb, or move a service",
    above=(1, None),
)
def host_memory_budget(ctx: HostContext) -> Outcome:
    budget = ctx.memory_budget
    if budget is None:
        return Outcome(note="no memory budget given (not a PostgreSQL host)")
    ram, pg = budget["ram_mb"], budget["postgresql_mb"]
    reserved = sum(budget["reservations"].values())
    share = ram - reserved
    over = reserved + pg - ram
    parts = " + ".join(f"{name} {mb}" for name, mb in budget["reservations"].items())
    if over <= 0:
        note = f"{parts} + PostgreSQL {pg} = {reserved + pg} of {ram} MB RAM"
    elif share < PG_TUNE_MIN_MEMORY_MB and budget.get("source") != "postgresql_tune_memory_mb":
        note = (
            f"the reservations ({parts} = {reserved} MB) leave PostgreSQL {share} of {ram} MB RAM, "
            f"below pg_tune's minimum {PG_TUNE_MIN_MEMORY_MB} MB; it was tuned for {pg} MB"
        )
    else:
        note = (
            f"PostgreSQL is tuned for {pg} MB (postgresql_tune_memory_mb) but the reservations "
            f"({parts} = {reserved} MB) leave {share} of {ram} MB RAM"
        )
    details = {key: budget[key] for key in budget if key not in ("fits", "over_mb", "committed_mb")}
    return Outcome(value=max(0, over) * MIB, note=note, details=details | {"over_mb": max(0, over)})


def host_checks(
    names, thresholds, data_directory: str | None, memory_budget: dict | None = None
) -> list[dict]:
    """The host checks in ``names``; ``host_disk`` looks at ``data_directory``'s filesystem,
    ``host_memory_budget`` at ``memory_budget`` (validated by ``validate_memory_budget``)."""
    return evaluate("host", HostContext(data_directory, memory_budget), names, thresholds)
