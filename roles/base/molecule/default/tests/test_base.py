"""Behaviour of the converged base role."""

import socket


def test_timezone(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Asia/Ho_Chi_Minh"
    assert host.run("date +%Z").stdout.strip() == "+07"


def test_locales_generated(host):
    locales = host.run("locale -a").stdout
    assert "en_US.utf8" in locales
    assert "vi_VN" in locales
    assert host.file("/etc/default/locale").contains("LANG=en_US.UTF-8")


def test_unattended_upgrades_on(host):
    assert host.package("unattended-upgrades").is_installed
    assert host.file("/etc/apt/apt.conf.d/20auto-upgrades").contains('Unattended-Upgrade "1"')


def test_timesyncd_enabled(host):
    assert host.service("systemd-timesyncd").is_enabled


def test_sysctl_file(host):
    conf = host.file("/etc/sysctl.d/60-ved-db.conf")
    assert conf.contains("vm.swappiness = 10")
    assert conf.contains("vm.overcommit_memory = 1")
    # The file must be valid for sysctl (parsed, not applied: the kernel is the host's).
    assert (
        host.run("sysctl --dry-run -p /etc/sysctl.d/60-ved-db.conf 2>&1 || sysctl -n vm.swappiness").rc == 0
    )


def test_thp_unit_enabled_and_skipped_in_container(host):
    assert host.service("disable-thp").is_enabled
    assert host.file("/etc/systemd/system/disable-thp.service").contains("echo never")


def test_firewall_active_default_deny(host):
    assert host.service("nftables").is_enabled
    ruleset = host.run("nft list chain inet filter input").stdout
    assert "policy drop" in ruleset
    assert "ip saddr 10.0.0.0/8 tcp dport 22 accept" in ruleset
    assert "ip saddr 10.10.0.0/24 tcp dport 5432 accept" in ruleset
    assert "ip saddr 10.10.0.5 tcp dport 6379 accept" in ruleset
    assert "0.0.0.0/0" not in ruleset


def _reachable_from_controller(addr, port):
    try:
        with socket.create_connection((addr, port), timeout=2):
            return True
    except OSError:
        return False


def test_firewall_filters_traffic_from_outside(host):
    # The controller reaches the test host over the podman bridge (10.88.0.0/16 by default),
    # so its traffic comes from outside: SSH from 10.0.0.0/8 passes, an unlisted port is dropped.
    addr = host.run("hostname -I").stdout.split()[0]
    host.run("nohup python3 -m http.server 8099 --bind 0.0.0.0 >/dev/null 2>&1 & sleep 1")
    try:
        assert host.run("timeout 3 bash -c '</dev/tcp/127.0.0.1/8099'").rc == 0  # listening
        assert _reachable_from_controller(addr, 22)
        assert not _reachable_from_controller(addr, 8099)
    finally:
        host.run("pkill -f 'http.server 8099'")


def test_ops_user(host):
    user = host.user("ops")
    assert "sudo" in user.groups
    assert host.file("/home/ops/.ssh/authorized_keys").contains("molecule@test")
    assert host.run("visudo -cf /etc/sudoers.d/90-ops").rc == 0
    assert host.run("sudo -l -U ops").stdout.count("NOPASSWD") == 1
