"""Behaviour of the converged pgbackrest role, one behaviour per test."""

from __future__ import annotations

import base64
import json

CONF = "/etc/pgbackrest/pgbackrest.conf"


def as_postgres(host, cmd):
    return host.run("runuser -u postgres -- " + cmd)


def info(host):
    res = as_postgres(host, "pgbackrest --stanza=main --output=json info")
    assert res.rc == 0, res.stderr
    return json.loads(res.stdout)[0]


def test_package_installed(host):
    assert host.package("pgbackrest").is_installed


def test_config_holds_the_passphrase_privately(host):
    conf = host.file(CONF)
    assert conf.user == "postgres"
    assert conf.mode == 0o640
    assert conf.contains("^repo1-cipher-type=aes-256-cbc$")
    assert conf.contains("^compress-type=zst$")
    assert conf.contains("^repo1-retention-full=2$")
    assert conf.contains("^repo1-retention-diff=3$")


def test_archiving_is_live_through_postgresql_settings(host):
    res = as_postgres(host, "psql -XAt -c 'SHOW archive_mode' -c 'SHOW archive_command'")
    assert res.stdout.strip().split("\n") == ["on", "pgbackrest --stanza=main archive-push %p"]
    # Set by the postgresql role's override layer, not behind its back.
    assert host.file("/etc/postgresql/15/main/postgresql.conf").contains("archive_command")
    assert not host.file("/var/lib/postgresql/15/main/postgresql.auto.conf").contains("archive")


def test_stanza_exists_encrypted(host):
    data = info(host)
    assert data["status"]["code"] in (0, 2)
    assert data["cipher"] == "aes-256-cbc"


def test_pgbackrest_check_passes(host):
    res = as_postgres(host, "pgbackrest --stanza=main check")
    assert res.rc == 0, res.stderr


def test_repository_is_encrypted_at_rest(host):
    # An encrypted info file does not start with pgBackRest's plain-text "[backrest]" header.
    res = host.run("head -c 10 /var/lib/pgbackrest/archive/main/archive.info | base64")
    assert res.rc == 0
    assert not base64.b64decode(res.stdout.strip()).startswith(b"[backrest]")


def test_timers_active_and_enabled(host):
    for name in ("full", "diff"):
        timer = host.service(f"ved-pgbackrest-{name}.timer")
        assert timer.is_running, name
        assert timer.is_enabled, name


def test_timer_schedule_and_persistence(host):
    full = host.file("/etc/systemd/system/ved-pgbackrest-full.timer")
    assert full.contains("^OnCalendar=Sun \\*-\\*-\\* 02:30:00$")
    assert full.contains("^Persistent=true$")
    assert full.contains("^Unit=ved-pgbackrest-backup@full.service$")
    diff = host.file("/etc/systemd/system/ved-pgbackrest-diff.timer")
    assert diff.contains("^OnCalendar=Mon..Sat \\*-\\*-\\* 02:30:00$")
    assert diff.contains("^Unit=ved-pgbackrest-backup@diff.service$")


def test_drill_timer_weekly_and_enabled(host):
    timer = host.service("ved-pgbackrest-drill.timer")
    assert timer.is_running and timer.is_enabled
    unit = host.file("/etc/systemd/system/ved-pgbackrest-drill.timer")
    assert unit.contains("^OnCalendar=Sun \\*-\\*-\\* 05:00:00$")
    assert unit.contains("^Persistent=true$")
    assert unit.contains("^RandomizedDelaySec=10min$")
    assert unit.contains("^Unit=ved-pgbackrest-drill.service$")
    props = host.run("systemctl show ved-pgbackrest-drill.service -p OnFailure -p User").stdout
    assert "OnFailure=ved-pgbackrest-failure@ved-pgbackrest-drill.service.service" in props
    assert "User=postgres" in props
    scratch = host.file("/var/lib/postgresql/ved-restore-drill")
    assert scratch.is_directory and scratch.user == "postgres" and scratch.mode == 0o700


def test_role_exports_the_backup_metrics(host):
    # Converge wrote them (no backup yet: the schedule's limits, no last success, so
    # BackupMetricsMissing still tells that this host has no backup).
    prom = host.file("/var/lib/prometheus/node-exporter/ved_backup.prom").content_string
    assert 'ved_backup_max_age_seconds{stanza="main",type="full"} 630600' in prom  # 7d + 10min + 6h + 1h
    assert 'ved_backup_max_age_seconds{stanza="main",type="diff"} 198600' in prom  # Sat -> Mon: 2d + ...
    assert host.file("/var/lib/pgbackrest/status/backup-state.json").user == "postgres"


def test_backup_unit_has_failure_hook(host):
    res = host.run("systemctl show ved-pgbackrest-backup@full.service -p OnFailure -p User")
    assert "OnFailure=ved-pgbackrest-failure@ved-pgbackrest-backup@full.service.service" in res.stdout
    assert "User=postgres" in res.stdout


def test_status_dir_readable(host):
    d = host.file("/var/lib/pgbackrest/status")
    assert d.is_directory
    assert d.mode == 0o755


LOCK_DIR = "/tmp/pgbackrest"  # noqa: S108 pgBackRest's default lock-path, not a temp file


def exposure(host, unit):
    res = host.run("systemd-analyze security --no-pager %s", unit)
    assert res.rc == 0, res.stderr
    line = [ln for ln in res.stdout.splitlines() if "Overall exposure level" in ln][-1]
    return float(line.split(":")[1].split()[0])


def test_units_are_sandboxed(host):
    # Before the sandbox: backup 9.0, failure hook 9.6 (UNSAFE). Target <= 5.0 each; the
    # round-trip and kill tests (test_roundtrip.py) prove the sandboxed backup still works.
    scores = {
        unit: exposure(host, unit)
        for unit in (
            "ved-pgbackrest-backup@full.service",
            "ved-pgbackrest-drill.service",
            "ved-pgbackrest-failure@x.service",
        )
    }
    print("SYSTEMD-ANALYZE", scores)
    assert all(score <= 5.0 for score in scores.values()), scores
    props = host.run(
        "systemctl show ved-pgbackrest-backup@full.service -p ProtectSystem -p PrivateNetwork "
        "-p RestrictAddressFamilies -p CapabilityBoundingSet -p ReadWritePaths -p RemoveIPC"
    ).stdout
    assert "ProtectSystem=strict" in props
    assert "PrivateNetwork=yes" in props  # posix repository: no network
    assert "RestrictAddressFamilies=AF_UNIX" in props
    assert "CapabilityBoundingSet=\n" in props
    assert "RemoveIPC=no" in props  # would remove PostgreSQL's shared memory (same user)
    for path in ("/var/lib/pgbackrest", "/var/log/pgbackrest", LOCK_DIR):
        assert path in props
    # The drill reads the repository and records, and writes only its scratch area & co.
    drill = host.run("systemctl show ved-pgbackrest-drill.service -p ReadWritePaths -p ProtectSystem").stdout
    assert "ProtectSystem=strict" in drill
    rw = drill.split("ReadWritePaths=", 1)[1].split("\n", 1)[0].split()
    assert "/var/lib/postgresql/ved-restore-drill" in rw
    assert "/var/lib/pgbackrest" not in rw and "/var/lib/pgbackrest/records" not in rw


def test_lock_directory_is_kept_for_the_sandboxed_unit(host):
    lock = host.file(LOCK_DIR)
    assert lock.is_directory and lock.user == "postgres" and lock.mode == 0o750
    assert host.file("/etc/tmpfiles.d/ved-pgbackrest.conf").contains(
        "^d /tmp/pgbackrest 0750 postgres postgres -$"
    )
