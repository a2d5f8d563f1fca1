"""Unit tests for filter_plugins/pg_tune.py (pgtune formulas, pg_size_to_mb)."""

from __future__ import annotations

import pg_tune
import pytest
from ansible.errors import AnsibleFilterError

KEYS = ("total_memory_mb", "cpus", "max_connections", "storage", "workload", "pg_version")


def profile(mem, cpus, conns, storage, workload, version, **extra):
    return {**dict(zip(KEYS, (mem, cpus, conns, storage, workload, version), strict=True)), **extra}


# Every expected table below was derived by hand from pgtune's formulas
# (le0pard/pgtune, src/features/configuration/configurationSlice.js; formatting from
# src/common/components/configurationView/index.jsx), with pgtune's default db size
# "mid_ram" and OS "linux". Memory arithmetic is in kB like pgtune's; the working is in
# the comments. The one intentional difference from pgtune: below 4 CPUs pgtune prints no
# max_worker_processes, we print PostgreSQL's default "8" (the value pgtune's work_mem uses).
CASES = {
    # 4096MB = 4194304kB. sb = /4 = 1GB, ecs = *3/4 = 3GB, mwm = /16 = 256MB,
    # wal_buffers = min(3% of sb, 16MB) = 16MB, work_mem = (4194304-1048576)/((100+8)*3) = 9709.0
    "4GB-2cpu-100-ssd-web-15": (
        profile(4096, 2, 100, "ssd", "web", 15),
        {
            "max_connections": "100",
            "shared_buffers": "1GB",
            "effective_cache_size": "3GB",
            "maintenance_work_mem": "256MB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "200",
            "work_mem": "9709kB",
            "huge_pages": "off",
            "jit": "off",
            "wal_compression": "lz4",
            "min_wal_size": "1GB",
            "max_wal_size": "4GB",
            "max_worker_processes": "8",
        },
    ),
    # 16777216kB. sb 4GB (>= 2GB -> huge_pages try), ecs 12GB, mwm 1GB,
    # work_mem = (16777216-4194304)/((200+8)*3) = 20164.9; 8 cpus -> gather min(4, 4), maint min(4, 4)
    "16GB-8cpu-200-ssd-oltp-15": (
        profile(16384, 8, 200, "ssd", "oltp", 15),
        {
            "max_connections": "200",
            "shared_buffers": "4GB",
            "effective_cache_size": "12GB",
            "maintenance_work_mem": "1GB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "200",
            "work_mem": "20164kB",
            "huge_pages": "try",
            "jit": "off",
            "wal_compression": "lz4",
            "min_wal_size": "2GB",
            "max_wal_size": "8GB",
            "max_worker_processes": "8",
            "max_parallel_workers_per_gather": "4",
            "max_parallel_workers": "8",
            "max_parallel_maintenance_workers": "4",
        },
    ),
    # 67108864kB. sb 16GB, ecs 48GB, mwm = /8 = 8GB (cap 8GB) -> autovacuum_work_mem 2GB,
    # 16 cpus -> autovacuum_max_workers 4; dw: stats 500, no jit line, gather ceil(16/2) uncapped,
    # work_mem = (67108864-16777216)/((100+16)*3)/2 = 72315.6; hdd: rpc 4, eic 2
    "64GB-16cpu-100-hdd-dw-15": (
        profile(65536, 16, 100, "hdd", "dw", 15),
        {
            "max_connections": "100",
            "shared_buffers": "16GB",
            "effective_cache_size": "48GB",
            "maintenance_work_mem": "8GB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "500",
            "random_page_cost": "4",
            "effective_io_concurrency": "2",
            "work_mem": "72315kB",
            "huge_pages": "try",
            "wal_compression": "lz4",
            "autovacuum_max_workers": "4",
            "autovacuum_work_mem": "2GB",
            "min_wal_size": "4GB",
            "max_wal_size": "16GB",
            "max_worker_processes": "16",
            "max_parallel_workers_per_gather": "8",
            "max_parallel_workers": "16",
            "max_parallel_maintenance_workers": "4",
        },
    ),
    # 2097152kB. sb 512MB, ecs 1572864kB = 1536MB (not whole GB), mwm 128MB,
    # wal_buffers 3% = 15728kB, between 14MB and 16MB -> rounded up to 16MB;
    # mixed: work_mem = (2097152-524288)/((50+8)*3)/2 = 4519.7; san: eic 300; PG14: wal_compression on
    "2GB-1cpu-50-san-mixed-14": (
        profile(2048, 1, 50, "san", "mixed", 14),
        {
            "max_connections": "50",
            "shared_buffers": "512MB",
            "effective_cache_size": "1536MB",
            "maintenance_work_mem": "128MB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "300",
            "work_mem": "4519kB",
            "huge_pages": "off",
            "jit": "off",
            "wal_compression": "on",
            "min_wal_size": "1GB",
            "max_wal_size": "4GB",
            "max_worker_processes": "8",
        },
    ),
    # 8388608kB. desktop: sb = /16 = 512MB, ecs = /4 = 2GB, mwm 512MB, no jit line,
    # work_mem = (8388608-524288)/((20+4)*3)/6 = 18204.4, wal 100MB..2GB, wal_level minimal
    "8GB-4cpu-20-ssd-desktop-15": (
        profile(8192, 4, 20, "ssd", "desktop", 15),
        {
            "max_connections": "20",
            "shared_buffers": "512MB",
            "effective_cache_size": "2GB",
            "maintenance_work_mem": "512MB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "200",
            "work_mem": "18204kB",
            "huge_pages": "off",
            "wal_compression": "lz4",
            "min_wal_size": "100MB",
            "max_wal_size": "2GB",
            "max_worker_processes": "4",
            "max_parallel_workers_per_gather": "2",
            "max_parallel_workers": "4",
            "max_parallel_maintenance_workers": "2",
            "wal_level": "minimal",
            "max_wal_senders": "0",
        },
    ),
    # 33554432kB. sb 8GB, ecs 24GB, mwm 2GB (>= 2GB -> autovacuum_work_mem 2GB),
    # work_mem = (33554432-8388608)/((300+4)*3) = 27594.1; PG13: wal_compression on
    "32GB-4cpu-300-hdd-web-13": (
        profile(32768, 4, 300, "hdd", "web", 13),
        {
            "max_connections": "300",
            "shared_buffers": "8GB",
            "effective_cache_size": "24GB",
            "maintenance_work_mem": "2GB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "4",
            "effective_io_concurrency": "2",
            "work_mem": "27594kB",
            "huge_pages": "try",
            "jit": "off",
            "wal_compression": "on",
            "autovacuum_work_mem": "2GB",
            "min_wal_size": "1GB",
            "max_wal_size": "4GB",
            "max_worker_processes": "4",
            "max_parallel_workers_per_gather": "2",
            "max_parallel_workers": "4",
            "max_parallel_maintenance_workers": "2",
        },
    ),
    # 268435456kB. sb 64GB, mwm 16GB capped to 8GB, 32 cpus -> autovacuum_max_workers 5,
    # work_mem = (268435456-67108864)/((500+32)*3) = 126144.5; nvme eic 1000; PG18 linux: io_uring
    "256GB-32cpu-500-nvme-oltp-18": (
        profile(262144, 32, 500, "nvme", "oltp", 18),
        {
            "max_connections": "500",
            "shared_buffers": "64GB",
            "effective_cache_size": "192GB",
            "maintenance_work_mem": "8GB",
            "checkpoint_completion_target": "0.9",
            "wal_buffers": "16MB",
            "default_statistics_target": "100",
            "random_page_cost": "1.1",
            "effective_io_concurrency": "1000",
            "work_mem": "126144kB",
            "huge_pages": "try",
            "jit": "off",
            "wal_compression": "lz4",
            "autovacuum_max_workers": "5",
            "autovacuum_work_mem": "2GB",
            "io_method": "io_uring",
            "min_wal_size": "2GB",
            "max_wal_size": "8GB",
            "max_worker_processes": "32",
            "max_parallel_workers_per_gather": "4",
            "max_parallel_workers": "32",
            "max_parallel_maintenance_workers": "4",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_profile_matches_pgtune(name):
    given, expected = CASES[name]
    result = pg_tune.compute(given)
    assert result == expected
    # Same order as pgtune prints them, so rendered config reads like pgtune's output.
    assert list(result) == list(expected)


def test_brief_example_values():
    out = pg_tune.compute(profile(4096, 2, 100, "ssd", "web", 15))
    assert out["shared_buffers"] == "1GB"
    assert out["effective_cache_size"] == "3GB"
    assert out["maintenance_work_mem"] == "256MB"
    assert out["random_page_cost"] == "1.1"
    assert out["effective_io_concurrency"] == "200"


def test_all_values_are_strings():
    out = pg_tune.compute(profile(16384, 8, 200, "ssd", "oltp", 15))
    assert all(isinstance(value, str) for value in out.values())


def test_no_parallel_settings_below_4_cpus():
    out = pg_tune.compute(profile(8192, 3, 100, "ssd", "web", 15))
    assert "max_parallel_workers_per_gather" not in out
    assert "max_parallel_workers" not in out
    assert "max_parallel_maintenance_workers" not in out
    assert out["max_worker_processes"] == "8"


def test_parallel_maintenance_workers_only_from_pg11():
    assert "max_parallel_maintenance_workers" not in pg_tune.compute(profile(8192, 8, 100, "ssd", "web", 10))
    assert pg_tune.compute(profile(8192, 8, 100, "ssd", "web", 11))["max_parallel_maintenance_workers"] == "4"


def test_jit_only_from_pg12_for_web_oltp_mixed():
    assert "jit" not in pg_tune.compute(profile(4096, 2, 100, "ssd", "web", 11))
    for workload in ("web", "oltp", "mixed"):
        assert pg_tune.compute(profile(4096, 2, 100, "ssd", workload, 12))["jit"] == "off"
    for workload in ("dw", "desktop"):
        assert "jit" not in pg_tune.compute(profile(4096, 2, 100, "ssd", workload, 15))


def test_wal_compression_by_version():
    for version, expected in ((10, "on"), (14, "on"), (15, "lz4"), (18, "lz4")):
        assert pg_tune.compute(profile(4096, 2, 100, "ssd", "web", version))["wal_compression"] == expected


def test_dw_on_ssd_keeps_default_random_page_cost():
    # pgtune: a data warehouse larger than RAM keeps 4.0 even on SSD (avoid index-scan plans).
    assert pg_tune.compute(profile(16384, 8, 50, "ssd", "dw", 15))["random_page_cost"] == "4"


def test_os_type_mac_and_windows():
    mac = pg_tune.compute(profile(32768, 8, 100, "ssd", "web", 15, os_type="mac"))
    assert mac["huge_pages"] == "off"  # macOS has no huge pages for PostgreSQL
    assert "effective_io_concurrency" not in mac  # pgtune sets it on Linux only
    win = pg_tune.compute(profile(262144, 4, 20, "ssd", "web", 17, os_type="windows"))
    assert win["maintenance_work_mem"] == "2047MB"  # 2GB - 1MB limit on Windows PG <= 17
    assert win["work_mem"] == "2047MB"
    assert pg_tune.compute(profile(262144, 64, 20, "ssd", "web", 18, os_type="windows"))["io_workers"] == "16"


def test_db_size_adjusts_work_mem_and_random_page_cost():
    # mid_ram (default): work_mem 9709kB; less_ram: floor(9709 * 1.3); greater_ram: floor(9709 * 0.9)
    base = profile(4096, 2, 100, "hdd", "web", 15)
    assert pg_tune.compute(base)["work_mem"] == "9709kB"
    less = pg_tune.compute({**base, "db_size": "less_ram"})
    assert less["work_mem"] == "12621kB"
    assert less["random_page_cost"] == "1.1"
    assert pg_tune.compute({**base, "db_size": "greater_ram"})["work_mem"] == "8738kB"


def test_work_mem_floor_is_4mb():
    assert pg_tune.compute(profile(4096, 4, 9999, "ssd", "web", 15))["work_mem"] == "4MB"


def test_wal_buffers_small_memory():
    # 256MB: sb 64MB, 3% = 1966kB (no rounding, not a whole MB)
    assert pg_tune.compute(profile(256, 1, 20, "ssd", "web", 15))["wal_buffers"] == "1966kB"


@pytest.mark.parametrize(
    ("value_kb", "expected"),
    [
        (1048576, "1GB"),
        (3145728, "3GB"),
        (1572864, "1536MB"),
        (16384, "16MB"),
        (9709, "9709kB"),
        (32, "32kB"),
    ],
)
def test_format_kb(value_kb, expected):
    assert pg_tune.format_kb(value_kb) == expected


# --- bad input --------------------------------------------------------------------------

GOOD = profile(4096, 2, 100, "ssd", "web", 15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workload": "foo"}, "pg_tune: workload 'foo' is not one of: web, oltp, dw, mixed, desktop"),
        ({"storage": "tape"}, "pg_tune: storage 'tape' is not one of: ssd, hdd, san, nvme"),
        ({"os_type": "bsd"}, "pg_tune: os_type 'bsd' is not one of: linux, windows, mac"),
        ({"db_size": "huge"}, "pg_tune: db_size 'huge' is not one of: less_ram, mid_ram, greater_ram"),
        ({"total_memory_mb": 255}, "pg_tune: total_memory_mb 255 is too small: must be >= 256"),
        ({"cpus": 0}, "pg_tune: cpus 0 is too small: must be >= 1"),
        ({"max_connections": 4}, "pg_tune: max_connections 4 is out of range: allowed 5..10000"),
        ({"max_connections": 10001}, "pg_tune: max_connections 10001 is out of range: allowed 5..10000"),
        ({"pg_version": 9}, "pg_tune: pg_version 9 is out of range: allowed 10..18"),
        ({"pg_version": 19}, "pg_tune: pg_version 19 is out of range: allowed 10..18"),
        ({"cpus": True}, "pg_tune: cpus must be an integer (got bool True)"),
        ({"total_memory_mb": "4096"}, "pg_tune: total_memory_mb must be an integer (got str '4096')"),
        ({"pg_version": 15.0}, "pg_tune: pg_version must be an integer (got float 15.0)"),
        ({"workload": None}, "pg_tune: workload None is not one of: web, oltp, dw, mixed, desktop"),
        ({"storage": "SSD"}, "pg_tune: storage 'SSD' is not one of: ssd, hdd, san, nvme"),
        ({"total_memory": 4096}, "pg_tune: unknown key(s): total_memory; allowed keys: total_memory_mb"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_bad_input_names_field_and_allowed_values(change, message):
    with pytest.raises(AnsibleFilterError) as err:
        pg_tune.compute({**GOOD, **change})
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("key", KEYS)
def test_missing_key(key):
    given = {k: v for k, v in GOOD.items() if k != key}
    with pytest.raises(AnsibleFilterError, match=f"pg_tune: missing required key\\(s\\): {key}$"):
        pg_tune.compute(given)


@pytest.mark.parametrize("given", [None, [], "4GB", 4096])
def test_non_dict_input(given):
    with pytest.raises(AnsibleFilterError, match="pg_tune: input must be a dict"):
        pg_tune.compute(given)


# --- pg_size_to_mb ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1GB", 1024),
        ("256MB", 256),
        ("16MB", 16),
        ("64kB", 1),  # partial MB rounds up
        ("1024kB", 1),
        ("9709kB", 10),
        ("1536MB", 1536),
        ("1.5GB", 1536),
        ("2TB", 2 * 1024 * 1024),
        ("1048576B", 1),
        (" 512 MB ", 512),
        ("0MB", 0),
        (8192, 8192),  # an int is already MB
        (0, 0),
    ],
)
def test_pg_size_to_mb(value, expected):
    assert pg_tune.size_to_mb(value) == expected
    assert pg_tune.pg_size_to_mb(value) == expected


@pytest.mark.parametrize(
    "value", ["8192", "1gb", "1 G", "GB", "-1GB", "", "1.GB", None, True, 1.5, -1, ["1GB"]]
)
def test_pg_size_to_mb_rejects(value):
    with pytest.raises(AnsibleFilterError, match="pg_size_to_mb: "):
        pg_tune.size_to_mb(value)


def test_pg_size_to_mb_roundtrips_tuned_values():
    out = pg_tune.compute(profile(4096, 2, 100, "ssd", "web", 15))
    assert pg_tune.size_to_mb(out["shared_buffers"]) == 1024
    assert pg_tune.size_to_mb(out["effective_cache_size"]) == 3072


# --- FilterModule -----------------------------------------------------------------------


def test_filter_module_exposes_the_filters():
    filters = pg_tune.FilterModule().filters()
    # The memory budget filters are tested in test_pg_memory_budget.py.
    assert set(filters) == {
        "pg_tune",
        "pg_size_to_mb",
        "pg_host_memory",
        "pg_memory_reservations",
        "pg_memory_budget",
    }
    assert filters["pg_tune"](GOOD)["shared_buffers"] == "1GB"
    assert filters["pg_size_to_mb"]("1GB") == 1024
