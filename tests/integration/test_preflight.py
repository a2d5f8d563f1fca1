"""App schema preflight (module_utils/vedfin_preflight.py) and its use by vedfin_migrate.apply,
against real PostgreSQL 15 databases built from sql/schema/001_app_schema.sql (and broken copies)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from ansible.module_utils import vedfin_migrate, vedfin_preflight
from ansible.module_utils.vedfin_migrate import MigrationError
from app_db import app_schema_sql, create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
APP_SCHEMA = app_schema_sql()
MIGRATIONS = ROOT / "sql" / "migrations"
HEADER = "app schema preflight failed:"
TS = "timestamp without time zone, timestamp with time zone"


@pytest.fixture
def make_db(pg_server):
    """make_db(schema_sql, *alter_statements) -> conninfo of a new database; all dropped after."""
    made = []

    def make(schema_sql: str = APP_SCHEMA, *alters: str) -> dict:
        info = create_database(pg_server, "pf")
        made.append(info)
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute(schema_sql)
            for statement in alters:
                conn.execute(statement)
        return info

    yield make
    for info in made:
        drop_database(pg_server, info)


def connect(info: dict):
    return psycopg.connect(**info, autocommit=True)


def preflight(info: dict) -> dict:
    with connect(info) as conn:
        return vedfin_preflight.check(conn)


def apply(info: dict, path: Path = MIGRATIONS, **kwargs) -> dict:
    with connect(info) as conn:
        return vedfin_migrate.apply(conn, path, **kwargs)


def ops_state(info: dict) -> tuple:
    """(relations in schema ops, ledger rows, app columns): what a refused run must not change."""
    with connect(info) as conn:
        relations = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'ops'"
            )
        }
        ledger = []
        if conn.execute("SELECT to_regclass('ops.schema_migrations')").fetchone()[0] is not None:
            ledger = conn.execute("SELECT name, checksum FROM ops.schema_migrations ORDER BY name").fetchall()
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, udt_name, is_nullable "
            "FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").fetchone()[0]
    return relations, ledger, columns, triggers


# -- accepted schemas -------------------------------------------------------------------------
def test_the_real_app_schema_is_accepted_and_migrations_apply(make_db):
    info = make_db()
    assert preflight(info) == {"ok": True, "problems": [], "warnings": []}
    result = apply(info)
    assert result["changed"] is True and result["preflight_warnings"] == []
    assert result["applied"] == sorted(p.stem for p in MIGRATIONS.glob("*.sql"))


def test_the_timestamptz_variant_is_accepted_and_migrations_apply(make_db):
    variant = app_schema_sql("timestamptz")
    assert variant != APP_SCHEMA
    info = make_db(variant)
    with connect(info) as conn:
        typ = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'BehaviorLog' AND column_name = 'timestamp'"
        ).fetchone()[0]
    assert typ == "timestamp with time zone"
    assert preflight(info) == {"ok": True, "problems": [], "warnings": []}
    assert apply(info)["changed"] is True


def test_a_column_made_not_null_that_ops_handle_as_nullable_is_fine(make_db):
    info = make_db(
        APP_SCHEMA,
        'ALTER TABLE "UserProgress" ALTER COLUMN "progressPercentage" SET NOT NULL',
        'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL',
        'ALTER TABLE "BehaviorLog" ALTER COLUMN "duration" SET NOT NULL',
    )
    assert preflight(info) == {"ok": True, "problems": [], "warnings": []}
    assert apply(info)["changed"] is True


def test_tables_the_ops_objects_do_not_read_may_change_freely(make_db):
    info = make_db(
        APP_SCHEMA,
        'DROP TABLE "SocialPost"',
        'ALTER TABLE "Achievement" ALTER COLUMN "points" TYPE bigint',
        'ALTER TABLE "UserProgress" DROP COLUMN "completedAt"',
        'ALTER TABLE "User" ADD COLUMN "nickname" text',
    )
    assert preflight(info)["ok"] is True


# -- refused schemas: exact message, nothing changed --------------------------------------------
BROKEN = {
    "missing column": (
        ['ALTER TABLE "BehaviorLog" DROP COLUMN "sessionId"'],
        None,
        ["BehaviorLog.sessionId: found no such column, expected one of text"],
    ),
    "points bigint to text": (
        ['ALTER TABLE "User" ALTER COLUMN "points" DROP DEFAULT, ALTER COLUMN "points" TYPE text'],
        None,
        ["User.points: found text, expected one of integer"],
    ),
    "role as text instead of the enum": (
        ['ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT, ALTER COLUMN "role" TYPE text'],
        None,
        ['User.role: found text, expected one of "Role"'],
    ),
    "UserProgress.userId nullable": (
        ['ALTER TABLE "UserProgress" ALTER COLUMN "userId" DROP NOT NULL'],
        None,
        ["UserProgress.userId: found nullable, expected one of NOT NULL"],
    ),
    "Lesson renamed to Lessons": (
        ['ALTER TABLE "Lesson" RENAME TO "Lessons"'],
        None,
        ["Lesson: found no such table, expected a table"],
    ),
    "COMPLETED renamed": (
        ["ALTER TYPE \"ProgressStatus\" RENAME VALUE 'COMPLETED' TO 'DONE'"],
        None,
        [
            "UserProgress.status: found \"ProgressStatus\" with labels ('STARTED', 'IN_PROGRESS', 'DONE') "
            "without 'COMPLETED', expected one of \"ProgressStatus\" with labels including "
            "'STARTED', 'IN_PROGRESS', 'COMPLETED'"
        ],
    ),
    "price numeric": (
        ['ALTER TABLE "Course" ALTER COLUMN "price" TYPE numeric(10, 2)'],
        None,
        ["Course.price: found numeric, expected one of integer"],
    ),
    "timestamp as text": (
        [
            'ALTER TABLE "BehaviorLog" ALTER COLUMN "timestamp" DROP DEFAULT, '
            'ALTER COLUMN "timestamp" TYPE text'
        ],
        None,
        [f"BehaviorLog.timestamp: found text, expected one of {TS}"],
    ),
    "published as integer": (
        [
            'ALTER TABLE "Course" ALTER COLUMN "published" DROP DEFAULT, '
            'ALTER COLUMN "published" TYPE integer USING "published"::int'
        ],
        None,
        ["Course.published: found integer, expected one of boolean"],
    ),
    "Level without INTERMEDIATE": (
        [],
        ("'BEGINNER', 'INTERMEDIATE', 'EXPERT'", "'BEGINNER', 'EXPERT'"),
        [
            "Course.level: found \"Level\" with labels ('BEGINNER', 'EXPERT') without 'INTERMEDIATE', "
            "expected one of \"Level\" with labels including 'BEGINNER', 'INTERMEDIATE', 'EXPERT'"
        ],
    ),
    "createdAt as date": (
        ['ALTER TABLE "User" ALTER COLUMN "createdAt" TYPE date'],
        None,
        [f"User.createdAt: found date, expected one of {TS}"],
    ),
    "several problems at once, in EXPECTED order": (
        [
            'ALTER TABLE "UserStreak" DROP COLUMN "currentStreak"',
            'ALTER TABLE "User" ALTER COLUMN "id" TYPE varchar(40)',
            'ALTER TABLE "BuddyMember" RENAME TO "GroupMember"',
            'ALTER TABLE "UserAchievement" ALTER COLUMN "awardedAt" DROP NOT NULL',
        ],
        None,
        [
            "User.id: found character varying, expected one of text",
            "UserStreak.currentStreak: found no such column, expected one of integer",
            "UserAchievement.awardedAt: found nullable, expected one of NOT NULL",
            "BuddyMember: found no such table, expected a table",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_incompatible_schema_is_refused_with_the_exact_problems_and_nothing_changes(make_db, case):
    alters, replace, expected = BROKEN[case]
    schema_sql = APP_SCHEMA if replace is None else APP_SCHEMA.replace(*replace)
    assert replace is None or schema_sql != APP_SCHEMA
    info = make_db(schema_sql, *alters)
    verdict = preflight(info)
    assert verdict["ok"] is False
    assert verdict["problems"] == expected
    before = ops_state(info)
    with pytest.raises(MigrationError) as err:
        apply(info)
    assert str(err.value) == HEADER + "\n" + "\n".join(expected)
    assert ops_state(info) == before
    assert before[0] == set() and before[1] == []  # no ops schema, not even the ledger
    # check mode (plan) predicts the same refusal
    with connect(info) as conn, pytest.raises(MigrationError, match="^app schema preflight failed:\n"):
        vedfin_migrate.plan(conn, MIGRATIONS)


def test_preflight_false_skips_the_check(make_db):
    info = make_db(APP_SCHEMA, 'ALTER TABLE "UserProgress" ALTER COLUMN "userId" DROP NOT NULL')
    result = apply(info, preflight=False)
    assert result["changed"] is True and result["preflight_warnings"] == []


def test_preflight_runs_only_when_something_is_pending(make_db):
    *older, last = sorted(p.stem for p in MIGRATIONS.glob("*.sql"))
    info = make_db()
    apply(info, target=older[-1])
    with connect(info) as conn:
        conn.execute('ALTER TABLE "UserProgress" ALTER COLUMN "userId" DROP NOT NULL')
    # up to date (up to that target): no preflight, no refusal
    assert apply(info, target=older[-1])["changed"] is False
    # the last file pending: refused before it runs, ledger and ops relations unchanged
    before = ops_state(info)
    with pytest.raises(MigrationError) as err:
        apply(info)
    assert str(err.value) == HEADER + "\nUserProgress.userId: found nullable, expected one of NOT NULL"
    assert ops_state(info) == before
    assert [row[0] for row in before[1]] == older


def test_a_schema_outside_public_is_not_looked_at(make_db):
    info = make_db(APP_SCHEMA, "CREATE SCHEMA other")
    with connect(info) as conn:
        verdict = vedfin_preflight.check(conn, schema="other")
    assert verdict["ok"] is False
    assert verdict["problems"][0] == "User: found no such table, expected a table"
    assert len(verdict["problems"]) == len(vedfin_preflight.EXPECTED)


# -- warnings -----------------------------------------------------------------------------------
def test_an_extra_progress_status_label_warns_but_passes(make_db):
    info = make_db(APP_SCHEMA, "ALTER TYPE \"ProgressStatus\" ADD VALUE 'PAUSED'")
    verdict = preflight(info)
    assert verdict["ok"] is True and verdict["problems"] == []
    assert verdict["warnings"] == [
        "\"ProgressStatus\": found labels 'PAUSED' that the ops SQL does not know "
        "(known: 'STARTED', 'IN_PROGRESS', 'COMPLETED'); rows with them fall out of the analytics "
        "until the ops SQL handles them"
    ]
    result = apply(info)
    assert result["changed"] is True and result["preflight_warnings"] == verdict["warnings"]


def test_extra_role_and_level_labels_warn(make_db):
    info = make_db(
        APP_SCHEMA,
        "ALTER TYPE \"Role\" ADD VALUE 'PARENT'",
        "ALTER TYPE \"Level\" ADD VALUE 'MASTER'",
        "ALTER TYPE \"BuddyRole\" ADD VALUE 'COACH'",  # not an enum the analytics group by
    )
    verdict = preflight(info)
    assert verdict["ok"] is True
    assert [w.split(":")[0] for w in verdict["warnings"]] == ['"Role"', '"Level"']
    assert "'PARENT'" in verdict["warnings"][0] and "'MASTER'" in verdict["warnings"][1]
