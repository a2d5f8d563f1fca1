"""Bad role variables are rejected before any change, with a message naming the variable.

The cases are the role tables in tests/bad_vars/ (read by tests/bad_vars_cases.py, the one
harness; molecule's postgresql and nocodb bad_vars scenarios run the same tables for real).
Here every role runs on this machine limited to its validation (argument_specs + `--tags
validate`) in check mode: validation is the first thing a role does, so a rejection here is a
rejection before anything is touched. One ansible-playbook run per role, a host per case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import bad_vars_cases
import pytest
import yaml
from ansible_run import ROOT

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
ROLES = sorted(p.stem for p in bad_vars_cases.TABLES.glob("*.yml"))
# Injected SSH connection for base's lock-out checks (the harness connects locally).
SSH_OK = {"base_controller_ssh_connection": "10.0.0.5 50000 10.0.0.9 22", "base_controller_ssh_user": "ops"}


def validate(role: str, *cases: bad_vars_cases.Case) -> tuple[dict, str]:
    good, table = bad_vars_cases.load(role)
    return bad_vars_cases.run(role, good, list(cases or table), connection=LOCAL, check=True)


def test_every_role_has_a_table():
    roles = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/tasks/main.yml"))
    assert roles == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_bad_vars_rejected(role):
    good, cases = bad_vars_cases.load(role)
    cases = [c for c in cases if not c.real_only]  # those need the real host (molecule)
    outcomes, _ = bad_vars_cases.run(role, good, cases, connection=LOCAL, check=True)
    wrong = bad_vars_cases.mismatches(cases, outcomes)
    assert not wrong, "\n".join(wrong)


def test_good_vars_pass_validation():
    # One run per role with only good vars (postgresql and nocodb check live servers: molecule).
    roles = [("redis", {}), ("base", {}), ("base", SSH_OK), ("pgbackrest", {}), ("monitoring", {})]
    for role, extra in roles:
        outcomes, _ = validate(role, bad_vars_cases.Case("good", extra, ()))
        assert not outcomes["good"].rejected, (role, outcomes["good"].message[-3000:])


@pytest.mark.parametrize(
    ("role", "secret_vars", "expected"),
    [
        # Both the admin password and a short app password (a prefix of it) stay out.
        (
            "redis",
            {
                "redis_users": [{"name": "app", "password": "s3cr3t-v"}],
                "redis_admin_password": "s3cr3t-value-that-must-not-leak",
            },
            "Missing or too short: redis_users[name=app].password",
        ),
        (
            "nocodb",
            {"nocodb_connection_encrypt_key": "too-short-encrypt-key"},  # under 32: rejected
            "nocodb_connection_encrypt_key is shorter than 32 characters",
        ),
        (
            "pgbackrest",
            {"pgbackrest_repo_cipher_pass": "s3cr3t-pass"},  # too short: rejected
            "pgbackrest_repo_cipher_pass must be at least 20 characters",
        ),
    ],
)
def test_secrets_not_logged_on_rejection(role, secret_vars, expected):
    case = bad_vars_cases.Case("secret", secret_vars, (expected,))
    outcomes, out = validate(role, case)
    assert not bad_vars_cases.mismatches([case], outcomes)  # refused for the secret, by name
    for value in (v for v in secret_vars.values() if isinstance(v, str)):
        assert value not in out
    assert "s3cr3t-v" not in out


def ansible_env(tmp_path) -> dict:
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }


# The wiring: playbooks with the example inventories, on this machine (connection local).


def local_inventory(env: str, tmp_path, vault: dict | None = None):
    """inventories/<env> with every group on localhost and vault.yml from vault.example.yml."""
    inv = tmp_path / env
    shutil.copytree(ROOT / "inventories" / env, inv)
    groups = {g: {"hosts": {"localhost": None}} for g in ("vps", "postgresql", "redis", "nocodb")}
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": groups}}))
    # Read, then removed: Ansible would parse any YAML left in the inventory dir as hosts.
    example = yaml.safe_load((inv / "vault.example.yml").read_text())
    (inv / "vault.example.yml").unlink()
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


# site.yml's first play: every role's checks for every host, before any role changes anything.


def test_site_runs_the_validation_play_first(tmp_path):
    inv = local_inventory("staging", tmp_path)
    res = run_playbook("site.yml", inv, tmp_path, "--list-tasks")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    plays = [line.split("play #", 1)[1] for line in res.stdout.splitlines() if "play #" in line]
    assert "Validate every role's variables before any change" in plays[0], plays
    assert "Host baseline" in plays[1], plays


def test_validation_play_passes_the_example_inventory(tmp_path):
    inv = local_inventory("staging", tmp_path)
    res = run_playbook("validate.yml", inv, tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert "changed=0" in res.stdout


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["-e", "redis_port=70000"], "redis_port=70000 is out of range"),
        (["-e", "pgbackrest_compress_type=gzip"], "pgbackrest_compress_type must be one of"),
        (["-e", "postgresql_max_connections=0"], "postgresql_max_connections=0: allowed 5..10000"),
    ],
    ids=["redis", "pgbackrest", "postgresql"],
)
def test_validation_play_stops_a_later_role_before_base(extra, expected, tmp_path):
    inv = local_inventory("staging", tmp_path)
    res = run_playbook("validate.yml", inv, tmp_path, *extra)
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode != 0, out[-2000:]
    assert expected in out, out[-3000:]


@pytest.mark.parametrize(
    "vault_var", ["vault_redis_admin_password", "vault_nocodb_jwt_secret", "vault_postgresql_app_password"]
)
def test_validation_play_names_a_missing_secret(vault_var, tmp_path):
    inv = local_inventory("staging", tmp_path)
    vault = inv / "group_vars" / "all" / "vault.yml"
    data = yaml.safe_load(vault.read_text())
    secret = data.pop(vault_var)
    vault.write_text(yaml.safe_dump(data))
    res = run_playbook("validate.yml", inv, tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    assert vault_var in out, out[-3000:]
    assert secret not in out
