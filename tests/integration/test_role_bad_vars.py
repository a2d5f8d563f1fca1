"""Bad role variables are rejected before any change, with a message naming the variable.

Each case runs the real role through ansible-playbook against this machine, limited to the
role's validation (argument_specs + `--tags validate`) in check mode: validation is the
first thing a role does, so a rejection here is a rejection before anything is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from ansible_run import ROOT

GOOD_REDIS = {"redis_admin_password": "a-test-admin-password"}


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
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }
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
        env=env,
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


@pytest.mark.parametrize(("role", "role_vars"), [("redis", GOOD_REDIS), ("base", {})])
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
