"""The ops rollups (sql/migrations) around a load: with or without their triggers, and the
full rebuild at the end.

The rollups' own SQL knows which rebuild functions exist, their order and the tables they
write: ``ops.rebuild_all_rollups()`` and ``ops.rollup_tables()`` (sql/migrations/0012,
replaced by any later migration that adds a rollup). This module only calls them.

Their triggers on BehaviorLog/UserProgress/User/UserStreak/UserAchievement would make the
load ~3x slower. A superuser seeder loads with ``SET session_replication_role = replica`` in
its own session only (no trigger fires there; nothing global changes, a crash takes the
setting with it; never ALTER TABLE ... DISABLE TRIGGER) and rebuilds the rollups at the end;
otherwise the triggers fire (slow but exact) and a warning says so.
"""

from __future__ import annotations

import time

from ansible.module_utils.vedfin_pg import sql_ident

REBUILD_ALL = "ops.rebuild_all_rollups"


def available(conn):
    """Whether the database has ``ops.rebuild_all_rollups()`` (0012)."""
    return conn.execute("SELECT to_regprocedure('ops.rebuild_all_rollups()') IS NOT NULL").fetchone()[0]


def _has_ops_triggers(conn):
    """Whether triggers running ops functions (the rollups') are on any table."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE NOT t.tgisinternal AND p.pronamespace = to_regnamespace('ops'))"
    ).fetchone()[0]


def is_superuser(conn):
    return conn.execute("SELECT current_setting('is_superuser') = 'on'").fetchone()[0]


def bulk_mode(conn, can_rebuild, warnings):
    """Decide how the load treats the rollup triggers (``can_rebuild``: ``available(conn)``).
    Returns 'replica' (this session loads with ``session_replication_role = replica``: no
    trigger fires, the rollups are rebuilt in the completion step), 'triggers' (they fire
    and keep the rollups exact, slowly: not a superuser, or no rebuild function) or None (no
    rollups in this database). Appends the reason for 'triggers' to ``warnings``."""
    if not can_rebuild:
        if not _has_ops_triggers(conn):
            return None
        warnings.append(
            "the ops rollup triggers fire during this load (about 3x slower): the database has them but "
            f"not {REBUILD_ALL}() (sql/migrations/0012); apply the ops migrations to load without them"
        )
        return "triggers"
    if is_superuser(conn):
        return "replica"
    warnings.append(
        "the rollup triggers on BehaviorLog/UserProgress fire during this load (about 3x slower): "
        "session_replication_role = replica needs a superuser and {} is not one; connect as "
        "postgres to load without them (the rollups are rebuilt at the end either way)".format(
            conn.execute("SELECT current_user").fetchone()[0]
        )
    )
    return "triggers"


def _index_ddl(conn):
    """(drop, create) statement pairs for the indexes and primary-key/unique constraints of
    ``ops.rollup_tables()``, in drop order (constraints first)."""
    out = []
    for rel, name, ddl in conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.conrelid IN (SELECT ops.rollup_tables()) AND c.contype IN ('p', 'u') ORDER BY 1, 2"
    ).fetchall():
        out.append(
            (
                f"ALTER TABLE {rel} DROP CONSTRAINT {sql_ident(name)}",
                f"ALTER TABLE {rel} ADD CONSTRAINT {sql_ident(name)} {ddl}",
            )
        )
    for idx, ddl in conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid IN (SELECT ops.rollup_tables()) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1"
    ).fetchall():
        out.append((f"DROP INDEX {idx}", ddl))
    return out


def rebuild(c, timings, maintenance_work_mem="1GB"):
    """Run ``ops.rebuild_all_rollups()`` in one transaction of connection ``c``; ``timings``
    receives its seconds per rebuild function.  The rollup tables' indexes are dropped first
    and rebuilt after the functions filled the tables (sorted builds instead of one random
    btree insert per row and index), in the same transaction: a crash rolls the drops back.
    If an index cannot be dropped (say a foreign key of another table depends on it) the
    rebuild runs with the indexes.

    The functions rebuild every rollup themselves, so the rollup tables' own triggers (0009:
    ops.user_course_progress and ops.user_activity feed other rollups with upserts, which
    need the dropped keys) are switched off with ``session_replication_role = replica``;
    without the rights for that the indexes stay and the triggers just do redundant work."""
    import psycopg

    with c.transaction():
        c.execute("SET LOCAL work_mem = '256MB'")
        c.execute(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'")
        c.execute("SET LOCAL max_parallel_maintenance_workers = 0")
        if is_superuser(c):
            c.execute("SET LOCAL session_replication_role = replica")
            pairs = _index_ddl(c)
        else:
            pairs = []
        try:
            with c.transaction():
                for drop, _create in pairs:
                    c.execute(drop)
        except psycopg.Error:
            pairs = []
        for fn, seconds in c.execute(f"SELECT rebuild, seconds FROM {REBUILD_ALL}()").fetchall():
            timings[fn] = round(seconds, 3)
        t1 = time.monotonic()
        for _drop, create in reversed(pairs):
            c.execute(create)
        if pairs:
            timings["rollup indexes"] = round(time.monotonic() - t1, 3)
