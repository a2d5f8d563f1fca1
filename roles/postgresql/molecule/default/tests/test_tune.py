"""playbooks/tune.yml against the converged host, run from verify.

The tests run in file order (after test_postgresql.py) and build on each other: preview,
a reload-only retune, a rejected candidate, then a restart-needing change: refused before
any change because this host has no pgBackRest for the backup a restart needs, left
pending without permission to restart, and applied with -e backup_skip=true.
ansible-playbook runs with molecule's own environment and inventory
(MOLECULE_INVENTORY_FILE), as converge did.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from molecule_verify import psql, psql_tcp, run_playbook

SCENARIO = Path(__file__).resolve().parents[1]
REPO = Path(__file__).resolve().parents[5]
PLAYBOOK = REPO / "playbooks" / "tune.yml"
CONF = "/etc/postgresql/15/main/postgresql.conf"
OWNER = ("vedfin_owner", "molecule-owner-password")  # test-only, see vars/postgresql.yml


def tune(*extra: str, check: bool = False):
    vars_file = SCENARIO / "vars" / "postgresql.yml"
    return run_playbook("tune.yml", "-e", f"@{vars_file}", *extra, *(["--check", "--diff"] if check else []))


def owner_sql(host, query):
    res = psql_tcp(host, OWNER, query)
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def started(host):
    return psql(host, "SELECT pg_postmaster_start_time()")


def recap(res) -> dict[str, int]:
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", res.stdout)
    assert match, res.stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True))


@pytest.fixture(scope="module", autouse=True)
def probe_row(host):
    """A row written before any retune; every test checks it survives."""
    owner_sql(host, "CREATE TABLE IF NOT EXISTS tune_probe (id int PRIMARY KEY, note text)")
    owner_sql(host, "INSERT INTO tune_probe VALUES (1, 'before tune') ON CONFLICT DO NOTHING")


def assert_row_survived(host):
    assert owner_sql(host, "SELECT note FROM tune_probe WHERE id = 1") == "before tune"


def test_check_mode_prints_diff_and_changes_nothing(host):
    before = host.file(CONF).sha256sum
    res = tune("-e", "postgresql_tune_workload=oltp", check=True)
    assert res.returncode == 0, res.stdout[-3000:]
    assert re.search(r"^-min_wal_size\s+= '1GB'", res.stdout, re.M), res.stdout[-3000:]
    assert re.search(r"^\+min_wal_size\s+= '2GB'", res.stdout, re.M)
    assert re.search(r"^\+max_wal_size\s+= '8GB'", res.stdout, re.M)
    assert "min_wal_size 1GB -> 2GB (reload)" in res.stdout
    assert host.file(CONF).sha256sum == before
    assert psql(host, "SHOW min_wal_size") == "1GB"


def test_reload_only_retune_goes_live_without_restart(host):
    boot = started(host)
    res = tune("-e", "postgresql_tune_workload=oltp")
    assert res.returncode == 0, res.stdout[-3000:]
    assert psql(host, "SHOW min_wal_size") == "2GB"
    assert psql(host, "SHOW max_wal_size") == "8GB"
    assert "# tuned" in host.file(CONF).content_string
    assert started(host) == boot, "a reload-only change must not restart"
    assert psql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"
    assert_row_survived(host)


def test_rerun_changes_nothing(host):
    res = tune("-e", "postgresql_tune_workload=oltp")
    assert res.returncode == 0, res.stdout[-3000:]
    assert recap(res)["changed"] == 0


def test_rejected_candidate_leaves_server_on_previous_config(host):
    before = host.file(CONF).sha256sum
    work_mem = psql(host, "SHOW maintenance_work_mem")
    boot = started(host)
    # maintenance_work_mem: work_mem without a unit is refused earlier, by validate.yml's bound.
    bad = json.dumps(
        {"postgresql_tune_workload": "oltp", "postgresql_settings": {"maintenance_work_mem": "lots"}}
    )
    res = tune("-e", bad)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    # PostgreSQL's own message, relayed by the role.
    assert 'invalid value for parameter "maintenance_work_mem": "lots"' in out
    assert host.file(CONF).sha256sum == before
    assert psql(host, "SHOW maintenance_work_mem") == work_mem
    assert psql(host, "SELECT 1") == "1"
    assert started(host) == boot
    assert host.service("postgresql@15-main").is_running
    assert_row_survived(host)


def test_restart_without_backup_tool_is_refused_before_any_change(host):
    before = host.file(CONF).sha256sum
    boot = started(host)
    res = tune("-e", "postgresql_tune_workload=oltp", "-e", "postgresql_max_connections=120")
    assert res.returncode != 0
    out = " ".join((res.stdout + res.stderr).split())  # the callback wraps long messages
    assert "A backup is needed first (the rollout restarts PostgreSQL for max_connections)" in out
    assert "has no pgBackRest" in out
    assert "-e backup_skip=true" in out
    assert host.file(CONF).sha256sum == before
    assert psql(host, "SHOW max_connections") == "100"
    assert started(host) == boot
    assert_row_survived(host)


def test_restart_needed_but_not_allowed_is_reported(host):
    boot = started(host)
    # key=value extra vars arrive as strings: the role must cope (| int, | bool).
    extra = [
        "postgresql_tune_workload=oltp",
        "postgresql_max_connections=120",
        "postgresql_allow_restart=false",
    ]
    res = tune(*[arg for pair in zip(["-e"] * 3, extra, strict=True) for arg in pair])
    assert res.returncode == 0, res.stdout[-3000:]
    assert "restart pending for: max_connections" in res.stdout
    assert psql(host, "SHOW max_connections") == "100"
    pending = "SELECT string_agg(name, ',') FROM pg_settings WHERE pending_restart"
    assert psql(host, pending) == "max_connections"
    assert started(host) == boot
    assert_row_survived(host)


def test_restart_needed_and_allowed_restarts(host):
    boot = started(host)
    extra = ["postgresql_tune_workload=oltp", "postgresql_max_connections=120", "backup_skip=true"]
    res = tune(*[arg for pair in zip(["-e"] * 3, extra, strict=True) for arg in pair])
    assert res.returncode == 0, res.stdout[-3000:]
    assert "WARNING: backup skipped by -e backup_skip=true" in res.stdout
    assert psql(host, "SHOW max_connections") == "120"
    assert psql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"
    assert started(host) != boot
    assert_row_survived(host)
