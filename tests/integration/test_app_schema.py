"""The ops objects on the application's real schema (issue 16): sql/schema as Prisma renders it,
in both DateTime flavours (timestamp(3) holding UTC wall clock, and @db.Timestamptz(3)).

- Writes the app may make (NULL in every nullable column the rollups watch, every enum value),
  from a session in any TimeZone, are accepted; the rollups then equal a rebuild and every
  fast form equals its oracle.
- The reporting zone reads a UTC wall-clock value the right way round: an event at 00:00 UTC
  is at 07:00 in Asia/Ho_Chi_Minh, at 14:00 in UTC+14 and the previous evening in UTC-11.
- A database that ran 0001-0010 and was seeded upgrades in place to 0011 and is then exact.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from ansible.module_utils import vedfin_migrate, vedfin_seed
from ansible.module_utils.vedfin_pg import params_from_conninfo
from ansible.module_utils.vedfin_seed.plan import progress as progress_plan
from app_db import FLAVOURS, ROOT, create_app_db, drop_app_db
from test_analytics_correctness import add_course, add_log, add_progress, add_user, all_equal, both, today_in
from test_rollups import assert_counters_exact

# UTC, east (production's zone), west, and the two ends of the zone range.
ZONES = {
    "UTC": 0,
    "Asia/Ho_Chi_Minh": 7,
    "America/New_York": -5,  # December: EST
    "Pacific/Kiritimati": 14,
    "Pacific/Pago_Pago": -11,
}


@pytest.fixture(params=FLAVOURS)
def flavour_db(request, pg_server):
    info = create_app_db(pg_server, flavour=request.param)
    with psycopg.connect(**info, autocommit=True) as conn:
        yield request.param, conn
    drop_app_db(pg_server, info)


def column_type(conn, table, column) -> str:
    return conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = format('%%I', %s::text)::regclass AND attname = %s",
        [table, column],
    ).fetchone()[0]


def test_flavours_are_the_two_prisma_renderings(flavour_db):
    flavour, conn = flavour_db
    expected = {"timestamp": "timestamp(3) without time zone", "timestamptz": "timestamp(3) with time zone"}
    for table, column in (
        ("BehaviorLog", "timestamp"),
        ("User", "createdAt"),
        ("UserProgress", "completedAt"),
    ):
        assert column_type(conn, table, column) == expected[flavour]
    # the app's nullable columns the rollups read
    nullable = conn.execute(
        "SELECT attrelid::regclass::text, attname::text FROM pg_attribute "
        "WHERE attrelid IN ('\"UserProgress\"'::regclass, '\"BehaviorLog\"'::regclass) "
        "AND NOT attnotnull AND attnum > 0 ORDER BY 1"
    ).fetchall()
    assert set(nullable) >= {
        ('"UserProgress"', "progressPercentage"),
        ('"UserProgress"', "completedAt"),
        ('"BehaviorLog"', "userId"),
        ('"BehaviorLog"', "actionCategory"),
        ('"BehaviorLog"', "duration"),
    }


def prisma_progress(conn, pid, uid, lesson, status, pct, spent=0):
    """An INSERT as Prisma's client makes it: id and updatedAt from the client."""
    conn.execute(
        'INSERT INTO "UserProgress" (id, "userId", "lessonId", status, "durationSpent", '
        '"progressPercentage", "completedAt", "createdAt", "updatedAt") '
        "VALUES (%s, %s, %s, %s, %s, %s, CASE WHEN %s = 'COMPLETED' THEN now() END, now(), now())",
        [pid, uid, lesson, status, spent, pct, status],
    )


def prisma_event(conn, uid, session, ts_sql="now()", category="GENERAL", duration=5, path="/home"):
    conn.execute(
        'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", "actionCategory", '
        f'duration, "timestamp") VALUES (%s, %s, %s, %s, %s, %s, %s, {ts_sql})',
        [str(uuid.uuid4()), uid, session, path, "page_view", category, duration],
    )


def test_app_writes_with_nulls_are_accepted_and_rollups_stay_exact(flavour_db):
    _, conn = flavour_db
    # The app's session zone must not matter (Prisma sends UTC values; psql users may not).
    conn.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    for i, role in enumerate(("STUDENT", "TEACHER", "ADMIN", "STUDENT")):
        add_user(conn, f"u{i}", role=role)
    conn.execute('UPDATE "User" SET name = NULL, "dateOfBirth" = NULL WHERE id = %s', ["u3"])
    for level in ("BEGINNER", "INTERMEDIATE", "EXPERT"):
        add_course(conn, f"c-{level}", level.lower(), level=level, lessons=2)
    conn.execute('UPDATE "Lesson" SET duration = NULL, "videoKey" = NULL')
    statuses = ("STARTED", "IN_PROGRESS", "COMPLETED")
    # NULL percentage on insert, alone and beside non-NULL rows of the same (user, course)
    prisma_progress(conn, "p1", "u0", "c-BEGINNER-l1", "STARTED", None)
    prisma_progress(conn, "p2", "u0", "c-BEGINNER-l2", "IN_PROGRESS", 40.5)
    prisma_progress(conn, "p3", "u3", "c-EXPERT-l1", "COMPLETED", None, spent=90)
    for k, status in enumerate(statuses):
        prisma_progress(
            conn, f"q{k}", "u1", f"c-INTERMEDIATE-l{1 + k % 2}" if k < 2 else "c-EXPERT-l2", status, 10.0 * k
        )
    assert_counters_exact(conn)
    all_equal(conn)
    # UPDATE to NULL and back, as the app may
    conn.execute(
        'UPDATE "UserProgress" SET "progressPercentage" = NULL, "updatedAt" = now() WHERE id = %s', ["p2"]
    )
    conn.execute(
        'UPDATE "UserProgress" SET "progressPercentage" = 75, "updatedAt" = now() WHERE id = %s', ["p1"]
    )
    conn.execute('UPDATE "UserProgress" SET "progressPercentage" = NULL WHERE "userId" = %s', ["u1"])
    assert_counters_exact(conn)
    all_equal(conn)
    # NULL percentage is 0 (docs/ANALYTICS_API_REFERENCE.md, "NULL values"): u3, a student with no
    # event yet, has one NULL row
    at_risk = {
        r["id"]: r for r in both(conn, "at_risk_students", {"inactive_days": 0, "progress_threshold": 30})
    }
    assert at_risk["u3"]["avg_progress"] == 0
    # events: anonymous, NULL category, NULL duration, in course paths
    prisma_event(conn, None, "s-anon")
    prisma_event(conn, "u0", "s1", category=None)
    prisma_event(conn, "u0", "s1", duration=None, path="/courses/beginner/lessons/1")
    prisma_event(conn, "u3", "s2", category=None, duration=None)
    conn.execute(
        'UPDATE "BehaviorLog" SET duration = NULL, "actionCategory" = NULL WHERE "sessionId" = %s', ["s1"]
    )
    assert_counters_exact(conn)
    all_equal(conn)
    conn.execute('DELETE FROM "UserProgress" WHERE "progressPercentage" IS NULL')
    conn.execute('DELETE FROM "BehaviorLog" WHERE "actionCategory" IS NULL')
    assert_counters_exact(conn)
    all_equal(conn)


@pytest.mark.parametrize("zone", list(ZONES))
def test_reporting_zone_reads_utc_wall_clock(flavour_db, zone):
    flavour, conn = flavour_db
    add_user(conn, "u1")
    today = today_in(conn, "UTC")
    # 00:00 UTC today, written as the app writes it: a UTC wall-clock value (timestamp) or the
    # instant (timestamptz)
    midnight = "date_trunc('day', now() AT TIME ZONE 'UTC')"
    ts_sql = midnight if flavour == "timestamp" else f"({midnight}) AT TIME ZONE 'UTC'"
    prisma_event(conn, "u1", "s1", ts_sql=ts_sql)
    offset = ZONES[zone]
    local_day = today if offset >= 0 else today.fromordinal(today.toordinal() - 1)
    pattern = both(conn, "student_behavior_pattern", {"user_id": "u1", "days": 30, "tz": zone})[0]
    assert pattern["preferred_hour"] == offset % 24
    dau = both(conn, "daily_active_users", {"days": 3, "tz": zone})
    assert [(r["date"], r["dau"]) for r in dau if r["dau"]] == [(local_day, 1)]
    # the calendar rollups of a reporting zone (rebuilt by set_reporting_tz) agree
    conn.execute("SELECT ops.set_reporting_tz(%s)", [zone])
    assert both(conn, "daily_active_users", {"days": 3, "tz": zone}) == dau
    assert_counters_exact(conn)


def test_upgrade_from_0010_seeded_in_a_far_zone(pg_server, monkeypatch):
    """A database with 0001-0010 applied, seeded and reporting in Asia/Ho_Chi_Minh (whose
    calendar 0006 computed from shifted timestamps) takes 0011 and is then exact, and then
    accepts the NULL progress that 0010 rejected."""
    info = create_app_db(pg_server, target="0010")
    try:
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute("SELECT ops.set_reporting_tz('Asia/Ho_Chi_Minh')")
        # 0010's rollups reject a NULL progressPercentage (the bug 0011 fixes), so a database
        # that lived at 0010 holds none: seed it without them.
        monkeypatch.setattr(progress_plan, "NULL_PROGRESS_SHARE", 0.0)
        vedfin_seed.seed(params_from_conninfo(info), preset="demo", seed=3)
        with psycopg.connect(**info, autocommit=True) as conn:
            before = conn.execute("SELECT count(*) FROM ops.user_day").fetchone()[0]
            # a first progress row of a (user, course) with a NULL percentage: refused at 0010
            uid, lesson = conn.execute(
                'SELECT u.id, (SELECT min(id) FROM "Lesson") FROM "User" u WHERE NOT EXISTS '
                '(SELECT 1 FROM "UserProgress" p WHERE p."userId" = u.id) ORDER BY u.id LIMIT 1'
            ).fetchone()
            with pytest.raises(psycopg.errors.NotNullViolation):
                prisma_progress(conn, "upgrade-p", uid, lesson, "STARTED", None)
            result = vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")
            assert [m for m in result["applied"] if m >= "0011"], result
            assert before > 0
            assert_counters_exact(conn)
            all_equal(conn, per_query=2)
            prisma_progress(conn, "upgrade-p", uid, lesson, "STARTED", None)  # accepted now
            conn.execute(
                'UPDATE "UserProgress" SET "progressPercentage" = NULL WHERE "lessonId" IN '
                '(SELECT "lessonId" FROM "UserProgress" ORDER BY id LIMIT 20)'
            )
            assert_counters_exact(conn)
            all_equal(conn, per_query=2)
    finally:
        drop_app_db(pg_server, info)


def test_upgrade_from_0010_on_the_pre_16_copy(pg_server):
    """A database built on the hand-written copy sql/schema held before issue 16 (timestamptz
    columns), at 0010 with data and reporting in Asia/Ho_Chi_Minh, takes 0011: no rebuild is
    needed there, and it stays exact, then takes the app's NULL progress too."""
    name = f"pre16_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = pg_server.conninfo(name)
    try:
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute((ROOT / "tests" / "fixtures" / "app_schema_pre16.sql").read_text())
            vedfin_migrate.apply(conn, ROOT / "sql" / "migrations", target="0010")
            conn.execute("SELECT ops.set_reporting_tz('Asia/Ho_Chi_Minh')")
            for uid in ("u1", "u2", "u3"):
                add_user(conn, uid)
            add_course(conn, "c1", "investing", lessons=3)
            add_course(conn, "c2", "saving", level="EXPERT", lessons=2, published_lessons=1)
            add_progress(conn, "u1", "c1-l1", status="COMPLETED", pct=100)
            add_progress(conn, "u1", "c2-l1")
            add_progress(conn, "u2", "c1-l2", pct=20)
            today = today_in(conn, "Asia/Ho_Chi_Minh")
            for hour in (0, 6, 23):  # both sides of the UTC and the local midnight
                add_log(conn, "u1", f"s{hour}", f"{today} {hour:02d}:30+07", path="/courses/investing")
            add_log(conn, "u2", "s9", f"{today} 01:00+00")
            result = vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")
            assert [m for m in result["applied"] if m >= "0011"], result
            assert column_type(conn, "BehaviorLog", "timestamp") == "timestamp(3) with time zone"
            assert_counters_exact(conn)
            all_equal(conn)
            conn.execute('ALTER TABLE "UserProgress" ALTER COLUMN "progressPercentage" DROP NOT NULL')
            add_progress(conn, "u3", "c2-l1", pct=None)  # what the app's Float? allows
            assert_counters_exact(conn)
            all_equal(conn)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
