"""Static checks of the postgresql role: its variable API and its parameter list stay in sync.

No server needed: these read the role's YAML and call the pg_tune filter.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import bad_vars_cases
import pg_tune
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "postgresql"


def load(rel: str):
    return yaml.safe_load((ROLE / rel).read_text())


@pytest.fixture(scope="module")
def role_vars():
    return load("vars/main.yml")


@pytest.fixture(scope="module")
def known(role_vars):
    return {name.lower() for name in role_vars["__postgresql_known_settings"]}


def test_known_settings_carry_a_context(role_vars):
    contexts = set(role_vars["__postgresql_known_settings"].values())
    assert contexts <= {"postmaster", "sighup", "superuser", "superuser-backend", "backend", "user"}
    assert len(role_vars["__postgresql_known_settings"]) > 300


def test_role_owned_settings_are_postgresql_parameters(role_vars, known):
    assert set(role_vars["__postgresql_role_owned"]) <= known


@pytest.mark.parametrize(
    ("workload", "storage"), list(itertools.product(pg_tune.WORKLOADS, pg_tune.STORAGES))
)
def test_every_tuned_name_passes_the_name_check(known, workload, storage):
    """validate.yml checks override names against the list; pg_tune's names must be on it too."""
    for memory, cpus in ((1024, 1), (4096, 2), (65536, 16), (262144, 64)):
        profile = {
            "total_memory_mb": memory,
            "cpus": cpus,
            "max_connections": 100,
            "storage": storage,
            "workload": workload,
            "pg_version": 15,
        }
        assert set(pg_tune.compute(profile)) <= known


def test_replication_is_off_by_default_and_its_settings_are_role_owned(role_vars):
    """Single-host behaviour stays unchanged; the standby settings come from role variables only."""
    defaults = load("defaults/main.yml")
    assert defaults["postgresql_replication_enabled"] is False
    assert defaults["postgresql_replica_reclone"] is False
    for name in ("max_slot_wal_keep_size", "hot_standby_feedback", "max_standby_streaming_delay"):
        assert role_vars["__postgresql_role_owned"][name] == f"postgresql_{name}"


def test_bad_vars_table_covers_replication():
    names = [case.name for case in bad_vars_cases.load("postgresql")[1]]
    assert sum("replication" in name or "standby" in name for name in names) >= 3


# ---- issue 17: restart policy, sandbox, TLS floor, world-open, per-role limits -------------


def render(template: str, **context) -> str:
    import jinja2

    # Renders systemd unit text, not HTML: autoescape would mangle it.
    env = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True
    )
    return env.from_string((ROLE / "templates" / template).read_text()).render(
        ansible_managed="managed", **context
    )


def test_restart_dropin_is_installed_in_every_mode():
    """Not only with replication: systemd.yml, imported before service.yml, unconditionally."""
    main = load("tasks/main.yml")
    names = [task.get("ansible.builtin.import_tasks") for task in main]
    assert names.index("systemd.yml") < names.index("service.yml")
    assert "when" not in main[names.index("systemd.yml")]
    assert "Restart=" not in (ROLE / "tasks" / "replication.yml").read_text()
    defaults = load("defaults/main.yml")
    text = render(
        "10-ved-restart.conf.j2",
        __postgresql_service="postgresql@15-main",
        **{
            k: defaults[k]
            for k in ("postgresql_restart_delay", "postgresql_restart_interval", "postgresql_restart_burst")
        },
    )
    unit, service = text.split("[Service]")
    assert "StartLimitIntervalSec=5min" in unit and "StartLimitBurst=10" in unit
    assert "Restart=on-failure" in service and "RestartSec=2s" in service


@pytest.mark.parametrize(("jit", "mdwe"), [("off", True), ("on", False)])
def test_sandbox_keeps_pgbackrest_paths_writable(jit, mdwe):
    defaults = load("defaults/main.yml")
    text = render(
        "20-ved-sandbox.conf.j2",
        __postgresql_service="postgresql@15-main",
        __postgresql_effective={"jit": jit},
        postgresql_systemd_read_write_paths=defaults["postgresql_systemd_read_write_paths"],
    )
    rw = next(line for line in text.splitlines() if line.startswith("ReadWritePaths="))
    paths = rw.split("=", 1)[1].split()
    assert all(path.startswith("-/") for path in paths)
    for path in ("/var/lib/postgresql", "/run/postgresql", "/var/lib/pgbackrest", "/var/log/pgbackrest"):
        assert f"-{path}" in paths
    assert "ProtectSystem=strict" in text and "User=postgres" in text
    assert ("MemoryDenyWriteExecute=yes" in text) is mdwe


def test_tls_and_connection_logging_are_role_owned(role_vars):
    owned = role_vars["__postgresql_role_owned"]
    for name in ("ssl_min_protocol_version", "ssl_ciphers", "ssl_prefer_server_ciphers"):
        assert name in owned
    for name in ("log_connections", "log_disconnections"):
        assert owned[name] == "fixed on by the role"
    defaults = load("defaults/main.yml")
    assert defaults["postgresql_ssl_min_protocol_version"] in ("TLSv1.2", "TLSv1.3")
    for weak in ("CBC", "SHA:", "3DES", "RC4", "NULL"):
        assert weak not in defaults["postgresql_ssl_ciphers"] + ":"


def test_world_open_is_opt_in_and_limits_are_bounded():
    defaults = load("defaults/main.yml")
    assert defaults["postgresql_allow_world_open"] is False
    assert defaults["postgresql_listen_addresses"] == ["localhost"]
    limits = (
        defaults["postgresql_app_owner_connection_limit"] + defaults["postgresql_readonly_connection_limit"]
    )
    assert 0 < limits < defaults["postgresql_max_connections"]


def test_bad_vars_table_covers_issue_17():
    expects = " ".join(e for case in bad_vars_cases.load("postgresql")[1] for e in case.expect)
    for text in (
        "listens on every interface",
        "['0.0.0.0/0']",
        "['::/0']",
        "['all']",
        "exceeds the limit",
        "postgresql_ssl_min_protocol_version",
        "connection_limit",
        "Bad timeouts",
    ):
        assert text in expects
