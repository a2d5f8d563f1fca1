"""Behaviour of the converged postgresql role, one behaviour per test."""

from __future__ import annotations

import re

import pg_tune  # filter_plugins/ is on pytest's pythonpath (pyproject.toml)
import pytest
from molecule_verify import psql, psql_tcp

CONF = "/etc/postgresql/15/main/postgresql.conf"
HBA = "/etc/postgresql/15/main/pg_hba.conf"
# Test-only credentials from molecule/default/vars.yml (not secrets).
OWNER = ("vedfin_owner", "molecule-owner-password")
READONLY = ("analytics_ro", "molecule-readonly-password")
_SIZE = re.compile(r"^(\d+)(kB|MB|GB|TB)$")
_KB = {"kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}


def normalize(value: str) -> str:
    """Sizes to kB (SHOW picks its own unit), everything else lower-cased."""
    match = _SIZE.match(value)
    if match:
        return str(int(match.group(1)) * _KB[match.group(2)])
    return value.lower()


@pytest.fixture(scope="module")
def budget(host):
    """The memory budget of this host, computed as the role does: in group postgresql only, so
    the OS is the one reservation (default 512 MB)."""
    mem_kb = int(host.run("awk '/^MemTotal:/ {print $2}' /proc/meminfo").stdout)
    cgroup = [
        host.file(path).content_string
        for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        if host.file(path).exists
    ]
    ram = pg_tune.host_memory(mem_kb // 1024, cgroup)  # ansible_memtotal_mb, or the cgroup limit
    reserved = pg_tune.reservations({"os_mb": 512, "memtotal_mb": mem_kb // 1024})
    return pg_tune.budget(ram["ram_mb"], reserved) | {"ram_source": ram["source"]}


@pytest.fixture(scope="module")
def expected(host, budget):
    """pg_tune's values for this host's facts, computed as the role does."""
    cpus = int(host.run("grep -c ^processor /proc/cpuinfo").stdout)
    profile = {
        "total_memory_mb": budget["postgresql_mb"],  # RAM minus the OS reservation
        "cpus": cpus,  # ansible_processor_vcpus (the host's CPUs in a container)
        "max_connections": 100,
        "storage": "ssd",
        "workload": "web",
        "pg_version": 15,
    }
    return pg_tune.compute(profile)


def test_service_running_and_enabled(host):
    assert host.service("postgresql@15-main").is_running
    assert host.service("postgresql").is_enabled


def test_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:5432").is_listening
    assert not host.socket("tcp://0.0.0.0:5432").is_listening


def test_tuned_values_live(host, expected):
    """Every setting pg_tune computes for this host (its output is the one list) is live."""
    assert len(expected) >= 16
    names = ", ".join(f"'{name}'" for name in expected)
    rows = psql(host, f"SELECT name, current_setting(name) FROM pg_settings WHERE name IN ({names})")
    live = dict(line.split("|", 1) for line in rows.splitlines())
    wrong = {n: (live.get(n), v) for n, v in expected.items() if normalize(live.get(n, "?")) != normalize(v)}
    assert not wrong, f"setting: (live, pg_tune) {wrong}"


def test_the_config_states_the_memory_budget(host, budget):
    """The header says what pg_tune planned for and where the number came from."""
    conf = host.file(CONF).content_string
    source = "cgroup limit" if budget["ram_source"] == "cgroup" else "MemTotal"
    assert f"#   tuned     pg_tune for {budget['postgresql_mb']} MB RAM," in conf
    assert (
        f"its RAM: the memory budget, {budget['ram_mb']} MB ({source}) minus os 512 = {budget['share_mb']} MB"
        in conf
    )


def test_override_live(host):
    assert psql(host, "SHOW idle_in_transaction_session_timeout") == "10min"


def test_nothing_pending_restart(host):
    assert psql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"


def test_data_checksums_on(host):
    assert psql(host, "SHOW data_checksums") == "on"


def test_password_encryption_scram(host):
    assert psql(host, "SHOW password_encryption") == "scram-sha-256"


def test_passwords_stored_as_scram(host):
    not_scram = "SELECT rolname FROM pg_authid WHERE rolpassword !~ '^SCRAM-SHA-256'"
    assert psql(host, not_scram) == ""
    with_password = "SELECT count(*) FROM pg_authid WHERE rolname IN ('vedfin_owner', 'analytics_ro')"
    assert psql(host, with_password) == "2"


def test_ssl_on(host):
    assert psql(host, "SHOW ssl") == "on"


def test_tcp_sessions_use_tls(host):
    res = psql_tcp(host, READONLY, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert res.rc == 0, res.stderr
    assert res.stdout.strip() == "t"


def test_hba_has_no_trust_and_network_lines_are_scram(host):
    rows = psql(host, "SELECT type, auth_method FROM pg_hba_file_rules WHERE error IS NULL").splitlines()
    assert rows
    assert not [r for r in rows if r.endswith("|trust")]
    network = [r for r in rows if not r.startswith("local|")]
    assert network
    assert all(r.endswith("|scram-sha-256") for r in network), network
    assert psql(host, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL") == "0"
    assert "trust" not in host.file(HBA).content_string.replace("Never trust", "")


def test_preload_libraries(host):
    libs = psql(host, "SHOW shared_preload_libraries").split(",")
    assert "pg_stat_statements" in libs
    assert "auto_explain" in libs
    assert psql(host, "SHOW auto_explain.log_min_duration") == "2s"


def test_pg_stat_statements_extension_in_app_db(host):
    query = "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'"
    assert psql(host, query, db="vedfin") == "pg_stat_statements"
    assert int(psql(host, "SELECT count(*) FROM pg_stat_statements", db="vedfin")) >= 0


def test_extension_views_hidden_from_the_read_only_role(host):
    """pg_stat_statements holds every session's query text: the app owner (the app's query
    optimizer reads it) and superusers only; not PUBLIC, not the read-only (NocoDB) role."""
    query = (
        "SELECT string_agg(format('%s:%s', r, has_table_privilege(r, v, 'SELECT')), ' ' ORDER BY r, v) "
        "FROM unnest(ARRAY['analytics_ro', 'vedfin_owner']) r, "
        "unnest(ARRAY['pg_stat_statements', 'pg_stat_statements_info']) v"
    )
    assert psql(host, query, db="vedfin") == "analytics_ro:f analytics_ro:f vedfin_owner:t vedfin_owner:t"
    denied = psql_tcp(host, READONLY, "SELECT count(*) FROM pg_stat_statements")
    assert denied.rc != 0 and "permission denied" in denied.stderr


def test_logging_settings(host):
    assert psql(host, "SHOW log_checkpoints") == "on"
    assert psql(host, "SHOW log_lock_waits") == "on"
    assert psql(host, "SHOW log_min_duration_statement") == "500ms"
    assert psql(host, "SHOW log_temp_files") == "0"
    assert psql(host, "SHOW log_autovacuum_min_duration") == "1s"
    prefix = psql(host, "SHOW log_line_prefix")
    for escape in ("%m", "%p", "%u", "%d", "%a"):
        assert escape in prefix


def test_every_setting_line_says_where_it_came_from(host):
    lines = [
        line
        for line in host.file(CONF).content_string.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) > 40
    for line in lines:
        assert re.search(r"# (tuned|override|role|base)\b", line), line
    assert host.file(CONF).user == "postgres"
    assert host.file(CONF).mode == 0o644
    assert host.file(HBA).mode == 0o640


def test_app_db_owned_by_owner(host):
    query = "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'vedfin'"
    assert psql(host, query) == "vedfin_owner"


def test_roles_are_not_privileged(host):
    out = psql(
        host,
        "SELECT rolname FROM pg_roles WHERE rolname IN ('vedfin_owner', 'analytics_ro') "
        "AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)",
    )
    assert out == ""


def test_readonly_can_select_owner_tables_but_not_write(host):
    create = psql_tcp(
        host,
        OWNER,
        "CREATE TABLE IF NOT EXISTS verify_ro (id int PRIMARY KEY, v text); "
        "INSERT INTO verify_ro VALUES (1, 'x') ON CONFLICT DO NOTHING",
    )
    assert create.rc == 0, create.stderr
    read = psql_tcp(host, READONLY, "SELECT v FROM verify_ro WHERE id = 1")
    assert read.rc == 0, read.stderr
    assert read.stdout.strip() == "x"
    write = psql_tcp(host, READONLY, "INSERT INTO verify_ro VALUES (2, 'y')")
    assert write.rc != 0
    assert "permission denied" in write.stderr


def test_readonly_cannot_create_in_public(host):
    res = psql_tcp(host, READONLY, "CREATE TABLE ro_sneaky (id int)")
    assert res.rc != 0
    assert "permission denied" in res.stderr


def test_wrong_password_refused(host):
    res = psql_tcp(host, READONLY, "SELECT 1", password="not-the-password")
    assert res.rc != 0
    assert "password authentication failed" in res.stderr


def test_non_tls_tcp_refused(host):
    res = psql_tcp(host, READONLY, "SELECT 1", sslmode="disable")
    assert res.rc != 0
    assert "no pg_hba.conf entry" in res.stderr
    assert "no encryption" in res.stderr


def test_public_cannot_connect_to_app_db(host):
    out = psql(host, "SELECT has_database_privilege('public', 'vedfin', 'CONNECT')")
    assert out == "f"
