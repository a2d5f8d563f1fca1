"""The benchmark (module_utils/vedfin_bench/, library/vedfin_bench.py, and the report the
controller renders from its JSON: vedfin_bench.report, tools/bench_report.py) against real
PostgreSQL 15 and Redis with a small seeded data set; tiny iterations."""

from __future__ import annotations

import json
from pathlib import Path

import bench_report
import pg_tune
import psycopg
import pytest
from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils import vedfin_bench as vb
from ansible.module_utils.vedfin_bench import report as vr
from ansible.module_utils.vedfin_pg import params_from_conninfo
from ansible_run import run_module

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql" / "analytics"
TINY = {"iterations": 3, "warmup": 1, "concurrency": 4, "duration": 2.0, "time_budget": 10.0}
PROFILE = {
    "total_memory_mb": 4096,
    "cpus": 4,
    "max_connections": 100,
    "storage": "ssd",
    "workload": "web",
    "pg_version": 15,
}


@pytest.fixture(scope="module")
def result(small_app_db, redis_server):
    return vb.run_bench(
        small_app_db,
        redis_server.url,
        vb.BenchOptions(scale="demo", tuned_settings=pg_tune.compute(PROFILE), **TINY),
    )


def test_every_query_and_variant_is_measured(result):
    assert result["schema_version"] == vb.SCHEMA_VERSION
    assert set(result["queries"]) == set(va.QUERIES)
    for name, q in result["queries"].items():
        assert "error" not in q, q.get("error")
        assert set(q["variants"]) == set(vb.VARIANTS), name
        for variant, v in q["variants"].items():
            assert v["n"] == TINY["iterations"], (name, variant)
            assert len(v["samples_ms"]) == v["n"]
            assert 0 < v["min_ms"] <= v["p50_ms"] <= v["p95_ms"] <= v["p99_ms"] <= v["max_ms"], (
                name,
                variant,
            )
            assert v["mean_ms"] > 0 and v["rows"] is not None
        assert q["rows_match"] is True, name  # fast form returned the oracle's rows
        assert q["variants"]["cached"]["statuses"] == {"hit": TINY["iterations"]}  # warm-up filled it
        assert q["speedup"] > 0
    agg = result["aggregate"]
    assert agg["speedup"] > 0 and agg["cache_speedup"] > 0 and agg["tuning_speedup"] > 0
    json.dumps(result, allow_nan=False)  # JSON-safe as documented


def test_representative_params_come_from_the_data(result, small_app_db):
    picks = result["picks"]
    assert len(picks["user_ids"]) == 5 and len(picks["course_ids"]) == 5 and picks["group_ids"]
    with psycopg.connect(**small_app_db) as conn:
        top_user = conn.execute(
            'SELECT "userId" FROM "BehaviorLog" WHERE "userId" IS NOT NULL '
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]
    assert picks["user_ids"][0] == top_user
    assert result["queries"]["student_behavior_summary"]["params"]["user_id"] == top_user
    assert result["queries"]["course_engagement"]["params"]["course_id"] == picks["course_ids"][0]


def test_settings_compared_and_show(result):
    settings = result["settings"]
    assert settings["tuned_source"] == "pg_tune"
    compared = {s["name"]: s for s in settings["compared"]}
    assert {"work_mem", "random_page_cost", "effective_io_concurrency", "effective_cache_size", "jit"} <= set(
        compared
    )
    assert compared["jit"]["default"] == "on" and compared["jit"]["tuned"] == "off"
    assert settings["default_show"]["work_mem"] == "4MB"
    assert settings["tuned_show"]["random_page_cost"] == "1.1"
    skipped = {s["name"]: s["reason"] for s in settings["skipped"]}
    assert "postmaster" in skipped["shared_buffers"]
    assert result["show"]["shared_preload_libraries"]["value"] == "pg_stat_statements"
    assert "work_mem" in result["show"]


def test_explain_and_pg_stat_statements(result):
    explain = result["explain"]
    assert set(explain) == set(va.QUERIES)
    for name, e in explain.items():
        assert "error" not in e, (name, e.get("error"))
        assert e["node_types"] and e["execution_ms"] is not None
        assert e["time_bounded"] == vb.is_time_bounded(name)
    pss = result["pg_stat_statements"]
    assert pss["available"] is True  # migration 0001 creates the extension
    assert 0 < len(pss["top"]) <= 10
    totals = [r["total_exec_time_ms"] for r in pss["top"]]
    assert totals == sorted(totals, reverse=True)


def test_mixed_workload_is_bounded_and_hits_the_cache(result):
    mixed = result["mixed"]
    assert mixed["cached"] and mixed["requests"] > 0 and mixed["errors"] == 0
    assert mixed["hit_rate"] > 0
    assert mixed["elapsed_s"] < TINY["duration"] + 5
    assert mixed["latency"]["p95_ms"] is not None and mixed["redis_p95_ms"] is not None
    assert set(mixed["per_query"]) <= set(va.QUERIES)
    assert mixed["per_query"]["leaderboard"]["n"] >= mixed["per_query"]["gamification_effectiveness"]["n"]


def test_mixed_workload_stops_at_the_request_limit(small_app_db, redis_server):
    r = vb.run_bench(
        small_app_db,
        redis_server.url,
        vb.BenchOptions(
            iterations=1,
            warmup=0,
            concurrency=3,
            duration=30.0,
            max_requests=40,
            queries=["top_courses", "leaderboard"],
        ),
    )
    assert r["mixed"]["requests"] == 40 and r["mixed"]["stopped_by"] == "requests"
    assert set(r["queries"]) == {"top_courses", "leaderboard"}


def test_single_flight_exactly_one_compute(result):
    sf = result["single_flight"]
    assert sf["ran"] and sf["callers"] == vb.SINGLE_FLIGHT_CALLERS
    assert not sf["errors"] and sf["same_rows"]
    assert sf["hits"] + sf["misses"] == vb.SINGLE_FLIGHT_CALLERS
    assert sf["computes"] == 1, f"{sf['computes']} DB queries for one key: single-flight is broken"


def test_checks_and_reports(result, tmp_path):
    names = {c["name"] for c in result["checks"]}
    assert {"mixed_hit_rate", "aggregate_speedup", "single_flight", "index_usage"} <= names
    assert {f"query_p95:{n}" for n in va.QUERIES} <= names
    assert {f"cached_p95:{n}" for n in va.QUERIES} <= names
    assert isinstance(result["passed"], bool)
    html_path = Path(vr.write_html(result, tmp_path / "r" / "bench.html"))
    text = html_path.read_text()
    assert text.count('<img src="data:image/png;base64,') >= 5
    assert "http://" not in text and "https://" not in text  # self-contained
    for name in va.QUERIES:
        assert name in text
    summary = vb.summary_table(result)
    for name in va.QUERIES:
        assert name in summary
    assert "overall:" in summary


def test_without_redis(small_app_db):
    r = vb.run_bench(
        small_app_db,
        None,
        vb.BenchOptions(iterations=1, warmup=0, concurrency=2, duration=0.5, queries=["top_courses"]),
    )
    assert "cached" not in r["queries"]["top_courses"]["variants"]
    assert r["mixed"]["cached"] is False and r["mixed"]["hit_rate"] is None and r["mixed"]["requests"] > 0
    checks = {c["name"]: c for c in r["checks"]}
    assert checks["single_flight"]["passed"] is None and not checks["single_flight"]["enforced"]
    assert r["settings"]["tuned_source"] == "server reset_val"
    assert '<img src="data:image/png;base64,' in vr.render_html(r)  # the report copes without Redis
    assert "single-flight: not run" in vb.summary_table(r)


def test_bad_options_are_refused(small_app_db):
    with pytest.raises(vb.BenchError, match="iterations"):
        vb.run_bench(small_app_db, None, vb.BenchOptions(iterations=0))
    with pytest.raises(vb.BenchError, match="unknown queries"):
        vb.run_bench(small_app_db, None, vb.BenchOptions(queries=["nope"]))


def _module_args(info, redis_url, tmp_path, **extra):
    return {
        **params_from_conninfo(info),
        "redis_url": redis_url,
        "sql_dir": str(SQL_DIR),
        "output_json": str(tmp_path / "out" / "bench.json"),
        **extra,
    }


def test_module_runs_and_writes_reports(small_app_db, redis_server, tmp_path):
    args = _module_args(
        small_app_db,
        redis_server.url,
        tmp_path,
        iterations=2,
        warmup=1,
        concurrency=2,
        duration=1,
        tuned_settings=pg_tune.compute(PROFILE),
    )
    res = run_module("vedfin_bench", args)
    assert not res["failed"], res.get("msg")
    assert res["changed"] is True
    assert "overall:" in res["summary"] and "leaderboard" in res["summary"]
    assert res["schema_version"] == vb.SCHEMA_VERSION
    assert res["single_flight"]["callers"] == vb.SINGLE_FLIGHT_CALLERS
    data = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert set(data["queries"]) == set(va.QUERIES)
    # the HTML report is rendered from the module's JSON, as bench.yml does on the controller
    assert bench_report.main([res["output_json"]]) == 0
    assert '<img src="data:image/png;base64,' in (tmp_path / "out" / "bench.html").read_text()
    assert res["output_json"].endswith("bench.json") and "output_html" not in res


def test_module_check_mode_runs_nothing(small_app_db, redis_server, tmp_path):
    res = run_module("vedfin_bench", _module_args(small_app_db, redis_server.url, tmp_path), check=True)
    assert not res["failed"], res.get("msg")
    assert res["changed"] is False
    assert res["preflight"]["server_version"].startswith("15")
    assert res["preflight"]["redis"] == "PONG"
    assert not (tmp_path / "out").exists()


def test_module_check_mode_reports_problems(small_app_db, redis_server, pg_server, tmp_path):
    bad_db = _module_args({**small_app_db, "dbname": "no_such_db"}, redis_server.url, tmp_path)
    res = run_module("vedfin_bench", bad_db, check=True)
    assert res["failed"] and "cannot connect" in res["msg"]
    assert pg_server.password not in json.dumps(res)
    bad_redis = _module_args(small_app_db, "redis://127.0.0.1:1/0", tmp_path)
    res = run_module("vedfin_bench", bad_redis, check=True)
    assert res["failed"] and "does not answer" in res["msg"]
    # --check before the SQL copy exists: a warning, the rest is still checked
    no_sql = _module_args(small_app_db, redis_server.url, tmp_path, sql_dir=str(tmp_path / "missing"))
    res = run_module("vedfin_bench", no_sql, check=True)
    assert not res["failed"], res.get("msg")
    assert any("sql_dir" in w for w in res.get("warnings", []))
    # a real run without the SQL forms fails before it measures anything
    res = run_module("vedfin_bench", no_sql)
    assert res["failed"] and "sql_dir" in res["msg"]
