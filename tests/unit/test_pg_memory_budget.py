"""The host's memory budget (filter_plugins/pg_tune.py: host_memory, reservations, budget), the
table of docs/TUNING.md#memory-budget it generates, and profile.yml's fallbacks for the other
roles' settings.

Print the doc's table from the code:
``PYTHONPATH=filter_plugins .venv/bin/python tests/unit/test_pg_memory_budget.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pg_tune
import pytest
import yaml
from ansible.errors import AnsibleFilterError

ROOT = Path(__file__).resolve().parents[2]
TUNING = ROOT / "docs" / "TUNING.md"
TABLE_START, TABLE_END = "<!-- memory-budget-table: start -->", "<!-- memory-budget-table: end -->"

REDIS = {"maxmemory_mb": 0, "maxmemory_ram_percent": 10, "systemd_memory_max_mb": 0}
NOCODB = {"memory_max_mb": 768}
MONITORING = {
    "prometheus_memory_max": "256M",
    "exporter_memory_max": "64M",
    "exporters": 3,
    "alertmanager_memory_max": "64M",
}


def spec(memtotal=4096, os_mb=512, **services):
    return {"os_mb": os_mb, "memtotal_mb": memtotal, **services}


# -- host memory: MemTotal or a lower cgroup limit -------------------------------------------
@pytest.mark.parametrize(
    ("limits", "ram", "source"),
    [
        ([], 3936, "memtotal"),
        (["max\n"], 3936, "memtotal"),  # cgroup v2, no limit
        (["9223372036854771712\n"], 3936, "memtotal"),  # cgroup v1, no limit
        ([str(2 * 1024**3) + "\n"], 2048, "cgroup"),  # a 2 GiB container on a 4 GB host
        ([str(2 * 1024**3 + 1)], 2048, "cgroup"),  # partial MB round down: a hard limit
        (["max", str(1024**3)], 1024, "cgroup"),  # the lower of v2 and v1
        ([str(8 * 1024**3)], 3936, "memtotal"),  # a limit above MemTotal changes nothing
        (None, 3936, "memtotal"),
        ("", 3936, "memtotal"),
    ],
)
def test_host_memory_takes_a_lower_cgroup_limit(limits, ram, source):
    out = pg_tune.host_memory(3936, limits)
    assert (out["ram_mb"], out["source"], out["memtotal_mb"]) == (ram, source, 3936)
    assert out["cgroup_limit_mb"] == (ram if source == "cgroup" else None)


@pytest.mark.parametrize(
    ("memtotal", "limits", "words"),
    [
        ("3936", [], "memtotal_mb must be an integer of MB (got str '3936')"),
        (0, [], "memtotal_mb=0 must be >= 1"),
        (3936, ["lots"], "cgroup memory limit 'lots' is neither 'max' nor a number of bytes"),
    ],
)
def test_host_memory_rejects_bad_input(memtotal, limits, words):
    with pytest.raises(AnsibleFilterError, match=re.escape(words)):
        pg_tune.host_memory(memtotal, limits)


# -- reservations: each service's MemoryMax, as its role computes it --------------------------
def test_reservations_of_every_service_on_a_4gb_host():
    out = pg_tune.reservations(spec(4096, redis=REDIS, nocodb=NOCODB, monitoring=MONITORING))
    # redis: maxmemory 10 % of 4096 = 409, MemoryMax 2 x 409 + 64; monitoring 256 + 3 x 64 + 64.
    assert out == {"os": 512, "redis": 882, "nocodb": 768, "monitoring": 512}
    assert list(out) == ["os", "redis", "nocodb", "monitoring"]  # report order


def test_reservations_follow_each_roles_own_settings():
    redis = {**REDIS, "maxmemory_mb": 300}
    assert pg_tune.reservations(spec(redis=redis))["redis"] == 664
    assert pg_tune.reservations(spec(redis={**redis, "systemd_memory_max_mb": 500}))["redis"] == 500
    # The redis role takes its percentage of MemTotal and truncates: 3936 x 10 / 100 = 393.6.
    assert pg_tune.reservations(spec(3936, redis=REDIS))["redis"] == 2 * 393 + 64
    no_alertmanager = {**MONITORING, "alertmanager_memory_max": None, "exporters": 1}
    assert pg_tune.reservations(spec(monitoring=no_alertmanager))["monitoring"] == 256 + 64
    sizes = {**MONITORING, "prometheus_memory_max": "1G", "exporter_memory_max": "1500K", "exporters": 2}
    assert pg_tune.reservations(spec(monitoring=sizes))["monitoring"] == 1024 + 2 * 2 + 64


def test_services_not_on_the_host_reserve_nothing_and_extras_follow():
    out = pg_tune.reservations(spec(nocodb=None, redis=None, extra={"pgbouncer": 64, "worker": 0}))
    assert out == {"os": 512, "pgbouncer": 64, "worker": 0}
    assert list(out) == ["os", "pgbouncer", "worker"]


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (spec(os_mb=-1), "postgresql_memory_reserved_os_mb=-1 must be >= 0"),
        (spec(os_mb="512"), "postgresql_memory_reserved_os_mb must be an integer of MB (got str '512')"),
        (spec(os_mb=True), "postgresql_memory_reserved_os_mb must be an integer of MB (got bool True)"),
        (spec(extra={"pgbouncer": -64}), "postgresql_memory_reservations_extra.pgbouncer=-64 must be >= 0"),
        (spec(extra={"pgbouncer": 6.5}), "postgresql_memory_reservations_extra.pgbouncer must be an integer"),
        (spec(extra={"redis": 64}), "name 'redis' must be a lower-case identifier other than os, redis"),
        (spec(extra={"Big Cache": 64}), "name 'Big Cache' must be a lower-case identifier"),
        (spec(extra=[64]), "postgresql_memory_reservations_extra must be a mapping of name -> MB"),
        (spec(redis={**REDIS, "maxmemory_mb": -5}), "redis_maxmemory_mb=-5 must be >= 0"),
        (spec(redis={"maxmemory_mb": 0}), "redis is missing systemd_memory_max_mb"),
        (spec(nocodb={"memory_max_mb": 0}), "nocodb_memory_max_mb=0 must be >= 1"),
        (spec(nocodb=768), "nocodb must be a mapping of its role's memory settings or null"),
        (
            spec(monitoring={**MONITORING, "prometheus_memory_max": "infinity"}),
            "monitoring_prometheus_memory_max='infinity' is not a size such as 256M or 1G",
        ),
        (
            spec(monitoring={**MONITORING, "exporter_memory_max": "10%"}),
            "monitoring_exporter_memory_max='10%' is not a size",
        ),
        ({**spec(), "pgbouncer": {}}, "unknown key(s): pgbouncer; services known: redis, nocodb, monitoring"),
        ([512], "reservations input must be a mapping, got list"),
    ],
)
def test_reservations_reject_bad_input_naming_the_variable(bad, words):
    with pytest.raises(AnsibleFilterError, match=re.escape(words)):
        pg_tune.reservations(bad)


# -- the budget: PostgreSQL's share ----------------------------------------------------------
def test_budget_gives_postgresql_the_rest():
    reserved = {"os": 512, "redis": 882, "nocodb": 768, "monitoring": 512}
    out = pg_tune.budget(4096, reserved)
    assert out == {
        "ram_mb": 4096,
        "reservations": reserved,
        "reserved_mb": 2674,
        "share_mb": 1422,
        "postgresql_mb": 1422,
        "source": "budget",
        "committed_mb": 4096,
        "over_mb": 0,
        "fits": True,
    }


def test_an_explicit_postgresql_tune_memory_mb_wins_and_may_overcommit():
    out = pg_tune.budget(4096, {"os": 512, "redis": 882}, 3072)
    assert (out["postgresql_mb"], out["source"], out["share_mb"]) == (3072, "postgresql_tune_memory_mb", 2702)
    assert (out["over_mb"], out["fits"]) == (370, False)
    # Even when the reservations alone exceed RAM: explicit means explicit (health warns).
    assert pg_tune.budget(1024, {"os": 2048}, 512)["postgresql_mb"] == 512


def test_a_share_below_pg_tunes_minimum_is_refused_naming_every_reservation():
    reserved = {"os": 512, "redis": 472, "nocodb": 768, "monitoring": 512, "pgbouncer": 64}
    with pytest.raises(AnsibleFilterError) as err:
        pg_tune.budget(2048, reserved)
    msg = str(err.value)
    assert (
        "PostgreSQL's share is -280 MB, below pg_tune's minimum of 256 MB: RAM 2048 MB minus 2328 MB" in msg
    )
    for words in (
        "os 512 MB (postgresql_memory_reserved_os_mb)",
        "redis 472 MB (redis_maxmemory_mb / redis_maxmemory_ram_percent / redis_systemd_memory_max_mb)",
        "nocodb 768 MB (nocodb_memory_max_mb)",
        "monitoring 512 MB (monitoring_prometheus_memory_max",
        "pgbouncer 64 MB (postgresql_memory_reservations_extra.pgbouncer)",
        "set postgresql_tune_memory_mb explicitly",
    ):
        assert words in msg
    # At exactly the minimum it fits.
    assert pg_tune.budget(768, {"os": 512})["postgresql_mb"] == pg_tune.MIN_MEMORY_MB


def test_without_strict_an_overcommitted_budget_is_reported_not_refused():
    out = pg_tune.budget(2048, {"os": 512, "nocodb": 1536}, strict=False)
    assert (out["share_mb"], out["postgresql_mb"], out["source"]) == (0, 256, "minimum")
    assert (out["committed_mb"], out["over_mb"], out["fits"]) == (2304, 256, False)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((0, {}), "ram_mb=0 must be >= 1"),
        ((4096, {"os": -1}), "reservation os=-1 must be >= 0"),
        ((4096, {"os": "512"}), "reservation os must be an integer of MB"),
        ((4096, [512]), "reservations must be a mapping of name -> MB"),
        ((4096, {}, -1), "postgresql_tune_memory_mb=-1 must be >= 0"),
        ((4096, {}, "2048"), "postgresql_tune_memory_mb must be an integer of MB (got str '2048')"),
    ],
)
def test_budget_rejects_bad_input(args, words):
    with pytest.raises(AnsibleFilterError, match=re.escape(words)):
        pg_tune.budget(*args)


def test_filters_are_registered():
    filters = pg_tune.FilterModule().filters()
    assert {"pg_host_memory", "pg_memory_reservations", "pg_memory_budget"} <= set(filters)
    share = filters["pg_memory_budget"](4096, filters["pg_memory_reservations"](spec()))
    assert share["postgresql_mb"] == 3584


# -- the table in docs/TUNING.md, generated from the code and the role defaults ---------------
def role_defaults(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def all_services_spec(ram_mb: int, monitoring: bool = True) -> dict:
    """Every service on one host with its role's defaults, as profile.yml builds the input (the
    same fallbacks where a role has no such default)."""
    pg, redis, nocodb, mon = (role_defaults(r) for r in ("postgresql", "redis", "nocodb", "monitoring"))
    monitoring_spec = {
        "prometheus_memory_max": mon.get("monitoring_prometheus_memory_max", "256M"),
        "exporter_memory_max": mon.get("monitoring_exporter_memory_max", "64M"),
        "exporters": 3,  # node, postgres, redis
        "alertmanager_memory_max": (
            mon.get("monitoring_alertmanager_memory_max", "64M")
            if mon.get("monitoring_alertmanager_enabled", True)
            else None
        ),
    }
    return {
        "os_mb": pg["postgresql_memory_reserved_os_mb"],
        "memtotal_mb": ram_mb,
        "redis": {
            "maxmemory_mb": redis["redis_maxmemory_mb"],
            "maxmemory_ram_percent": redis["redis_maxmemory_ram_percent"],
            "systemd_memory_max_mb": redis["redis_systemd_memory_max_mb"],
        },
        "nocodb": {"memory_max_mb": nocodb["nocodb_memory_max_mb"]},
        "monitoring": monitoring_spec if monitoring else None,
        "extra": pg["postgresql_memory_reservations_extra"],
    }


TABLE_ROWS = [
    ("2 GB", 2048, True),
    ("2 GB, no monitoring", 2048, False),
    ("4 GB", 4096, True),
    ("8 GB", 8192, True),
]
TUNED = ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem")


def budget_table() -> str:
    pg = role_defaults("postgresql")
    lines = [
        "| host (MemTotal) | os | redis | nocodb | monitoring | PostgreSQL's share | "
        + " | ".join(f"`{name}`" for name in TUNED)
        + " |",
        "|---|" + "---:|" * (5 + len(TUNED)),
    ]
    for label, ram, monitoring in TABLE_ROWS:
        reserved = pg_tune.reservations(all_services_spec(ram, monitoring))
        cells = [f"{label} ({ram} MB)"] + [
            str(reserved[name]) if name in reserved else "–" for name in ("os", *pg_tune.SERVICES)
        ]
        try:
            share = pg_tune.budget(ram, reserved)["postgresql_mb"]
        except AnsibleFilterError:
            left = ram - sum(reserved.values())
            cells += [f"**refused**: {left} MB left (pg_tune needs ≥ {pg_tune.MIN_MEMORY_MB})"]
            cells += ["–"] * len(TUNED)
        else:
            tuned = pg_tune.compute(
                {
                    "total_memory_mb": share,
                    "cpus": 2,
                    "max_connections": pg["postgresql_max_connections"],
                    "storage": pg["postgresql_tune_storage"],
                    "workload": pg["postgresql_tune_workload"],
                    "pg_version": pg["postgresql_version"],
                }
            )
            cells += [f"{share} MB"] + [tuned[name] for name in TUNED]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_table_in_tuning_md_is_what_the_code_computes():
    text = TUNING.read_text()
    assert TABLE_START in text and TABLE_END in text
    in_doc = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert in_doc == budget_table(), "regenerate it: see this file's docstring"


if __name__ == "__main__":
    sys.stdout.write(budget_table() + "\n")
