"""The seed ledger, ``ops.seed_ledger``: one row per seed (its identity, status, the steps
committed, the DDL dropped for the load, counts, timings and bytes).

Status is ``loading`` (steps being committed; a rerun resumes it), ``complete`` or
``replaced``; at most one row is loading or complete at a time (a unique partial index).
The schema ``ops`` and the table are created by the first seed if missing.
"""

from __future__ import annotations

import json

LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.seed_ledger (
    id            bigserial PRIMARY KEY,
    params        jsonb NOT NULL,
    preset        text NOT NULL,
    seed          bigint NOT NULL,
    users         integer NOT NULL,
    courses       integer NOT NULL,
    behavior_logs bigint NOT NULL,
    days          integer NOT NULL,
    anchor_date   date NOT NULL,
    status        text NOT NULL CHECK (status IN ('loading', 'complete', 'replaced')),
    chunk_rows    integer NOT NULL,
    steps_total   integer NOT NULL,
    steps_done    text[] NOT NULL DEFAULT '{}',
    saved_ddl     jsonb NOT NULL DEFAULT '[]',
    bytes_before  bigint NOT NULL DEFAULT 0,
    table_counts  jsonb,
    bytes_written bigint,
    seconds       double precision,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS seed_ledger_one_current
    ON ops.seed_ledger ((true)) WHERE status IN ('loading', 'complete');
COMMENT ON TABLE ops.seed_ledger IS
    'ved-db-ops seeder: one row per seed of the app tables (module_utils/vedfin_seed/)';
"""

_COLUMNS = (
    "id, params, status, chunk_rows, steps_total, steps_done, saved_ddl, bytes_before, table_counts, "
    "bytes_written, seconds, started_at, finished_at"
)


def current(conn):
    """The loading or complete seed as a dict (``_COLUMNS``), None without one."""
    if conn.execute("SELECT to_regclass('ops.seed_ledger')").fetchone()[0] is None:
        return None
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM ops.seed_ledger "
        "WHERE status IN ('loading', 'complete') ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return dict(zip([c.strip() for c in _COLUMNS.split(",")], row, strict=True))


def start(conn, ident, previous, chunk_rows, steps_total, saved_ddl, bytes_before):
    """Create the ledger if missing, mark ``previous`` (a ledger row or None) replaced and
    insert the row of a new load (in the caller's transaction)."""
    conn.execute(LEDGER_DDL)
    if previous is not None:
        conn.execute("UPDATE ops.seed_ledger SET status = 'replaced' WHERE id = %s", (previous["id"],))
    conn.execute(
        "INSERT INTO ops.seed_ledger (params, preset, seed, users, courses, behavior_logs, days, "
        "anchor_date, status, chunk_rows, steps_total, saved_ddl, bytes_before) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, 'loading', %s, %s, %s, %s)",
        (
            json.dumps(ident),
            ident["preset"],
            ident["seed"],
            ident["users"],
            ident["courses"],
            ident["behavior_logs"],
            ident["days"],
            ident["anchor_date"],
            chunk_rows,
            steps_total,
            json.dumps(saved_ddl),
            bytes_before,
        ),
    )


def step_done(conn, ledger_id, step):
    conn.execute(
        "UPDATE ops.seed_ledger SET steps_done = array_append(steps_done, %s) WHERE id = %s",
        (step, ledger_id),
    )


def complete(conn, ledger_id, counts, written, seconds):
    conn.execute(
        "UPDATE ops.seed_ledger SET status = 'complete', table_counts = %s, bytes_written = %s, "
        "seconds = coalesce(seconds, 0) + %s, finished_at = clock_timestamp() WHERE id = %s",
        (json.dumps(counts), written, seconds, ledger_id),
    )
