"""PostgreSQL tuning filters: ``pg_tune`` (pgtune's formulas), ``pg_size_to_mb``, and the host's
memory budget (``pg_host_memory``, ``pg_memory_reservations``, ``pg_memory_budget``): the RAM
pg_tune plans for is what the other services on the host leave.

The formulas follow le0pard's pgtune (https://pgtune.leopard.in.ua), file
``src/features/configuration/configurationSlice.js`` of github.com/le0pard/pgtune, and its
output formatting (``src/common/components/configurationView/index.jsx``). docs/TUNING.md
lists every formula with its source and the few places where we deliberately differ.

Everything here is a pure function of its arguments: no I/O, no Ansible state. Tests import
this file directly (``import pg_tune``) and call ``compute()`` / ``size_to_mb()`` /
``host_memory()`` / ``reservations()`` / ``budget()``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ansible.errors import AnsibleFilterError

# Allowed input values. pgtune's own choices, in its order of presentation.
WORKLOADS = ("web", "oltp", "dw", "mixed", "desktop")
STORAGES = ("ssd", "hdd", "san", "nvme")
OS_TYPES = ("linux", "windows", "mac")
DB_SIZES = ("less_ram", "mid_ram", "greater_ram")

PG_VERSION_MIN, PG_VERSION_MAX = 10, 18
MIN_MEMORY_MB = 256
MAX_CONNECTIONS_MIN, MAX_CONNECTIONS_MAX = 5, 10000

REQUIRED_KEYS = ("total_memory_mb", "cpus", "max_connections", "storage", "workload", "pg_version")
OPTIONAL_KEYS = {"os_type": "linux", "db_size": "mid_ram"}

KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024

# PostgreSQL's default max_worker_processes; pgtune uses it for work_mem when it does not
# compute the parallel settings (fewer than 4 CPUs).
PG_DEFAULT_MAX_WORKER_PROCESSES = 8

# min_wal_size / max_wal_size per workload, in MB (pgtune selectCheckpointSegments).
_MIN_WAL_MB = {"web": 1024, "oltp": 2048, "dw": 4096, "desktop": 100, "mixed": 1024}
_MAX_WAL_MB = {"web": 4096, "oltp": 8192, "dw": 16384, "desktop": 2048, "mixed": 4096}

# effective_io_concurrency per storage (pgtune selectEffectiveIoConcurrency, Linux only).
_IO_CONCURRENCY = {"hdd": 2, "ssd": 200, "san": 300, "nvme": 1000}


def _fail(msg: str) -> AnsibleFilterError:
    return AnsibleFilterError(f"pg_tune: {msg}")


def _check_int(profile: dict, key: str, low: int | None = None, high: int | None = None) -> int:
    value = profile[key]
    # bool is a subclass of int: `cpus: true` must not silently become 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(
            f"{key} must be an integer (got {type(value).__name__} {value!r}); "
            "cast inventory strings with | int"
        )
    if low is not None and high is not None and not low <= value <= high:
        raise _fail(f"{key} {value} is out of range: allowed {low}..{high}")
    if low is not None and value < low:
        raise _fail(f"{key} {value} is too small: must be >= {low}")
    return value


def _check_choice(profile: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = profile[key]
    if not isinstance(value, str) or value not in allowed:
        raise _fail(f"{key} {value!r} is not one of: {', '.join(allowed)}")
    return value


def validate(profile: Any) -> dict:
    """Check a tuning profile and return it with defaults filled in.

    Raises AnsibleFilterError naming the field and the allowed values.
    """
    if not isinstance(profile, dict):
        raise _fail(f"input must be a dict of {', '.join(REQUIRED_KEYS)} (got {type(profile).__name__})")
    missing = [key for key in REQUIRED_KEYS if key not in profile]
    if missing:
        raise _fail(f"missing required key(s): {', '.join(missing)}")
    unknown = sorted(str(key) for key in profile if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS)
    if unknown:
        allowed = ", ".join((*REQUIRED_KEYS, *OPTIONAL_KEYS))
        raise _fail(f"unknown key(s): {', '.join(unknown)}; allowed keys: {allowed}")

    full = {**OPTIONAL_KEYS, **profile}
    return {
        "total_memory_mb": _check_int(full, "total_memory_mb", MIN_MEMORY_MB),
        "cpus": _check_int(full, "cpus", 1),
        "max_connections": _check_int(full, "max_connections", MAX_CONNECTIONS_MIN, MAX_CONNECTIONS_MAX),
        "storage": _check_choice(full, "storage", STORAGES),
        "workload": _check_choice(full, "workload", WORKLOADS),
        "pg_version": _check_int(full, "pg_version", PG_VERSION_MIN, PG_VERSION_MAX),
        "os_type": _check_choice(full, "os_type", OS_TYPES),
        "db_size": _check_choice(full, "db_size", DB_SIZES),
    }


def format_kb(value_kb: int) -> str:
    """Format kB the way pgtune prints it: the largest of GB/MB/kB that divides evenly."""
    if value_kb % KB_PER_GB == 0:
        return f"{value_kb // KB_PER_GB}GB"
    if value_kb % KB_PER_MB == 0:
        return f"{value_kb // KB_PER_MB}MB"
    return f"{value_kb}kB"


# --- the formulas, one per pgtune selector; memory values are in kB like pgtune's ---------


def shared_buffers_kb(total_kb: int, workload: str, os_type: str, pg_version: int) -> int:
    value = total_kb // 16 if workload == "desktop" else total_kb // 4
    if pg_version < 10 and os_type == "windows":  # unreachable for 10..18, kept for fidelity
        value = min(value, 512 * KB_PER_MB)
    return value


def effective_cache_size_kb(total_kb: int, workload: str) -> int:
    return total_kb // 4 if workload == "desktop" else total_kb * 3 // 4


def maintenance_work_mem_kb(total_kb: int, workload: str, os_type: str, pg_version: int) -> int:
    value = total_kb // 8 if workload == "dw" else total_kb // 16
    windows_cap = os_type == "windows" and pg_version <= 17
    limit = 2 * KB_PER_GB if windows_cap else 8 * KB_PER_GB
    if value >= limit:
        # 2GB itself is rejected by PostgreSQL <= 17 on Windows, hence 2GB - 1MB there.
        value = limit - KB_PER_MB if windows_cap else limit
    return value


def wal_buffers_kb(shared_buffers: int) -> int:
    # 3% of shared_buffers, at most 16MB; round 14..16MB up to 16MB; at least 32kB.
    value = min(3 * shared_buffers // 100, 16 * KB_PER_MB)
    if 14 * KB_PER_MB < value < 16 * KB_PER_MB:
        value = 16 * KB_PER_MB
    return max(value, 32)


def random_page_cost(storage: str, workload: str, db_size: str) -> str:
    if db_size == "less_ram":
        return "1.1"
    if storage == "hdd" or workload == "dw":
        return "4"
    return "1.1"


def parallel_settings(cpus: int, workload: str, pg_version: int) -> dict[str, int]:
    """max_worker_processes and the parallel settings; empty below 4 CPUs (pgtune)."""
    if cpus < 4:
        return {}
    per_gather = math.ceil(cpus / 2)
    if workload != "dw":
        per_gather = min(per_gather, 4)
    settings = {"max_worker_processes": cpus, "max_parallel_workers_per_gather": per_gather}
    if pg_version >= 10:
        settings["max_parallel_workers"] = cpus
    if pg_version >= 11:
        settings["max_parallel_maintenance_workers"] = min(math.ceil(cpus / 2), 4)
    return settings


def work_mem_kb(
    total_kb: int,
    shared_buffers: int,
    max_connections: int,
    worker_processes: int,
    workload: str,
    os_type: str,
    pg_version: int,
    db_size: str,
) -> int:
    # (RAM - shared_buffers) / ((max_connections + max_worker_processes) * 3), then per workload.
    base = (total_kb - shared_buffers) / ((max_connections + worker_processes) * 3)
    divisor = {"web": 1, "oltp": 1, "dw": 2, "mixed": 2, "desktop": 6}[workload]
    value = math.floor(base / divisor)
    if db_size == "less_ram":
        value = math.floor(value * 1.3)
    elif db_size == "greater_ram":
        value = math.floor(value * 0.9)
    value = max(value, 4 * KB_PER_MB)
    if os_type == "windows" and pg_version <= 17:
        value = min(value, 2 * KB_PER_GB - KB_PER_MB)
    return value


def huge_pages(shared_buffers: int, os_type: str) -> str:
    if os_type == "mac":
        return "off"
    return "try" if shared_buffers >= 2 * KB_PER_GB else "off"


def jit(workload: str, pg_version: int) -> str | None:
    if pg_version >= 12 and workload in ("web", "oltp", "mixed"):
        return "off"
    return None


def wal_compression(pg_version: int) -> str | None:
    if pg_version >= 15:
        return "lz4"
    if pg_version >= 10:
        return "on"
    return None


def autovacuum_max_workers(cpus: int) -> int | None:
    if cpus >= 32:
        return 5
    if cpus >= 16:
        return 4
    return None


def autovacuum_work_mem_kb(maintenance_work_mem: int, os_type: str, pg_version: int) -> int | None:
    threshold = 2 * KB_PER_GB
    if maintenance_work_mem < threshold:
        return None
    if os_type == "windows" and pg_version <= 17:
        return threshold - KB_PER_MB
    return threshold


def io_method(pg_version: int, os_type: str) -> str | None:
    if pg_version < 18:
        return None
    return "io_uring" if os_type == "linux" else "worker"


def io_workers(pg_version: int, cpus: int, method: str | None) -> int | None:
    if pg_version < 18 or method == "io_uring":
        return None
    value = min(32, max(3, cpus // 4))
    return value if value > 3 else None


def compute(profile: Any) -> dict[str, str]:
    """Return {setting: value string} for a tuning profile, as pgtune would print it.

    Keys appear in pgtune's output order. Settings pgtune leaves at PostgreSQL's default
    for this profile are omitted, except max_worker_processes, which is always present
    (PostgreSQL's default 8 below 4 CPUs, the value pgtune's work_mem formula assumes).
    """
    p = validate(profile)
    total_kb = p["total_memory_mb"] * KB_PER_MB
    workload, storage, os_type, version = p["workload"], p["storage"], p["os_type"], p["pg_version"]
    cpus = p["cpus"]

    sb = shared_buffers_kb(total_kb, workload, os_type, version)
    mwm = maintenance_work_mem_kb(total_kb, workload, os_type, version)
    parallel = parallel_settings(cpus, workload, version)
    workers = parallel.get("max_worker_processes", PG_DEFAULT_MAX_WORKER_PROCESSES)
    method = io_method(version, os_type)
    av_mem = autovacuum_work_mem_kb(mwm, os_type, version)
    conns, db_size = p["max_connections"], p["db_size"]
    work_mem = work_mem_kb(total_kb, sb, conns, workers, workload, os_type, version, db_size)

    ordered: list[tuple[str, object]] = [
        ("max_connections", conns),
        ("shared_buffers", format_kb(sb)),
        ("effective_cache_size", format_kb(effective_cache_size_kb(total_kb, workload))),
        ("maintenance_work_mem", format_kb(mwm)),
        ("checkpoint_completion_target", "0.9"),
        ("wal_buffers", format_kb(wal_buffers_kb(sb))),
        ("default_statistics_target", 500 if workload == "dw" else 100),
        ("random_page_cost", random_page_cost(storage, workload, db_size)),
        ("effective_io_concurrency", _IO_CONCURRENCY[storage] if os_type == "linux" else None),
        ("work_mem", format_kb(work_mem)),
        ("huge_pages", huge_pages(sb, os_type)),
        ("jit", jit(workload, version)),
        ("wal_compression", wal_compression(version)),
        ("autovacuum_max_workers", autovacuum_max_workers(cpus)),
        ("autovacuum_work_mem", format_kb(av_mem) if av_mem is not None else None),
        ("io_method", method),
        ("io_workers", io_workers(version, cpus, method)),
        ("min_wal_size", format_kb(_MIN_WAL_MB[workload] * KB_PER_MB)),
        ("max_wal_size", format_kb(_MAX_WAL_MB[workload] * KB_PER_MB)),
        ("max_worker_processes", workers),
        *parallel.items(),
    ]
    if workload == "desktop":
        # pgtune: desktop gets wal_level minimal, which requires max_wal_senders 0.
        ordered += [("wal_level", "minimal"), ("max_wal_senders", 0)]
    return {key: str(value) for key, value in ordered if value is not None}


# --- size parsing -----------------------------------------------------------------------

# PostgreSQL memory units; names are case-sensitive in postgresql.conf.
_UNIT_BYTES = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)\s*$")


def size_to_mb(value: Any) -> int:
    """Parse a PostgreSQL memory size ('1GB', '256MB', '64kB', '1.5GB') to whole MB.

    An int is taken as MB already. A string must carry a unit: a bare number in
    postgresql.conf is in the setting's own base unit (8kB pages for shared_buffers, kB
    for work_mem), which this filter cannot know. Partial MB round up, so a non-zero size
    never reads as 0 MB and a check against RAM never underestimates.
    """
    if isinstance(value, bool):
        raise AnsibleFilterError(f"pg_size_to_mb: expected a size like '1GB' or an int of MB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise AnsibleFilterError(f"pg_size_to_mb: size must not be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise AnsibleFilterError(
            f"pg_size_to_mb: expected a size string or an int of MB, got {type(value).__name__} {value!r}"
        )
    match = _SIZE_RE.match(value)
    if not match:
        raise AnsibleFilterError(
            f"pg_size_to_mb: {value!r} is not a size with a unit; use a number followed by one of: "
            f"{', '.join(_UNIT_BYTES)} (e.g. '256MB'), or an int of MB"
        )
    number, unit = match.groups()
    # Exact arithmetic: scale the decimal to an integer count of bytes before dividing.
    whole, _, frac = number.partition(".")
    numerator = int(whole + frac) * _UNIT_BYTES[unit]
    denominator = 10 ** len(frac) * _UNIT_BYTES["MB"]
    return -(-numerator // denominator)


# --- memory budget: PostgreSQL's share of a host it shares ------------------------------
#
# pg_tune plans for "the RAM PostgreSQL may use". On a VPS that also runs Redis, NocoDB and
# monitoring, that is the host's RAM minus what the other services may take: each service
# reserves its systemd MemoryMax (the most its role lets it take before systemd stops it), the
# OS a fixed amount. docs/TUNING.md#memory-budget has the model and a table it generates.

MIB = 1024 * 1024
# Services the budget knows how to reserve for, in report order; extra reservations follow.
SERVICES = ("redis", "nocodb", "monitoring")
# The variables behind each reservation, named in the refusal so the fix is obvious.
RESERVATION_VARIABLES = {
    "os": "postgresql_memory_reserved_os_mb",
    "redis": "redis_maxmemory_mb / redis_maxmemory_ram_percent / redis_systemd_memory_max_mb",
    "nocodb": "nocodb_memory_max_mb",
    "monitoring": "monitoring_prometheus_memory_max / monitoring_exporter_memory_max / "
    "monitoring_alertmanager_memory_max",
}
# The redis role's MemoryMax when redis_systemd_memory_max_mb is 0: 2 x maxmemory + this.
REDIS_MEMORY_MAX_EXTRA_MB = 64
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# systemd sizes (MemoryMax=): bytes or a K/M/G/T suffix, base 1024.
_SYSTEMD_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]?)\s*$")
_SYSTEMD_UNIT = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _budget_fail(msg: str) -> AnsibleFilterError:
    return AnsibleFilterError(f"pg_memory_budget: {msg}")


def _mb(value: Any, name: str, low: int = 0) -> int:
    """An int of MB >= ``low``; bools and strings are refused (cast inventory strings with | int)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _budget_fail(
            f"{name} must be an integer of MB (got {type(value).__name__} {value!r}); "
            "cast inventory strings with | int"
        )
    if value < low:
        raise _budget_fail(f"{name}={value} must be >= {low}")
    return value


def systemd_size_mb(value: Any, name: str) -> int:
    """A systemd size (256M, 1G, plain bytes) in whole MB, partial MB rounded up."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _SYSTEMD_SIZE_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise _budget_fail(
            f"{name}={value!r} is not a size such as 256M or 1G (infinity and percentages cannot be budgeted)"
        )
    return -(-int(match[1]) * _SYSTEMD_UNIT[match[2]] // MIB)


def cgroup_limit_mb(text: Any) -> int | None:
    """A cgroup memory limit file's content (v2 memory.max, v1 memory.limit_in_bytes) in whole MB,
    rounded down (it is a hard limit); None for no limit ('max') or no file (None, '')."""
    if text is None:
        return None
    value = str(text).strip()
    if value in ("", "max"):
        return None
    if not value.isdigit():
        raise _budget_fail(f"cgroup memory limit {text!r} is neither 'max' nor a number of bytes")
    return int(value) // MIB


def host_memory(memtotal_mb: Any, cgroup_limits: Any = ()) -> dict:
    """The RAM to plan for: MemTotal, or a cgroup memory limit when it is lower (containers and
    some VPS kinds show the machine's MemTotal but enforce a smaller limit). cgroup v1 writes a
    huge number for "no limit", which is never lower than MemTotal."""
    memtotal = _mb(memtotal_mb, "memtotal_mb", 1)
    if isinstance(cgroup_limits, (str, int)) or cgroup_limits is None:
        cgroup_limits = [cgroup_limits]
    limits = [mb for mb in (cgroup_limit_mb(text) for text in cgroup_limits) if mb is not None]
    limit = min(limits, default=None)
    if limit is not None and limit < memtotal:
        return {"ram_mb": limit, "memtotal_mb": memtotal, "cgroup_limit_mb": limit, "source": "cgroup"}
    return {"ram_mb": memtotal, "memtotal_mb": memtotal, "cgroup_limit_mb": None, "source": "memtotal"}


def _service(spec: dict, name: str) -> dict | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _budget_fail(f"{name} must be a mapping of its role's memory settings or null, got {value!r}")
    return value


def _need(values: dict, service: str, key: str) -> Any:
    if key not in values:
        raise _budget_fail(f"{service} is missing {key}")
    return values[key]


def reservations(spec: Any) -> dict[str, int]:
    """MB reserved on the host for everything but PostgreSQL, in report order (os, the
    services present, then the extras).

    ``spec``: ``os_mb``; ``memtotal_mb`` (the redis role takes its percentage of MemTotal);
    per service on this host its role's settings, absent or null when it is not here:
    ``redis: {maxmemory_mb, maxmemory_ram_percent, systemd_memory_max_mb}``,
    ``nocodb: {memory_max_mb}``, ``monitoring: {prometheus_memory_max, exporter_memory_max,
    exporters, alertmanager_memory_max (null when Alertmanager is off)}``; ``extra: {name: MB}``.

    A service reserves its systemd MemoryMax, computed as its role computes it.
    """
    if not isinstance(spec, dict):
        raise _budget_fail(f"reservations input must be a mapping, got {type(spec).__name__}")
    unknown = sorted(str(k) for k in spec if k not in ("os_mb", "memtotal_mb", "extra", *SERVICES))
    if unknown:
        raise _budget_fail(f"unknown key(s): {', '.join(unknown)}; services known: {', '.join(SERVICES)}")
    out = {"os": _mb(spec.get("os_mb"), "postgresql_memory_reserved_os_mb")}

    redis = _service(spec, "redis")
    if redis is not None:
        memory_max = _mb(_need(redis, "redis", "systemd_memory_max_mb"), "redis_systemd_memory_max_mb")
        if memory_max == 0:
            maxmemory = _mb(_need(redis, "redis", "maxmemory_mb"), "redis_maxmemory_mb")
            if maxmemory == 0:
                memtotal = _mb(spec.get("memtotal_mb"), "memtotal_mb", 1)
                percent = _need(redis, "redis", "maxmemory_ram_percent")
                percent = _mb(percent, "redis_maxmemory_ram_percent", 1)
                maxmemory = int(memtotal * percent / 100)  # as the redis role: (memtotal * pct / 100) | int
            memory_max = 2 * maxmemory + REDIS_MEMORY_MAX_EXTRA_MB
        out["redis"] = memory_max

    nocodb = _service(spec, "nocodb")
    if nocodb is not None:
        out["nocodb"] = _mb(_need(nocodb, "nocodb", "memory_max_mb"), "nocodb_memory_max_mb", 1)

    monitoring = _service(spec, "monitoring")
    if monitoring is not None:
        exporters = _mb(_need(monitoring, "monitoring", "exporters"), "monitoring exporters")
        total = systemd_size_mb(
            _need(monitoring, "monitoring", "prometheus_memory_max"), "monitoring_prometheus_memory_max"
        )
        total += exporters * systemd_size_mb(
            _need(monitoring, "monitoring", "exporter_memory_max"), "monitoring_exporter_memory_max"
        )
        alertmanager = monitoring.get("alertmanager_memory_max")
        if alertmanager is not None:
            total += systemd_size_mb(alertmanager, "monitoring_alertmanager_memory_max")
        out["monitoring"] = total

    extra = spec.get("extra") or {}
    if not isinstance(extra, dict):
        raise _budget_fail(
            f"postgresql_memory_reservations_extra must be a mapping of name -> MB, got {extra!r}"
        )
    for name, mb in extra.items():
        if not isinstance(name, str) or not _NAME_RE.match(name) or name in ("os", *SERVICES):
            raise _budget_fail(
                f"postgresql_memory_reservations_extra: name {name!r} must be a lower-case identifier other "
                f"than {', '.join(('os', *SERVICES))} (those have their own settings)"
            )
        out[name] = _mb(mb, f"postgresql_memory_reservations_extra.{name}")
    return out


def budget(ram_mb: Any, reserved: Any, override_mb: Any = 0, strict: bool = True) -> dict:
    """PostgreSQL's share of the host: ``ram_mb`` minus the sum of ``reserved`` ({name: MB}).

    ``postgresql_mb`` is what pg_tune plans for: ``override_mb`` when > 0 (an explicit
    postgresql_tune_memory_mb wins), else the share. A share below pg_tune's minimum raises
    with ``strict``; without it (health reports instead of failing) pg_tune gets the minimum
    and ``fits`` is false. ``over_mb``: how far the reservations plus PostgreSQL's memory
    exceed RAM (0 when they fit).
    """
    ram = _mb(ram_mb, "ram_mb", 1)
    if not isinstance(reserved, dict):
        raise _budget_fail(f"reservations must be a mapping of name -> MB, got {reserved!r}")
    for name, mb in reserved.items():
        _mb(mb, f"reservation {name}")
    override = _mb(override_mb, "postgresql_tune_memory_mb")
    reserved_mb = sum(reserved.values())
    share = ram - reserved_mb
    if override:
        postgresql_mb, source = override, "postgresql_tune_memory_mb"
    elif share >= MIN_MEMORY_MB:
        postgresql_mb, source = share, "budget"
    elif strict:
        extra = "postgresql_memory_reservations_extra."
        parts = ", ".join(
            f"{name} {mb} MB ({RESERVATION_VARIABLES.get(name, extra + name)})"
            for name, mb in reserved.items()
        )
        raise _budget_fail(
            f"PostgreSQL's share is {share} MB, below pg_tune's minimum of {MIN_MEMORY_MB} MB: RAM {ram} MB "
            f"minus {reserved_mb} MB reserved ({parts}). Lower those reservations, move a service to "
            "another host, or set postgresql_tune_memory_mb explicitly (docs/TUNING.md#memory-budget)."
        )
    else:
        postgresql_mb, source = MIN_MEMORY_MB, "minimum"
    committed = reserved_mb + postgresql_mb
    return {
        "ram_mb": ram,
        "reservations": dict(reserved),
        "reserved_mb": reserved_mb,
        "share_mb": share,
        "postgresql_mb": postgresql_mb,
        "source": source,
        "committed_mb": committed,
        "over_mb": max(0, committed - ram),
        "fits": committed <= ram,
    }


def pg_tune(profile: Any) -> dict[str, str]:
    """Ansible filter: ``{{ profile | pg_tune }}``."""
    return compute(profile)


def pg_size_to_mb(value: Any) -> int:
    """Ansible filter: ``{{ '1GB' | pg_size_to_mb }}`` -> 1024."""
    return size_to_mb(value)


def pg_host_memory(memtotal_mb: Any, cgroup_limits: Any = ()) -> dict:
    """Ansible filter: ``{{ ansible_facts.memtotal_mb | pg_host_memory(cgroup_file_texts) }}``."""
    return host_memory(memtotal_mb, cgroup_limits)


def pg_memory_reservations(spec: Any) -> dict[str, int]:
    """Ansible filter: ``{{ {'os_mb': 512, 'redis': {...}, ...} | pg_memory_reservations }}``."""
    return reservations(spec)


def pg_memory_budget(ram_mb: Any, reserved: Any, override_mb: Any = 0, strict: bool = True) -> dict:
    """Ansible filter: ``{{ ram_mb | pg_memory_budget(reservations, postgresql_tune_memory_mb) }}``."""
    return budget(ram_mb, reserved, override_mb, strict)


class FilterModule:
    """PostgreSQL tuning filters."""

    def filters(self) -> dict:
        return {
            "pg_tune": pg_tune,
            "pg_size_to_mb": pg_size_to_mb,
            "pg_host_memory": pg_host_memory,
            "pg_memory_reservations": pg_memory_reservations,
            "pg_memory_budget": pg_memory_budget,
        }
