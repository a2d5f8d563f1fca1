"""Loading a plan: prepare, COPY the steps, finish.

Prepare (one transaction): empty the app tables (``TRUNCATE ... CASCADE``, while the rollup
triggers still fire, so their TRUNCATE triggers empty the rollups), save and drop the
secondary indexes and FKs (``ddl``), record the load in the ledger.

Steps: ``base`` (the small tables), ``UserProgress:k``, ``BehaviorLog:k``; each is one
transaction that also appends the step to the ledger, so a killed load leaves only whole
steps behind and a rerun resumes after the last one. The buffers are streamed with
``COPY ... FROM STDIN`` by a writer thread while the next ones are generated. The first
step loading a table empties it again in its own transaction and uses ``COPY ... (FREEZE)``:
those rows land frozen and all-visible, so the index builds do not rewrite their pages to
set hint bits.

Finish: the rollup rebuild (``rollups``), the index builds and ANALYZE in one session pool,
then the constraints; the ledger says 'complete' only after that committed, so a complete
seed always has exact rollups (a resumed load rebuilds again).
"""

from __future__ import annotations

import contextlib
import time

from ansible.module_utils.vedfin_pg import sql_ident
from ansible.module_utils.vedfin_seed import ddl, ledger, rollups
from ansible.module_utils.vedfin_seed.params import SeedError
from ansible.module_utils.vedfin_seed.tables import (
    APP_TABLES,
    BIG_TABLES,
    SMALL_TABLES,
    table_bytes,
    table_counts,
)

try:
    from psycopg.copy import QueuedLibpqWriter
except ImportError:  # pragma: no cover - psycopg < 3.2, or none (the module reports that)
    QueuedLibpqWriter = None


def copy(cur, table, columns, data_iter, freeze=False):
    """COPY the buffers of ``data_iter`` into ``table``.  A writer thread sends the data
    while the caller generates the next buffers (numpy and the socket release the GIL), so
    generation overlaps the server's parsing.  Returns the seconds spent generating."""
    stmt = "COPY {} ({}) FROM STDIN{}".format(
        sql_ident(table), ", ".join(sql_ident(c) for c in columns), " (FREEZE)" if freeze else ""
    )
    gen = 0.0
    # psycopg < 3.2 (Debian 12 ships 3.1.7) has no queued writer: plain COPY, same data.
    kwargs = {"writer": QueuedLibpqWriter(cur)} if QueuedLibpqWriter is not None else {}
    with cur.copy(stmt, **kwargs) as cp:
        it = iter(data_iter)
        while True:
            t0 = time.monotonic()
            buf = next(it, None)
            gen += time.monotonic() - t0
            if buf is None:
                break
            if buf:
                cp.write(buf)
    return gen


def _first_steps(steps):
    """The first step loading each table: it may TRUNCATE its table(s) and COPY FREEZE."""
    out, seen = set(), set()
    for st in steps:
        kind = st.split(":")[0]
        if kind not in seen:
            seen.add(kind)
            out.add(st)
    return out


def _truncate(conn, tables):
    conn.execute("TRUNCATE {} CASCADE".format(", ".join(sql_ident(t) for t in tables)))


def load(conn, connect_fn, plan, ident, current, action, steps, chunk_rows, on_step, t_start):
    """Load ``plan`` (identity ``ident``) into the database of ``conn`` (autocommit, holding
    the seeder's advisory lock) and record it complete; ``current`` is the ledger row (a
    resume continues it), ``t_start`` the monotonic start of the run (the ledger adds up
    the seconds of every run of a seed).  Returns rows_loaded, table_counts, bytes_written,
    ledger_id, rollups (how they were kept exact), phases and warnings."""
    rows_loaded = 0
    warnings = []
    phases = {"prepare": 0.0, "generate": 0.0, "copy": {}, "copy_generate": {}}
    t0 = time.monotonic()
    can_rebuild = rollups.available(conn)
    mode = rollups.bulk_mode(conn, can_rebuild, warnings)
    if action != "resume":
        with conn.transaction():
            # Still session_replication_role = origin: the rollups' TRUNCATE triggers empty
            # them along with the app tables (the completion step rebuilds them). CASCADE: the
            # app's tables the seeder does not fill (chat, quizzes, tokens, ...) reference
            # these; a seed replaces all app data, so they are emptied too.
            _truncate(conn, APP_TABLES)
            saved = []
            for t in APP_TABLES:
                saved += ddl.save(conn, t, with_pk=t in BIG_TABLES)
            ddl.drop(conn, saved)
            before = sum(table_bytes(conn).values())
            ledger.start(conn, ident, current, chunk_rows, len(steps), saved, before)
        current = ledger.current(conn)
    ledger_id = current["id"]
    done = set(current["steps_done"])
    firsts = _first_steps(steps)
    phases["prepare"] = round(time.monotonic() - t0, 3)
    if mode == "replica":
        # Only this session: a crash takes the setting with it (unlike DISABLE TRIGGER).
        conn.execute("SET session_replication_role = replica")
    cur = conn.cursor()

    def account(table, wall, gen):
        phases["copy"][table] = round(phases["copy"].get(table, 0.0) + wall, 3)
        phases["copy_generate"][table] = round(phases["copy_generate"].get(table, 0.0) + gen, 3)
        phases["generate"] = round(phases["generate"] + gen, 3)

    try:
        for step in steps:
            if step in done:
                continue
            # The first step of a table runs while nothing else of that table is committed
            # (steps commit in order), so it may empty the table again in its own
            # transaction and COPY FREEZE: rows land frozen and all-visible, sparing the
            # hint-bit rewrite of every page by the index builds and ANALYZE.
            freeze = step in firsts
            with conn.transaction():
                if step == "base":
                    if freeze:
                        # CASCADE reaches only the app's unseeded tables (already empty): the
                        # big tables' foreign keys are dropped for the load.
                        _truncate(conn, SMALL_TABLES)
                    it = plan.base_tables()
                    while True:
                        g0 = time.monotonic()
                        item = next(it, None)
                        gen = time.monotonic() - g0
                        if item is None:
                            break
                        table, cols, data = item
                        c0 = time.monotonic()
                        copy(cur, table, cols, [data], freeze=freeze)
                        account(table, time.monotonic() - c0 + gen, gen)
                        rows_loaded += data.count(b"\n")
                elif step.startswith("UserProgress:"):
                    if freeze:
                        conn.execute('TRUNCATE "UserProgress"')
                    c0 = time.monotonic()
                    data, n = plan.progress_chunk(int(step.split(":")[1]))
                    gen = time.monotonic() - c0
                    copy(cur, "UserProgress", plan.PROGRESS_COLUMNS, [data], freeze=freeze)
                    account("UserProgress", time.monotonic() - c0, gen)
                    rows_loaded += n
                else:
                    if freeze:
                        conn.execute('TRUNCATE "BehaviorLog"')
                    k = int(step.split(":")[1])
                    counter = [0]

                    def gen(k=k, counter=counter):
                        for b in plan.log_chunk_blocks(k):
                            data, n = plan.log_block(b)
                            counter[0] += n
                            yield data

                    c0 = time.monotonic()
                    g = copy(cur, "BehaviorLog", plan.LOG_COLUMNS, gen(), freeze=freeze)
                    account("BehaviorLog", time.monotonic() - c0, g)
                    rows_loaded += counter[0]
                ledger.step_done(conn, ledger_id, step)
            if on_step is not None:
                on_step(step)
    finally:
        if mode == "replica" and not conn.closed:
            with contextlib.suppress(Exception):
                conn.execute("RESET session_replication_role")
    _finish(conn, connect_fn, current, mode, can_rebuild and action == "resume", phases, warnings)
    counts = table_counts(conn)
    expected = plan.counts()
    if counts != expected:
        raise SeedError(f"seed finished with unexpected row counts {counts} (expected {expected})")
    with conn.transaction():
        after = sum(table_bytes(conn).values())
        written = max(0, after - int(current["bytes_before"]))
        ledger.complete(conn, ledger_id, counts, written, time.monotonic() - t_start)
    return {
        "rows_loaded": rows_loaded,
        "table_counts": counts,
        "bytes_written": written,
        "ledger_id": ledger_id,
        "rollups": {"replica": "rebuilt", "triggers": "maintained by triggers", None: "none"}[mode],
        "phases": phases,
        "warnings": warnings,
    }


def _finish(conn, connect_fn, current, mode, resumed_with_rebuild, phases, warnings):
    """Indexes, rollups, statistics, FKs.  The rollup rebuild only reads the (now complete)
    heaps, so it runs in the same session pool as the index builds (first: it is the longest
    job), and ANALYZE last.  A load with the triggers on rebuilds only when it resumes one
    whose earlier part may have run without them."""
    phases["rollups"] = {}
    first_jobs = []
    if mode == "replica" or (mode == "triggers" and resumed_with_rebuild):

        def rebuild_rollups(c):
            import psycopg

            try:
                rollups.rebuild(c, phases["rollups"])
            except psycopg.errors.InsufficientPrivilege as exc:
                if mode != "triggers":
                    raise
                # A resumed load whose earlier part ran without triggers, now without the
                # rights to rebuild: say so rather than fail the seed forever.
                warnings.append(
                    "could not rebuild the ops rollups ({}); they may miss rows loaded by an earlier, "
                    "interrupted run: run SELECT {}() as their owner".format(
                        " ".join(str(exc).split()), rollups.REBUILD_ALL
                    )
                )

        first_jobs.append(("rollups", rebuild_rollups))
    last_jobs = [
        ("analyze:" + t, "ANALYZE " + ", ".join(sql_ident(x) for x in group))
        for t, group in (("small", SMALL_TABLES), *((t, [t]) for t in BIG_TABLES))
    ]
    ddl.restore(
        connect_fn, conn, current["saved_ddl"], timings=phases, first_jobs=first_jobs, last_jobs=last_jobs
    )
    phases["rollups_wall"] = phases["indexes"].pop("rollups", 0.0)
    phases["analyze"] = round(sum(phases["indexes"].pop(n) for n, _ in last_jobs), 3)
