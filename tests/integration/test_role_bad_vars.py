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
APP_USER = {"name": "app", "password": "an-app-password-of-20"}
GOOD_PG = {
    "postgresql_app_owner_password": "a-test-owner-password",
    "postgresql_readonly_password": "a-test-readonly-password",
}


def _pg_hba(address, database="all"):
    return [
        {
            "type": "hostssl",
            "database": database,
            "user": "all",
            "address": address,
            "method": "scram-sha-256",
        }
    ]


GOOD_NOCODB = {
    "nocodb_admin_email": "admin@vedfin.test",
    "nocodb_admin_password": "a-test-admin-password",
    "nocodb_jwt_secret": "a-test-jwt-secret-0123456789abcdef0123",
    "nocodb_connection_encrypt_key": "a-test-encrypt-key-0123456789abcdef0123",
    "nocodb_db_password": "a-test-nocodb-db-password",
    "nocodb_readonly_source_password": "a-test-readonly-password",
}
GOOD_BASE = {"base_firewall_ssh_sources": ["10.0.0.0/8"]}
# Injected SSH connection for the lock-out checks (the harness connects locally).
SSH_OK = {"base_controller_ssh_connection": "10.0.0.5 50000 10.0.0.9 22", "base_controller_ssh_user": "ops"}
# No PostgreSQL runs here: the live archive checks are for molecule (roles/pgbackrest).
GOOD_PGBACKREST = {
    "pgbackrest_repo_cipher_pass": "a-test-passphrase-of-30-chars!",
    "pgbackrest_require_archiving": False,
}
S3_PGBACKREST = {
    **GOOD_PGBACKREST,
    "pgbackrest_repo_type": "s3",
    "pgbackrest_repo_s3_bucket": "ved-backups",
    "pgbackrest_repo_s3_endpoint": "s3.example.test",
    "pgbackrest_repo_s3_region": "eu-1",
    "pgbackrest_repo_s3_key": "AKIA-TEST-KEY-VALUE",
    "pgbackrest_repo_s3_key_secret": "s3-secret-value-must-not-leak",
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
    # Issue 17: PostgreSQL world-open, work_mem bound, TLS floor, role limits, restart bounds.
    (
        "postgresql",
        {**GOOD_PG, "postgresql_listen_addresses": ["*"]},
        "postgresql_listen_addresses=['*'] listens on every interface",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_listen_addresses": ["localhost", "0.0.0.0"]},
        "listens on every interface (['0.0.0.0'])",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_listen_addresses": ["::"]},
        "set postgresql_allow_world_open: true to accept",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_hba_entries": _pg_hba("0.0.0.0/0")},
        "postgresql_hba_entries has addresses open to the world or a public range: ['0.0.0.0/0']",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_hba_entries": _pg_hba("::/0")},
        "open to the world or a public range: ['::/0']",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_hba_entries": _pg_hba("8.8.0.0/16", "vedfin")},
        "open to the world or a public range: ['8.8.0.0/16']",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_hba_entries": _pg_hba("all")},
        "open to the world or a public range: ['all']",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_tune_memory_mb": 4096, "postgresql_settings": {"work_mem": "4GB"}},
        "work_mem x max_connections = 4GB x 100 = 409600 MB exceeds the limit of 3072 MB",
    ),
    (
        "postgresql",
        {
            **GOOD_PG,
            "postgresql_tune_memory_mb": 4096,
            "postgresql_max_connections": 2000,
            "postgresql_settings": {"work_mem": "16MB"},
        },
        "16MB x 2000 = 32000 MB exceeds the limit of 3072 MB",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_settings": {"work_mem": 65536}},
        "postgresql_settings.work_mem=65536 must be a size with a unit",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_ssl_min_protocol_version": "TLSv1.1"},
        "postgresql_ssl_min_protocol_version must be one of: TLSv1.2, TLSv1.3",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_ssl_ciphers": "ALL:!aNULL"},
        "postgresql_ssl_ciphers=ALL:!aNULL: an OpenSSL cipher list",
    ),
    ("postgresql", {**GOOD_PG, "postgresql_ssl_ciphers": "HIGH:RC4"}, "that does not enable ALL, NULL"),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_app_owner_connection_limit": -1},
        "postgresql_app_owner_connection_limit=-1 / postgresql_readonly_connection_limit=30: allowed 1..100",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_readonly_connection_limit": 0},
        "postgresql_readonly_connection_limit=0: allowed 1..100",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_readonly_connection_limit": 500},
        "postgresql_readonly_connection_limit=500: allowed 1..100 (postgresql_max_connections)",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_readonly_statement_timeout": "forever"},
        "Bad timeouts: postgresql_readonly_statement_timeout=forever.",
    ),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_app_owner_idle_in_transaction_session_timeout": "-5s"},
        "Bad timeouts: postgresql_app_owner_idle_in_transaction_session_timeout=-5s.",
    ),
    ("postgresql", {**GOOD_PG, "postgresql_restart_burst": 0}, "postgresql_restart_burst=0 (1..100)"),
    (
        "postgresql",
        {**GOOD_PG, "postgresql_systemd_read_write_paths": ["var/lib/postgresql"]},
        "postgresql_systemd_read_write_paths=['var/lib/postgresql'] (absolute paths",
    ),
    # The opt-in: the world-open checks pass, the next check (the password) stops the run.
    (
        "postgresql",
        {
            **GOOD_PG,
            "postgresql_allow_world_open": True,
            "postgresql_listen_addresses": ["*"],
            "postgresql_hba_entries": _pg_hba("0.0.0.0/0"),
            "postgresql_app_owner_password": "",
        },
        "Missing or short: ['postgresql_app_owner_password']",
    ),
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
    # Issue 17: world-open binds, key patterns, command rules, secrets named, restart bounds.
    (
        "redis",
        {**GOOD_REDIS, "redis_bind_addresses": ["127.0.0.1", "0.0.0.0"]},
        "redis_bind_addresses has wildcard address(es) ['0.0.0.0'] that listen on every interface",
    ),
    (
        "redis",
        {**GOOD_REDIS, "redis_bind_addresses": ["::"]},
        "set redis_allow_world_open: true to accept (the play will warn)",
    ),
    (
        "redis",
        {**GOOD_REDIS, "redis_bind_addresses": ["*"]},
        "redis_bind_addresses has wildcard address(es) ['*']",
    ),
    ("redis", {**GOOD_REDIS, "redis_protected_mode": False}, "redis_protected_mode=false"),
    (
        "redis",
        {**GOOD_REDIS, "redis_users": [{**APP_USER, "keys": ["~*"]}]},
        "redis_users[name=app].keys has ['~*']: each entry must be one concrete key prefix",
    ),
    ("redis", {**GOOD_REDIS, "redis_users": [{**APP_USER, "keys": ["ved:* ~*"]}]}, "keys has ['ved:* ~*']"),
    ("redis", {**GOOD_REDIS, "redis_users": [{**APP_USER, "keys": ["%RW~*"]}]}, "keys has ['%RW~*']"),
    ("redis", {**GOOD_REDIS, "redis_users": [{**APP_USER, "keys": ["allkeys"]}]}, "keys has ['allkeys']"),
    (
        "redis",
        {**GOOD_REDIS, "redis_users": [{**APP_USER, "commands": "+@all -@dangerous"}]},
        "redis_users[name=app].commands grants ['+@all'] (scripting, SELECT, admin or every command)",
    ),
    (
        "redis",
        {
            **GOOD_REDIS,
            "redis_users": [{**APP_USER, "commands": "+get +eval +script|load +function +select +client"}],
        },
        "grants ['+eval', '+function', '+select', '+client', '+script|load']",
    ),
    (
        "redis",
        {**GOOD_REDIS, "redis_users": [{**APP_USER, "commands": "+get ~*"}]},
        "redis_users[name=app].commands has ['~*']: only command rules are allowed there",
    ),
    ("redis", {**GOOD_REDIS, "redis_users": [{**APP_USER, "channels": ["*"]}]}, "channels has ['*']"),
    (
        "redis",
        {"redis_admin_password": ""},
        "Missing or too short: redis_admin_password (inventories: vault_redis_admin_password)",
    ),
    (
        "redis",
        {"redis_admin_password": "{{ vault_redis_admin_password }}"},
        "'vault_redis_admin_password' is undefined",
    ),
    (
        "redis",
        {
            **GOOD_REDIS,
            "redis_users": [{"name": "app", "password": "short"}, {"name": "monitor", "password": ""}],
        },
        "Missing or too short: redis_users[name=app].password (inventories: vault_redis_app_password), "
        "redis_users[name=monitor].password (inventories: vault_redis_monitor_password)",
    ),
    ("redis", {**GOOD_REDIS, "redis_restart_sec": 30}, "redis_restart_sec=30 (allowed 1..20 s"),
    (
        "redis",
        {**GOOD_REDIS, "redis_start_limit_burst": 10, "redis_start_limit_interval_sec": 20},
        "must be greater than redis_start_limit_burst x redis_restart_sec",
    ),
    (
        "redis",
        {**GOOD_REDIS, "redis_extra_config": {"enable-debug-command": "yes", "Bind": "0.0.0.0"}},
        "redis_extra_config sets ['bind', 'enable-debug-command'], which the role owns",
    ),
    # Issue 17: closed SSH sources, world-open refused, lock-out checks, sshd settings.
    (
        "base",
        {"base_firewall_ssh_sources": []},
        "base_firewall_ssh_sources is empty: set it in the inventory",
    ),
    (
        "base",
        {"base_firewall_ssh_sources": ["0.0.0.0/0", "10.0.0.0/8"]},
        "World-open firewall sources ['0.0.0.0/0'] (base_firewall_ssh_sources /",
    ),
    (
        "base",
        {**GOOD_BASE, "base_firewall_allowed": [{"port": 5432, "sources": ["10.1.0.0/16", "::/0"]}]},
        "World-open firewall sources ['::/0']",
    ),
    (
        "base",
        {"base_firewall_ssh_sources": ["::/0"]},
        "set base_allow_world_open: true to accept (the play will warn)",
    ),
    (
        "base",
        {**GOOD_BASE, **SSH_OK, "base_controller_ssh_connection": "10.0.0.5 50000 10.0.0.9 2222"},
        "the controller reaches sshd on port 2222 (SSH_CONNECTION), but base_ssh_port=22",
    ),
    (
        "base",
        {**GOOD_BASE, **SSH_OK, "base_controller_ssh_connection": "192.0.2.7 50000 10.0.0.9 22"},
        "connects from 192.0.2.7 (SSH_CONNECTION), which is outside base_firewall_ssh_sources=['10.0.0.0/8']",
    ),
    (
        "base",
        {
            **GOOD_BASE,
            **SSH_OK,
            "base_controller_ssh_connection": "::ffff:192.0.2.7 50000 ::ffff:10.0.0.9 22",
        },
        "connects from ::ffff:192.0.2.7 (SSH_CONNECTION), which is outside base_firewall_ssh_sources",
    ),
    (
        "base",
        {**GOOD_BASE, **SSH_OK, "base_controller_ssh_connection": "10.0.0.5 22"},
        'SSH_CONNECTION="10.0.0.5 22" is not "client_ip client_port server_ip server_port"',
    ),
    (
        "base",
        {**GOOD_BASE, **SSH_OK, "base_controller_ssh_user": "root"},
        "the play logs in as root, and base_sshd_permit_root_login=no",
    ),
    (
        "base",
        {**GOOD_BASE, **SSH_OK, "base_controller_ssh_user": "nobody"},
        "which is neither base_ops_user=ops nor in base_sshd_allow_groups=['sshusers']",
    ),
    (
        "base",
        {**GOOD_BASE, "base_sshd_allow_groups": ["ssh users", "root"]},
        "base_sshd_allow_groups has entries that are not POSIX group names",
    ),
    (
        "base",
        {**GOOD_BASE, "base_sshd_ciphers": ["aes256-gcm@openssh.com", "aes128-cbc"]},
        "Not allowed: base_sshd_kex_algorithms [], base_sshd_ciphers ['aes128-cbc']",
    ),
    (
        "base",
        {
            **GOOD_BASE,
            "base_sshd_macs": ["hmac-sha1"],
            "base_sshd_kex_algorithms": ["diffie-hellman-group14-sha1"],
        },
        "base_sshd_kex_algorithms ['diffie-hellman-group14-sha1'], base_sshd_ciphers [], base_sshd_macs",
    ),
    ("base", {**GOOD_BASE, "base_sshd_ciphers": []}, "sshd algorithms must be non-empty lists"),
    (
        "base",
        {**GOOD_BASE, "base_sshd_permit_root_login": "yes"},
        "base_sshd_permit_root_login must be one of: no, prohibit-password",
    ),
    (
        "base",
        {**GOOD_BASE, "base_sshd_allow_tcp_forwarding": "yes"},
        "base_sshd_allow_tcp_forwarding must be one of: no, local",
    ),
    ("base", {**GOOD_BASE, "base_sshd_max_auth_tries": 10}, "base_sshd_max_auth_tries=10 (1..6)"),
    ("base", {**GOOD_BASE, "base_sshd_login_grace_time": 0}, "base_sshd_login_grace_time=0 (10..120 s)"),
    ("base", {**GOOD_BASE, "base_login_banner": "Host \\n on %h"}, "base_login_banner may not contain"),
    (
        "base",
        {**GOOD_BASE, "base_kernel_modules_disabled": ["usb storage"]},
        "base_kernel_modules_disabled must list module names",
    ),
    # Issue 17: NocoDB wildcard host, secrets named, restart bounds, managed env, build user.
    ("nocodb", {**GOOD_NOCODB, "nocodb_host": "0.0.0.0"}, "nocodb_host=0.0.0.0 listens on every interface"),
    ("nocodb", {**GOOD_NOCODB, "nocodb_host": "::"}, "set nocodb_allow_world_open: true to accept"),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_connection_encrypt_key": ""},
        "nocodb_connection_encrypt_key is not set "
        "(inventories map it from vault_nocodb_connection_encrypt_key)",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_connection_encrypt_key": "only-24-characters-long!"},
        "nocodb_connection_encrypt_key is shorter than 32 characters",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_admin_password": ""},
        "nocodb_admin_password is not set (inventories map it from vault_nocodb_admin_password)",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_jwt_secret": "short-jwt"},
        "nocodb_jwt_secret is shorter than 32 characters",
    ),
    ("nocodb", {**GOOD_NOCODB, "nocodb_restart_sec": 60}, "nocodb_restart_sec=60 (allowed 1..20 s"),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_start_limit_interval_sec": 5},
        "must be greater than nocodb_start_limit_burst x nocodb_restart_sec",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_extra_env": {"NC_DISABLE_TELE": "false"}},
        "nocodb_extra_env sets ['NC_DISABLE_TELE'], which the role manages",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_extra_env": {"NC_CONNECT_TO_EXTERNAL_DB_DISABLED": ""}},
        "nocodb_extra_env sets ['NC_CONNECT_TO_EXTERNAL_DB_DISABLED']",
    ),
    (
        "nocodb",
        {**GOOD_NOCODB, "nocodb_build_user": "root"},
        "nocodb_build_user=root must be an unprivileged",
    ),
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
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_repo_cipher_pass": "{{ vault_pgbackrest_repo_cipher_pass }}"},
        "'vault_pgbackrest_repo_cipher_pass' is undefined",
    ),
    (
        "pgbackrest",
        {**GOOD_PGBACKREST, "pgbackrest_repo_cipher_pass": ""},
        "pgbackrest_repo_cipher_pass must be at least 20 characters (missing, empty or too short; "
        'set it from vault: "{{ vault_pgbackrest_repo_cipher_pass }}"',
    ),
    (
        "pgbackrest",
        {**S3_PGBACKREST, "pgbackrest_repo_s3_key": "{{ vault_pgbackrest_repo_s3_key }}"},
        "'vault_pgbackrest_repo_s3_key' is undefined",
    ),
    (
        "pgbackrest",
        {**S3_PGBACKREST, "pgbackrest_repo_s3_key": ""},
        "pgbackrest_repo_type=s3 needs pgbackrest_repo_s3_key (missing or empty). Set it from vault: "
        'pgbackrest_repo_s3_key: "{{ vault_pgbackrest_repo_s3_key }}"',
    ),
    (
        "pgbackrest",
        {**S3_PGBACKREST, "pgbackrest_repo_s3_key_secret": ""},
        "pgbackrest_repo_type=s3 needs pgbackrest_repo_s3_key_secret (missing or empty). Set it from vault: "
        'pgbackrest_repo_s3_key_secret: "{{ vault_pgbackrest_repo_s3_key_secret }}"',
    ),
    (
        "pgbackrest",
        {**S3_PGBACKREST, "pgbackrest_repo_s3_region": ""},
        "pgbackrest_repo_type=s3 needs pgbackrest_repo_s3_bucket, pgbackrest_repo_s3_endpoint and "
        "pgbackrest_repo_s3_region",
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
    ("role", "role_vars"),
    [
        ("redis", GOOD_REDIS),
        ("base", GOOD_BASE),
        ("base", {**GOOD_BASE, **SSH_OK}),
        ("pgbackrest", GOOD_PGBACKREST),
    ],
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


def test_nocodb_encrypt_key_not_logged_on_rejection(tmp_path):
    secret = "too-short-encrypt-key"  # under 32 characters: rejected
    res = run_role_validation("nocodb", {**GOOD_NOCODB, "nocodb_connection_encrypt_key": secret}, tmp_path)
    assert res.returncode != 0
    assert secret not in res.stdout + res.stderr


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
