"""The trigger-maintained counters of sql/migrations/0006 (and 0008) stay equal to a rebuild from the base
tables, and the fast forms that read them stay equal to the oracles, after the writes that
move them: event inserts in several statements, updates and deletes, progress status changes,
a lesson published or deleted, a user's role or id changed, and a new reporting time zone.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from ansible.module_utils import vedfin_analytics as va
from test_analytics_correctness import (
    add_course,
    add_log,
    add_progress,
    add_user,
    all_equal,
    both,
    drop_db,
    local_ts,
    new_db,
    today_in,
)

# Counter tables of 0006 and 0008 (ops.course_progress's "durationSpent", ops.user_score),
# ordered by their primary key.
COUNTERS = {
    "ops.user_activity": '"userId"',
    "ops.course_path_stats": '"slug"',
    "ops.user_day": '"day", "userId"',
    "ops.session_day": '"day", "sessionId"',
    "ops.user_month": '"month", "userId"',
    "ops.session_month": '"month", "sessionId"',
    "ops.day_stats": '"day"',
    "ops.month_stats": '"month"',
    "ops.user_course_progress": '"userId", "courseId"',
    "ops.user_progress": '"userId"',
    "ops.course_progress": '"courseId"',
    "ops.user_score": '"userId"',
    "ops.level_progress": '"level", "userId"',
    "ops.level_stats": '"level"',
    "ops.course_progress_sum": '"courseId"',
    "ops.user_cohort": '"userId"',
}
REBUILDS = (
    "ops.rebuild_behavior_rollups",
    "ops.rebuild_calendar",
    "ops.rebuild_user_cohort",
    "ops.rebuild_progress",
    "ops.rebuild_level_progress",
    "ops.rebuild_user_score",
)


def snapshot(conn) -> dict:
    # numeric sums compare by value (a maintained sum may carry a longer scale than a fresh one)
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall() for t, key in COUNTERS.items()}


def assert_counters_exact(conn) -> None:
    """The incrementally maintained counters equal a rebuild from the base tables."""
    kept = snapshot(conn)
    with conn.transaction():
        for fn in REBUILDS:
            conn.execute(f"SELECT {fn}()")
    assert snapshot(conn) == kept


@pytest.fixture
def db(empty_db):
    """tests/conftest.py's empty app database, by a short name (these tests write to it a lot)."""
    return empty_db


def small_world(conn) -> None:
    for uid in ("u1", "u2", "u3"):
        add_user(conn, uid)
    add_user(conn, "t1", role="TEACHER")
    add_course(conn, "c1", "investing", lessons=3)
    add_course(conn, "c2", "saving", level="EXPERT", lessons=2, published_lessons=1)


def test_counters_follow_every_kind_of_write(db):
    small_world(db)
    today = today_in(db)
    ts = [local_ts(db, today - dt.timedelta(days=d), h, "UTC") for d, h in ((0, 1), (1, 23), (40, 12))]
    # several statements on the same keys: counters must count each user/session once
    for i, t in enumerate(ts):
        add_log(db, "u1", "s1", t, path="/courses/investing", duration=i + 1)
        add_log(db, "u2", "s1", t, duration=None)  # one session shared by two users
        add_log(db, None, "anon", t)
    add_log(db, "t1", "s9", ts[0])
    with db.cursor() as cur:  # one multi-row statement, duplicate keys inside it
        cur.executemany(
            'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration, "timestamp") '
            "VALUES (%s, %s, %s, '/x', 'page_view', 5, %s)",
            [(uuid.uuid4().hex, "u3", "s3", ts[1]), (uuid.uuid4().hex, "u3", "s3", ts[1])],
        )
    add_progress(db, "u1", "c1-l1", status="COMPLETED", pct=100, spent=30)
    add_progress(db, "u1", "c1-l2", pct=33.3333, spent=12)
    add_progress(db, "u2", "c2-l1", status="COMPLETED", pct=100)
    add_progress(db, "u3", "c2-l2", status="COMPLETED", pct=100)  # unpublished lesson
    day = db.execute("SELECT * FROM ops.day_stats WHERE day = %s", [today - dt.timedelta(days=1)]).fetchone()
    assert day[1:] == (3, 2, 2 + 10)  # users u1 u2 u3; sessions s1 s3; duration 2 + 0 + 5 + 5
    spent = dict(db.execute('SELECT "courseId", "durationSpent" FROM ops.course_progress').fetchall())
    assert spent == {"c1": 30 + 12, "c2": 60 + 60}  # 0008: summed durationSpent per course
    assert_counters_exact(db)
    all_equal(db)

    # updates: duration only, moved to another day, user changed, session changed; deletes
    db.execute('UPDATE "BehaviorLog" SET duration = 50 WHERE "userId" = \'u1\' AND duration = 1')
    db.execute(
        'UPDATE "BehaviorLog" SET "timestamp" = "timestamp" - interval \'1 day\' WHERE "userId" = \'u3\''
    )
    db.execute('UPDATE "BehaviorLog" SET "userId" = \'u3\' WHERE "sessionId" = \'anon\'')
    db.execute('UPDATE "BehaviorLog" SET "sessionId" = \'s2\' WHERE "userId" = \'u2\'')
    db.execute('UPDATE "BehaviorLog" SET "eventType" = \'x\'')  # not rolled up: no change
    db.execute('DELETE FROM "BehaviorLog" WHERE "userId" = \'t1\'')
    assert db.execute("SELECT count(*) FROM ops.user_day WHERE \"userId\" = 't1'").fetchone()[0] == 0
    # progress: status/percentage updates, a lesson unpublished, moved, deleted
    db.execute(
        'UPDATE "UserProgress" SET status = \'COMPLETED\', "progressPercentage" = 100 '
        "WHERE id = 'p-u1-c1-l2'"
    )
    db.execute("UPDATE \"Lesson\" SET published = false WHERE id = 'c1-l3'")
    assert both(db, "learning_funnel", {"course_id": "c1"})[0]["course_completers"] == 1
    db.execute('UPDATE "Lesson" SET "courseId" = \'c2\', "order" = 9 WHERE id = \'c1-l2\'')
    db.execute("UPDATE \"Lesson\" SET id = 'c2-l1-new' WHERE id = 'c2-l1'")  # cascades to progress
    db.execute("DELETE FROM \"Lesson\" WHERE id = 'c1-l1'")  # cascades: progress deleted
    # users: role change (read-time), id change and deletion (cascades to logs and progress)
    db.execute("UPDATE \"User\" SET role = 'TEACHER' WHERE id = 'u2'")
    db.execute("UPDATE \"User\" SET id = 'u3b' WHERE id = 'u3'")
    db.execute("DELETE FROM \"User\" WHERE id = 'u1'")
    assert_counters_exact(db)
    all_equal(db)

    db.execute('TRUNCATE "BehaviorLog", "UserProgress"')
    per_user = ("ops.user_score", "ops.user_cohort")  # one row per user: the users remain
    assert all(not rows for t, rows in snapshot(db).items() if t not in per_user)
    all_equal(db)


def test_counters_exact_on_seeded_data_after_writes(pg_server):
    info = new_db(pg_server, seed=True)
    try:
        with psycopg.connect(**info, autocommit=True) as conn:
            assert_counters_exact(conn)
            conn.execute(
                'UPDATE "UserProgress" SET status = \'COMPLETED\', "progressPercentage" = 100 '
                'WHERE id IN (SELECT id FROM "UserProgress" '
                "WHERE status <> 'COMPLETED' ORDER BY id LIMIT 60)"
            )
            conn.execute(
                'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration, '
                "\"timestamp\") SELECT md5('n' || g), u.id, 'n-' || (g % 9), '/home', 'page_view', g, "
                "now() - g * interval '5 hours' FROM generate_series(1, 200) g "
                'JOIN LATERAL (SELECT id FROM "User" ORDER BY id OFFSET g % 100 LIMIT 1) u ON true'
            )
            conn.execute(
                'DELETE FROM "BehaviorLog" WHERE id IN (SELECT id FROM "BehaviorLog" ORDER BY id LIMIT 50)'
            )
            conn.execute("UPDATE \"Lesson\" SET published = NOT published WHERE id IN "
                         "(SELECT id FROM \"Lesson\" ORDER BY id LIMIT 3)")  # fmt: skip
            assert_counters_exact(conn)
            all_equal(conn, per_query=4)
    finally:
        drop_db(pg_server, info)


def test_reporting_time_zone_change_rebuilds_the_calendar(db):
    small_world(db)
    tz = "Asia/Ho_Chi_Minh"
    today = today_in(db, tz)
    # 23:30 local on day-1 is still the same UTC day as 00:30 local today only in UTC terms:
    # the counters must bucket by the local date once the reporting zone is changed
    add_log(db, "u1", "a", local_ts(db, today - dt.timedelta(days=1), 23, tz, 30), duration=4)
    add_log(db, "u2", "b", local_ts(db, today, 0, tz, 30), duration=6)
    add_user(db, "new", created=local_ts(db, today - dt.timedelta(days=14), 10, tz))
    add_log(db, "new", "c", local_ts(db, today - dt.timedelta(days=7), 10, tz))
    for zone in ("UTC", tz):
        db.execute("SELECT ops.set_reporting_tz(%s)", [zone])
        assert db.execute("SELECT ops.reporting_tz()").fetchone()[0] == zone
        assert_counters_exact(db)
        for z in ("UTC", tz, "America/New_York"):  # counters in the reporting zone, fallback elsewhere
            both(db, "daily_active_users", {"days": 3, "tz": z})
            both(db, "monthly_active_users", {"months": 2, "tz": z})
            both(db, "cohort_retention", {"weeks": 4, "tz": z})
    rows = va.run("daily_active_users", {"days": 2, "tz": tz}, conn=db)
    assert [(r["dau"], r["sessions"], r["avg_session_duration"]) for r in rows] == [(1, 1, 6.0), (1, 1, 4.0)]
    with pytest.raises(psycopg.errors.RaiseException, match="unknown time zone"):
        db.execute("SELECT ops.set_reporting_tz('Mars/Olympus')")


def test_user_score_follows_points_streaks_and_achievements(db):
    """ops.user_score (0008) after every kind of write to "User", "UserStreak" and
    "UserAchievement", the leaderboard's candidate walks at small limits (ties included) and
    gamification_effectiveness, whose segments it feeds."""
    today = today_in(db)
    for i, uid in enumerate(("a", "b", "c", "d", "e")):
        add_user(db, uid, points=100 * (i % 3))
    add_user(db, "t", role="TEACHER", points=10_000)

    def award(uid, days_ago):
        db.execute(
            'INSERT INTO "UserAchievement" (id, "userId", type, name, description, "iconKey", "awardedAt") '
            "VALUES (%s, %s, 'badge', '{}', '{}', 'achievements/badge.svg', %s)",
            [uuid.uuid4().hex, uid, local_ts(db, today - dt.timedelta(days=days_ago), 12, "UTC")],
        )

    def boards():
        for tf in ("all", "week", "month"):
            for limit in (1, 2, 3, 50):
                both(db, "leaderboard", {"timeframe": tf, "limit": limit})
        both(db, "gamification_effectiveness")  # segments from ops.user_score's points and streak

    db.execute(
        'INSERT INTO "UserStreak" (id, "userId", "currentStreak", "updatedAt") '
        "VALUES ('s1', 'a', 5, now()), ('s2', 'b', 3, now())"
    )
    award("a", 40)
    award("c", 2)
    award("c", 20)
    award("t", 1)
    add_course(db, "c1", "investing", lessons=2)  # progress and sessions for the segments' averages
    add_progress(db, "a", "c1-l1", status="COMPLETED", pct=100)
    add_progress(db, "b", "c1-l1", pct=33.3333)
    add_progress(db, "t", "c1-l2", status="COMPLETED", pct=100)
    for uid, session in (("a", "s1"), ("a", "s2"), ("c", "s3"), ("t", "s4")):
        add_log(db, uid, session, local_ts(db, today, 9, "UTC"))
    assert_counters_exact(db)
    boards()
    # points and role changes, streak updates and deletes, achievements moved and deleted
    db.execute("UPDATE \"User\" SET points = points + 250 WHERE id IN ('b', 'e')")
    db.execute("UPDATE \"User\" SET email = id || '@example.org'")  # neither role nor points
    db.execute("UPDATE \"User\" SET role = 'TEACHER' WHERE id = 'c'")
    db.execute("UPDATE \"User\" SET role = 'STUDENT' WHERE id = 't'")
    db.execute('UPDATE "UserStreak" SET "currentStreak" = "currentStreak" + 2')
    db.execute('DELETE FROM "UserStreak" WHERE "userId" = \'b\'')
    db.execute('UPDATE "UserAchievement" SET "userId" = \'d\' WHERE "userId" = \'c\'')
    db.execute('DELETE FROM "UserAchievement" WHERE "userId" = \'t\'')
    award("e", 0)
    assert_counters_exact(db)
    boards()
    # a user's id renamed and a user deleted: the cascades reach the streak/achievement rows
    db.execute("UPDATE \"User\" SET id = 'a2' WHERE id = 'a'")
    db.execute("DELETE FROM \"User\" WHERE id = 'd'")
    assert db.execute("SELECT count(*) FROM ops.user_score WHERE \"userId\" IN ('a', 'd')").fetchone()[0] == 0
    assert_counters_exact(db)
    boards()
    db.execute('TRUNCATE "UserAchievement"')
    db.execute('TRUNCATE "UserStreak"')
    assert_counters_exact(db)
    boards()


def test_cohort_weeks_edges_in_far_time_zones(db):
    """cohort_retention's "createdAt" range (a day wider than the cohort weeks) keeps the
    students signed up at the first and last minute of the weeks, and drops those just
    outside, in zones far from UTC (the range is computed in the query's zone)."""
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14, UTC-11
        today = today_in(db, tz)
        monday = today - dt.timedelta(days=today.weekday())
        oldest = monday - dt.timedelta(days=7)  # weeks = 2
        edges = {
            "in-first": (oldest, 0, 0),
            "out-before": (oldest - dt.timedelta(days=1), 23, 59),
            "in-last": (monday + dt.timedelta(days=6), 23, 59),
            "out-after": (monday + dt.timedelta(days=7), 0, 0),
        }
        for name, (day, hour, minute) in edges.items():
            add_user(db, f"{tz}-{name}", created=local_ts(db, day, hour, tz, minute))
        add_log(db, f"{tz}-in-first", "s", local_ts(db, oldest + dt.timedelta(days=7), 12, tz))
        rows = both(db, "cohort_retention", {"weeks": 2, "tz": tz})
        assert sum(r["cohort_size"] for r in rows) == 2  # in-first and in-last
        both(db, "cohort_retention", {"weeks": 1, "tz": tz})
        db.execute('DELETE FROM "User"')


def test_level_and_completion_counters_follow_course_and_lesson_edits(db):
    """0009: ops.level_progress / ops.level_stats / ops.course_progress_sum and the progress,
    completed-course and session columns of ops.user_score, after the edits that move them
    without a progress write (a course's level or published flag, a lesson inserted,
    published, unpublished, moved or deleted, a course deleted) and after progress and event
    writes; course_completion_by_level, learning_funnel (all courses and each course) and
    gamification_effectiveness stay equal to their oracles."""
    today = today_in(db)
    for uid in ("a", "b", "c"):
        add_user(db, uid)
    add_user(db, "t", role="TEACHER")
    add_course(db, "c1", "investing", lessons=2)
    add_course(db, "c2", "saving", level="EXPERT", lessons=2)
    add_course(db, "c3", "budget", level="EXPERT", lessons=1, published=False)

    def check():
        assert_counters_exact(db)
        both(db, "course_completion_by_level")
        both(db, "gamification_effectiveness")
        for course in (None, "c1", "c2", "c3", "nope"):
            both(db, "learning_funnel", {"course_id": course})

    for uid, lesson in (("a", "c1-l1"), ("a", "c1-l2"), ("b", "c1-l1"), ("a", "c2-l1"), ("c", "c3-l1"),
                        ("t", "c1-l1"), ("t", "c1-l2")):  # fmt: skip
        add_progress(db, uid, lesson, status="COMPLETED", pct=100)
    add_progress(db, "b", "c2-l2", pct=12.5)
    for uid, session in (("a", "s1"), ("a", "s2"), ("b", "s3"), ("t", "s4")):
        add_log(db, uid, session, local_ts(db, today, 9, "UTC"))
    check()
    completed = dict(db.execute('SELECT "userId", "completedCourses" FROM ops.user_score').fetchall())
    assert completed == {"a": 1, "b": 0, "c": 1, "t": 1}  # c3 is unpublished but complete
    assert dict(db.execute('SELECT "userId", sessions FROM ops.user_score').fetchall())["a"] == 2

    db.execute("UPDATE \"Course\" SET level = 'INTERMEDIATE' WHERE id = 'c2'")  # level moved
    db.execute("UPDATE \"Course\" SET published = true WHERE id = 'c3'")  # enters EXPERT
    db.execute("UPDATE \"Course\" SET published = false WHERE id = 'c1'")  # leaves BEGINNER
    db.execute("UPDATE \"Course\" SET title = '{}'")  # neither: nothing moves
    check()
    # lessons: a new published lesson un-completes c1; publishing/unpublishing/moving lessons
    db.execute(
        'INSERT INTO "Lesson" (id, "courseId", "order", title, content, published, "updatedAt") '
        "VALUES ('c1-l3', 'c1', 3, '{}', '{}', true, now()), ('c2-l3', 'c2', 3, '{}', '{}', false, now())"
    )
    done = 'SELECT "completedCourses" FROM ops.user_score WHERE "userId" = %s'
    assert db.execute(done, ["a"]).fetchone()[0] == 0
    check()
    db.execute("UPDATE \"Lesson\" SET published = false WHERE id = 'c1-l3'")  # c1 complete again
    db.execute("UPDATE \"Lesson\" SET published = false WHERE id = 'c2-l2'")  # a completes c2
    db.execute('UPDATE "Lesson" SET "courseId" = \'c3\', "order" = 5 WHERE id = \'c2-l3\'')
    check()
    # renamed and published in one statement
    db.execute("UPDATE \"Lesson\" SET id = 'c1-l3b', published = true WHERE id = 'c1-l3'")
    assert db.execute(done, ["a"]).fetchone()[0] == 1  # c1 no longer complete; c2 still is
    check()
    db.execute("DELETE FROM \"Lesson\" WHERE id = 'c3-l1'")  # c's only progress goes with it
    db.execute("DELETE FROM \"Course\" WHERE id = 'c2'")  # cascades to lessons and progress
    check()
    # progress and event writes after the edits, a user renamed and one deleted
    db.execute(
        'UPDATE "UserProgress" SET status = \'IN_PROGRESS\', "progressPercentage" = 40 WHERE "userId" = \'b\''
    )
    add_progress(db, "c", "c1-l2", status="COMPLETED", pct=100)
    add_log(db, "c", "s5", local_ts(db, today, 10, "UTC"))
    db.execute('DELETE FROM "BehaviorLog" WHERE "sessionId" = \'s2\'')
    db.execute("UPDATE \"User\" SET id = 'a2' WHERE id = 'a'")
    db.execute("DELETE FROM \"User\" WHERE id = 'b'")
    check()
    db.execute('TRUNCATE "BehaviorLog"')
    db.execute('TRUNCATE "UserProgress"')
    assert db.execute("SELECT count(*) FROM ops.level_stats").fetchone()[0] == 0
    check()


def test_user_cohort_bits_follow_events_signups_and_the_reporting_zone(db):
    """0010: ops.user_cohort (signup day in the reporting zone, bits of the weeks 1..4 with an
    event) after events inside and outside the weeks, deletes of a day's last event, a moved
    event, signup dates and roles changed, a user renamed and deleted, and a new reporting
    zone; cohort_retention stays equal to its oracle in the reporting zone and in another."""
    today = today_in(db)
    signup = today - dt.timedelta(days=30)
    for i, uid in enumerate(("a", "b", "c", "d")):
        add_user(db, uid, created=local_ts(db, signup - dt.timedelta(days=i), 23, "UTC"))
    add_user(db, "t", role="TEACHER", created=local_ts(db, signup, 12, "UTC"))

    def check():
        assert_counters_exact(db)
        for z in ("UTC", "Pacific/Kiritimati", "America/Adak"):
            for weeks in (1, 6):
                both(db, "cohort_retention", {"weeks": weeks, "tz": z})

    def event(uid, days_after_signup, hour=12):
        add_log(
            db,
            uid,
            f"s-{uid}-{days_after_signup}",
            local_ts(db, signup + dt.timedelta(days=days_after_signup), hour, "UTC"),
        )

    for uid, days in (("a", 7), ("a", 14), ("a", 29), ("b", 6), ("b", 13), ("c", 20), ("t", 8), ("d", 35)):
        event(uid, days)
    check()
    bits = dict(db.execute('SELECT "userId", "activeWeeks" FROM ops.user_cohort').fetchall())
    assert bits["a"] == 0b1011 and bits["t"] == 0b0001  # a: weeks 1, 2, 4 (day 29); t: not a student
    db.execute('DELETE FROM "BehaviorLog" WHERE "userId" = \'a\' AND "sessionId" = \'s-a-14\'')  # week 2 lost
    db.execute(  # c's event moves from week 2 to week 3
        "UPDATE \"BehaviorLog\" SET timestamp = timestamp + interval '7 days' WHERE \"sessionId\" = 's-c-20'"
    )
    db.execute('UPDATE "User" SET "createdAt" = "createdAt" - interval \'7 days\' WHERE id = \'b\'')
    db.execute("UPDATE \"User\" SET role = 'TEACHER' WHERE id = 'd'")
    db.execute("UPDATE \"User\" SET role = 'STUDENT' WHERE id = 't'")
    check()
    db.execute("UPDATE \"User\" SET id = 'a2' WHERE id = 'a'")  # cascades to the events
    db.execute("DELETE FROM \"User\" WHERE id = 'c'")
    check()
    with db.transaction():
        db.execute("SELECT ops.set_reporting_tz('Pacific/Kiritimati')")  # UTC+14: signup days move
    check()
    db.execute('TRUNCATE "BehaviorLog"')
    assert db.execute('SELECT count(*) FROM ops.user_cohort WHERE "activeWeeks" <> 0').fetchone()[0] == 0
    check()
