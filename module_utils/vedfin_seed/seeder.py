"""``seed()``: validate, decide what to do with the database's current seed, then load.

One seeder per database (a session advisory lock). The decision compares the requested
identity with the ledger's current seed and the tables' row counts:

* same identity, complete, untouched: nothing to do (``none``);
* same identity, still loading: ``resume`` after its last committed step;
* other identity: ``replace`` with ``replace=true``, refused otherwise;
* the tables changed since the recorded seed, or rows with no ledger at all: refused unless
  ``force=true`` (then truncated and reseeded).

Check mode stops after the decision and reports what a real run would load.
"""

from __future__ import annotations

import contextlib
import time

from ansible.module_utils.vedfin_pg import connect
from ansible.module_utils.vedfin_seed import ledger
from ansible.module_utils.vedfin_seed.environment import check_environment
from ansible.module_utils.vedfin_seed.loader import load
from ansible.module_utils.vedfin_seed.params import (
    SeedError,
    as_int,
    describe,
    identity,
    normalize_params,
    today,
    without_anchor,
)
from ansible.module_utils.vedfin_seed.tables import existing_tables, table_counts

try:
    import numpy  # noqa: F401 - the plan needs it; imported here only to say whether it is there

    HAS_NUMPY = True
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    HAS_NUMPY = False

DEFAULT_CHUNK_ROWS = 500_000
_LOCK_KEY = 0x7665645F73656564  # "ved_seed": advisory lock, one seeder per database


def seed(
    conn_params,
    preset="demo",
    seed=1,
    users=None,
    courses=None,
    behavior_logs=None,
    days=None,
    anchor_date=None,
    replace=False,
    force=False,
    environment=None,
    allow_production=False,
    disposable=False,
    check_mode=False,
    chunk_rows=DEFAULT_CHUNK_ROWS,
    on_step=None,
    connect_fn=None,
):
    """Seed the app tables of the database ``conn_params`` (module connection params).

    Returns a dict: changed, operation (seed/resume/replace/none), params, table_counts,
    rows_loaded, seconds, rows_per_second, mb_written, ledger_id, steps.  Raises SeedError
    (nothing written) on refusal or bad input.  ``on_step(name)`` is called after each
    committed step (tests use it to slow a load down).

    ``environment``/``disposable``/``allow_production``: see ``check_environment``. The
    Ansible module always checks them (a missing environment is refused there); this Python
    API checks them whenever ``environment`` is given, and leaves ``None`` to the tests'
    throwaway servers.
    """
    t_start = time.monotonic()
    if environment is not None or disposable:
        check_environment(environment, disposable, allow_production)
    if not HAS_NUMPY:
        raise SeedError("the Python library numpy is required by the seeder but not installed")
    params = normalize_params(preset, seed, users, courses, behavior_logs, days, anchor_date)
    chunk_rows = as_int("chunk_rows", chunk_rows)
    if not 100 <= chunk_rows <= 50_000_000:
        raise SeedError(f"chunk_rows must be between 100 and 50000000, got {chunk_rows}")
    connect_fn = connect_fn or (
        lambda autocommit=False: connect(
            conn_params, autocommit=autocommit, application_name="ved-db-ops seed"
        )
    )
    conn = connect_fn(autocommit=True)
    try:
        return _seed(conn, connect_fn, params, replace, force, check_mode, chunk_rows, on_step, t_start)
    finally:
        conn.close()


def _seed(conn, connect_fn, params, replace, force, check_mode, chunk_rows, on_step, t_start):
    missing = [t for t, ok in existing_tables(conn).items() if not ok]
    if missing:
        raise SeedError(
            "database does not hold the application schema: missing table(s) {} "
            "(apply sql/schema/ first)".format(", ".join(missing))
        )
    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()[0]
    if not got:
        raise SeedError("another seed is running on this database (advisory lock held)")
    try:
        current = ledger.current(conn)
        if params["anchor_date"] is None:
            if current and without_anchor(current["params"]) == without_anchor(params):
                params["anchor_date"] = current["params"]["anchor_date"]
            else:
                params["anchor_date"] = today().isoformat()
        counts = table_counts(conn)
        ident = identity(params)
        action = _decide(current, ident, counts, replace, force)
        if action == "none":
            return _result(False, "none", params, counts, 0, t_start, 0, current["id"], [], check_mode)
        # numpy: only now (seed() checked HAS_NUMPY); the module's environment check needs none
        from ansible.module_utils.vedfin_seed.plan import Plan

        plan = Plan(ident)
        if action == "resume":
            chunk_rows = current["chunk_rows"]
        steps = plan.steps(chunk_rows)
        if check_mode:
            expected = plan.counts()
            ledger_id = current["id"] if current else None
            res = _result(True, action, params, expected, 0, t_start, 0, ledger_id, steps, check_mode)
            res["would_load"] = expected
            return res
        loaded = load(conn, connect_fn, plan, ident, current, action, steps, chunk_rows, on_step, t_start)
        res = _result(
            True,
            action,
            params,
            loaded["table_counts"],
            loaded["rows_loaded"],
            t_start,
            loaded["bytes_written"],
            loaded["ledger_id"],
            steps,
            False,
        )
        res.update(rollups=loaded["rollups"], phases=loaded["phases"], warnings=loaded["warnings"])
        return res
    finally:
        with contextlib.suppress(Exception):  # the connection may be gone; the lock dies with it
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _decide(current, ident, counts, replace, force):
    """seed / resume / replace / none, or SeedError (see the module docstring)."""
    if current is None:
        foreign = {t: c for t, c in counts.items() if c}
        if foreign and not force:
            raise SeedError(
                "the app tables hold rows not written by this seeder (no ledger in ops.seed_ledger): {}; "
                "pass force=true to truncate them and seed".format(
                    ", ".join("{}={}".format(*kv) for kv in sorted(foreign.items()))
                )
            )
        return "seed"
    same = current["params"] == ident
    tampered = current["status"] == "complete" and current["table_counts"] != counts
    if same and current["status"] == "complete" and not tampered:
        return "none"
    if tampered and not force:
        diff = {
            t: "{} -> {}".format(current["table_counts"].get(t), c)
            for t, c in counts.items()
            if current["table_counts"].get(t) != c
        }
        raise SeedError(
            "the app tables changed since the recorded seed (ledger id {}): {}; pass force=true to "
            "truncate and reseed".format(
                current["id"], ", ".join(f"{t} {d}" for t, d in sorted(diff.items()))
            )
        )
    if same and current["status"] == "loading":
        return "resume"
    if same:
        return "replace"  # tampered + force
    if not replace:
        raise SeedError(
            "database already seeded with different parameters (ledger id {}: {}); requested {}; "
            "pass replace=true to truncate the seeded tables and reseed".format(
                current["id"], describe(current["params"]), describe(ident)
            )
        )
    return "replace"


def _result(changed, action, params, counts, rows_loaded, t_start, written, ledger_id, steps, check_mode):
    seconds = time.monotonic() - t_start
    return {
        "changed": changed,
        "operation": action,
        "check_mode": check_mode,
        "params": dict(params),
        "anchor_date": params.get("anchor_date"),
        "table_counts": counts,
        "rows_loaded": rows_loaded,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_loaded / seconds, 1) if seconds > 0 and rows_loaded else 0.0,
        "mb_written": round(written / 1e6, 3),
        "mb_per_second": round(written / 1e6 / seconds, 3) if seconds > 0 and written else 0.0,
        "ledger_id": ledger_id,
        "steps": len(steps),
        "warnings": [],
    }
