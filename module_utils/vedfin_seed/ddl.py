"""The app tables' indexes and constraints around a load: saved, dropped, rebuilt.

Before the load the secondary indexes and FK constraints of the app tables and the primary
keys of the big tables are dropped, their exact DDL saved in the ledger first (``save`` /
``drop``). The finish (``restore``) recreates what is missing, on one session per CPU
(``parallel``: maintenance_work_mem 1GB, biggest tables and primary keys first), together
with other jobs of the finish (the rollup rebuild, ANALYZE), then the primary keys (``USING
INDEX``) and the FKs.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from ansible.module_utils.vedfin_pg import sql_ident
from ansible.module_utils.vedfin_seed.tables import BIG_TABLES


def debug(msg):
    """A line on stderr when VED_SEED_DEBUG is set (timings of each DDL job)."""
    if os.environ.get("VED_SEED_DEBUG"):
        print(f"[vedfin_seed] {msg}", file=sys.stderr, flush=True)


def save(conn, table, with_pk):
    """Exact DDL of the FK constraints, the non-constraint indexes and (``with_pk``) the
    primary key of ``table``, in drop order."""
    out = []
    for name, rel, ddl in conn.execute(
        "SELECT c.conname, c.conrelid::regclass::text, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', "
        "c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c "
        "WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f' ORDER BY c.conname",
        (sql_ident(table),),
    ).fetchall():
        out.append({"table": table, "kind": "fk", "name": name, "relation": rel, "ddl": ddl})
    for name, rel, ddl in conn.execute(
        "SELECT ci.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class ci ON ci.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY ci.relname",
        (sql_ident(table),),
    ).fetchall():
        out.append({"table": table, "kind": "index", "name": name, "relation": rel, "ddl": ddl})
    if with_pk:
        for name, rel, idx, ddl, index_ddl in conn.execute(
            "SELECT c.conname, c.conrelid::regclass::text, c.conindid::regclass::text, "
            "format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', c.conrelid::regclass, c.conname, "
            "pg_get_constraintdef(c.oid)), pg_get_indexdef(c.conindid) FROM pg_constraint c "
            "WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p'",
            (sql_ident(table),),
        ).fetchall():
            out.append(
                {
                    "table": table,
                    "kind": "pk",
                    "name": name,
                    "relation": rel,
                    "index": idx,
                    "ddl": ddl,
                    "index_ddl": index_ddl,
                }
            )
    return out


def drop(conn, ddl):
    """Drop what ``save`` described: FKs, then indexes, then primary keys."""
    for kind in ("fk", "index", "pk"):
        for item in ddl:
            if item["kind"] != kind:
                continue
            if kind == "index":
                conn.execute("DROP INDEX {}".format(item["relation"]))
            else:
                conn.execute(
                    "ALTER TABLE {} DROP CONSTRAINT {}".format(item["relation"], sql_ident(item["name"]))
                )


def _has_constraint(conn, item):
    return (
        conn.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
            (sql_ident(item["table"]), item["name"]),
        ).fetchone()
        is not None
    )


def restore(conn_factory, conn, ddl, maintenance_work_mem="1GB", timings=None, first_jobs=(), last_jobs=()):
    """Recreate what ``drop`` dropped, skipping what exists (a resumed finish).

    Indexes (and the unique indexes behind primary keys) are built on one session per CPU
    in parallel, biggest tables (and their primary keys) first, after ``first_jobs`` and
    before ``last_jobs`` ((name, callable(connection)) pairs run in the same pool: the
    rollup rebuild, ANALYZE); then ``ADD CONSTRAINT ... PRIMARY KEY USING INDEX``,
    then the FKs (validated in one pass each).  ``timings`` (a dict) receives
    ``indexes`` {name: seconds} (the jobs included), ``indexes_wall`` (the pool),
    ``constraints`` {name: seconds}, ``constraints_wall``.
    """
    timings = {} if timings is None else timings
    order = {t: i for i, t in enumerate(BIG_TABLES[::-1])}
    builds = []
    for item in sorted(ddl, key=lambda it: (order.get(it["table"], 99), it["kind"] != "pk")):
        if (
            item["kind"] == "index"
            and conn.execute("SELECT to_regclass(%s)", (item["relation"],)).fetchone()[0] is None
        ):
            builds.append((item["name"], item["ddl"]))
        elif (
            item["kind"] == "pk"
            and not _has_constraint(conn, item)
            and conn.execute("SELECT to_regclass(%s)", (item["index"],)).fetchone()[0] is None
        ):
            builds.append((item["index"].split(".")[-1].strip('"'), item["index_ddl"]))
    index_times = timings.setdefault("indexes", {})
    t0 = time.monotonic()
    jobs = [*first_jobs, *builds, *last_jobs]
    if jobs:
        parallel(conn_factory, jobs, maintenance_work_mem, timings=index_times)
    timings["indexes_wall"] = round(time.monotonic() - t0, 3)
    cons = timings.setdefault("constraints", {})
    t0 = time.monotonic()
    for item in ddl:
        if item["kind"] == "pk" and not _has_constraint(conn, item):
            t1 = time.monotonic()
            conn.execute(
                "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}".format(
                    item["relation"], sql_ident(item["name"]), item["index"].split(".")[-1]
                )
            )
            cons[item["name"]] = round(time.monotonic() - t1, 3)
    with conn.transaction():
        # FK validation reads the referenced tables' fresh pages: a large work_mem helps
        # its anti-join; nothing here fires triggers.
        conn.execute(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        for item in ddl:
            if item["kind"] == "fk" and not _has_constraint(conn, item):
                t1 = time.monotonic()
                conn.execute(item["ddl"])
                cons[item["name"]] = round(time.monotonic() - t1, 3)
                debug("{:.2f}s {}".format(time.monotonic() - t1, item["ddl"]))
    timings["constraints_wall"] = round(time.monotonic() - t0, 3)
    return timings


def parallel(conn_factory, statements, maintenance_work_mem, workers=None, timings=None):
    """Run independent jobs ((name, sql or callable(connection)) pairs, biggest first: CREATE
    INDEX statements, the rollup rebuild, ANALYZE) on ``workers`` autocommit sessions
    (default: one per CPU, at least 2)."""
    workers = workers or max(2, os.cpu_count() or 2)
    queue = list(statements)
    errors = []
    lock = threading.Lock()
    timings = {} if timings is None else timings

    def work():
        try:
            with conn_factory(autocommit=True) as c:
                c.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
                c.execute("SET max_parallel_maintenance_workers = 0")
                while True:
                    with lock:
                        if not queue or errors:
                            return
                        name, stmt = queue.pop(0)
                    t0 = time.monotonic()
                    if callable(stmt):
                        stmt(c)
                    else:
                        c.execute(stmt)
                    timings[name] = round(time.monotonic() - t0, 3)
                    debug(f"{time.monotonic() - t0:.2f}s {name}")
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(min(workers, len(statements)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
