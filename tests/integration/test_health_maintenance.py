"""The maintenance checks the best tools have (PgHero, check_pgactivity): transaction-ID
wraparound, sequences near their limit, invalid indexes, foreign keys without an index and
stale planner statistics. Each condition is forced on a real PostgreSQL 15 server."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from ansible.module_utils import vedfin_health as vh
from ansible.module_utils.vedfin_pg import params_from_conninfo
from servers import PG_BIN, _as_postgres, destroy_postgres, start_postgres
from test_health import SQL_DIR, by_name, flush_stats, one

# The pg_xact segment that holds a transaction ID: 32 pages of 8 kB, 4 IDs a byte.
XIDS_PER_XACT_SEGMENT = 32 * 8192 * 4


def test_a_fresh_database_is_ok_on_every_maintenance_check(pg_db):
    names = ["pg_wraparound", "pg_sequences", "pg_invalid_indexes", "pg_fk_without_index"]
    names.append("pg_stale_statistics")
    checks = by_name(vh.run_health(params_from_conninfo(pg_db), None, sql_dir=SQL_DIR, include=names))
    assert {n: c["status"] for n, c in checks.items()} == dict.fromkeys(names, "ok")
    assert checks["pg_wraparound"]["value"] < 0.01


@pytest.fixture
def old_xid_server():
    """A server whose next transaction ID is 1.2 billion while every database's frozen horizon
    stayed near 0: pg_resetwal -x on a stopped cluster, with the pg_xact segment of the new ID
    made first (the manual's procedure). Anti-wraparound autovacuum is pushed out of the way
    (autovacuum_freeze_max_age at its maximum) so it does not freeze the databases meanwhile."""
    server = start_postgres(
        {"autovacuum_freeze_max_age": "2000000000", "autovacuum_multixact_freeze_max_age": "2000000000"}
    )
    try:
        server.stop()
        xid = 1_200_000_000
        segment = server.datadir / "pg_xact" / f"{xid // XIDS_PER_XACT_SEGMENT:04X}"
        zeros = ["dd", "if=/dev/zero", f"of={segment}", "bs=8192", "count=32"]
        subprocess.run(_as_postgres(zeros), check=True, capture_output=True)
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_resetwal"), "-x", str(xid), "-D", str(server.datadir)]),
            check=True,
            capture_output=True,
        )
        server.start()
        yield server
    finally:
        destroy_postgres(server)


def test_transaction_id_age_past_half_the_horizon_warns(old_xid_server):
    check = one(old_xid_server.conninfo(), "pg_wraparound")
    assert check["status"] == "warn"
    assert 0.55 < check["value"] < 0.57  # 1.2e9 / 2^31
    assert check["details"][0]["xid_age"] > 1_199_000_000
    assert "oldest:" in check["note"]
    # With the thresholds lowered below the age, the same server is crit.
    lowered = {"pg_wraparound": {"warn": 0.2, "crit": 0.5}}
    crit = one(old_xid_server.conninfo(), "pg_wraparound", thresholds=lowered)
    assert crit["status"] == "crit"


def test_int4_key_near_its_limit_is_found_through_its_bigint_sequence(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        # An int4 key fed by a bigint sequence: the column's limit is the one that applies.
        conn.execute("CREATE SEQUENCE wide_seq AS bigint")
        conn.execute("CREATE TABLE narrow (id int PRIMARY KEY DEFAULT nextval('wide_seq'))")
        conn.execute("ALTER SEQUENCE wide_seq OWNED BY narrow.id")
        conn.execute("SELECT setval('wide_seq', 1700000000)")  # 79 % of 2^31 - 1
        conn.execute("CREATE TABLE small (id serial PRIMARY KEY)")
        conn.execute("SELECT setval('small_id_seq', 10)")
    check = one(pg_db, "pg_sequences")
    assert check["status"] == "warn"
    top = check["details"][0]
    assert top["sequence"] == "public.wide_seq" and top["sequence_type"] == "bigint"
    assert top["table_column"] == "narrow.id" and top["column_type"] == "integer"
    assert top["limit_value"] == 2147483647
    assert "public.wide_seq" in check["note"]
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("SELECT setval('small_id_seq', 2000000000)")  # 93 %
    check = one(pg_db, "pg_sequences")
    assert check["status"] == "crit" and check["details"][0]["sequence"] == "public.small_id_seq"


def test_sequences_measure_from_where_they_start_counting(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        # Descending from 1000 to 1, two values used; ascending from -2^31 (an int4 key that
        # starts at its type's minimum), three quarters used.
        conn.execute("CREATE SEQUENCE down INCREMENT -1 MINVALUE 1 MAXVALUE 1000 START 1000")
        conn.execute("SELECT nextval('down'), nextval('down')")
        conn.execute("CREATE SEQUENCE from_min AS integer MINVALUE -2147483648 START -2147483648")
        conn.execute("SELECT setval('from_min', 1073741823)")
    rows = {r["sequence"]: r for r in one(pg_db, "pg_sequences")["details"]}
    assert rows["public.down"]["ratio"] == pytest.approx(1 / 999)
    assert rows["public.down"]["limit_value"] == 1
    assert rows["public.from_min"]["ratio"] == pytest.approx(0.75)


def test_failed_concurrent_unique_index_is_invalid(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE dup (v int)")
        conn.execute("INSERT INTO dup VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v)")
    check = one(pg_db, "pg_invalid_indexes")
    assert check["status"] == "warn" and check["value"] == 1
    assert check["details"][0]["index"] == "dup_v" and "UNIQUE" in check["details"][0]["definition"]
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("DROP INDEX CONCURRENTLY dup_v")
    assert one(pg_db, "pg_invalid_indexes")["status"] == "ok"


def test_foreign_key_without_a_leading_index(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b))")
        conn.execute("INSERT INTO parent SELECT g, g FROM generate_series(1, 10) g")
        conn.execute(
            "CREATE TABLE child (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES parent)"
        )
        conn.execute("INSERT INTO child SELECT g, 1 + g % 10, 1 + g % 10 FROM generate_series(1, 2000) g")
        # An index that holds the columns but does not start with them does not count...
        conn.execute("CREATE INDEX child_id_a_b ON child (id, a, b)")
        # ... nor does a partial one; a table below the row floor is left out.
        conn.execute("CREATE INDEX child_a_b_part ON child (a, b) WHERE a > 5")
        conn.execute("CREATE INDEX child_id_incl ON child (a) INCLUDE (b)")  # b is no key column
        conn.execute(
            "CREATE TABLE tiny (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES parent)"
        )
        conn.execute("INSERT INTO tiny SELECT g, 1, 1 FROM generate_series(1, 10) g")
        conn.execute("ANALYZE")
        flush_stats(conn)
    check = one(pg_db, "pg_fk_without_index")
    assert check["status"] == "warn" and check["value"] == 1
    assert check["details"][0] | {"rows": None} == {
        "table": "child",
        "constraint_name": "child_a_b_fkey",
        "columns": "a, b",
        "referenced": "parent",
        "rows": None,
    }
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE INDEX child_b_a ON child (b, a)")  # the same columns, either order
    assert one(pg_db, "pg_fk_without_index")["status"] == "ok"


def test_never_analyzed_and_autovacuum_off_tables(pg_db):
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE loaded (x int) WITH (autovacuum_enabled = off)")
        conn.execute("INSERT INTO loaded SELECT generate_series(1, 5000)")
        conn.execute("CREATE TABLE analyzed (x int)")
        conn.execute("INSERT INTO analyzed SELECT generate_series(1, 5000)")
        conn.execute("ANALYZE analyzed")
        flush_stats(conn)
    check = one(pg_db, "pg_stale_statistics")
    assert check["status"] == "warn" and check["value"] == 1
    assert check["details"][0]["table"] == "public.loaded"
    assert check["details"][0]["reason"] == "never analyzed"
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("ANALYZE loaded")
        flush_stats(conn)
    check = one(pg_db, "pg_stale_statistics")
    assert check["status"] == "warn" and check["details"][0]["reason"] == "autovacuum off"
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE loaded RESET (autovacuum_enabled)")
    assert one(pg_db, "pg_stale_statistics")["status"] == "ok"


def test_statistics_lagging_behind_the_changes(pg_db, monkeypatch):
    # Older than the check's minimum age (1 h) in production; now in this test.
    monkeypatch.setattr(vh.postgresql, "ANALYZE_LAG_MIN_AGE_S", 0)
    with psycopg.connect(**pg_db, autocommit=True) as conn, psycopg.connect(**pg_db) as holder:
        conn.execute("CREATE TABLE busy (id int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO busy SELECT g, 0 FROM generate_series(1, 5000) g")
        flush_stats(conn)  # before ANALYZE, or the insert's counts land on top of its result
        conn.execute("ANALYZE busy")
        # Autovacuum cannot take the table's SHARE UPDATE EXCLUSIVE lock while this is held,
        # so its analyze stays behind for as long as the test needs; writes go on.
        holder.execute("LOCK TABLE busy IN SHARE UPDATE EXCLUSIVE MODE")
        conn.execute("UPDATE busy SET v = v + 1")
        conn.execute("UPDATE busy SET v = v + 1")  # 10 000 changes; autovacuum's trigger: 550
        flush_stats(conn)
        check = one(pg_db, "pg_stale_statistics")
    assert check["status"] == "warn"
    assert check["details"][0] | {"last_analyzed": None} == {
        "table": "public.busy",
        "rows": 5000,
        "changed": 10000,
        "last_analyzed": None,
        "autovacuum_enabled": True,
        "trigger_rows": 550,
        "reason": "analyze lagging",
    }
