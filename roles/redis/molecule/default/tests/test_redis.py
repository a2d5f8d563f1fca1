"""Behaviour of the converged redis role, one behaviour per test."""

import pytest

ADMIN = ("admin", "molecule-admin-password")
APP = ("app", "molecule-app-password")
MONITOR = ("monitor", "molecule-monitor-password")


def cli(host, user, *args):
    """redis-cli as an ACL user; the password goes through the environment, not argv."""
    name, password = user
    cmd = " ".join(args)
    return host.run(f"REDISCLI_AUTH='{password}' redis-cli --no-auth-warning --user {name} {cmd}")


def test_service_active_and_enabled(host):
    svc = host.service("redis-server")
    assert svc.is_running
    assert svc.is_enabled


def test_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:6379").is_listening
    assert not host.socket("tcp://0.0.0.0:6379").is_listening


def test_app_user_ping(host):
    assert cli(host, APP, "PING").stdout.strip() == "PONG"


def test_app_user_can_use_its_keys(host):
    assert cli(host, APP, "SET ved:molecule 1 EX 60").stdout.strip() == "OK"
    assert cli(host, APP, "GET ved:molecule").stdout.strip() == "1"


def test_app_user_denied_other_keys(host):
    assert "NOPERM" in cli(host, APP, "SET other:key 1").stdout


def test_wrong_password_refused(host):
    res = cli(host, ("app", "not-the-password"), "PING")
    assert "WRONGPASS" in res.stdout + res.stderr
    assert "PONG" not in res.stdout


def test_default_user_refused(host):
    out = host.run("redis-cli PING").stdout
    assert "NOAUTH" in out or "WRONGPASS" in out


@pytest.mark.parametrize("command", ["CONFIG GET maxmemory", "FLUSHALL", "KEYS \\*", "SHUTDOWN"])
def test_app_user_denied_dangerous(host, command):
    assert "NOPERM" in cli(host, APP, command).stdout


def test_debug_command_disabled_for_everyone(host):
    assert "not allowed" in cli(host, ADMIN, "DEBUG SLEEP 0").stdout


def test_monitor_user_reads_info_but_not_data(host):
    assert "redis_version" in cli(host, MONITOR, "INFO server").stdout
    assert "NOPERM" in cli(host, MONITOR, "GET ved:molecule").stdout


def test_maxmemory_and_policy_live(host):
    mem_kb = int(host.run("awk '/MemTotal/ {print $2}' /proc/meminfo").stdout)
    expected = (mem_kb // 1024) * 5 // 100 * 1024 * 1024
    out = cli(host, ADMIN, "CONFIG GET maxmemory").stdout.split()
    assert int(out[1]) == expected
    assert cli(host, ADMIN, "CONFIG GET maxmemory-policy").stdout.split()[1] == "allkeys-lru"


def test_config_not_world_readable(host):
    conf = host.file("/etc/redis/redis.conf")
    assert conf.user == "redis"
    assert conf.mode == 0o640
    assert "molecule-app-password" not in conf.content_string


def test_unit_hardened(host):
    props = host.run(
        "systemctl show redis-server -p NoNewPrivileges -p ProtectSystem -p MemoryMax -p PrivateTmp"
    ).stdout
    assert "NoNewPrivileges=yes" in props
    assert "ProtectSystem=strict" in props
    assert "PrivateTmp=yes" in props
    assert "MemoryMax=infinity" not in props
