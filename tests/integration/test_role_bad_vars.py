"""Bad role variables are rejected before any change, with a message naming the variable.

Each case runs the real role through ansible-playbook against this machine, limited to the
role's validation (argument_specs + `--tags validate`) in check mode: validation is the
first thing a role does, so a rejection here is a rejection before anything is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible_run import ROOT

GOOD_REDIS = {"redis_admin_password": "a-test-admin-password"}
# No PostgreSQL runs here: the live archive checks are for molecule (roles/pgbackrest).
GOOD_PGBACKREST = {
    "pgbackrest_repo_cipher_pass": "a-test-passphrase-of-30-chars!",
    "pgbackrest_require_archiving": False,
}


def ansible_env(tmp_path) -> dict:
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }


def run_role_validation(role: str, role_vars: dict, tmp_path) -> subprocess.CompletedProcess:
    play = [
        {
            "name": f"validate {role}",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": True,
            "vars": {"ansible_python_interpreter": sys.executable},
            "roles": [{"role": role, "vars": role_vars}],
        }
    ]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(play))
    return subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            "localhost,",
            "--check",
            "--tags",
            "validate",
            str(playbook),
        ],
        cwd=ROOT,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )


BAD_CASES = [
    # (role, vars, text that must appear in the error)
    (
        "redis",
        {**GOOD_REDIS, "redis_persistence": "disk"},
        "redis_persistence must be one of: rdb, aof, none",
    ),
    ("redis", {**GOOD_REDIS, "redis_port": 70000}, "redis_port=70000 is out of range: allowed 0..65535"),
    ("redis", {**GOOD_REDIS, "redis_port": "six"}, "redis_port"),
    (
        "redis",
        {**GOOD_REDIS, "redis_maxmemory_mb": 10_000_000},
        "redis_maxmemory_mb=10000000 must be between 1",
    ),
    ("redis", {**GOOD_REDIS, "redis_maxmemory_policy": "lru"}, "redis_maxmemory_policy must be one of"),
    ("redis", {**GOOD_REDIS, "redis_bind_addresses": ["localhost:6379"]}, "redis_bind_addresses has entries"),
    ("redis", {**GOOD_REDIS, "redis_users": [{"name": "app"}]}, "missing required arguments: password"),
    (
        "redis",
        {**GOOD_REDIS, "redis_users": [{"name": "app", "password": "short"}]},
        "Users without one: ['app']",
    ),
    ("redis", {"redis_admin_password": ""}, "Users without one: ['admin']"),
    ("redis", {**GOOD_REDIS, "redis_users": [{"name": "default", "password": "x" * 20}]}, "not be 'default'"),
    ("base", {"base_firewall_ssh_sources": ["10.0.0.0/33"]}, "not CIDRs"),
    ("base", {"base_firewall_allowed": [{"port": 5432, "sources": ["10.0.0.1/8"]}]}, "not CIDRs"),
    ("base", {"base_firewall_allowed": [{"port": 5432, "sources": []}]}, "needs at least one CIDR"),
    (
        "base",
        {"base_firewall_allowed": [{"port": 0, "sources": ["10.0.0.0/8"]}]},
        "must be TCP ports 1..65535",
    ),
    ("base", {"base_ssh_port": 99999}, "must be TCP ports 1..65535"),
    ("base", {"base_vm_overcommit_memory": 3}, "base_vm_overcommit_memory must be one of: 0, 1, 2"),
    ("base", {"base_vm_swappiness": 200}, "base_vm_swappiness must be 0..100"),
    ("base", {"base_timezone": "Mars/Olympus_Mons"}, "base_timezone=Mars/Olympus_Mons is not an IANA zone"),
    ("base", {"base_default_locale": "fr_FR.UTF-8"}, "must be one of base_locales"),
    ("base", {"base_ops_user": "root"}, "base_ops_user=root"),
    ("base", {"base_unattended_upgrades": "sometimes"}, "base_unattended_upgrades"),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_repo_cipher_pass": ""},
        "pgbackrest_repo_cipher_pass must be at least 20 characters",
    ),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_repo_cipher_pass": "too-short"},
        "pgbackrest_repo_cipher_pass must be at least 20 characters",
    ),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_compress_type": "gzip"},
        "pgbackrest_compress_type must be one of",
    ),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_diff_type": "weekly"},
        "pgbackrest_diff_type must be one of",
    ),
    ("pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_repo_type": "nfs"}, "pgbackrest_repo_type must be one of"),
    ("pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_retention_full": 0}, "pgbackrest_retention_full=0"),
    ("pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_stanza": "main db"}, "pgbackrest_stanza=main db: allowed"),
    ("pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_repo_path": "backups"}, "must be absolute paths"),
    ("pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_repo_type": "s3"}, "pgbackrest_repo_type=s3 needs"),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_full_on_calendar": "every sunday"},
        "Invalid OnCalendar expression(s): ['every sunday']",
    ),
]


@pytest.mark.parametrize(
    ("role", "role_vars", "expected"),
    BAD_CASES,
    ids=[f"{c[0]}-{next(iter(c[1]))}-{i}" for i, c in enumerate(BAD_CASES)],
)
def test_bad_vars_rejected(role, role_vars, expected, tmp_path):
    res = run_role_validation(role, role_vars, tmp_path)
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode != 0, out[-2000:]
    assert " ".join(expected.split()) in out, out[-3000:]


@pytest.mark.parametrize(
    ("role", "role_vars"), [("redis", GOOD_REDIS), ("base", {}), ("pgbackrest", GOOD_PGBACKREST)]
)
def test_good_vars_pass_validation(role, role_vars, tmp_path):
    res = run_role_validation(role, role_vars, tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


def test_secrets_not_logged_on_rejection(tmp_path):
    secret = "s3cr3t-value-that-must-not-leak"
    res = run_role_validation(
        "redis",
        {
            **GOOD_REDIS,
            "redis_users": [{"name": "app", "password": secret[:8]}],
            "redis_admin_password": secret,
        },
        tmp_path,
    )
    assert res.returncode != 0
    assert secret not in res.stdout + res.stderr
    assert secret[:8] not in res.stdout + res.stderr


def test_pgbackrest_passphrase_not_logged_on_rejection(tmp_path):
    secret = "s3cr3t-pass"  # too short: rejected
    res = run_role_validation(
        "pgbackrest", {**GOOD_PGBACKREST, "pgbackrest_repo_cipher_pass": secret}, tmp_path
    )
    assert res.returncode != 0
    assert secret not in res.stdout + res.stderr


# The wiring: playbooks with the example inventories, on this machine (connection local).


def local_inventory(env: str, tmp_path, vault: dict | None = None):
    """inventories/<env> with every group on localhost and vault.yml from vault.example.yml."""
    inv = tmp_path / env
    shutil.copytree(ROOT / "inventories" / env, inv)
    groups = {g: {"hosts": {"localhost": None}} for g in ("vps", "postgresql", "redis", "nocodb")}
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": groups}}))
    example = yaml.safe_load((inv / "vault.example.yml").read_text())
    (inv / "group_vars" / "all" / "vault.yml").write_text(yaml.safe_dump({**example, **(vault or {})}))
    return inv


def run_playbook(name: str, inventory, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    local = [
        "-e",
        "ansible_connection=local",
        "-e",
        "ansible_become=false",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
    ]
    return subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            str(inventory),
            *local,
            *extra,
            str(ROOT / "playbooks" / name),
        ],
        cwd=ROOT,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("env", ["staging", "production"])
def test_inventory_wires_the_passphrase_from_vault(env, tmp_path):
    inv = local_inventory(env, tmp_path)
    no_live = ["-e", "pgbackrest_require_archiving=false"]
    res = run_playbook("pgbackrest.yml", inv, tmp_path, "--check", "--tags", "validate", *no_live)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


@pytest.mark.parametrize(
    ("vault", "expected"),
    [
        (
            {"vault_pgbackrest_repo_cipher_pass": "short"},
            "pgbackrest_repo_cipher_pass must be at least 20 characters",
        ),
        (
            {"vault_pgbackrest_repo_cipher_pass": None},
            "pgbackrest_repo_cipher_pass must be at least 20 characters",
        ),
    ],
    ids=["short", "empty"],
)
def test_bad_passphrase_in_vault_stops_the_playbook(vault, expected, tmp_path):
    inv = local_inventory("staging", tmp_path, vault)
    res = run_playbook("pgbackrest.yml", inv, tmp_path, "--check", "--tags", "validate")
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode != 0, out[-2000:]
    assert expected in out, out[-3000:]


def test_missing_vault_passphrase_names_the_vault_variable(tmp_path):
    inv = local_inventory("staging", tmp_path)
    vault = inv / "group_vars" / "all" / "vault.yml"
    data = yaml.safe_load(vault.read_text())
    del data["vault_pgbackrest_repo_cipher_pass"]
    vault.write_text(yaml.safe_dump(data))
    res = run_playbook("pgbackrest.yml", inv, tmp_path, "--check", "--tags", "validate")
    assert res.returncode != 0
    assert "vault_pgbackrest_repo_cipher_pass" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]


def test_backup_type_is_checked_before_any_backup(tmp_path):
    inv = local_inventory("staging", tmp_path)
    res = run_playbook("backup.yml", inv, tmp_path, "-e", "backup_type=weekly")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "backup_type=weekly: allowed full, diff, incr." in out, out[-3000:]
    assert "Run the backup unit" not in out
