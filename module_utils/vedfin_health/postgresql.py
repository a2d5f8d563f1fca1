"""Section ``postgresql``: the server and the connected database, one function per check.

The checks read the queries of sql/health (``load_sql``: the texts the playbook passes, or a
directory) through a ``PgContext``; the ones that several checks read (hit ratios, sessions,
checkpoints, replication, settings) run once per run. A check that raises is ``warn`` with
the error in its note; the others still run. Details keep psycopg's values (dates, Decimals):
the runner makes the whole result JSON-safe once.
"""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils.vedfin_health.registry import TOP, HealthError, Outcome, section
from ansible.module_utils.vedfin_health.settings import settings_drift
from ansible.module_utils.vedfin_health.status import evaluate, grade, oneline, ratio, worst
from ansible.module_utils.vedfin_preflight import check as app_schema_check

check = section("postgresql")

# Minimum traffic before a ratio means something, and size floors of the table checks.
MIN_CACHE_BLOCKS = 1000
MIN_CHECKPOINTS = 5
MIN_DEAD_ROWS = 1000
MIN_STATEMENT_CALLS = 5
MIN_BLOAT_BYTES = 1024 * 1024
# Rows a table needs before a foreign key without an index, or stale statistics, matter.
MIN_TABLE_ROWS = 1000
# Statistics lag when the rows changed since the last analyze exceed this many times
# autovacuum's own trigger and that analyze is older than ANALYZE_LAG_MIN_AGE_S.
ANALYZE_LAG_FACTOR = 2
ANALYZE_LAG_MIN_AGE_S = 3600

# The queries of this section (sql/health/<name>.sql); overview runs before any check.
REQUIRED_SQL = (
    "overview",
    "hit_ratios",
    "dead_tuples",
    "bloat",
    "unused_indexes",
    "duplicate_indexes",
    "invalid_indexes",
    "fk_without_index",
    "stale_statistics",
    "sequences",
    "wraparound",
    "sessions",
    "lock_waits",
    "checkpoints",
    "replication",
    "sizes",
    "statements",
    "settings",
)


def load_sql(sql_dir=None, texts: dict | None = None) -> dict[str, str]:
    """The health queries by name, from ``texts`` (name -> SQL, what the playbook passes) or
    else from ``sql_dir``/*.sql; one of them must be given."""
    if texts:
        return {str(k).removesuffix(".sql"): v for k, v in texts.items()}
    if not sql_dir:
        raise HealthError("no health SQL given: pass sql (name -> text of sql/health/*.sql) or sql_dir")
    directory = Path(sql_dir)
    files = sorted(directory.glob("*.sql")) if directory.is_dir() else []
    if not files:
        raise HealthError(f"no health SQL found in {directory} (expected the repository's sql/health/*.sql)")
    return {f.stem: f.read_text(encoding="utf-8") for f in files}


def require_sql(sql: dict[str, str], names) -> None:
    """HealthError naming the queries of ``names`` that ``sql`` lacks."""
    missing = [n for n in names if n not in sql]
    if missing:
        raise HealthError(f"health SQL missing: {', '.join(missing)}")


def rows(conn, sql: str, params: dict | None = None) -> list[dict]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params or None)
        return [dict(r) for r in cur.fetchall()]


class PgContext:
    """An autocommit connection, the health SQL by name, the thresholds in force, the
    recommended settings, and the ``overview`` row (read at once: version, uptime,
    connections, data directory)."""

    def __init__(self, conn, sql: dict[str, str], thresholds: dict, recommended: dict | None = None):
        self.conn, self.sql, self.thresholds, self.recommended = conn, sql, thresholds, recommended
        self._shared: dict[str, list[dict]] = {}
        self.overview = self.rows("overview")[0]

    def rows(self, query: str, params: dict | None = None) -> list[dict]:
        """Rows of ``sql/health/<query>.sql`` with ``params``."""
        return rows(self.conn, self.sql[query], params)

    def shared(self, query: str) -> list[dict]:
        """Rows of a parameterless query that several checks read: run on first use only."""
        if query not in self._shared:
            self._shared[query] = self.rows(query)
        return self._shared[query]


@check("pg_version", "PostgreSQL version", anchor="reading-the-health-report", remedy="Information only")
def pg_version(ctx: PgContext) -> Outcome:
    return Outcome(value=ctx.overview["version"])


@check("pg_uptime", "Uptime", unit="s", anchor="reading-the-health-report", remedy="Information only")
def pg_uptime(ctx: PgContext) -> Outcome:
    return Outcome(value=round(ctx.overview["uptime_s"]))


@check(
    "pg_connections",
    "Connections vs max_connections",
    unit="ratio",
    anchor="connection-exhaustion",
    remedy="Find idle or leaking clients, pool connections",
    above=(0.7, 0.9),
)
def pg_connections(ctx: PgContext) -> Outcome:
    ov = ctx.overview
    usable = ov["max_connections"] - ov["reserved_connections"]
    return Outcome(
        value=round(ov["connections"] / usable, 4) if usable > 0 else 1.0,
        details={
            "connections": ov["connections"],
            "max_connections": ov["max_connections"],
            "superuser_reserved": ov["reserved_connections"],
        },
    )


def _hit_ratio(ctx: PgContext, hit_key: str, read_key: str) -> Outcome:
    h = ctx.shared("hit_ratios")[0]
    details = {"hit": h[hit_key], "read": h[read_key]}
    blocks = h[hit_key] + h[read_key]
    if blocks < MIN_CACHE_BLOCKS:
        note = f"only {int(blocks)} block reads so far; ratio not graded"
        return Outcome("ok", ratio(h[hit_key], h[read_key]), note, details)
    return Outcome(value=ratio(h[hit_key], h[read_key]), details=details)


@check(
    "pg_cache_hit_ratio",
    "Buffer cache hit ratio",
    unit="ratio",
    anchor="cache-hit-rate-low",
    remedy="Check shared_buffers against the working set",
    below=(0.99, 0.95),
)
def pg_cache_hit_ratio(ctx: PgContext) -> Outcome:
    return _hit_ratio(ctx, "cache_hit", "cache_read")


@check(
    "pg_index_hit_ratio",
    "Index cache hit ratio",
    unit="ratio",
    anchor="cache-hit-rate-low",
    remedy="Check shared_buffers and oversized indexes",
    below=(0.99, 0.95),
)
def pg_index_hit_ratio(ctx: PgContext) -> Outcome:
    return _hit_ratio(ctx, "index_hit", "index_read")


@check(
    "pg_dead_tuples",
    "Tables with many dead tuples",
    unit="ratio",
    anchor="dead-tuples-and-bloat",
    remedy="VACUUM (ANALYZE) the listed tables, check autovacuum",
    above=(0.2, 0.5),
)
def pg_dead_tuples(ctx: PgContext) -> Outcome:
    warn = ctx.thresholds["pg_dead_tuples"]["warn"]
    found = ctx.rows("dead_tuples", {"min_dead": MIN_DEAD_ROWS, "min_ratio": warn or 0})
    return Outcome(
        value=max((r["ratio"] for r in found), default=0.0),
        note=f"{len(found)} table(s) at or above the warn ratio with >= {MIN_DEAD_ROWS} dead rows",
        details=found,
    )


@check(
    "pg_bloat",
    "Table bloat estimate",
    unit="ratio",
    anchor="dead-tuples-and-bloat",
    remedy="VACUUM, then pg_repack",
    above=(0.5, 0.8),
)
def pg_bloat(ctx: PgContext) -> Outcome:
    found = ctx.rows("bloat", {"min_bytes": MIN_BLOAT_BYTES})
    bad = [r for r in found if grade(r["ratio"], ctx.thresholds["pg_bloat"]) != "ok"]
    return Outcome(
        value=max((r["ratio"] or 0.0 for r in found), default=0.0),
        note=f"{len(bad)} table(s) >= 1 MB over the warn ratio; estimate, needs fresh ANALYZE",
        details=found[:TOP],
    )


@check(
    "pg_unused_indexes",
    "Unused indexes",
    unit="count",
    anchor="unused-and-duplicate-indexes",
    remedy="Confirm over a full cycle, then DROP INDEX CONCURRENTLY",
    above=(1, None),
)
def pg_unused_indexes(ctx: PgContext) -> Outcome:
    found = ctx.rows("unused_indexes", {"min_bytes": 0})
    return Outcome(value=len(found), note="idx_scan = 0 since the last statistics reset", details=found)


@check(
    "pg_duplicate_indexes",
    "Duplicate indexes",
    unit="count",
    anchor="unused-and-duplicate-indexes",
    remedy="Drop all but one of each group (migration)",
    above=(1, None),
)
def pg_duplicate_indexes(ctx: PgContext) -> Outcome:
    found = ctx.rows("duplicate_indexes")
    return Outcome(value=len(found), details=found)


@check(
    "pg_invalid_indexes",
    "Invalid indexes",
    unit="count",
    anchor="invalid-indexes",
    remedy="DROP INDEX CONCURRENTLY, remove the cause, build it again",
    above=(1, None),
)
def pg_invalid_indexes(ctx: PgContext) -> Outcome:
    found = ctx.rows("invalid_indexes")
    note = "left by a failed CONCURRENTLY build" if found else ""
    return Outcome(value=len(found), note=note, details=found)


@check(
    "pg_fk_without_index",
    "Foreign keys without an index",
    unit="count",
    anchor="foreign-keys-without-an-index",
    remedy="CREATE INDEX CONCURRENTLY on the key's columns (migration)",
    above=(1, None),
)
def pg_fk_without_index(ctx: PgContext) -> Outcome:
    found = ctx.rows("fk_without_index", {"min_rows": MIN_TABLE_ROWS})
    return Outcome(value=len(found), note=f"tables with >= {MIN_TABLE_ROWS} rows", details=found[:TOP])


@check(
    "pg_stale_statistics",
    "Tables with missing or stale statistics",
    unit="count",
    anchor="stale-planner-statistics",
    remedy="ANALYZE the listed tables; re-enable or tune autovacuum for them",
    above=(1, None),
)
def pg_stale_statistics(ctx: PgContext) -> Outcome:
    found = ctx.rows(
        "stale_statistics",
        {"min_rows": MIN_TABLE_ROWS, "lag_factor": ANALYZE_LAG_FACTOR, "min_age_s": ANALYZE_LAG_MIN_AGE_S},
    )
    return Outcome(
        value=len(found),
        note=f"never analyzed, autovacuum off, or > {ANALYZE_LAG_FACTOR}x autovacuum's trigger behind",
        details=found[:TOP],
    )


@check(
    "pg_sequences",
    "Sequence nearest its limit",
    unit="ratio",
    anchor="sequence-exhaustion",
    remedy="Widen the column and its sequence to bigint (migration)",
    above=(0.75, 0.9),
)
def pg_sequences(ctx: PgContext) -> Outcome:
    found = ctx.rows("sequences")
    if not found or found[0]["ratio"] is None:
        return Outcome(value=0.0, note="no sequence this role may read")
    top = found[0]
    column = f" ({top['table_column']} {top['column_type']})" if top["table_column"] else ""
    note = f"{top['sequence']}{column}: {top['last_value'] or 0} of {top['limit_value']}"
    return Outcome(value=round(top["ratio"], 4), note=note, details=found[:TOP])


@check(
    "pg_wraparound",
    "Transaction-ID and multixact age",
    unit="ratio",
    anchor="transaction-id-wraparound",
    remedy="End what holds the xmin horizon, VACUUM (FREEZE) the oldest database",
    above=(0.5, 0.75),
)
def pg_wraparound(ctx: PgContext) -> Outcome:
    found = ctx.rows("wraparound")
    top = found[0]
    note = f"oldest: {top['database']} (xid age {top['xid_age']}, multixact age {top['multixact_age']})"
    return Outcome(value=round(top["ratio"], 4), note=note, details=found)


@check(
    "pg_long_transactions",
    "Longest running transaction",
    unit="s",
    anchor="long-transactions-and-lock-waits",
    remedy="Find the session, end it with pg_cancel_backend",
    above=(300, 1800),
)
def pg_long_transactions(ctx: PgContext) -> Outcome:
    active = [s for s in ctx.shared("sessions") if s["state"] != "idle in transaction"]
    top = max((s["xact_age_s"] for s in active), default=0.0)
    return Outcome(value=round(top, 1), details=active[:TOP])


@check(
    "pg_idle_in_transaction",
    "Longest idle-in-transaction session",
    unit="s",
    anchor="long-transactions-and-lock-waits",
    remedy="Fix the client, set idle_in_transaction_session_timeout",
    above=(60, 600),
)
def pg_idle_in_transaction(ctx: PgContext) -> Outcome:
    idle = [
        s
        for s in ctx.shared("sessions")
        if s["state"] in ("idle in transaction", "idle in transaction (aborted)")
    ]
    top = max((s["state_age_s"] for s in idle), default=0.0)
    return Outcome(value=round(top, 1), details=idle[:TOP])


@check(
    "pg_lock_waits",
    "Longest lock wait",
    unit="s",
    anchor="long-transactions-and-lock-waits",
    remedy="Find the blocker in pg_blocking_pids",
    above=(10, 60),
)
def pg_lock_waits(ctx: PgContext) -> Outcome:
    waits = ctx.rows("lock_waits")
    top = max((r["wait_s"] for r in waits), default=0.0)
    return Outcome(value=round(top, 1), note=f"{len(waits)} session(s) waiting for a lock", details=waits)


@check(
    "pg_checkpoints",
    "Requested share of checkpoints",
    unit="ratio",
    anchor="disk-full-or-wal-growth",
    remedy="Raise max_wal_size (pg_tune) if WAL volume forces checkpoints",
    above=(0.3, 0.7),
)
def pg_checkpoints(ctx: PgContext) -> Outcome:
    cp = ctx.shared("checkpoints")[0]
    total = cp["checkpoints_timed"] + cp["checkpoints_req"]
    value = round(cp["checkpoints_req"] / total, 4) if total else 0.0
    details = {"timed": cp["checkpoints_timed"], "requested": cp["checkpoints_req"]}
    if total < MIN_CHECKPOINTS:
        return Outcome("ok", value, f"only {total} checkpoint(s) since the reset; not graded", details)
    return Outcome(value=value, details=details)


@check(
    "pg_wal_rate",
    "WAL written per hour",
    unit="bytes/h",
    anchor="disk-full-or-wal-growth",
    remedy="Compare with max_wal_size",
)
def pg_wal_rate(ctx: PgContext) -> Outcome:
    cp = ctx.shared("checkpoints")[0]
    window = cp["wal_window_s"] or 0
    return Outcome(
        value=round(cp["wal_bytes"] / window * 3600) if window > 0 else None,
        details={
            "wal_bytes": cp["wal_bytes"],
            "window_s": window,
            "max_wal_size_bytes": cp["max_wal_size_bytes"],
        },
    )


@check(
    "pg_replication_slots",
    "WAL retained by replication slots",
    unit="bytes",
    anchor="replication-lag",
    remedy="Drop inactive slots or bring the consumer back",
    above=(1024**3, 5 * 1024**3),
)
def pg_replication_slots(ctx: PgContext) -> Outcome:
    slots = [r for r in ctx.shared("replication") if r["kind"] == "slot"]
    inactive = [r["name"] for r in slots if not r["active"]]
    top = max((r["retained_bytes"] or 0 for r in slots), default=0)
    status = worst([grade(top, ctx.thresholds["pg_replication_slots"]), "warn" if inactive else "ok"])
    note = f"inactive slot(s): {', '.join(inactive)}" if inactive else f"{len(slots)} slot(s)"
    return Outcome(status, top, note, slots)


@check(
    "pg_replication_lag",
    "Standby replay lag",
    unit="s",
    anchor="replication-lag",
    remedy="Check the standby's I/O and network",
    above=(30, 300),
)
def pg_replication_lag(ctx: PgContext) -> Outcome:
    standbys = [r for r in ctx.shared("replication") if r["kind"] == "standby"]
    if not standbys:
        return Outcome(note="no standby connected")
    return Outcome(value=max(r["lag_s"] or 0 for r in standbys), details=standbys)


@check(
    "pg_sizes",
    "Database and table sizes",
    unit="bytes",
    anchor="disk-full-or-wal-growth",
    remedy="Watch the growth",
)
def pg_sizes(ctx: PgContext) -> Outcome:
    found = ctx.rows("sizes", {"top": TOP})
    dbs = [r for r in found if r["kind"] == "database"]
    return Outcome(
        value=sum(r["size_bytes"] for r in dbs),
        note=f"{len(dbs)} database(s); largest tables of {ctx.overview['database']}",
        details={"databases": dbs, "tables": [r for r in found if r["kind"] == "table"]},
    )


@check(
    "pg_slow_statements",
    "Slowest statement (mean time)",
    unit="ms",
    anchor="slow-queries",
    remedy="EXPLAIN (ANALYZE, BUFFERS) the top statements",
    above=(100, 1000),
)
def pg_slow_statements(ctx: PgContext) -> Outcome:
    if not rows(ctx.conn, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"):
        database = ctx.overview["database"]
        return Outcome(note=f"pg_stat_statements is not installed in database {database}; skipped")
    by_total = ctx.rows("statements", {"by": "total", "min_calls": 1, "dml_only": False, "top": TOP})
    # Graded: queries run at least a few times; a migration's CREATE INDEX is not a slow query.
    by_mean = ctx.rows(
        "statements", {"by": "mean", "min_calls": MIN_STATEMENT_CALLS, "dml_only": True, "top": TOP}
    )
    return Outcome(
        value=max((r["mean_ms"] for r in by_mean), default=0.0),
        note=f"graded over queries with >= {MIN_STATEMENT_CALLS} calls (no DDL, COPY or maintenance)",
        details={"by_total": by_total, "by_mean": by_mean},
    )


@check(
    "pg_settings_drift",
    "Settings that differ from the recommendation",
    unit="count",
    anchor="pending-restart-after-tuning",
    remedy="Roll the tuning out with playbooks/tune.yml",
    above=(1, None),
)
def pg_settings_drift(ctx: PgContext) -> Outcome:
    if not ctx.recommended:
        return Outcome(note="no recommendation given; skipped")
    diffs, unknown = settings_drift(ctx.shared("settings"), ctx.recommended)
    note = f"unknown setting(s) in the recommendation: {', '.join(unknown)}" if unknown else ""
    return Outcome(value=len(diffs), note=note, details=diffs)


@check(
    "pg_pending_restart",
    "Settings waiting for a restart",
    unit="count",
    anchor="pending-restart-after-tuning",
    remedy="Restart through playbooks/tune.yml (serial)",
    above=(1, None),
)
def pg_pending_restart(ctx: PgContext) -> Outcome:
    pending = [r["name"] for r in ctx.shared("settings") if r["pending_restart"]]
    return Outcome(value=len(pending), details=pending)


@check(
    "pg_app_schema",
    "App schema vs what the ops objects read",
    unit="count",
    anchor="app-schema-preflight-failed--warns",
    remedy="The app changed a table the rollups read: fix its migration or add an ops migration",
)
def pg_app_schema(ctx: PgContext) -> Outcome:
    # The migrations' preflight, run again between deployments: the app's own migrations may
    # have changed what the rollups read since the ops migrations were applied.
    if ctx.conn.execute("SELECT to_regclass('ops.schema_migrations')").fetchone()[0] is None:
        return Outcome(note="no ops migrations in this database: not checked")
    verdict = app_schema_check(ctx.conn)
    found = verdict["problems"] + verdict["warnings"]
    status = "crit" if verdict["problems"] else "warn" if verdict["warnings"] else "ok"
    return Outcome(status, len(found), details=found)


def pg_checks(
    conn, names, thresholds, sql: dict[str, str], recommended: dict | None
) -> tuple[list[dict], dict]:
    """The PostgreSQL checks in ``names`` on an autocommit connection; returns (checks,
    overview). Missing SQL is a HealthError; a check that raises is warn."""
    require_sql(sql, REQUIRED_SQL)
    ctx = PgContext(conn, sql, thresholds, recommended)
    checks = evaluate(
        "postgresql", ctx, names, thresholds, on_error=lambda exc: f"check failed: {oneline(exc)}"
    )
    return checks, ctx.overview
