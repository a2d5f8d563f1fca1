"""ved-pgbackrest (roles/pgbackrest/files/ved_pgbackrest.py) against a real PostgreSQL 15:
table checksums, the comparison that names a differing table, and the exact consistent
point that the backup record is taken at. The end-to-end backup/restore/fault tests run in
the pgbackrest role's molecule scenario (they need pgBackRest, systemd and a WAL archive).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "ved_pgbackrest", ROOT / "roles/pgbackrest/files/ved_pgbackrest.py"
)
vp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vp)


@pytest.fixture
def libpq_env(pg_server, monkeypatch):
    """The script authenticates like the postgres OS user would: user and password from libpq's env."""
    monkeypatch.setenv("PGUSER", pg_server.user)
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    return pg_server


def sums(pg_db):
    conn = vp.connect(pg_db["dbname"], pg_db["host"], pg_db["port"])
    with conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        return vp.database_sums(conn)


def test_checksum_ignores_physical_order_and_sees_one_changed_value(libpq_env, pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text, at timestamptz, f float8, b bytea);"
            "INSERT INTO t SELECT i, md5(i::text), now(), i / 3.0, '\\x01' FROM generate_series(1, 2000) i;"
            "CREATE UNLOGGED TABLE scratch (x int)"
        )
        before = sums(pg_db)
        # Same rows, other physical order.
        conn.execute("UPDATE t SET v = v WHERE id % 2 = 0")
        conn.execute("VACUUM FULL t")
        conn.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")  # the client's zone must not matter
        assert sums(pg_db) == before
        assert "public.scratch" not in before  # unlogged: empty after any restore, not recorded
        conn.execute("UPDATE t SET f = f + 1e-9 WHERE id = 1234")
        after = sums(pg_db)
    assert after["public.t"]["rows"] == before["public.t"]["rows"] == 2000
    assert after["public.t"]["checksum"] != before["public.t"]["checksum"]
    result = vp.compare({"app": before}, {"app": after})
    assert not result["ok"]
    assert result["mismatches"] == ["app.public.t: checksum_differs (rows recorded 2000, restored 2000)"]


def test_compare_names_missing_tables_and_row_differences():
    rec = {"app": {"public.a": {"rows": 3, "checksum": "1-2"}, "public.b": {"rows": 1, "checksum": "3-4"}}}
    res = {"app": {"public.a": {"rows": 2, "checksum": "1-1"}}}
    out = vp.compare(rec, res)
    assert out["mismatches"] == [
        "app.public.a: rows_differ (rows recorded 3, restored 2)",
        "app.public.b: missing_in_restore (rows recorded 1, restored None)",
    ]
    assert vp.compare(rec, rec)["ok"]


def test_consistent_point_waits_for_an_open_write_transaction(libpq_env, pg_db):
    host, port = pg_db["host"], pg_db["port"]
    with psycopg.connect(**pg_db, autocommit=True) as writer:
        writer.execute("CREATE TABLE w (id int)")
        writer.execute("BEGIN")
        writer.execute("INSERT INTO w VALUES (1)")  # holds an xid: no exact point exists now
        conns = {pg_db["dbname"]: vp.connect(pg_db["dbname"], host, port)}
        with pytest.raises(vp.VedBackupError, match="no consistent point after 3 attempts"):
            vp.consistent_point(conns, 3)
        threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
        lsn, snap, attempts = vp.consistent_point(conns, 200)
        assert attempts > 1
        xmin, xmax, xip = vp.parse_snapshot(snap)
        assert xip == [] and xmin == xmax
        # The committed row is visible in the snapshot the sums are taken in.
        assert conns[pg_db["dbname"]].execute("SELECT count(*) FROM w").fetchone()[0] == 1
        conns[pg_db["dbname"]].execute("ROLLBACK")
        conns[pg_db["dbname"]].close()
        time.sleep(0.35)


def test_snapshot_writes_the_record_and_latest(libpq_env, pg_db, tmp_path):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r SELECT generate_series(1, 10)")
    cfg = dict(
        vp.DEFAULTS,
        socket=pg_db["host"],
        port=pg_db["port"],
        databases=[pg_db["dbname"]],
        record_dir=str(tmp_path / "records"),
    )
    record = vp.snapshot(cfg, "20260101-000000F", "full")
    saved = json.loads((tmp_path / "records" / "20260101-000000F.json").read_text())
    assert saved == json.loads((tmp_path / "records" / "latest.json").read_text()) == record
    assert record["databases"][pg_db["dbname"]]["public.r"]["rows"] == 10
    assert record["lsn"].count("/") == 1
    assert record["restore_point"] == "ved-20260101-000000F"
