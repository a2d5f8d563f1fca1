"""The seeder (module_utils/vedfin_seed/, library/vedfin_seed.py) against real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from ansible.module_utils import vedfin_migrate
from ansible.module_utils import vedfin_seed as vs
from ansible.module_utils.vedfin_pg import params_from_conninfo
from ansible_run import repo_playbook_on_localhost, run_module
from app_db import create_database, drop_database
from test_rollups import COUNTERS

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "sql" / "migrations"
ANCHOR = "2026-11-25"
SMALL = {"preset": "custom", "users": 120, "courses": 12, "behavior_logs": 5000, "days": 21}


def _seed(info, **kw):
    kw.setdefault("anchor_date", ANCHOR)
    return vs.seed(params_from_conninfo(info), **kw)


def _query(info, sql, *args):
    with psycopg.connect(**info) as conn:
        return conn.execute(sql, args or None).fetchall()


def _scalar(info, sql, *args):
    return _query(info, sql, *args)[0][0]


def _counts(info):
    with psycopg.connect(**info, autocommit=True) as conn:
        return vs.table_counts(conn)


def _checksums(info):
    with psycopg.connect(**info, autocommit=True) as conn:
        return vs.table_checksums(conn)


def _ddl_snapshot(info):
    """Every index and constraint definition of the app tables."""
    return sorted(
        _query(
            info,
            "SELECT 'i', indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) UNION ALL "
            "SELECT 'c', conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s)",
            [f'"{t}"' for t in vs.APP_TABLES],
            [f'"{t}"' for t in vs.APP_TABLES],
        )
    )


def _untouched(info):
    """Nothing written: no ledger, every app table empty (if the schema is there)."""
    assert _scalar(info, "SELECT to_regclass('ops.seed_ledger')") is None
    if _scalar(info, "SELECT to_regclass('\"User\"')") is not None:
        assert set(_counts(info).values()) == {0}


@pytest.fixture
def make_schema_db(pg_server):
    """Factory of extra fresh databases holding the reference schema."""
    made = []

    def make():
        info = create_database(pg_server, "s")
        with psycopg.connect(**info, autocommit=True) as conn:
            for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
                conn.execute(sql_file.read_text())
        made.append(info)
        return info

    yield make
    for info in made:
        drop_database(pg_server, info)


def _migrate(info):
    """Apply the ops migrations (rollup tables and their triggers included)."""
    with psycopg.connect(**info, autocommit=True) as conn:
        vedfin_migrate.apply(conn, MIGRATIONS)
    return info


# Every rollup table, ordered by its primary key: those of 0003/0004, then 0006's counters.
ROLLUPS = {
    "ops.activity_15m": '"bucket", "userId", "sessionId"',
    "ops.user_session": '"userId", "sessionId"',
    "ops.course_path_session": '"slug", "sessionId"',
    "ops.enrollment": '"userId", "courseId"',
    **COUNTERS,
}


def _ops_ddl(info):
    """Index and constraint definitions of the ops schema (the seeder rebuilds the rollups')."""
    return sorted(
        _query(
            info,
            "SELECT 'i', indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'ops'::regnamespace UNION ALL "
            "SELECT 'c', conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'ops'::regnamespace",
        )
    )


def _rebuild_functions(info):
    """Every ops.rebuild_* function of the database but the one that calls them all."""
    return [
        name
        for (name,) in _query(
            info,
            "SELECT 'ops.' || proname FROM pg_proc WHERE pronamespace = 'ops'::regnamespace "
            "AND starts_with(proname, 'rebuild_') AND proname <> 'rebuild_all_rollups' ORDER BY 1",
        )
    ]


def _rollups(info):
    return {t: _query(info, f"SELECT * FROM {t} ORDER BY {key}") for t, key in ROLLUPS.items()}


def _assert_rollups_exact(info):
    """The rollup tables equal a fresh rebuild from the base tables (and are not empty)."""
    seeded = _rollups(info)
    assert all(seeded.values()), {t: len(r) for t, r in seeded.items()}
    with psycopg.connect(**info, autocommit=True) as conn:
        conn.execute("SELECT * FROM ops.rebuild_all_rollups()")
    assert _rollups(info) == seeded
    # the load never touched the triggers' global state
    assert _query(
        info,
        "SELECT DISTINCT tgenabled FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
        "%rollup%",
    ) == [("O",)]


# ------------------------------------------------------------------------------------------


def test_demo_preset_loads_consistent_realistic_data(schema_db):
    ddl_before = _ddl_snapshot(schema_db)
    t0 = time.monotonic()
    res = _seed(schema_db, preset="demo", seed=3)
    elapsed = time.monotonic() - t0
    assert elapsed < 5, elapsed
    assert res["changed"] and res["operation"] == "seed"
    counts = _counts(schema_db)
    assert counts == res["table_counts"]
    assert counts["User"] == 200 and counts["Course"] == 25 and counts["BehaviorLog"] == 6000
    assert 25 * 8 <= counts["Lesson"] <= 25 * 15
    assert all(counts[t] > 0 for t in vs.APP_TABLES), counts
    assert res["rows_loaded"] == sum(counts.values())
    assert res["mb_written"] > 0 and res["rows_per_second"] > 0
    # indexes and constraints recreated exactly
    assert _ddl_snapshot(schema_db) == ddl_before
    q = lambda sql: _scalar(schema_db, sql)  # noqa: E731
    # the app's NULLs (issue 16): some in each nullable column the analytics read, never most
    null_share = {
        "progress": q('SELECT avg(("progressPercentage" IS NULL)::int) FROM "UserProgress"'),
        "category": q('SELECT avg(("actionCategory" IS NULL)::int) FROM "BehaviorLog"'),
        "duration": q('SELECT avg((duration IS NULL)::int) FROM "BehaviorLog"'),
        "birth": q('SELECT avg(("dateOfBirth" IS NULL)::int) FROM "User"'),
        "language": q('SELECT avg(("preferredLanguage" IS NULL)::int) FROM "User"'),
    }
    assert 0.01 < null_share["progress"] < 0.1 and 0.02 < null_share["category"] < 0.12, null_share
    assert 0.01 < null_share["duration"] < 0.5 and 0.3 < null_share["birth"] < 0.6, null_share
    assert 0.55 < null_share["language"] < 0.85, null_share
    assert q('SELECT count(*) FROM "Lesson" WHERE ("videoKey" IS NOT NULL) <> (type = \'VIDEO\')') == 0
    # FK consistency (constraints are back, but check the data itself too)
    assert (
        q(
            'SELECT count(*) FROM "BehaviorLog" b LEFT JOIN "User" u ON u.id = b."userId" '
            'WHERE b."userId" IS NOT NULL AND u.id IS NULL'
        )
        == 0
    )
    assert (
        q(
            'SELECT count(*) FROM "UserProgress" p LEFT JOIN "Lesson" l ON l.id = p."lessonId" '
            "WHERE l.id IS NULL"
        )
        == 0
    )
    # anonymous events ~3 %
    nulls = q('SELECT count(*) FROM "BehaviorLog" WHERE "userId" IS NULL')
    assert 30 <= nulls <= 400, nulls
    # Zipf-like popularity: the top course has far more enrollments than the median one
    top, median = _query(
        schema_db,
        'WITH e AS (SELECT l."courseId", count(DISTINCT p."userId") n FROM "UserProgress" p '
        'JOIN "Lesson" l ON l.id = p."lessonId" GROUP BY 1) '
        "SELECT max(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM e",
    )[0]
    assert top >= 3 * median, (top, median)
    # heavy-tailed activity: the busiest user has many times the median events
    busiest, med = _query(
        schema_db,
        'WITH a AS (SELECT count(*) n FROM "BehaviorLog" WHERE "userId" IS NOT NULL GROUP BY "userId") '
        "SELECT max(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM a",
    )[0]
    assert busiest >= 4 * med
    # progress consistent with status
    assert (
        q(
            'SELECT count(*) FROM "UserProgress" '
            "WHERE (status = 'COMPLETED') <> (\"completedAt\" IS NOT NULL) "
            "OR (status = 'COMPLETED') <> (\"progressPercentage\" = 100) "
            "OR (status = 'STARTED' AND \"progressPercentage\" <> 0) "
            'OR "progressPercentage" NOT BETWEEN 0 AND 100'
        )
        == 0
    )
    # enrollment prefix: progress on lesson k implies progress on lessons 1..k-1, completed
    assert (
        q(
            'SELECT count(*) FROM "UserProgress" p JOIN "Lesson" l ON l.id = p."lessonId" '
            'JOIN "Lesson" l2 ON l2."courseId" = l."courseId" AND l2."order" < l."order" '
            'LEFT JOIN "UserProgress" p2 ON p2."lessonId" = l2.id AND p2."userId" = p."userId" '
            "AND p2.status = 'COMPLETED' WHERE p2.id IS NULL"
        )
        == 0
    )
    # streak rows for every user; longest >= current; points consistent with completions
    assert q('SELECT count(*) FROM "UserStreak" WHERE "longestStreak" < "currentStreak"') == 0
    assert (
        q(
            'SELECT count(*) FROM "User" u WHERE points < 10 * (SELECT count(*) FROM "UserProgress" p '
            "WHERE p.\"userId\" = u.id AND p.status = 'COMPLETED')"
        )
        == 0
    )
    # roles, locales, names
    roles = dict(_query(schema_db, 'SELECT role::text, count(*) FROM "User" GROUP BY 1'))
    assert roles["STUDENT"] > 150 and roles.get("ADMIN", 0) >= 1
    assert q("SELECT count(*) FROM \"User\" WHERE NOT (name ?& array['vi', 'en', 'zh'])") == 0
    # time window: [anchor - 30 days, anchor)
    lo, hi = _query(schema_db, 'SELECT min("timestamp"), max("timestamp") FROM "BehaviorLog"')[0]
    assert lo.isoformat() >= "2026-10-26" and hi.isoformat() < ANCHOR
    # prefix slugs exist, and paths use them as whole segments
    slugs = {r[0] for r in _query(schema_db, 'SELECT slug FROM "Course"')}
    assert {"investing", "investing-advanced"} <= slugs
    assert q("SELECT count(*) FROM \"BehaviorLog\" WHERE path LIKE '/courses/%/lessons/%'") > 1000
    assert q("SELECT count(*) FROM \"BehaviorLog\" WHERE path IN ('/dashboard', '/leaderboard')") > 100
    # weekly rhythm: weekends quieter than weekdays (per day)
    wk = dict(
        _query(
            schema_db,
            "SELECT extract(isodow FROM \"timestamp\" AT TIME ZONE 'Asia/Ho_Chi_Minh') >= 6, "
            'count(*) FROM "BehaviorLog" GROUP BY 1',
        )
    )
    assert wk[True] / 2 < wk[False] / 5
    ledger = _query(schema_db, "SELECT status, table_counts, anchor_date::text FROM ops.seed_ledger")
    assert ledger == [("complete", counts, ANCHOR)]


def test_same_params_same_bytes_and_other_seed_differs(make_schema_db):
    a, b, c = make_schema_db(), make_schema_db(), make_schema_db()
    _seed(a, seed=11, **SMALL)
    _seed(b, seed=11, chunk_rows=700, **SMALL)  # chunking never changes the data
    _seed(c, seed=12, **SMALL)
    sums_a, sums_b, sums_c = _checksums(a), _checksums(b), _checksums(c)
    assert all(sums_a.values())
    assert sums_a == sums_b
    assert all(sums_a[t] != sums_c[t] for t in vs.APP_TABLES if t != "Achievement")


def test_rerun_is_idempotent_and_reuses_anchor(schema_db):
    first = _seed(schema_db, seed=5, **SMALL)
    sums = _checksums(schema_db)
    again = _seed(schema_db, seed=5, **SMALL)
    assert again["changed"] is False and again["operation"] == "none" and again["rows_loaded"] == 0
    # anchor omitted: the recorded anchor is reused, still a no-op
    kw = dict(SMALL)
    res = vs.seed(params_from_conninfo(schema_db), seed=5, **kw)
    assert res["changed"] is False and res["anchor_date"] == ANCHOR
    assert _checksums(schema_db) == sums
    assert _scalar(schema_db, "SELECT count(*) FROM ops.seed_ledger") == 1
    assert first["ledger_id"] == again["ledger_id"]


def test_different_params_refused_then_replace(schema_db):
    _seed(schema_db, seed=1, **SMALL)
    sums = _checksums(schema_db)
    with pytest.raises(vs.SeedError, match="different parameters.*replace=true"):
        _seed(schema_db, seed=2, **SMALL)
    assert _checksums(schema_db) == sums
    res = _seed(schema_db, seed=2, replace=True, **{**SMALL, "users": 80})
    assert res["changed"] and res["operation"] == "replace"
    assert _counts(schema_db)["User"] == 80
    assert _query(schema_db, "SELECT status FROM ops.seed_ledger ORDER BY id") == [
        ("replaced",),
        ("complete",),
    ]
    assert _seed(schema_db, seed=2, **{**SMALL, "users": 80})["changed"] is False


def test_foreign_rows_refused_without_force(schema_db):
    with psycopg.connect(**schema_db) as conn:
        conn.execute(
            'INSERT INTO "User" (id, email, "passwordHash", "updatedAt") '
            "VALUES ('app-1', 'a@b.vn', 'x', now())"
        )
    with pytest.raises(vs.SeedError, match="not written by this seeder.*User=1.*force=true"):
        _seed(schema_db, **SMALL)
    assert _scalar(schema_db, "SELECT to_regclass('ops.seed_ledger')") is None
    assert _counts(schema_db)["User"] == 1
    assert _seed(schema_db, force=True, **SMALL)["changed"]
    assert _scalar(schema_db, "SELECT count(*) FROM \"User\" WHERE id = 'app-1'") == 0
    # rows changed after a seed are foreign too
    with psycopg.connect(**schema_db) as conn:
        conn.execute('DELETE FROM "SocialPost" WHERE id IN (SELECT id FROM "SocialPost" LIMIT 1)')
    with pytest.raises(vs.SeedError, match="changed since the recorded seed.*SocialPost"):
        _seed(schema_db, **SMALL)


# -- environment allow-list (issue 17): a seed replaces the app data ------------------------------
@pytest.mark.parametrize(
    ("environment", "marks", "words"),
    [
        (None, {}, "the environment is missing"),
        ("", {}, "the environment is empty"),
        ("   ", {"disposable": True}, "the environment is empty"),
        ("production", {}, "names a production environment (production)"),
        ("Production", {}, "names a production environment (production)"),
        ("PRD", {}, "names a production environment (prd)"),
        ("prod", {"allow_production": True}, "names a production environment (prod)"),
        ("prod-eu", {"disposable": True}, "names a production environment (prod)"),
        ("eu_live", {}, "names a production environment (live)"),
        ("live", {"disposable": True}, "names a production environment (live)"),
        ("staging", {}, "'staging': it is not marked disposable"),
        ("qa", {}, "'qa': it is not marked disposable"),
        ("localhost", {}, "'localhost': it is not marked disposable"),
    ],
)
def test_environment_refusals(environment, marks, words):
    with pytest.raises(vs.SeedError) as err:
        vs.check_environment(environment, **marks)
    msg = str(err.value)
    assert words in msg
    assert "vedfin_environment" in msg and "local, dev, ci, test, demo" in msg and "seed_disposable" in msg


@pytest.mark.parametrize(
    ("environment", "marks", "name"),
    [
        ("local", {}, "local"),
        (" LOCAL ", {}, "local"),
        ("ci", {}, "ci"),
        ("Test", {}, "test"),
        ("demo", {}, "demo"),
        ("dev", {}, "dev"),
        ("staging", {"disposable": True}, "staging"),
        ("qa-7", {"disposable": True}, "qa-7"),
        ("preprod", {"disposable": True}, "preprod"),  # one word, not "prod"
        ("production", {"disposable": True, "allow_production": True}, "production"),
    ],
)
def test_environment_allowed(environment, marks, name):
    assert vs.check_environment(environment, **marks) == name


def test_production_refused(schema_db):
    with pytest.raises(vs.SeedError, match="production.*allow_production"):
        _seed(schema_db, environment="production", **SMALL)
    with pytest.raises(vs.SeedError, match="names a production environment"):
        _seed(schema_db, environment="production", allow_production=True, **SMALL)
    with pytest.raises(vs.SeedError, match="not marked disposable"):
        _seed(schema_db, environment="staging", **SMALL)
    _untouched(schema_db)
    both = {"disposable": True, "allow_production": True}
    assert _seed(schema_db, environment="production", **both, **SMALL)["changed"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "huge"}, r"unknown preset 'huge'.*demo, large, staging"),
        ({"users": 0}, "users must be at least 1"),
        ({"courses": -3}, "courses must be at least 1"),
        ({"behavior_logs": 2 * 10**9}, "behavior_logs=2000000000 is absurd"),
        ({"users": 10**9}, "users=1000000000 is absurd"),
        ({"days": 0}, "days must be at least 1"),
        ({"seed": -1}, "seed must be between"),
        ({"seed": "abc"}, "seed must be an integer"),
        ({"anchor_date": "2026-13-01"}, "anchor_date must be an ISO date"),
        ({"preset": "custom", "users": 10}, "preset 'custom' needs an explicit courses"),
        ({"chunk_rows": 5}, "chunk_rows must be between"),
        ({"users": True}, "users must be an integer"),
    ],
)
def test_bad_input_changes_nothing(schema_db, kwargs, match):
    kw = {"preset": "demo", **kwargs}
    with pytest.raises(vs.SeedError, match=match):
        _seed(schema_db, **kw)
    _untouched(schema_db)


def test_database_without_schema_names_missing_tables(pg_db):
    with pytest.raises(vs.SeedError, match=r"missing table\(s\) User, Course, Lesson"):
        _seed(pg_db, **SMALL)
    _untouched(pg_db)


def test_unreachable_database_is_a_clear_error(schema_db):
    bad = dict(schema_db, password="wrong-password")
    with pytest.raises(
        vs.VedfinError, match="cannot connect to PostgreSQL.*password authentication failed"
    ) as err:
        _seed(bad, **SMALL)
    assert "wrong-password" not in str(err.value)
    _untouched(schema_db)


def test_check_mode_writes_nothing(schema_db):
    res = _seed(schema_db, check_mode=True, **SMALL)
    assert res["changed"] and res["would_load"]["BehaviorLog"] == 5000
    _untouched(schema_db)


_CHILD = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1]]
import module_utils_path
module_utils_path.register()
from ansible.module_utils import vedfin_seed as vs
from ansible.module_utils.vedfin_pg import params_from_conninfo
info, kw = json.loads(sys.argv[2]), json.loads(sys.argv[3])
vs.seed(params_from_conninfo(info), on_step=lambda step: time.sleep(0.15), **kw)
"""


@pytest.mark.parametrize("migrated", [False, True], ids=["schema-only", "with-rollups"])
def test_killed_load_resumes_to_identical_data(make_schema_db, migrated):
    ref, victim = make_schema_db(), make_schema_db()
    if migrated:  # rollup triggers present: the load runs without them, the finish rebuilds
        _migrate(ref)
        _migrate(victim)
    kw = dict(SMALL, behavior_logs=20000, seed=9, anchor_date=ANCHOR)
    _seed(ref, **kw)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(ROOT / "tools"),
            json.dumps(victim),
            json.dumps(dict(kw, chunk_rows=1500)),
        ],
    )
    try:
        deadline = time.monotonic() + 30
        done = 0
        while time.monotonic() < deadline and child.poll() is None:
            try:
                done = _scalar(
                    victim,
                    "SELECT count(*) FROM ops.seed_ledger, unnest(steps_done) s "
                    "WHERE s LIKE 'BehaviorLog:%%'",
                )
            except psycopg.Error:
                done = 0
            if done >= 2:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the load finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    status, steps_done, steps_total = _query(
        victim, "SELECT status, cardinality(steps_done), steps_total FROM ops.seed_ledger"
    )[0]
    assert status == "loading" and 2 < steps_done < steps_total
    partial = _counts(victim)["BehaviorLog"]
    assert 0 < partial < 20000
    res = _seed(victim, **kw)
    assert res["operation"] == "resume" and res["changed"]
    assert _counts(victim) == _counts(ref)
    assert _checksums(victim) == _checksums(ref)
    assert _ddl_snapshot(victim) == _ddl_snapshot(ref)
    if migrated:
        assert res["rollups"] == "rebuilt"
        assert _rollups(victim) == _rollups(ref)
        _assert_rollups_exact(victim)
    assert _seed(victim, **kw)["changed"] is False


def test_module_through_ansible_check_real_rerun(schema_db):
    args = {
        **params_from_conninfo(schema_db),
        **SMALL,
        "seed": 4,
        "anchor_date": ANCHOR,
        "environment": "local",
    }
    # The module refuses a missing environment first, before it connects (a dead port here).
    nowhere = {**args, "login_port": 1}
    del nowhere["environment"]
    res = run_module("vedfin_seed", nowhere, check=True)
    assert res["failed"] and res["msg"].startswith(
        "vedfin_seed: refusing to seed: the environment is missing"
    )
    assert "vedfin_environment" in res["msg"] and "cannot connect" not in res["msg"]
    res = run_module("vedfin_seed", {**nowhere, "environment": "PRD"})
    assert res["failed"] and "names a production environment (prd)" in res["msg"]
    res = run_module("vedfin_seed", args, check=True)
    assert not res["failed"], res.get("msg")
    assert res["changed"] and res["would_load"]["User"] == 120
    _untouched(schema_db)
    res = run_module("vedfin_seed", args)
    assert not res["failed"], res.get("msg")
    assert res["changed"] and res["table_counts"]["BehaviorLog"] == 5000 and res["operation"] == "seed"
    res = run_module("vedfin_seed", args)
    assert not res["failed"] and res["changed"] is False
    res = run_module("vedfin_seed", {**args, "environment": "production"})
    assert res["failed"] and "allow_production" in res["msg"]
    assert "login_password" not in json.dumps(res.get("invocation", {}).get("module_args", {})) or (
        res["invocation"]["module_args"]["login_password"] != schema_db["password"]
    )


def test_rollups_exact_after_seed_replace_and_force(schema_db):
    _migrate(schema_db)
    ops_ddl = _ops_ddl(schema_db)
    res = _seed(schema_db, seed=21, **SMALL)
    assert res["rollups"] == "rebuilt" and res["warnings"] == []
    assert [d for d in _ops_ddl(schema_db) if "seed_ledger" not in d[1]] == ops_ddl
    # one rebuild, in SQL (0012): every rebuild function of the migrations ran, each timed, and
    # its list of the tables they write is every rollup table
    rebuilt = set(res["phases"]["rollups"]) - {"rollup indexes"}
    assert rebuilt and rebuilt == set(_rebuild_functions(schema_db)), res["phases"]["rollups"]
    assert set(ROLLUPS) == {t for (t,) in _query(schema_db, "SELECT t::text FROM ops.rollup_tables() t")}
    _assert_rollups_exact(schema_db)
    # the rollup triggers work again for the application's own writes after the seed
    with psycopg.connect(**schema_db) as conn:
        conn.execute(
            'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration) '
            "SELECT 'app-log-1', id, 'app-session-1', '/courses/investing', 'page_view', 7 "
            'FROM "User" ORDER BY id LIMIT 1'
        )
    assert (
        _scalar(schema_db, "SELECT events FROM ops.user_session WHERE \"sessionId\" = 'app-session-1'") == 1
    )
    with pytest.raises(vs.SeedError, match="changed since the recorded seed"):
        _seed(schema_db, seed=21, **SMALL)
    res = _seed(schema_db, seed=21, force=True, **SMALL)  # TRUNCATE + reseed
    assert res["operation"] == "replace"
    assert (
        _scalar(schema_db, "SELECT count(*) FROM ops.user_session WHERE \"sessionId\" = 'app-session-1'") == 0
    )
    _assert_rollups_exact(schema_db)
    res = _seed(schema_db, seed=22, replace=True, **{**SMALL, "users": 90})
    assert res["operation"] == "replace"
    _assert_rollups_exact(schema_db)


def test_rollups_maintained_by_triggers_when_not_superuser(schema_db, pg_server):
    """Without superuser rights the load cannot switch triggers off: they fire (and say so)."""
    _migrate(schema_db)
    role = f"seeder_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'")
        conn.execute(f"ALTER SCHEMA ops OWNER TO {role}")
        conn.execute(f'GRANT CREATE ON DATABASE "{schema_db["dbname"]}" TO {role}')
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        for (rel,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname IN ('public', 'ops')"
        ).fetchall():
            conn.execute(f"ALTER TABLE {rel} OWNER TO {role}")
    try:
        res = _seed(dict(schema_db, user=role, password=f"pw-{role}"), seed=23, **SMALL)
        assert res["rollups"] == "maintained by triggers"
        assert any("session_replication_role" in w for w in res["warnings"]), res["warnings"]
        _assert_rollups_exact(schema_db)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{schema_db["dbname"]}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {role}")


# -- playbooks/seed.yml refuses before touching ---------------------------------------------------
def _seed_guard_plays() -> list:
    return repo_playbook_on_localhost("seed.yml", ["postgresql"])


def _run_seed_guard(extra_vars):
    from ansible_run import run_playbook

    ev = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
    }
    # Only the guard (tags always + seed_guard): the real play would need a database host.
    return run_playbook(
        _seed_guard_plays(), extra_vars={**ev, **extra_vars}, env={"ANSIBLE_RUN_TAGS": "seed_guard"}
    )


@pytest.mark.parametrize(
    ("inventory", "passes"),
    [
        ({}, False),
        ({"vedfin_environment": ""}, False),
        ({"vedfin_environment": "PRD"}, False),
        ({"vedfin_environment": "prod-eu", "seed_disposable": True}, False),
        ({"vedfin_environment": "live"}, False),
        ({"vedfin_environment": "staging"}, False),
        ({"vedfin_environment": "local"}, True),
        ({"vedfin_environment": "staging", "seed_disposable": True}, True),
    ],
)
def test_playbook_guard_runs_first(inventory, passes):
    run = _run_seed_guard(inventory)
    names = [r["_task"] for r in run.task_results()]
    guard = "Refuse an environment that is not marked disposable (a seed replaces the app data)"
    assert guard in names, run.stdout[-2000:]
    if passes:
        assert run.rc == 0, run.stdout[-2000:]
        return
    failed = [r for r in run.task_results() if r.get("failed")]
    assert run.rc != 0 and failed[0]["_task"] == guard
    assert "vedfin_environment=" in failed[0]["msg"] and "local, dev, ci, test, demo" in failed[0]["msg"]
    assert "seed_disposable: true" in failed[0]["msg"]
    # the seeder module's own rule and words (its one home), not a copy in the playbook
    assert failed[0]["msg"].startswith("vedfin_seed: refusing to seed")
    assert failed[0]["environment_allowed"] is False


@pytest.mark.parametrize(("environment", "seeds"), [("staging", False), ("dev", True)])
def test_playbook_under_site_skips_the_seed_of_a_refused_environment(environment, seeds):
    """site.yml (seed_only_if_disposable) runs the migrations everywhere: a refused environment
    passes the guard, and the note says the seed is skipped."""
    run = _run_seed_guard({"vedfin_environment": environment, "seed_only_if_disposable": True})
    assert run.rc == 0, run.stdout[-2000:]
    results = {r["_task"]: r for r in run.task_results()}
    guard = results["Refuse an environment that is not marked disposable (a seed replaces the app data)"]
    assert guard["environment_allowed"] is seeds and not guard.get("failed")
    note = results["Note that only the migrations run here (not a disposable environment)"]
    if seeds:
        assert note.get("skipped") is True
    else:
        assert (
            "the seed is skipped" in note["msg"] and "'staging': it is not marked disposable" in note["msg"]
        )


def test_playbook_refuses_the_retired_environment_list():
    """seed_disposable_environments used to widen the list in the playbook; silently ignoring
    it would change what may be seeded, so it is refused, naming what to use instead."""
    run = _run_seed_guard({"vedfin_environment": "qa", "seed_disposable_environments": ["qa"]})
    failed = [r for r in run.task_results() if r.get("failed")]
    assert run.rc != 0 and "seed_disposable_environments is no longer read" in failed[0]["msg"]
    assert "seed_disposable: true" in failed[0]["msg"]


@pytest.mark.parametrize(
    ("scale", "expected"),
    [("huge", "demo, staging, large, custom"), ("custom", "preset 'custom' needs an explicit users")],
)
def test_playbook_refuses_a_bad_scale_in_the_guard(scale, expected):
    """The guard's module call checks the seed's parameters (the preset against the seeder's
    presets, the one scale list), before anything is installed or copied."""
    run = _run_seed_guard({"vedfin_environment": "local", "scale": scale})
    failed = [r for r in run.task_results() if r.get("failed")]
    assert run.rc != 0 and len(failed) == 1, run.stdout[-2000:]
    assert "preset" in failed[0]["msg"] and expected in failed[0]["msg"], failed[0]["msg"]
    assert failed[0]["_task"].startswith("Refuse an environment")
