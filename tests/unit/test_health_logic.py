"""Threshold logic, settings normalization, backup ages and rendering of the health checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils import vedfin_health as vh
from ansible.module_utils.vedfin_health import registry
from ansible.module_utils.vedfin_health import report as vr

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "DATABASE_TROUBLESHOOTING.md"
ABOVE = {"warn": 10, "crit": 20, "direction": "above"}
BELOW = {"warn": 0.99, "crit": 0.95, "direction": "below"}


@pytest.mark.parametrize(
    ("value", "threshold", "status"),
    [
        (9.99, ABOVE, "ok"),
        (10, ABOVE, "warn"),
        (19, ABOVE, "warn"),
        (20, ABOVE, "crit"),
        (0.995, BELOW, "ok"),
        (0.99, BELOW, "warn"),
        (0.95, BELOW, "crit"),
        (0.5, BELOW, "crit"),
        (5, {"warn": 1, "crit": None, "direction": "above"}, "warn"),
        (5, {"warn": None, "crit": None, "direction": "above"}, "ok"),
        (None, ABOVE, "ok"),
        (123, None, "ok"),
    ],
)
def test_grade(value, threshold, status):
    assert vh.grade(value, threshold) == status


def test_thresholds_override_and_keep_direction():
    merged = vh.validate_thresholds({"pg_connections": {"warn": 0.5}, "redis_hit_rate": {"crit": None}})
    assert merged["pg_connections"] == {"warn": 0.5, "crit": 0.9, "direction": "above"}
    assert merged["redis_hit_rate"]["crit"] is None and merged["redis_hit_rate"]["direction"] == "below"
    assert vh.validate_thresholds(None) == vh.DEFAULT_THRESHOLDS
    assert set(vh.DEFAULT_THRESHOLDS) <= set(vh.CHECKS)
    for name, t in vh.DEFAULT_THRESHOLDS.items():
        assert t["direction"] in ("above", "below"), name


def test_select_checks_sections_and_names():
    assert vh.select_checks() == list(vh.CHECKS)
    assert vh.select_checks(["redis"]) == [n for n in vh.CHECKS if n.startswith("redis_")]
    assert vh.select_checks(["host", "pg_version"]) == [
        "pg_version",
        "host_disk",
        "host_memory",
        "host_memory_budget",
    ]
    assert "backup_timers" not in vh.select_checks(None, ["backup_timers"])


def test_registry_is_in_report_order_and_refuses_mistakes():
    sections = [spec.section for spec in vh.CHECKS.values()]
    assert sections == sorted(sections, key=vh.SECTIONS.index)  # whatever the import order
    assert all(spec.fn.__name__ == name for name, spec in vh.CHECKS.items())  # one function per check
    assert {n for n, spec in vh.CHECKS.items() if spec.threshold} == set(vh.DEFAULT_THRESHOLDS)
    check = registry.section("host")
    with pytest.raises(ValueError, match="registered twice"):
        check("host_disk", "again", anchor="a", remedy="r")(lambda ctx: vh.Outcome())
    with pytest.raises(ValueError, match="either above or below"):
        check("host_x", "x", anchor="a", remedy="r", above=(1, 2), below=(2, 1))
    with pytest.raises(ValueError, match="unknown health section 'system'"):
        registry.section("system")
    assert "host_x" not in vh.CHECKS


def test_sql_location_is_explicit():
    with pytest.raises(vh.HealthError, match="no health SQL given"):
        vh.load_sql()
    assert vh.load_sql(texts={"overview.sql": "SELECT 1"}) == {"overview": "SELECT 1"}


def test_summarize_and_worst():
    checks = [{"name": "a", "status": "ok"}, {"name": "b", "status": "crit"}, {"name": "c", "status": "warn"}]
    assert vh.summarize(checks) == {
        "status": "crit",
        "counts": {"ok": 1, "warn": 1, "crit": 1},
        "crit": ["b"],
        "warn": ["c"],
    }
    assert vh.summarize([])["status"] == "ok"


@pytest.mark.parametrize(
    ("value", "unit", "vartype", "expected"),
    [
        ("16384", "8kB", "integer", 131072.0),
        ("128MB", "8kB", "integer", 131072.0),
        ("4096", "kB", "integer", 4096.0),
        ("4MB", "kB", "integer", 4096.0),
        ("1GB", "MB", "integer", 1048576.0),
        ("300", "s", "integer", 300000.0),
        ("5min", "s", "integer", 300000.0),
        ("200ms", "ms", "integer", 200.0),
        ("1.1", None, "real", 1.1),
        ("100", None, "integer", 100.0),
        ("true", None, "bool", "on"),
        ("off", None, "bool", "off"),
        ("'LZ4'", None, "enum", "lz4"),
        ("5weeks", "s", "integer", "5weeks"),
    ],
)
def test_normalize_setting(value, unit, vartype, expected):
    assert vh.normalize_setting(value, unit, vartype) == expected


def test_settings_drift_compares_normalized_values():
    rows = [
        {
            "name": "shared_buffers",
            "setting": "16384",
            "unit": "8kB",
            "vartype": "integer",
            "source": "default",
        },
        {"name": "work_mem", "setting": "4096", "unit": "kB", "vartype": "integer", "source": "default"},
        {"name": "jit", "setting": "on", "unit": None, "vartype": "bool", "source": "default"},
    ]
    diffs, unknown = vh.settings_drift(
        rows, {"shared_buffers": "128MB", "work_mem": "8MB", "jit": "off", "x": "1"}
    )
    assert [d["name"] for d in diffs] == ["jit", "work_mem"] and unknown == ["x"]
    assert diffs[1] == {"name": "work_mem", "current": "4096 kB", "recommended": "8MB", "source": "default"}


def test_backup_ages_from_pgbackrest_info_and_status_file():
    now = 1_700_000_000.0
    info = [
        {
            "name": "main",
            "backup": [
                {"type": "full", "timestamp": {"start": now - 50 * 3600, "stop": now - 48 * 3600}},
                {"type": "diff", "timestamp": {"start": now - 7300, "stop": now - 7200}},
            ],
        }
    ]
    assert vh.backup_ages(info, None, now) == {"full": 48.0, "any": 2.0}
    assert vh.backup_ages(None, None, now) == {"full": None, "any": None}
    newer_full = {"type": "full", "finished_at": "2023-11-14T21:13:20+00:00"}  # == now - 3600
    assert vh.backup_ages(info, newer_full, now) == {"full": 1.0, "any": 1.0}
    assert vh.backup_ages([], {"type": "incr", "finished_at": "garbage"}, now) == {"full": None, "any": None}


# -- rendering -------------------------------------------------------------------------------
def sample_result() -> dict:
    t = vh.validate_thresholds(None)
    checks = [
        vh.make_check("pg_version", "15.8", t),
        vh.make_check("pg_connections", 0.95, t, details={"connections": 95}),
        vh.make_check("pg_cache_hit_ratio", 0.97, t),
        vh.make_check("pg_unused_indexes", 2, t, note="idx_scan = 0 | since reset"),
        vh.make_check("pg_replication_slots", 3 * 1024**3, t),
        vh.make_check("pg_wal_rate", 5 * 1024**2, t),
        vh.make_check("pg_long_transactions", 4000.0, t),
        vh.make_check(
            "pg_slow_statements",
            12.5,
            t,
            details={"by_total": [{"queryid": "123456789", "query": "SELECT 1", "total_ms": 50.0}]},
        ),
        vh.make_check(
            "pg_sizes",
            10 * 1024**2,
            t,
            details={"databases": [], "tables": [{"name": "public.t", "size_bytes": 2 * 1024**2}]},
        ),
        vh.make_check("backup_last_failure", False, t, status="ok"),
        vh.make_check("backup_full_age", None, t, status="crit", note="no backup found"),
    ]
    return {
        "schema_version": 1,
        "host": "vps1",
        "generated_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 0.5,
        "summary": vh.summarize(checks),
        "checks": checks,
    }


def test_format_value():
    assert vr.format_value({"value": 0.9531, "unit": "ratio"}) == "95.3 %"
    assert vr.format_value({"value": 3 * 1024**3, "unit": "bytes"}) == "3.0 GB"
    assert vr.format_value({"value": 512, "unit": "bytes"}) == "512 B"
    assert vr.format_value({"value": 2048, "unit": "bytes/h"}) == "2.0 kB/h"
    assert vr.format_value({"value": 4000.0, "unit": "s"}) == "4,000 s"
    assert vr.format_value({"value": 1.25, "unit": "s"}) == "1.2 s"
    assert vr.format_value({"value": 30.0, "unit": "h"}) == "30.0 h"
    assert vr.format_value({"value": True, "unit": ""}) == "yes"
    assert vr.format_value({"value": None, "unit": "ms"}) == "-"
    assert vr.format_value({"value": 3, "unit": "count"}) == "3"


def test_markdown_lists_problems_first_with_remedies():
    md = vr.render_markdown(sample_result())
    assert md.startswith("# Health of vps1: CRIT")
    attention = md.split("## Needs attention")[1].split("## All checks")[0]
    lines = [ln for ln in attention.splitlines() if ln.startswith("- ")]
    assert lines[0].startswith("- **CRIT**") and lines[-1].startswith("- **WARN**")
    assert "DATABASE_TROUBLESHOOTING.md#connection-exhaustion" in md
    assert "| OK | PostgreSQL version (`pg_version`) | 15.8 | - |" in md
    assert "idx_scan = 0 \\| since reset" in md  # pipes escaped in table cells
    assert "warn >= 70.0 %, crit >= 90.0 %" in md


def test_html_dashboard_is_self_contained(tmp_path):
    path = tmp_path / "health-vps1.json"
    path.write_text(json.dumps(sample_result()))
    out = vr.write_reports(vr.load_result(path), path)
    page = Path(out["html"]).read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "pg_connections" in page and "CRIT" in page
    assert Path(out["md"]).read_text().startswith("# Health of vps1")


def test_html_without_chart_data(tmp_path):
    result = sample_result()
    result["checks"] = [vh.make_check("pg_version", "15.8", {})]
    result["summary"] = vh.summarize(result["checks"])
    page = vr.render_html(result)
    assert "no data." in page and page.count("data:image/png;base64,") == 1


def test_render_rejects_other_schemas(tmp_path):
    with pytest.raises(vh.HealthError, match="unsupported health result schema_version 2"):
        vr.render_markdown({"schema_version": 2})
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(vh.HealthError, match="cannot read the health result"):
        vr.load_result(bad)


def test_tool_renders_and_gates(tmp_path):
    path = tmp_path / "health-vps1.json"
    path.write_text(json.dumps(sample_result()))
    tool = [sys.executable, str(ROOT / "tools" / "health_report.py")]
    plain = subprocess.run([*tool, str(path)], capture_output=True, text=True, check=False)
    assert plain.returncode == 0 and "vps1: crit" in plain.stdout
    assert (tmp_path / "health-vps1.html").exists() and (tmp_path / "health-vps1.md").exists()
    gate = subprocess.run([*tool, "--gate", str(path)], capture_output=True, text=True, check=False)
    assert (
        gate.returncode == 1
        and "crit checks: vps1:pg_connections, vps1:pg_long_transactions, vps1:backup_full_age" in gate.stderr
    )
    missing = subprocess.run(
        [*tool, str(tmp_path / "nope.json")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2 and "cannot read the health result" in missing.stderr


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_remedy_points_to_a_runbook_section():
    anchors = {_slug(m) for m in re.findall(r"^#{2,3} (.+)$", RUNBOOK.read_text(), re.M)}
    wanted = {spec[3] for spec in vh.CHECKS.values()} | {"service-unreachable"}
    assert wanted <= anchors, sorted(wanted - anchors)
    for section in (
        "slow-queries",
        "seq-scan-instead-of-index",
        "connection-exhaustion",
        "cache-hit-rate-low",
        "redis-evictions",
        "disk-full-or-wal-growth",
        "replication-lag",
        "failed-backup-timer",
        "pending-restart-after-tuning",
        "migration-lock-timeout",
    ):
        assert section in anchors


# -- security baseline -------------------------------------------------------------------------
def hba(line, kind, method, address=None, netmask=None, error=None, db="all", user="all"):
    return {
        "line_number": line,
        "type": kind,
        "database": [db],
        "user_name": [user],
        "address": address,
        "netmask": netmask,
        "auth_method": method,
        "error": error,
    }


ANY_V4 = "0.0.0.0"  # noqa: S104 - a pg_hba address under test, nothing binds to it
ROLE_HBA = [  # what the postgresql role writes
    hba(1, "local", "peer", user="postgres"),
    hba(2, "local", "scram-sha-256"),
    hba(3, "host", "scram-sha-256", "127.0.0.1", "255.255.255.255"),
    hba(4, "host", "scram-sha-256", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    hba(5, "hostssl", "scram-sha-256", "10.0.0.0", "255.255.255.0"),
]


@pytest.mark.parametrize(
    ("rule", "listen", "status", "words"),
    [
        (hba(9, "local", "trust"), "localhost", "crit", "trust lets anyone in"),
        (hba(9, "host", "trust", "127.0.0.1", "255.255.255.255"), "localhost", "crit", "trust"),
        (hba(9, "host", "password", "10.0.0.0", "255.0.0.0"), "*", "crit", "clear text"),
        (hba(9, "hostssl", "password", "10.0.0.0", "255.0.0.0"), "*", "warn", "clear text"),
        (hba(9, "hostssl", "md5", "10.0.0.0", "255.0.0.0"), "*", "warn", "md5 (use scram-sha-256)"),
        (hba(9, "host", "ident", "10.0.0.5", "255.255.255.255"), "*", "crit", "ident over TCP"),
        (hba(9, "host", "scram-sha-256", "10.0.0.0", "255.0.0.0"), "*", "warn", "not TLS-only"),
        (hba(9, "hostssl", "scram-sha-256", ANY_V4, ANY_V4), "*", "warn", "whole Internet"),
        (hba(9, "hostssl", "scram-sha-256", "all"), ANY_V4, "warn", "whole Internet"),
        (hba(9, "hostssl", "scram-sha-256", "::", "::"), "*", "warn", "whole Internet"),
        (hba(9, "hostssl", "md5", None, error="invalid authentication method"), "*", "warn", "does not load"),
    ],
)
def test_sec_hba_flags_weak_lines(rule, listen, status, words):
    got, value, note, details = vh.sec_hba([*ROLE_HBA, rule], listen)
    assert got == status and value >= 1 and words in note and details[0]["line"] == 9


def test_sec_hba_role_default_and_harmless_lines_are_ok():
    assert vh.sec_hba(ROLE_HBA, "localhost,10.0.0.2")[0] == "ok"
    local_ident = hba(9, "local", "ident")  # on the socket, ident means peer
    world_open_but_loopback_only = hba(10, "hostssl", "scram-sha-256", ANY_V4, ANY_V4)
    reject = hba(11, "host", "reject", ANY_V4, ANY_V4)
    rules = [*ROLE_HBA, local_ident, world_open_but_loopback_only, reject]
    assert vh.sec_hba(rules, "127.0.0.1")[:2] == ("ok", 0)


@pytest.mark.parametrize(
    ("listen", "beyond"),
    [
        ("localhost", False),
        ("127.0.0.1,::1", False),
        ("", False),
        ("*", True),
        ("10.0.0.2", True),
        ("db1", True),
    ],
)
def test_listens_beyond_loopback(listen, beyond):
    assert vh.listens_beyond_loopback(listen) is beyond


def role(name, **attrs):
    base = {"rolname": name, "rolsuper": False, "rolcreaterole": False, "rolbypassrls": False}
    return {
        **base,
        "rolcanlogin": True,
        "md5_password": False,
        "no_password": False,
        "server_file_roles": [],
        **attrs,
    }


def test_sec_password_encryption_and_md5_hashes():
    assert vh.sec_password_encryption("scram-sha-256")[0] == "ok"
    assert vh.sec_password_encryption("md5")[:2] == ("crit", "md5")
    roles = [
        role("postgres", rolsuper=True, no_password=True),
        role("vedfin_owner"),
        role("legacy", md5_password=True),
    ]
    status, value, note, details = vh.sec_md5_passwords(roles)
    assert (status, value) == ("warn", 1) and details[0]["role"] == "legacy"
    assert "without a password (peer/cert only): postgres" in note
    assert vh.sec_md5_passwords(roles[:2])[:2] == ("ok", 0)


def test_sec_superusers():
    roles = [role("postgres", rolsuper=True), role("vedfin_owner"), role("analytics_ro")]
    assert vh.sec_superusers(roles)[:2] == ("ok", 0)
    bad = [
        *roles,
        role("admin", rolsuper=True),
        role("etl", server_file_roles=["pg_read_server_files"]),
        role("ops", rolcreaterole=True, rolbypassrls=True),
    ]
    status, value, note, details = vh.sec_superusers(bad)
    assert (status, value) == ("crit", 4)
    assert [d["finding"] for d in details] == [
        "admin is SUPERUSER",
        "etl is a member of pg_read_server_files (superuser-equivalent)",
        "ops has CREATEROLE",
        "ops has BYPASSRLS",
    ]
    assert vh.sec_superusers(bad, ["postgres", "admin", "etl", "ops"])[0] == "ok"  # declared in the inventory
    assert vh.sec_superusers([*roles, role("ops", rolcreaterole=True)])[0] == "warn"


def facts(**over):
    base = {
        "data_directory": {
            "path": "/var/lib/postgresql/15/main",
            "mode": "0700",
            "owner": "postgres",
            "is_dir": True,
        },
        "config_file": {
            "path": "/etc/postgresql/15/main/postgresql.conf",
            "mode": "0644",
            "owner": "postgres",
        },
        "hba_file": {"path": "/etc/postgresql/15/main/pg_hba.conf", "mode": "0640", "owner": "postgres"},
        "ident_file": {"path": "/etc/postgresql/15/main/pg_ident.conf", "mode": "0640", "owner": "root"},
    }
    for key, value in over.items():
        base[key] = {**base[key], **value}
    return base


@pytest.mark.parametrize(
    ("over", "status", "words"),
    [
        ({}, "ok", "data_directory 0700"),
        ({"data_directory": {"mode": "0750"}}, "ok", "0750"),
        ({"data_directory": {"mode": "0755"}}, "crit", "data directory mode 0755"),
        ({"data_directory": {"owner": "root"}}, "crit", "owned by root, not postgres"),
        ({"config_file": {"mode": "0664"}}, "crit", "writable by group/other"),
        ({"hba_file": {"owner": "www-data"}}, "crit", "owned by www-data"),
        ({"hba_file": {"mode": "0644"}}, "warn", "world-readable"),
        ({"config_file": {"error": "No such file or directory"}}, "warn", "cannot stat"),
    ],
)
def test_sec_file_modes(over, status, words):
    got, _, note, _ = vh.sec_file_modes(facts(**over))
    assert got == status and words in note


def test_file_facts_stats_the_host(tmp_path):
    d = tmp_path / "data"
    d.mkdir(mode=0o700)
    d.chmod(0o700)
    got = vh.file_facts({"data_directory": str(d), "hba_file": str(tmp_path / "nope"), "ident_file": ""})
    assert got["data_directory"]["mode"] == "0700" and got["data_directory"]["is_dir"]
    assert "error" in got["hba_file"] and "ident_file" not in got


@pytest.mark.parametrize(
    ("settings", "status"),
    [
        ({"ssl": "on", "ssl_min_protocol_version": "TLSv1.2", "listen_addresses": "*"}, "ok"),
        ({"ssl": "on", "ssl_min_protocol_version": "TLSv1.3", "listen_addresses": "*"}, "ok"),
        ({"ssl": "on", "ssl_min_protocol_version": "TLSv1.1", "listen_addresses": "*"}, "crit"),
        ({"ssl": "on", "ssl_min_protocol_version": "TLSv1", "listen_addresses": "localhost"}, "crit"),
        ({"ssl": "off", "ssl_min_protocol_version": "TLSv1.2", "listen_addresses": "10.0.0.2"}, "crit"),
        ({"ssl": "off", "ssl_min_protocol_version": "TLSv1.2", "listen_addresses": "localhost"}, "warn"),
    ],
)
def test_sec_ssl(settings, status):
    assert vh.sec_ssl(settings)[0] == status


ROLE_LOGGING = {
    "log_connections": "on",
    "log_disconnections": "on",
    "log_line_prefix": "%m [%p] %q%u@%d app=%a client=%h ",
    "log_min_duration_statement": "500",
}


def test_sec_logging():
    status, value, _, details = vh.sec_logging(ROLE_LOGGING)
    assert (status, value) == ("ok", 0) and details["log_min_duration_statement"] == "500"
    status, value, note, _ = vh.sec_logging(
        {**ROLE_LOGGING, "log_disconnections": "off", "log_line_prefix": "%m [%p] "}
    )
    assert (status, value) == ("warn", 3)
    assert "log_disconnections is off" in note and "no user (%u)" in note and "no database" in note


def test_sec_per_database_checks():
    per_db = [
        {"database": "postgres", "untrusted_languages": [], "public_create": False},
        {"database": "vedfin", "untrusted_languages": ["plpython3u"], "public_create": True},
        {"database": "locked", "error": "no pg_hba.conf entry"},
    ]
    status, value, note, _ = vh.sec_untrusted_languages(per_db)
    assert (status, value) == ("warn", 2) and "vedfin: plpython3u" in note and "locked: not checked" in note
    status, value, note, _ = vh.sec_public_schema(per_db)
    assert (status, value) == ("warn", 2) and "vedfin: PUBLIC has CREATE" in note
    assert vh.sec_untrusted_languages(per_db[:1])[:2] == ("ok", 0)
    assert vh.sec_public_schema(per_db[:1])[:2] == ("ok", 0)


def test_sec_preload_libraries():
    role_default = {
        "shared_preload_libraries": "pg_stat_statements,auto_explain",
        "session_preload_libraries": "",
    }
    assert vh.sec_preload_libraries(role_default)[:2] == ("ok", 0)
    odd = {
        **role_default,
        "session_preload_libraries": "$libdir/evil.so",
        "local_preload_libraries": "pg_cron",
    }
    status, value, note, _ = vh.sec_preload_libraries(odd)
    assert (status, value) == ("warn", 2) and "$libdir/evil.so" in note
    assert vh.sec_preload_libraries(odd, ["pg_stat_statements", "auto_explain", "evil", "pg_cron"])[0] == "ok"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"superuser": ["x"]}, "security must be a mapping with keys superusers, os_user, preload_libraries"),
        ({"superusers": "postgres"}, "security.superusers must be a list of names"),
        ({"preload_libraries": [""]}, "security.preload_libraries must be a list of names"),
        ({"os_user": ""}, "security.os_user must be an OS user name"),
        (["postgres"], "security must be a mapping"),
    ],
)
def test_validate_security_rejects_bad_input(options, words):
    with pytest.raises(vh.HealthError, match=re.escape(words)):
        vh.validate_security(options)


def test_validate_security_defaults():
    got = vh.validate_security({"superusers": ["postgres", "dba"]})
    assert got == {
        "superusers": ["postgres", "dba"],
        "os_user": "postgres",
        "preload_libraries": list(vh.DEFAULT_PRELOAD_LIBRARIES),
    }
    assert [n for n in vh.select_checks(["security"])] == [n for n in vh.CHECKS if n.startswith("pg_sec_")]
