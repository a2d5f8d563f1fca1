"""Health checks (module_utils/vedfin_health/, library/vedfin_health.py) against real
PostgreSQL 15 and Redis servers, with forced conditions that flip the statuses."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from ansible.module_utils import vedfin_health as vh
from ansible.module_utils.vedfin_pg import params_from_conninfo
from ansible_run import run_module
from app_db import create_app_db, drop_app_db
from servers import destroy_postgres, destroy_redis, free_port, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql" / "health"


def run(pg_db=None, redis_params=None, **kw):
    kw.setdefault("sql_dir", SQL_DIR)
    return vh.run_health(params_from_conninfo(pg_db) if pg_db else None, redis_params, **kw)


def by_name(result: dict) -> dict:
    return {c["name"]: c for c in result["checks"]}


def one(pg_db, name, **kw) -> dict:
    return by_name(run(pg_db, include=[name], **kw))[name]


def flush_stats(conn) -> None:
    """PG 15 keeps the statistics in shared memory; flush this backend's counters now."""
    conn.execute("SELECT pg_stat_force_next_flush()")


# -- PostgreSQL --------------------------------------------------------------------------------
def test_database_without_the_schema_still_reports(pg_db):
    result = run(pg_db, include=["postgresql"])
    checks = by_name(result)
    assert set(checks) == {n for n, spec in vh.CHECKS.items() if spec[0] == "postgresql"}
    assert checks["pg_version"]["value"].startswith("15.")
    assert checks["pg_slow_statements"]["status"] == "ok"
    assert "pg_stat_statements is not installed" in checks["pg_slow_statements"]["note"]
    assert checks["pg_dead_tuples"]["status"] == "ok" and checks["pg_unused_indexes"]["value"] == 0
    assert all(
        c["remedy"].split(": ")[-1].startswith("docs/DATABASE_TROUBLESHOOTING.md#") for c in checks.values()
    )
    json.dumps(result)  # the result is JSON as it is


def test_dead_tuples_and_bloat_flip_to_crit(pg_db):
    names = ["pg_dead_tuples", "pg_bloat"]
    before = by_name(run(pg_db, include=names))
    assert before["pg_dead_tuples"]["status"] == "ok" and before["pg_bloat"]["status"] == "ok"
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE churn (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = off)")
        conn.execute("INSERT INTO churn SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g")
        conn.execute("DELETE FROM churn WHERE id % 10 <> 0")
        conn.execute("ANALYZE churn")
        flush_stats(conn)
    after = by_name(run(pg_db, include=names))
    dead = after["pg_dead_tuples"]
    assert dead["status"] == "crit" and dead["value"] >= 0.5
    assert dead["details"][0]["table"] == "public.churn" and dead["details"][0]["last_autovacuum"] is None
    bloat = after["pg_bloat"]
    assert bloat["status"] == "crit" and bloat["details"][0]["table"] == "public.churn"
    assert bloat["details"][0]["bloat_bytes"] > 1024 * 1024


def test_unused_and_duplicate_indexes_warn(pg_db):
    names = ["pg_unused_indexes", "pg_duplicate_indexes"]
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int)")
        conn.execute("CREATE INDEX t_b ON t (b)")
        conn.execute("SELECT count(*) FROM t WHERE b = 1")  # scanned once: not unused
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT count(*) FROM t WHERE b = 1")
        flush_stats(conn)
    clean = by_name(run(pg_db, include=names))
    assert clean["pg_unused_indexes"]["status"] == "ok" and clean["pg_duplicate_indexes"]["status"] == "ok"
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE INDEX t_a ON t (a)")
        conn.execute("CREATE INDEX t_a_again ON t (a)")
    checks = by_name(run(pg_db, include=names))
    unused = checks["pg_unused_indexes"]
    assert unused["status"] == "warn" and {r["index"] for r in unused["details"]} == {
        "public.t_a",
        "public.t_a_again",
    }
    dup = checks["pg_duplicate_indexes"]
    assert (
        dup["status"] == "warn" and dup["value"] == 1 and dup["details"][0]["indexes"] == ["t_a", "t_a_again"]
    )


def test_long_and_idle_transactions_and_lock_wait(pg_db):
    names = ["pg_long_transactions", "pg_idle_in_transaction", "pg_lock_waits"]
    tight = {n: {"warn": 1, "crit": 600} for n in names}
    assert {c["status"] for c in run(pg_db, include=names, thresholds=tight)["checks"]} == {"ok"}
    with psycopg.connect(**pg_db, autocommit=True) as setup:
        setup.execute("CREATE TABLE locked (id int)")
    idle = psycopg.connect(**pg_db)  # holds an idle transaction with the table locked
    idle.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
    waiter_done = threading.Event()

    def sleeper():
        with psycopg.connect(**pg_db, autocommit=True) as c:
            c.execute("SELECT pg_sleep(4)")

    def waiter():
        with psycopg.connect(**pg_db, autocommit=True) as c:
            c.execute("SET lock_timeout = '6s'")
            try:
                c.execute("SELECT count(*) FROM locked")
            finally:
                waiter_done.set()

    threads = [threading.Thread(target=sleeper), threading.Thread(target=waiter)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.6)
        checks = by_name(run(pg_db, include=names, thresholds=tight))
        idle_pid = idle.info.backend_pid
    finally:
        idle.rollback()
        idle.close()
        for t in threads:
            t.join(timeout=10)
    assert waiter_done.is_set()
    assert checks["pg_idle_in_transaction"]["status"] == "warn"
    assert checks["pg_idle_in_transaction"]["details"][0]["pid"] == idle_pid
    assert checks["pg_long_transactions"]["status"] == "warn"
    assert any("pg_sleep" in s["query"] for s in checks["pg_long_transactions"]["details"])
    lock = checks["pg_lock_waits"]
    assert lock["status"] == "warn" and lock["details"][0]["blocked_by"] == [idle_pid]


def test_slow_statements_from_pg_stat_statements(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
        for _ in range(5):
            conn.execute("SELECT pg_sleep(0.12)")
        conn.execute(
            "CREATE TABLE slow_ddl AS SELECT 1 AS x FROM pg_sleep(0.5)"
        )  # DDL: listed by total, not graded
    check = one(pg_db, "pg_slow_statements")
    assert check["status"] == "warn" and 120 <= check["value"] < 500
    assert any("pg_sleep" in r["query"] for r in check["details"]["by_mean"])
    assert check["details"]["by_total"][0]["total_ms"] >= check["details"]["by_total"][-1]["total_ms"]
    assert any("slow_ddl" in r["query"] for r in check["details"]["by_total"])
    assert not any("slow_ddl" in r["query"] for r in check["details"]["by_mean"])


def test_settings_drift_and_pending_restart():
    server = start_postgres()  # own server: ALTER SYSTEM must not leak into other tests
    try:
        info = server.conninfo()
        same = {
            "shared_buffers": "128MB",
            "jit": "on",
            "max_connections": "100",
            "checkpoint_timeout": "5min",
        }
        drift = one(info, "pg_settings_drift", recommended=same)
        assert drift["status"] == "ok" and drift["value"] == 0
        drift = one(info, "pg_settings_drift", recommended={**same, "work_mem": "64MB", "no_such_guc": "1"})
        assert drift["status"] == "warn" and [d["name"] for d in drift["details"]] == ["work_mem"]
        assert "no_such_guc" in drift["note"]
        assert one(info, "pg_settings_drift")["note"] == "no recommendation given; skipped"
        assert one(info, "pg_pending_restart")["status"] == "ok"
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET shared_buffers = '144MB'")
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        pending = one(info, "pg_pending_restart")
        assert pending["status"] == "warn" and pending["details"] == ["shared_buffers"]
    finally:
        destroy_postgres(server)


def test_app_schema_drift_is_crit_and_a_new_label_warns(pg_db, pg_server):
    assert "not checked" in one(pg_db, "pg_app_schema")["note"]  # no ops migrations here
    info = create_app_db(pg_server)
    try:
        ok = one(info, "pg_app_schema")
        assert ok["status"] == "ok" and ok["value"] == 0 and ok["details"] == []
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute("ALTER TYPE \"ProgressStatus\" ADD VALUE 'PAUSED'")
        warn = one(info, "pg_app_schema")
        assert warn["status"] == "warn" and "'PAUSED'" in warn["details"][0]
        # an app migration that makes a column the rollups need nullable
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute('ALTER TABLE "UserProgress" ALTER COLUMN "userId" DROP NOT NULL')
        crit = one(info, "pg_app_schema")
        assert crit["status"] == "crit" and crit["value"] == 2
        assert crit["details"][0] == "UserProgress.userId: found nullable, expected one of NOT NULL"
        assert crit["remedy"].endswith("#app-schema-preflight-failed--warns")
    finally:
        drop_app_db(pg_server, info)


def test_host_checks_use_the_data_directory(pg_db, pg_server):
    checks = by_name(run(pg_db, include=["host"]))
    assert checks["host_disk"]["details"]["path"] == str(pg_server.datadir)
    assert 0 < checks["host_disk"]["value"] < 1 and 0 < checks["host_memory"]["value"] < 1


# -- security baseline ------------------------------------------------------------------------
SECURITY = [n for n, spec in vh.CHECKS.items() if spec[0] == "security"]


def _reload(conn, *statements) -> None:
    for stmt in statements:
        conn.execute(stmt)
    conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the postmaster signals the backends; give them a moment


@pytest.fixture(scope="module")
def hardened_pg():
    """A server of its own, set up the way the postgresql role leaves a host: TLS with a
    TLSv1.2 floor, connection logging, user/db/time in log_line_prefix, initdb's scram-only
    hba. Each test puts back what it breaks."""
    server = start_postgres()
    try:
        crt, key = server.datadir / "server.crt", server.datadir / "server.key"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
            ]
            + ["-keyout", str(key), "-out", str(crt)],
            check=True,
            capture_output=True,
        )
        st = server.datadir.stat()
        for f in (crt, key):
            os.chown(f, st.st_uid, st.st_gid)
        key.chmod(0o600)
        with psycopg.connect(**server.conninfo(), autocommit=True) as conn:
            _reload(
                conn,
                "ALTER SYSTEM SET ssl = on",
                "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'",
                "ALTER SYSTEM SET log_connections = on",
                "ALTER SYSTEM SET log_disconnections = on",
                "ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%u@%d '",
            )
        yield server
    finally:
        destroy_postgres(server)


def sec(server, **kw) -> dict:
    # The data directory's owner: postgres when the tests run as root, else the test user.
    owner = pwd.getpwuid(server.datadir.stat().st_uid).pw_name
    kw.setdefault("security", {"os_user": owner})
    return by_name(run(server.conninfo(), include=["security"], **kw))


def test_security_baseline_passes_on_a_hardened_server(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo()) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
    checks = sec(hardened_pg)
    assert list(checks) == SECURITY
    assert {n: c["status"] for n, c in checks.items()} == dict.fromkeys(SECURITY, "ok"), [
        (n, c["note"]) for n, c in checks.items() if c["status"] != "ok"
    ]
    assert checks["pg_sec_ssl"]["value"] == "ssl on, min TLSv1.2"
    assert checks["pg_sec_untrusted_languages"]["note"] == "2 database(s) checked"  # postgres, template1
    assert all(
        c["remedy"].split(": ")[-1].startswith("docs/DATABASE_TROUBLESHOOTING.md#security-")
        for c in checks.values()
    )


def test_security_weak_hba_lines_are_flagged(hardened_pg):
    hba = hardened_pg.datadir / "pg_hba.conf"
    original = hba.read_text()
    try:
        # After initdb's lines: our own loopback connection still matches scram first.
        hba.write_text(
            original
            + "host all all 10.0.0.0/8 trust\n"
            + "hostssl all all 192.168.0.0/16 md5\n"
            + "host all all 172.16.0.0/12 ident\n"
            + "host all all 10.1.0.0/16 password\n"
        )
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            _reload(conn)
        check = sec(hardened_pg)["pg_sec_hba_auth"]
    finally:
        hba.write_text(original)
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            _reload(conn)
    assert check["status"] == "crit"
    by_status = {(d["status"], d["finding"].split(": ", 1)[1]) for d in check["details"]}
    assert ("crit", "trust lets anyone in without a password") in by_status
    assert ("warn", "md5 (use scram-sha-256)") in by_status
    assert ("crit", "ident over TCP trusts the client's identd") in by_status
    assert ("crit", "password sends the password in clear text") in by_status
    assert sec(hardened_pg)["pg_sec_hba_auth"]["status"] == "ok"


def test_security_md5_passwords_and_encryption(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
        _reload(conn, "ALTER SYSTEM SET password_encryption = 'md5'")
        conn.execute("SET password_encryption = 'md5'")
        conn.execute("CREATE ROLE legacy LOGIN PASSWORD 'legacy-password-0123456789'")
    try:
        checks = sec(hardened_pg)
    finally:
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            conn.execute("DROP ROLE legacy")
            _reload(conn, "ALTER SYSTEM RESET password_encryption")
    assert checks["pg_sec_password_encryption"]["status"] == "crit"
    assert checks["pg_sec_password_encryption"]["value"] == "md5"
    md5 = checks["pg_sec_md5_passwords"]
    assert md5["status"] == "warn" and md5["value"] == 1 and md5["details"][0]["role"] == "legacy"
    assert "legacy-password" not in json.dumps(checks)
    after = sec(hardened_pg)
    assert (
        after["pg_sec_password_encryption"]["status"] == "ok"
        and after["pg_sec_md5_passwords"]["status"] == "ok"
    )


def test_security_superusers_and_equivalents(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE ROLE admin SUPERUSER")
        conn.execute("CREATE ROLE etl LOGIN")
        conn.execute("GRANT pg_execute_server_program TO etl")
        conn.execute("CREATE ROLE helper CREATEROLE")
    try:
        flagged = sec(hardened_pg)["pg_sec_superusers"]
        owner = pwd.getpwuid(hardened_pg.datadir.stat().st_uid).pw_name
        declared = sec(
            hardened_pg, security={"os_user": owner, "superusers": ["postgres", "admin", "etl", "helper"]}
        )["pg_sec_superusers"]
    finally:
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            conn.execute("DROP ROLE admin, etl, helper")
    assert flagged["status"] == "crit" and flagged["value"] == 3
    assert [d["finding"] for d in flagged["details"]] == [
        "admin is SUPERUSER",
        "etl is a member of pg_execute_server_program (superuser-equivalent)",
        "helper has CREATEROLE",
    ]
    assert declared["status"] == "ok"


def test_security_file_modes(hardened_pg):
    hba = hardened_pg.datadir / "pg_hba.conf"
    try:
        hardened_pg.datadir.chmod(0o755)  # the running server does not look again
        hba.chmod(0o646)
        check = sec(hardened_pg)["pg_sec_file_modes"]
    finally:
        hardened_pg.datadir.chmod(0o700)
        hba.chmod(0o600)
    assert check["status"] == "crit" and check["value"] == 2
    notes = [d["finding"] for d in check["details"]]
    assert notes[0] == "data directory mode 0755 (want 0700 or 0750)"
    assert notes[1].endswith("pg_hba.conf mode 0646: writable by group/other")
    wrong_owner = sec(hardened_pg, security={"os_user": "nobody"})["pg_sec_file_modes"]
    assert wrong_owner["status"] == "crit" and "not nobody" in wrong_owner["note"]
    assert sec(hardened_pg)["pg_sec_file_modes"]["status"] == "ok"


def test_security_ssl_and_logging_settings(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
        _reload(
            conn,
            "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.1'",
            "ALTER SYSTEM SET log_connections = off",
            "ALTER SYSTEM SET log_line_prefix = '%m [%p] '",
        )
    try:
        weak = sec(hardened_pg)
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            _reload(conn, "ALTER SYSTEM SET ssl = off")
        off = sec(hardened_pg)["pg_sec_ssl"]
    finally:
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            _reload(
                conn,
                "ALTER SYSTEM SET ssl = on",
                "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'",
                "ALTER SYSTEM SET log_connections = on",
                "ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%u@%d '",
            )
    assert weak["pg_sec_ssl"]["status"] == "crit" and "below TLSv1.2" in weak["pg_sec_ssl"]["note"]
    logging = weak["pg_sec_logging"]
    assert logging["status"] == "warn" and logging["value"] == 3
    assert "log_connections is off" in logging["note"]
    # ssl off on a loopback-only server (the test servers listen on 127.0.0.1): warn, not crit
    assert off["status"] == "warn" and off["value"].startswith("ssl off")
    after = sec(hardened_pg)
    assert after["pg_sec_ssl"]["status"] == "ok" and after["pg_sec_logging"]["status"] == "ok"


def test_security_per_database_checks_visit_every_database(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE sec_other")
    try:
        with psycopg.connect(**hardened_pg.conninfo("sec_other"), autocommit=True) as conn:
            # No plperlu package here: an untrusted language of our own on plpgsql's handler
            # is the same catalog row (lanispl, not lanpltrusted).
            conn.execute("CREATE LANGUAGE plfake HANDLER plpgsql_call_handler")
            conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
        checks = sec(hardened_pg)
    finally:
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            conn.execute("DROP DATABASE sec_other")
    langs, public = checks["pg_sec_untrusted_languages"], checks["pg_sec_public_schema"]
    assert langs["status"] == "warn" and langs["note"] == "sec_other: plfake"
    assert public["status"] == "warn" and public["details"][0]["database"] == "sec_other"
    assert sec(hardened_pg)["pg_sec_untrusted_languages"]["status"] == "ok"


def test_security_preload_libraries_allow_list(hardened_pg):
    assert sec(hardened_pg)["pg_sec_preload_libraries"]["status"] == "ok"  # pg_stat_statements
    owner = pwd.getpwuid(hardened_pg.datadir.stat().st_uid).pw_name
    narrow = sec(hardened_pg, security={"os_user": owner, "preload_libraries": ["auto_explain"]})
    check = narrow["pg_sec_preload_libraries"]
    assert check["status"] == "warn" and check["details"][0]["library"] == "pg_stat_statements"


def test_security_checks_need_a_superuser(hardened_pg):
    with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE ROLE plain LOGIN PASSWORD 'plain-password-0123456789'")
        conn.execute("GRANT pg_monitor TO plain")  # a monitoring role: settings yes, pg_authid no
    try:
        info = {**hardened_pg.conninfo(), "user": "plain", "password": "plain-password-0123456789"}
        checks = by_name(run(info, include=["security"]))
    finally:
        with psycopg.connect(**hardened_pg.conninfo(), autocommit=True) as conn:
            conn.execute("DROP ROLE plain")
    hba = checks["pg_sec_hba_auth"]
    assert hba["status"] == "warn" and "need a superuser" in hba["note"]
    assert "permission denied" in checks["pg_sec_superusers"]["note"]


# -- Redis -----------------------------------------------------------------------------------
@pytest.fixture
def small_redis():
    server = start_redis({"maxmemory": "2mb", "maxmemory-policy": "allkeys-lru"})
    yield server
    destroy_redis(server)


def test_redis_filled_past_maxmemory_evicts(small_redis):
    params = {"host": small_redis.host, "port": small_redis.port}
    before = by_name(run(None, params, include=["redis"]))
    assert before["redis_evicted_keys"]["status"] == "ok" and before["redis_memory"]["status"] == "ok"
    assert before["redis_persistence"]["value"] == "rdb ok, aof off"
    client = redis.Redis(host=small_redis.host, port=small_redis.port)
    value = b"x" * 10_000
    for i in range(600):  # 6 MB into a 2 MB cache
        client.set(f"ved:fill:{i}", value)
    for i in range(1200):
        client.get(f"ved:missing:{i}")
    client.close()
    after = by_name(run(None, params, include=["redis"]))
    assert after["redis_evicted_keys"]["status"] == "warn" and after["redis_evicted_keys"]["value"] > 0
    assert after["redis_memory"]["status"] in ("warn", "crit") and after["redis_memory"]["value"] >= 0.8
    assert after["redis_hit_rate"]["status"] == "crit" and after["redis_hit_rate"]["value"] == 0.0


def test_redis_monitor_acl_user_is_enough(small_redis):
    admin = redis.Redis(host=small_redis.host, port=small_redis.port)
    admin.execute_command(
        "ACL", "SETUSER", "monitor", "on", ">mon-secret", "+@connection", "+info", "+slowlog|get"
    )
    admin.config_set("slowlog-log-slower-than", 0)
    admin.set("k", "v")
    admin.close()
    params = {
        "host": small_redis.host,
        "port": small_redis.port,
        "username": "monitor",
        "password": "mon-secret",
    }
    checks = by_name(run(None, params, include=["redis"]))
    assert "redis_connection" not in checks
    assert {c["status"] for c in checks.values()} == {"ok"}
    assert checks["redis_slowlog"]["details"], "slowlog entries are read"

    bad = by_name(run(None, {**params, "password": "wrong-pass"}, include=["redis"]))
    conn = bad["redis_connection"]
    assert conn["status"] == "crit" and f"{small_redis.host}:{small_redis.port} as monitor" in conn["note"]
    assert "wrong-pass" not in json.dumps(bad)


def test_redis_failed_save_and_slow_command(tmp_path):
    rdb_dir = tmp_path / "rdb"
    rdb_dir.mkdir()
    server = start_redis({"dir": str(rdb_dir)})
    try:
        params = {"host": server.host, "port": server.port}
        client = redis.Redis(host=server.host, port=server.port)
        client.set("ved:k", "v")
        client.config_set("slowlog-log-slower-than", 0)
        client.eval("local i = 0 while i < 3000000 do i = i + 1 end return i", 0)  # busy Lua loop
        rdb_dir.rmdir()  # empty: nothing saved yet
        client.bgsave()  # cannot create its temp file: the save fails
        deadline = time.monotonic() + 10
        while client.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.1)
        client.close()
        checks = by_name(
            run(
                None,
                params,
                include=["redis_persistence", "redis_slowlog"],
                thresholds={"redis_slowlog": {"warn": 5}},
            )
        )
    finally:
        destroy_redis(server)
    assert checks["redis_persistence"]["status"] == "crit" and checks["redis_persistence"][
        "value"
    ].startswith("rdb err")
    slow = checks["redis_slowlog"]
    assert slow["status"] in ("warn", "crit") and any(
        e["command"].lower().startswith("eval ") for e in slow["details"]
    )


# -- backups ---------------------------------------------------------------------------------
def iso(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()


def backup_run(status_dir, **kw):
    return by_name(
        vh.run_health(
            include=["backup"],
            backup={"status_dir": status_dir, "pgbackrest_cmd": "no-such-pgbackrest", **kw},
        )
    )


def test_backup_status_files(tmp_path):
    empty = backup_run(tmp_path)
    assert (
        empty["backup_full_age"]["status"] == "crit"
        and "no-such-pgbackrest is not installed" in empty["backup_full_age"]["note"]
    )
    (tmp_path / "last-success.json").write_text(json.dumps({"type": "full", "finished_at": iso(2)}))
    fresh = backup_run(tmp_path)
    assert fresh["backup_full_age"]["status"] == "ok" and 1.9 < fresh["backup_full_age"]["value"] < 2.1
    assert fresh["backup_diff_age"]["status"] == "ok" and fresh["backup_last_failure"]["status"] == "ok"

    (tmp_path / "last-success.json").write_text(json.dumps({"type": "full", "finished_at": iso(24 * 20)}))
    stale = backup_run(tmp_path)
    assert stale["backup_full_age"]["status"] == "crit" and stale["backup_diff_age"]["status"] == "crit"

    (tmp_path / "last-failure.json").write_text(
        json.dumps({"unit": "ved-pgbackrest-backup@diff.service", "failed_at": iso(1), "result": "exit-code"})
    )
    failed = backup_run(tmp_path)["backup_last_failure"]
    assert failed["status"] == "crit" and "ved-pgbackrest-backup@diff.service failed" in failed["note"]

    (tmp_path / "last-success.json").write_text(json.dumps({"type": "diff", "finished_at": iso(0.5)}))
    recovered = backup_run(tmp_path)
    assert recovered["backup_last_failure"]["status"] == "ok"
    assert recovered["backup_diff_age"]["status"] == "ok"

    (tmp_path / "last-failure.json").write_text("{not json")
    with pytest.raises(vh.HealthError, match="cannot read .*last-failure.json"):
        backup_run(tmp_path)


def test_backup_timers_not_active_is_crit(tmp_path):
    timers = backup_run(tmp_path, timers=["ved-no-such-unit.timer"])["backup_timers"]
    assert timers["status"] == "crit" and timers["value"] == 1


# -- bad input -------------------------------------------------------------------------------
def test_unreachable_postgres_is_one_clear_crit_check(pg_db):
    params = {**pg_db, "port": free_port()}
    result = run(params, include=["pg_version", "pg_connections"])
    assert [c["name"] for c in result["checks"]] == ["postgresql_connection"]
    check = result["checks"][0]
    assert check["status"] == "crit" and f"127.0.0.1:{params['port']}" in check["note"]
    assert "DATABASE_TROUBLESHOOTING.md#service-unreachable" in check["remedy"]


def test_wrong_password_and_missing_database(pg_db):
    wrong = run({**pg_db, "password": "not-the-password"}, include=["pg_version"])["checks"][0]
    assert wrong["name"] == "postgresql_connection" and "password authentication failed" in wrong["note"]
    assert "not-the-password" not in wrong["note"]
    missing = run({**pg_db, "dbname": "no_such_db"}, include=["pg_version"])["checks"][0]
    assert 'database "no_such_db" does not exist' in missing["note"]


def test_unreachable_redis_is_crit():
    check = run(None, {"host": "127.0.0.1", "port": free_port(), "timeout": 1}, include=["redis"])["checks"][
        0
    ]
    assert check["name"] == "redis_connection" and check["status"] == "crit"
    assert "cannot connect to Redis at 127.0.0.1:" in check["note"]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"include": ["pg_nope"]}, "include: unknown check(s) pg_nope; allowed sections: postgresql"),
        ({"exclude": ["redis_nope"]}, "exclude: unknown check(s) redis_nope"),
        ({"include": "postgresql"}, "include must be a list"),
        ({"include": ["pg_version"], "exclude": ["postgresql"]}, "leave no check to run"),
        ({"thresholds": {"pg_nope": {"warn": 1}}}, "unknown or threshold-less check 'pg_nope'"),
        (
            {"thresholds": {"pg_connections": {"warn": "high"}}},
            "thresholds.pg_connections.warn must be a number",
        ),
        ({"thresholds": {"pg_connections": {"warn": 0.95, "crit": 0.9}}}, "warn must be <= crit"),
        ({"thresholds": {"pg_cache_hit_ratio": {"warn": 0.9, "crit": 0.95}}}, "warn must be >= crit"),
        ({"thresholds": {"pg_connections": {"warning": 1}}}, "must be a mapping with keys warn and/or crit"),
        ({"thresholds": [1]}, "thresholds must be a mapping"),
        ({"recommended": ["work_mem"]}, "recommended_settings must be a mapping"),
        ({"include": ["redis"]}, "include asks for redis checks but no redis connection is given"),
        ({"security": {"superusers": "postgres"}}, "security.superusers must be a list of names"),
        ({"sql_dir": "/nonexistent"}, "no health SQL found in /nonexistent"),
        ({"sql_texts": {"overview": "SELECT 1"}}, "health SQL missing: hit_ratios"),
    ],
)
def test_bad_input_is_rejected_before_contact(pg_db, kw, words):
    with pytest.raises(vh.HealthError) as err:
        vh.run_health(params_from_conninfo(pg_db), None, **{"sql_dir": SQL_DIR, **kw})
    assert words in str(err.value)


# -- the Ansible module ------------------------------------------------------------------------
def module_args(pg_db, redis_server, tmp_path) -> dict:
    return {
        **params_from_conninfo(pg_db),
        "redis": {"host": redis_server.host, "port": redis_server.port},
        "sql": {f.stem: f.read_text() for f in SQL_DIR.glob("*.sql")},
        "backup_status_dir": str(tmp_path),
        "pgbackrest_cmd": "no-such-pgbackrest",
        "host_label": "test",
        "recommended_settings": {"work_mem": "64MB", "max_connections": 100},
        "thresholds": {"backup_timers": {"crit": None}},
    }


def test_module_runs_through_ansible(pg_db, redis_server, tmp_path):
    args = module_args(pg_db, redis_server, tmp_path)
    res = run_module("vedfin_health", args)
    assert not res["failed"], res.get("msg")
    assert res["changed"] is False and res["report"]["host"] == "test"
    assert "backup_full_age" in res["summary"]["crit"] and "pg_settings_drift" in res["summary"]["warn"]
    assert len(res["checks"]) == len(vh.CHECKS)
    security = {c["name"]: c for c in res["checks"] if c["section"] == "security"}
    assert security["pg_sec_superusers"]["status"] == "ok" and security["pg_sec_file_modes"]["status"] == "ok"
    narrow = run_module(
        "vedfin_health", {**args, "include": ["security"], "security_preload_libraries": ["x"]}
    )
    assert "pg_sec_preload_libraries" in narrow["summary"]["warn"]
    check = run_module("vedfin_health", args, check=True)
    assert not check["failed"] and check["changed"] is False and len(check["checks"]) == len(vh.CHECKS)
    bad = run_module("vedfin_health", {**args, "include": ["pg_nope"]})
    assert bad["failed"] and bad["msg"].startswith("vedfin_health: include: unknown check(s) pg_nope")


def test_module_main_in_process(pg_db, redis_server, tmp_path, capsys):
    """main() in this process too, so that its lines count for coverage (ansible runs it zipped)."""
    import importlib.util

    from ansible.module_utils.testing import patch_module_args

    # ``ansible.module_utils.vedfin_*`` resolve to module_utils/ (tests/conftest.py registers it).
    spec = importlib.util.spec_from_file_location(
        "vedfin_health_library", ROOT / "library" / "vedfin_health.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def call(args):
        with patch_module_args(args), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    args = module_args(pg_db, redis_server, tmp_path)
    ok = call({**args, "backup": False, "include": ["pg_version", "backup"]})
    assert [c["name"] for c in ok["checks"]] == ["pg_version"] and not ok.get("failed")
    bad = call({**args, "thresholds": {"pg_connections": {"warn": "x"}}})
    assert bad["failed"] and "thresholds.pg_connections.warn must be a number" in bad["msg"]
