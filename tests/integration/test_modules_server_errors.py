"""Edge paths of module_utils against the real test servers: unreachable or foreign targets,
server errors reported in the result, time budgets, Redis down or holding foreign values."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from ansible.module_utils import vedfin_bench as vb
from ansible.module_utils import vedfin_cache as vc

ROOT = Path(__file__).resolve().parents[2]


# -- bench -------------------------------------------------------------------------------------
def test_connect_errors_name_the_cause_and_hide_the_password(pg_db):
    bad = {**pg_db, "password": "Not-The-Pw-123"}
    with pytest.raises(vb.BenchError, match="cannot connect to PostgreSQL") as exc:
        vb.check_target(bad)
    assert "Not-The-Pw-123" not in str(exc.value)


def test_check_target_refuses_a_database_without_the_schema(pg_server):
    name = f"e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with pytest.raises(vb.BenchError, match="missing tables: public.User, public.BehaviorLog"):
        vb.check_target(pg_server.conninfo(name))


def test_check_target_with_a_dsn_and_redis(schema_db, redis_server):
    dsn = " ".join(f"{k}={v}" for k, v in schema_db.items())
    out = vb.check_target(dsn, redis_server.url, check_sql=False)
    assert out["server_version"].startswith("15") and out["redis"] == "PONG"
    with pytest.raises(vb.BenchError, match=r"Redis at redis://app:\*\*\*@127.0.0.1:1/0 does not answer"):
        vb.check_target(dsn, "redis://app:secret@127.0.0.1:1/0", check_sql=False)


def test_check_target_reads_the_sql_forms_from_sql_dir(schema_db, tmp_path):
    """The SQL location is the caller's: a copy elsewhere is used, an empty directory refused."""
    copy = tmp_path / "analytics"
    shutil.copytree(ROOT / "sql" / "analytics", copy)
    assert vb.check_target(schema_db, sql_dir=copy)["redis"] is None
    (tmp_path / "empty").mkdir()
    with pytest.raises(vb.BenchError, match=r"SQL forms are not readable \(cannot read .*; set sql_dir"):
        vb.check_target(schema_db, sql_dir=tmp_path / "empty")


def test_redact_url_forms():
    assert vb.redact_url(None) is None
    assert vb.redact_url("not a url") == "***"
    assert vb.redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert vb.redact_url("redis://:pw@h:1/0") == "redis://***@h:1/0"


def test_server_errors_are_reported_in_the_result(schema_db):
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        broken = vb.explain(conn, "daily_active_users", {"no_such_param": 1})
        assert broken["flagged"] is False and broken["error"]
        stats = vb.stat_statements(conn)
        assert stats["available"] is False and stats["top"] == []
        plan = vb.plan_settings(conn, {"no_such_setting": "1", "shared_buffers": "1GB", "work_mem": "8MB"})
        reasons = {s["name"]: s["reason"] for s in plan["skipped"]}
        assert reasons["no_such_setting"] == "unknown to this server"
        assert reasons["shared_buffers"].startswith("not session-settable")
        assert [c["name"] for c in plan["compared"]] == ["work_mem"]


def test_measure_query_stops_at_its_time_budget():
    def slow():
        time.sleep(0.05)
        return [], None

    out = vb.measure_query("q", {}, {"a": slow, "b": slow}, iterations=50, warmup=3, time_budget=0.01)
    assert out["truncated"] is True


# -- cache -------------------------------------------------------------------------------------
def test_cache_with_redis_down_degrades_and_closes():
    with vc.QueryCache("redis://127.0.0.1:1/0", namespace="ved:t") as cache:
        assert cache.invalidate("daily_active_users", {"days": 7}) is False
        rows, info = cache.get_or_compute("daily_active_users", {"days": 7}, lambda: [{"n": 1}])
    assert rows == [{"n": 1}] and info["status"] == "degraded"


@pytest.mark.parametrize("foreign", [b"not json", b'{"p": "someone else", "r": [], "t": 0}'])
def test_a_foreign_value_under_our_key_is_a_miss(redis_server, foreign):
    client = redis.Redis.from_url(redis_server.url)
    cache = vc.QueryCache(client, namespace=f"ved:t{uuid.uuid4().hex[:8]}")
    params = {"days": 7}
    client.set(cache.key_for("daily_active_users", params), foreign)
    rows, info = cache.get_or_compute("daily_active_users", params, lambda: [{"n": 2}])
    assert rows == [{"n": 2}] and info["status"] == "miss"
    assert cache.invalidate("daily_active_users", params) is True
    cache.close()  # not ours: the client stays open
    assert client.ping() is True
    client.close()
