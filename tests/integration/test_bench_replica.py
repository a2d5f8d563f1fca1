"""Replica mode of the benchmark (issue 7, routing): reads on a real streaming hot standby of the
session server (tests/servers.py start_replica), write load and lag sampling on the primary.
Tiny iterations and durations: it checks behaviour, not speed."""

from __future__ import annotations

import json
import secrets
import threading
import time

import bench_report
import psycopg
import pytest
from ansible.module_utils import vedfin_bench as vb
from ansible.module_utils.vedfin_bench import report as vr
from app_db import create_app_db, drop_app_db
from servers import free_port, wait_for_replay
from test_modules_inprocess import _bench_args, call_module

SMALL = {"preset": "custom", "users": 80, "courses": 8, "behavior_logs": 1500, "days": 14}
TINY = {"iterations": 2, "warmup": 1, "concurrency": 2, "duration": 1.5, "time_budget": 5.0}
PICKS_SQL = "%ORDER BY count(*) DESC, 1 LIMIT%"  # pick_ids' user ranking: a read of the run
FAST_SQL = "-- %(fast form)%"  # the fast forms as run by the variants, the pool service and the mix


def _dsn(info: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in info.items())


def _scratch_table(info: dict):
    with psycopg.connect(**info) as conn:
        return conn.execute("SELECT to_regclass(%s)", [vb.WRITE_LOAD_TABLE]).fetchone()[0]


def _picks_calls(info: dict, pattern: str = PICKS_SQL) -> int:
    with psycopg.connect(**info) as conn:
        return conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query LIKE %s",
            [pattern],
        ).fetchone()[0]


@pytest.fixture(scope="module")
def dbs(pg_server, pg_replica):
    """(primary, standby) libpq keywords of one small seeded app database."""
    primary = create_app_db(pg_server, {"seed": 4, **SMALL})
    wait_for_replay(pg_server, pg_replica)
    yield primary, pg_replica.conninfo(primary["dbname"])
    drop_app_db(pg_server, primary)


@pytest.fixture(scope="module")
def run(dbs, redis_server):
    primary, standby = dbs
    before = _picks_calls(standby)
    options = vb.BenchOptions(
        write_load_rate=500,
        lag_sample_interval=0.1,
        queries=["top_courses", "leaderboard", "daily_active_users"],
        **TINY,
    )
    result = vb.run_bench(primary, redis_server.url, options, read_target=vb.parse_dsn(_dsn(standby)))
    return result, _picks_calls(standby) - before


def test_reads_go_to_the_standby(run, dbs, pg_replica):
    result, standby_picks = run
    primary, _standby = dbs
    rep = result["replication"]
    assert rep["read_target"] == {
        "host": "127.0.0.1",
        "port": pg_replica.port,
        "dbname": primary["dbname"],
        "in_recovery": True,
    }
    assert standby_picks >= 1  # the picks ran on the standby ...
    assert _picks_calls(primary) == 0  # ... and never on the primary
    # nor any analytics query: the cached variant, single-flight and the mixed workload too
    assert _picks_calls(primary, FAST_SQL) == 0
    for name, q in result["queries"].items():
        assert "error" not in q, (name, q.get("error"))
        assert q["rows_match"] is True, name
    assert result["mixed"]["requests"] > 0 and result["mixed"]["errors"] == 0
    assert result["single_flight"]["computes"] == 1
    assert all("error" not in e for e in result["explain"].values())


def test_write_load_and_lag_are_reported(run, dbs):
    result, _ = run
    rep = result["replication"]
    load, lag = rep["write_load"], rep["lag"]
    assert load["table"] == "ops.bench_write_load" and load["rate_target"] == 500
    assert load["rows"] > 0 and load["seconds"] > 0 and load["error"] is None
    # bounded: never more rows than the rate allows for the time it ran (plus one batch)
    assert load["rows"] <= 500 * load["seconds"] + 500
    assert lag["samples"] > 0 and lag["error"] is None and lag["standbys"] >= 1
    assert lag["bytes"]["p50"] is not None and lag["bytes"]["max"] >= lag["bytes"]["p95"] >= 0
    assert lag["seconds"]["max"] is not None and lag["seconds"]["max"] >= 0
    assert lag["slot_retained_bytes_max"] is not None  # the fixture's replica uses a slot
    assert len(rep["series"]) == lag["samples"] and all(len(p) == 3 for p in rep["series"])
    assert _scratch_table(dbs[0]) is None  # dropped at the end
    assert not [t for t in threading.enumerate() if t.name.startswith("bench-")]
    json.dumps(result, allow_nan=False)


def test_report_shows_the_replica(run, pg_replica):
    result, _ = run
    line = next(x for x in vb.summary_table(result).splitlines() if x.startswith("replica:"))
    assert f"reads on 127.0.0.1:{pg_replica.port}" in line and "write load 500 rows/s" in line
    assert "lag p95" in line
    page = vr.render_html(result)
    assert "Replica mode" in page and 'alt="replication lag"' in page


def test_without_read_target_replication_is_null(dbs):
    r = vb.run_bench(
        dbs[0],
        None,
        vb.BenchOptions(iterations=1, warmup=0, concurrency=1, duration=0.2, queries=["top_courses"]),
    )
    assert r["replication"] is None
    assert "replica:" not in vb.summary_table(r) and "Replica mode" not in vr.render_html(r)


def test_wrong_roles_are_refused_before_any_change(dbs, pg_server):
    primary, standby = dbs
    with pytest.raises(vb.BenchError, match=r"read_dsn \(127\.0\.0\.1:\d+/\w+\) is not a hot standby"):
        vb.run_bench(primary, None, vb.BenchOptions(**TINY), read_target=primary)
    with pytest.raises(vb.BenchError, match="module's connection .* is a standby"):
        vb.run_bench(standby, None, vb.BenchOptions(**TINY), read_target=standby)
    assert _scratch_table(primary) is None


def test_bad_options_name_the_option(dbs):
    primary, standby = dbs
    with pytest.raises(vb.BenchError, match=r"write_load_rate must be a number within 0\.\.100000, got -1"):
        vb.run_bench(primary, None, vb.BenchOptions(write_load_rate=-1), read_target=standby)
    with pytest.raises(vb.BenchError, match=r"lag_sample_interval must be a number within 0\.05\.\.60\.0"):
        vb.run_bench(primary, None, vb.BenchOptions(lag_sample_interval=0.01), read_target=standby)
    with pytest.raises(vb.BenchError, match="read_dsn is not a valid libpq connection string"):
        vb.parse_dsn("host=x password='unterminated-secret")


def test_error_mid_run_stops_the_load_and_drops_the_table(dbs):
    primary, standby = dbs

    def boom(msg):
        if msg.startswith("measuring"):
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        vb.run_bench(primary, None, vb.BenchOptions(**TINY), read_target=standby, progress=boom)
    assert _scratch_table(primary) is None
    assert not [t for t in threading.enumerate() if t.name.startswith("bench-")]


def test_stat_statements_hidden_on_the_standby_is_not_available(dbs, pg_server, pg_replica, run):
    """A login without pg_read_all_stats sees other users' statements as hidden: reported as
    not available, no failure."""
    _primary, standby = dbs
    role, password = "ved_bench_ro_test", secrets.token_urlsafe(12)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        wait_for_replay(pg_server, pg_replica)
        with psycopg.connect(**{**standby, "user": role, "password": password}, autocommit=True) as conn:
            out = vb.stat_statements(conn)
        assert out["available"] is False and out["top"] == []
        assert "pg_read_all_stats" in out["note"]
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_thread_errors_are_reported_not_raised(dbs, pg_server):
    """Without the scratch table the write load fails; a sampler whose backend is terminated
    fails: each thread stops and reports its error, neither raises."""
    primary, _standby = dbs
    load, sampler = vb.WriteLoad(primary, 100), vb.LagSampler(primary, 0.05)
    load.start()
    sampler.start()
    deadline = time.monotonic() + 10
    while not sampler.samples and time.monotonic() < deadline:
        time.sleep(0.05)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'ved-db-ops bench lag sampler' AND datname = %s",
            [primary["dbname"]],
        )
    deadline = time.monotonic() + 10
    while (load.error is None or sampler.error is None) and time.monotonic() < deadline:
        time.sleep(0.05)
    out_load, out_lag = load.stop(), sampler.stop()
    assert "UndefinedTable" in out_load["error"] and out_load["rows"] == 0
    assert out_lag["error"] and out_lag["samples"] >= 1  # sampled until its backend went away


def test_lag_summary_pure():
    samples = [(0.0, 0.0, 0.0, 1, 100.0), (0.5, 1000.0, 0.01, 1, 900.0), (1.0, None, None, 0, None)]
    out = vb.lag_summary(samples, max_points=2)
    assert out["samples"] == 3 and out["standbys"] == 1
    assert out["bytes"] == {"p50": 500.0, "p95": 950.0, "max": 1000.0}
    assert out["seconds"]["max"] == 0.01 and out["slot_retained_bytes_max"] == 900.0
    assert out["series"] == [[0.0, 0.0, 0.0], [1.0, None, None]]  # thinned, stats from all
    empty = vb.lag_summary([])
    assert empty["samples"] == 0 and empty["bytes"]["max"] is None and empty["series"] == []


# -- the module, in process (coverage of library/vedfin_bench.py) -------------------------------
def _args(primary, tmp_path, **extra):
    """test_modules_inprocess's bench arguments at the smallest run size."""
    small = {"iterations": 1, "warmup": 0, "concurrency": 1, "duration": 0.5, "time_budget": 5.0}
    return _bench_args(primary, tmp_path, **{**small, **extra})


def test_module_replica_mode(dbs, tmp_path, pg_replica):
    primary, standby = dbs
    url = f"postgresql://{standby['user']}:{standby['password']}@127.0.0.1:{pg_replica.port}/{standby['dbname']}"
    # keywords without dbname: the standby's copy of the module's db
    no_db = f"host=127.0.0.1 port={pg_replica.port} user=postgres password={standby['password']}"
    check = call_module("vedfin_bench", _args(primary, tmp_path, read_dsn=no_db), check=True)
    assert not check["failed"], check.get("msg")
    assert check["preflight"]["read_target"] == {
        "host": "127.0.0.1",
        "port": pg_replica.port,
        "dbname": primary["dbname"],
        "in_recovery": True,
    }
    out = tmp_path / "out"
    res = call_module(
        "vedfin_bench",
        _args(
            primary,
            tmp_path,
            read_dsn=url,
            write_load_rate=200,
            lag_sample_interval=0.1,
            output_json=str(out / "bench.json"),
        ),
    )
    assert not res["failed"], res.get("msg")
    assert res["replication"]["read_target"]["port"] == pg_replica.port
    assert res["replication"]["write_load"]["rows"] > 0 and "replica: reads on" in res["summary"]
    written = (out / "bench.json").read_text()
    assert json.loads(written)["replication"]["lag"]["samples"] > 0
    assert standby["password"] not in written and standby["password"] not in json.dumps(res)
    assert bench_report.main([str(out / "bench.json")]) == 0  # as bench.yml does on the controller
    assert 'alt="replication lag"' in (out / "bench.html").read_text()


def test_module_errors_name_the_cause_without_the_password(dbs, tmp_path, pg_replica):
    primary, standby = dbs
    secret = "Wr0ng-S3cret-pw"
    for port in (pg_replica.port, free_port()):  # bad password; nobody listening
        dsn = f"host=127.0.0.1 port={port} dbname={standby['dbname']} user=postgres password={secret}"
        res = call_module("vedfin_bench", _args(primary, tmp_path, read_dsn=dsn))
        assert res["failed"] and res["msg"].startswith("vedfin_bench: read_dsn: cannot connect"), res["msg"]
        assert secret not in json.dumps(res)
    bad = call_module("vedfin_bench", _args(primary, tmp_path, read_dsn=_dsn(primary)))
    assert bad["failed"] and "is not a hot standby" in bad["msg"]
    for key, value in (("write_load_rate", 100_001), ("lag_sample_interval", 61.0)):
        res = call_module("vedfin_bench", _args(primary, tmp_path, read_dsn=_dsn(standby), **{key: value}))
        assert res["failed"] and f"{key} must be a number within" in res["msg"]
    garbled = call_module("vedfin_bench", _args(primary, tmp_path, read_dsn=f"host=x password='{secret}"))
    assert garbled["failed"] and "not a valid libpq connection string" in garbled["msg"]
    assert secret not in json.dumps(garbled)
    assert _scratch_table(primary) is None
