"""Threshold logic, settings normalization, backup ages and rendering of the health checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import vedfin_health as vh
import vedfin_health_report as vr

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
    assert vh.select_checks(["host", "pg_version"]) == ["pg_version", "host_disk", "host_memory"]
    assert "backup_timers" not in vh.select_checks(None, ["backup_timers"])


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
        vh._check("pg_version", "15.8", t),
        vh._check("pg_connections", 0.95, t, details={"connections": 95}),
        vh._check("pg_cache_hit_ratio", 0.97, t),
        vh._check("pg_unused_indexes", 2, t, note="idx_scan = 0 | since reset"),
        vh._check("pg_replication_slots", 3 * 1024**3, t),
        vh._check("pg_wal_rate", 5 * 1024**2, t),
        vh._check("pg_long_transactions", 4000.0, t),
        vh._check(
            "pg_slow_statements",
            12.5,
            t,
            details={"by_total": [{"queryid": "123456789", "query": "SELECT 1", "total_ms": 50.0}]},
        ),
        vh._check(
            "pg_sizes",
            10 * 1024**2,
            t,
            details={"databases": [], "tables": [{"name": "public.t", "size_bytes": 2 * 1024**2}]},
        ),
        vh._check("backup_last_failure", False, t, status="ok"),
        vh._check("backup_full_age", None, t, status="crit", note="no backup found"),
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
    result["checks"] = [vh._check("pg_version", "15.8", {})]
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
