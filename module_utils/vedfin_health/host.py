"""Section ``host``: the machine the module runs on, one function per check (disk of
PostgreSQL's data directory, memory)."""

from __future__ import annotations

import os
from typing import NamedTuple

from ansible.module_utils.vedfin_health.registry import Outcome, section
from ansible.module_utils.vedfin_health.status import evaluate

check = section("host")


class HostContext(NamedTuple):
    # PostgreSQL's data directory when the PostgreSQL checks ran, else None (then "/").
    data_directory: str | None


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


def host_checks(names, thresholds, data_directory: str | None) -> list[dict]:
    """The host checks in ``names``; ``host_disk`` looks at ``data_directory``'s filesystem."""
    return evaluate("host", HostContext(data_directory), names, thresholds)
