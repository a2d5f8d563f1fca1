"""Fast forms return exactly the oracle's rows (module_utils/vedfin_analytics.py, sql/analytics/).

Every query runs in both forms on the same data - the seeder's demo preset and hand-made edge
cases (empty tables, null userId only, a day without events, a student without progress, a
course without lessons, timeframe boundaries, an empty cohort week) - and after writes that the
rollup triggers of sql/migrations/0003-0004 must follow (INSERT, UPDATE, DELETE, TRUNCATE).
Some results are also checked against hand-computed values, so the oracle itself is tested.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils import vedfin_seed
from ansible.module_utils.vedfin_pg import params_from_conninfo
from app_db import FLAVOURS, create_app_db, drop_app_db

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "sql" / "migrations"
# UTC, east (production), west, half- and quarter-hour offsets, and the UTC+14 / UTC-11 edges
ZONES = (
    "UTC",
    "Asia/Ho_Chi_Minh",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)


# -- helpers --------------------------------------------------------------------------------
def new_db(pg_server, *, seed: bool) -> dict:
    return create_app_db(pg_server, {"preset": "demo", "seed": 1} if seed else None)


drop_db = drop_app_db


def both(conn, name: str, params: dict | None = None) -> list[dict]:
    """Run the oracle and the fast form; assert identical rows; return the oracle's."""
    clean = va.validate(name, params or {})
    oracle = va.execute(conn, name, clean, "oracle")
    fast = va.execute(conn, name, clean, "fast")
    assert fast == oracle, f"{name} {clean}: fast form differs from the oracle"
    return oracle


def one_of_each(conn) -> dict:
    """Ids to parametrise per-entity queries with, taken from the data."""

    def pick(sql):
        row = conn.execute(sql).fetchone()
        return row[0] if row else None

    return {
        "active_user": pick(
            'SELECT "userId" FROM "BehaviorLog" WHERE "userId" IS NOT NULL '
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ),
        "quiet_user": pick(
            'SELECT u.id FROM "User" u WHERE NOT EXISTS '
            '(SELECT 1 FROM "BehaviorLog" b WHERE b."userId" = u.id) ORDER BY 1 LIMIT 1'
        ),
        "popular_course": pick(
            'SELECT l."courseId" FROM "UserProgress" p JOIN "Lesson" l ON l.id = p."lessonId" '
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ),
        "prefix_course": pick(
            "SELECT id FROM \"Course\" WHERE slug IN ('investing', 'saving') ORDER BY slug LIMIT 1"
        ),
        "unpublished_course": pick('SELECT id FROM "Course" WHERE NOT published ORDER BY id LIMIT 1'),
        "group": pick('SELECT "groupId" FROM "BuddyMember" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1'),
    }


def param_sets(conn) -> dict[str, list[dict]]:
    ids = one_of_each(conn)
    today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    users = [u for u in (ids["active_user"], ids["quiet_user"], "no-such-user") if u]
    courses = [
        c for c in (ids["popular_course"], ids["prefix_course"], ids["unpublished_course"], "nope") if c
    ]
    return {
        "daily_active_users": [{"days": d, "tz": z} for d in (1, 7, 30, 45) for z in ZONES],
        "monthly_active_users": [{"months": m, "tz": z} for m in (1, 3, 12) for z in ZONES],
        "learning_funnel": [{}] + [{"course_id": c} for c in courses],
        "course_completion_by_level": [{}],
        "leaderboard": [
            {"timeframe": t, "limit": n, "group_id": g, "tz": z}
            for t in ("all", "month", "week")
            for n in (1, 50, 1000)
            for g in (None, ids["group"])
            for z in ("UTC", "Asia/Ho_Chi_Minh")
        ],
        "top_courses": [{"limit": n} for n in (1, 5, 10, 1000)],
        "student_behavior_summary": [
            {"user_id": u, "days": d, "tz": z} for u in users for d in (1, 7, 30) for z in ZONES
        ],
        "cohort_retention": [{"weeks": w, "tz": z} for w in (1, 4, 12, 52) for z in ZONES],
        "at_risk_students": [
            {"inactive_days": d, "progress_threshold": t, "limit": n, "tz": z}
            for d in (0, 1, 7, 30)
            for t in (0, 30, 99.5, 100)
            for n in (5, 1000)
            for z in ("UTC", "Asia/Kathmandu")
        ],
        "student_behavior_pattern": [
            {"user_id": u, "days": d, "tz": z} for u in users for d in (1, 7, 30) for z in ZONES
        ],
        "course_engagement": [{"course_id": c} for c in courses],
        "revenue_metrics": [
            {
                "start_date": str(today - dt.timedelta(days=a)),
                "end_date": str(today - dt.timedelta(days=b)),
                "tz": z,
            }
            for a, b in ((40, 0), (10, 3), (0, 0), (400, 100))
            for z in ZONES
        ],
        "gamification_effectiveness": [{}],
    }


def all_equal(conn, per_query: int | None = None) -> None:
    """fast == oracle for every query; with per_query, only that many evenly spread sets."""
    for name, sets in param_sets(conn).items():
        if per_query and len(sets) > per_query:
            step = len(sets) / per_query
            sets = [sets[int(i * step)] for i in range(per_query)]
        for params in sets:
            both(conn, name, params)


# -- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=FLAVOURS)
def demo_db(request, pg_server):
    """Schema (both DateTime flavours of the app) + repo migrations + seeder demo preset, with
    the app's NULLs; read-only for the tests using it."""
    info = create_app_db(pg_server, {"preset": "demo", "seed": 1}, flavour=request.param)
    yield info
    drop_db(pg_server, info)


@pytest.fixture
def demo_conn(demo_db):
    with psycopg.connect(**demo_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def seeded_db(pg_server):
    """A writable seeded database (the test changes its rows)."""
    info = new_db(pg_server, seed=True)
    yield info
    drop_db(pg_server, info)


@pytest.fixture
def seeded(seeded_db):
    with psycopg.connect(**seeded_db, autocommit=True) as conn:
        yield conn


# -- seeded data ----------------------------------------------------------------------------
def test_every_query_has_two_forms_and_sql_files():
    assert len(va.QUERIES) == 13
    for name, spec in va.QUERIES.items():
        assert va.sql_path(name, "oracle").is_file()
        fast = va.sql_path(name, "fast")
        assert fast.is_file()
        assert (fast == va.sql_path(name, "oracle")) == spec.fast_reuses_oracle


@pytest.mark.parametrize("name", sorted(va.QUERIES))
def test_fast_equals_oracle_on_demo_seed(demo_conn, name):
    sets = param_sets(demo_conn)[name]
    nonempty = 0
    for params in sets:
        rows = both(demo_conn, name, params)
        nonempty += any(v not in (None, 0, Decimal(0)) for r in rows for k, v in r.items() if k != "rank")
    assert nonempty, f"{name}: every parameter set gave only zeros - the test data does not exercise it"


def test_demo_seed_sanity(demo_conn):
    """A few spec properties on real data (ordering, counts, JSON-safe output)."""
    dau = va.run("daily_active_users", {"days": 30}, conn=demo_conn)
    assert len(dau) == 30 and dau[0]["date"] > dau[-1]["date"]
    assert all(isinstance(r["date"], str) for r in dau)
    lb = va.run("leaderboard", {"limit": 1000}, conn=demo_conn)
    students = demo_conn.execute("SELECT count(*) FROM \"User\" WHERE role = 'STUDENT'").fetchone()[0]
    assert len(lb) == students  # every student appears
    keys = [(-r["total_score"], r["id"]) for r in lb]
    assert keys == sorted(keys)
    assert [r["rank"] for r in lb] == list(range(1, students + 1))
    lv = va.run("course_completion_by_level", {}, conn=demo_conn)
    assert [r["level"] for r in lv] == ["BEGINNER", "INTERMEDIATE", "EXPERT"]
    gam = va.run("gamification_effectiveness", {}, conn=demo_conn)
    assert sum(r["user_count"] for r in gam) == students
    assert all(isinstance(r["sessions_per_user"], (float, type(None))) for r in gam)
    risk = va.run("at_risk_students", {"limit": 1000}, conn=demo_conn)
    never = [r for r in risk if r["last_activity"] is None]
    assert risk[: len(never)] == never  # never-active students first


def test_analytics_service_runs_both_forms(demo_db):
    with va.Analytics(demo_db) as service:
        fast = service.run("top_courses", {"limit": 3})
        oracle = service.run("top_courses", {"limit": 3}, form="oracle", cached=False)
    assert fast == oracle and len(fast) == 3


def test_analytics_service_serves_from_cache(demo_db, redis_server):
    import redis as redis_lib

    with va.Analytics(demo_db, cache=redis_server.url) as service:
        service.cache.invalidate_leaderboards()
        first, info1 = service.run_with_info("leaderboard", {"timeframe": "week", "limit": 10})
        again, info2 = service.run_with_info("leaderboard", {"timeframe": "week", "limit": 10})
        oracle, info3 = service.run_with_info(
            "leaderboard", {"timeframe": "week", "limit": 10}, form="oracle"
        )
        direct, info4 = service.run_with_info("leaderboard", {"timeframe": "week", "limit": 10}, cached=False)
    assert first == again == oracle == direct
    assert (info1["status"], info2["status"], info4["status"]) == ("miss", "hit", "uncached")
    assert info3["status"] == "miss" and info3["key"] != info1["key"]
    # The application's key shape, versioned and with the board's generation.
    assert info1["key"].startswith("ved:v1:leaderboard:global:week:10:g")
    assert redis_lib.Redis.from_url(redis_server.url).ttl(info1["key"]) <= 300


def test_run_leaves_the_callers_transaction_alone(demo_db):
    with psycopg.connect(**demo_db) as conn:  # not autocommit
        va.run("top_courses", {"limit": 1}, conn=conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        conn.execute("CREATE TEMP TABLE mine (x int)")
        va.run("top_courses", {"limit": 1}, conn=conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.execute("SELECT * FROM mine")  # the caller's work is still there
        with pytest.raises(va.AnalyticsError, match="unknown analytics query"):
            va.run("nope", {}, conn=conn)


# -- edge cases -----------------------------------------------------------------------------
def add_user(conn, uid, role="STUDENT", points=0, created=None):
    conn.execute(
        'INSERT INTO "User" (id, email, "passwordHash", name, role, points, "createdAt", "updatedAt") '
        "VALUES (%s, %s, 'x', %s, %s, %s, coalesce(%s, now()), now())",
        [uid, uid + "@example.com", psycopg.types.json.Jsonb({"vi": uid}), role, points, created],
    )


def add_course(
    conn, cid, slug, price=100, level="BEGINNER", published=True, lessons=2, published_lessons=None
):
    conn.execute(
        'INSERT INTO "Course" (id, slug, title, description, "thumbnailKey", price, level, published, '
        '"updatedAt") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())',
        [
            cid,
            slug,
            psycopg.types.json.Jsonb({"vi": slug}),
            psycopg.types.json.Jsonb({"vi": f"Khoá học {slug}"}),
            f"courses/{cid}/thumbnail.jpg",
            price,
            level,
            published,
        ],
    )
    for i in range(1, lessons + 1):
        pub = True if published_lessons is None else i <= published_lessons
        conn.execute(
            'INSERT INTO "Lesson" (id, "courseId", "order", title, content, published, "updatedAt") '
            "VALUES (%s, %s, %s, %s, %s, %s, now())",
            [
                f"{cid}-l{i}",
                cid,
                i,
                psycopg.types.json.Jsonb({"vi": "b"}),
                psycopg.types.json.Jsonb({"vi": f"Nội dung bài {i}"}),
                pub,
            ],
        )


def add_progress(conn, uid, lesson, status="IN_PROGRESS", pct=50, spent=60, created=None):
    conn.execute(
        'INSERT INTO "UserProgress" (id, "userId", "lessonId", status, "progressPercentage", '
        '"durationSpent", "createdAt", "updatedAt") '
        "VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), now())",
        [f"p-{uid}-{lesson}", uid, lesson, status, pct, spent, created],
    )


def add_log(conn, uid, session, ts, path="/home", event="page_view", duration=10):
    conn.execute(
        'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration, "timestamp") '
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [uuid.uuid4().hex, uid, session, path, event, duration, ts],
    )


def today_in(conn, tz="UTC") -> dt.date:
    return conn.execute("SELECT (now() AT TIME ZONE %s)::date", [tz]).fetchone()[0]


def local_ts(conn, day: dt.date, hour: int, tz: str, minute: int = 0):
    return conn.execute(
        "SELECT (%s::date + make_time(%s, %s, 0))::timestamp AT TIME ZONE %s", [day, hour, minute, tz]
    ).fetchone()[0]


def test_empty_tables(empty_db):
    all_equal(empty_db)
    assert [r["dau"] for r in both(empty_db, "daily_active_users", {"days": 3})] == [0, 0, 0]
    assert both(empty_db, "learning_funnel") == [
        {"total_students": 0, "started_students": 0, "lesson_completers": 0, "course_completers": 0}
    ]
    assert both(empty_db, "course_engagement", {"course_id": "x"}) == []
    assert len(both(empty_db, "gamification_effectiveness")) == 9
    assert both(empty_db, "revenue_metrics", {"start_date": "2026-01-01", "end_date": "2026-01-03"})[1] == {
        "date": dt.date(2026, 1, 2),
        "new_enrollments": 0,
        "potential_revenue": 0,
        "active_courses": 0,
    }


def test_only_null_user_logs_are_ignored(empty_db):
    add_user(empty_db, "s1")
    add_course(empty_db, "c1", "investing")
    now = empty_db.execute("SELECT now()").fetchone()[0]
    for i in range(5):
        add_log(empty_db, None, f"anon{i}", now, path="/courses/investing")
    all_equal(empty_db)
    assert both(empty_db, "daily_active_users", {"days": 1})[0]["dau"] == 0
    assert both(empty_db, "course_engagement", {"course_id": "c1"})[0]["sessions"] == 0
    assert empty_db.execute("SELECT count(*) FROM ops.activity_15m").fetchone()[0] == 0


@pytest.mark.parametrize("tz", ["UTC", "Asia/Ho_Chi_Minh", "Asia/Kathmandu"])
def test_day_without_events_and_day_boundaries(empty_db, tz):
    add_user(empty_db, "s1")
    add_user(empty_db, "s2")
    today = today_in(empty_db, tz)
    d2 = today - dt.timedelta(days=2)
    # Two users on day-2 (one at 00:00 local, one at 23:59 local), nothing on day-1, one today
    # at 00:00 local; an event at 23:59 local on day-3 must not count for day-2.
    add_log(empty_db, "s1", "a", local_ts(empty_db, d2, 0, tz), duration=30)
    add_log(empty_db, "s2", "b", local_ts(empty_db, d2, 23, tz, 59), duration=None)
    add_log(empty_db, "s2", "b", local_ts(empty_db, d2, 23, tz, 59), duration=20)
    add_log(empty_db, "s1", "c", local_ts(empty_db, today - dt.timedelta(days=3), 23, tz, 59))
    add_log(empty_db, "s1", "d", local_ts(empty_db, today, 0, tz))
    rows = both(empty_db, "daily_active_users", {"days": 3, "tz": tz})
    assert [(r["date"], r["dau"], r["sessions"]) for r in rows] == [
        (today, 1, 1),
        (today - dt.timedelta(days=1), 0, 0),
        (d2, 2, 2),
    ]
    assert rows[1]["avg_session_duration"] is None
    assert rows[2]["avg_session_duration"] == Decimal("25.00")
    all_equal(empty_db)


def test_student_without_progress_and_never_active(empty_db):
    add_user(empty_db, "idle")  # no progress, no events: the most at risk
    add_user(empty_db, "busy")
    add_user(empty_db, "teacher", role="TEACHER")
    add_course(empty_db, "c1", "saving")
    add_progress(empty_db, "busy", "c1-l1", pct=10)
    old = empty_db.execute("SELECT now() - interval '20 days'").fetchone()[0]
    add_log(empty_db, "busy", "s", old)
    rows = both(empty_db, "at_risk_students", {"inactive_days": 7, "progress_threshold": 30})
    assert [(r["id"], r["avg_progress"], r["days_since_last_activity"]) for r in rows] == [
        ("idle", Decimal("0.00"), None),
        ("busy", Decimal("10.00"), 20),
    ]
    pattern = both(empty_db, "student_behavior_pattern", {"user_id": "idle"})[0]
    assert pattern["preferred_hour"] is None and pattern["avg_progress"] == Decimal("0.00")
    funnel = both(empty_db, "learning_funnel")[0]
    assert (funnel["total_students"], funnel["started_students"]) == (2, 1)
    all_equal(empty_db)


def test_course_without_lessons_and_course_completion(empty_db):
    add_course(empty_db, "empty", "empty-course", lessons=0)
    add_course(empty_db, "c2", "budget", lessons=3, published_lessons=2)
    add_user(empty_db, "u1")
    add_user(empty_db, "u2")
    add_user(empty_db, "u3")
    for lesson in ("c2-l1", "c2-l2"):  # u1 completes every published lesson
        add_progress(empty_db, "u1", lesson, status="COMPLETED", pct=100)
    add_progress(empty_db, "u2", "c2-l1", status="COMPLETED", pct=100)  # a lesson completer only
    add_progress(empty_db, "u3", "c2-l3", status="COMPLETED", pct=100)  # unpublished lesson only
    eng = both(empty_db, "course_engagement", {"course_id": "c2"})[0]
    assert (eng["enrollments"], eng["lesson_completers"], eng["course_completions"]) == (3, 3, 1)
    assert eng["completion_rate"] == Decimal("33.33")
    empty = both(empty_db, "course_engagement", {"course_id": "empty"})[0]
    assert (empty["enrollments"], empty["course_completions"], empty["completion_rate"]) == (0, 0, None)
    top = both(empty_db, "top_courses", {"limit": 10})
    assert [(r["id"], r["enrollments"], r["course_completions"]) for r in top] == [
        ("c2", 3, 1),
        ("empty", 0, 0),
    ]
    assert both(empty_db, "learning_funnel", {"course_id": "c2"})[0]["course_completers"] == 1
    all_equal(empty_db)


def test_course_path_matches_the_segment_exactly(empty_db):
    add_user(empty_db, "u1")
    add_course(empty_db, "inv", "investing")
    add_course(empty_db, "adv", "investing-advanced")
    now = empty_db.execute("SELECT now()").fetchone()[0]
    add_log(empty_db, "u1", "s1", now, path="/courses/investing", duration=10)
    add_log(empty_db, "u1", "s1", now, path="/courses/investing/lessons/2", duration=5)
    add_log(empty_db, "u1", "s2", now, path="/courses/investing-advanced", duration=100)
    add_log(empty_db, "u1", "s3", now, path="/courses/investing?tab=1", duration=100)
    add_log(empty_db, "u1", "s4", now, path="/blog/courses/investing", duration=100)
    inv = both(empty_db, "course_engagement", {"course_id": "inv"})[0]
    assert (inv["sessions"], inv["avg_session_duration"]) == (1, Decimal("15.00"))
    assert both(empty_db, "course_engagement", {"course_id": "adv"})[0]["sessions"] == 1
    # A slug that is not a single path segment takes the fast form's fallback branch.
    empty_db.execute("UPDATE \"Course\" SET slug = 'investing/lessons' WHERE id = 'adv'")
    assert both(empty_db, "course_engagement", {"course_id": "adv"})[0]["sessions"] == 1


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_leaderboard_timeframe_boundaries_and_ties(empty_db, tz):
    today = today_in(empty_db, tz)
    for uid in ("a", "b", "c"):
        add_user(empty_db, uid, points=100)
    empty_db.execute(
        'INSERT INTO "UserStreak" (id, "userId", "currentStreak", "updatedAt") '
        "VALUES ('st', 'c', 5, now())"
    )

    def award(uid, ts):
        empty_db.execute(
            'INSERT INTO "UserAchievement" (id, "userId", type, name, description, "iconKey", "awardedAt") '
            "VALUES (%s, %s, 'badge', %s, %s, 'achievements/badge.svg', %s)",
            [
                uuid.uuid4().hex,
                uid,
                psycopg.types.json.Jsonb({"vi": "x"}),
                psycopg.types.json.Jsonb({"vi": "y"}),
                ts,
            ],
        )

    award("a", local_ts(empty_db, today - dt.timedelta(days=6), 0, tz))  # first moment of the week
    award("b", local_ts(empty_db, today - dt.timedelta(days=7), 23, tz, 59))  # just before the week
    award("b", local_ts(empty_db, today - dt.timedelta(days=29), 0, tz))  # first day of the month
    week = both(empty_db, "leaderboard", {"timeframe": "week", "tz": tz})
    assert [(r["id"], r["achievement_count"], r["total_score"]) for r in week] == [
        ("a", 1, 150),
        ("c", 0, 150),  # tie with a: broken by id
        ("b", 0, 100),  # every student appears, with 0
    ]
    month = both(empty_db, "leaderboard", {"timeframe": "month", "tz": tz})
    assert [(r["id"], r["achievement_count"]) for r in month] == [("b", 2), ("a", 1), ("c", 0)]
    empty_db.execute("INSERT INTO \"BuddyGroup\" (id, name, \"updatedAt\") VALUES ('g', 'g', now())")
    empty_db.execute("INSERT INTO \"BuddyMember\" (id, \"groupId\", \"userId\") VALUES ('m', 'g', 'b')")
    assert [r["id"] for r in both(empty_db, "leaderboard", {"group_id": "g", "tz": tz})] == ["b"]


def test_cohort_week_with_nobody(empty_db):
    this_week = empty_db.execute("SELECT date_trunc('week', now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    signup = local_ts(empty_db, this_week - dt.timedelta(days=21), 12, "UTC")
    add_user(empty_db, "early", created=signup)
    add_user(empty_db, "now")
    add_log(empty_db, "early", "s", signup + dt.timedelta(days=7))  # day 7 after signup: week1
    add_log(empty_db, "early", "s", signup + dt.timedelta(days=6, hours=11))  # day 6: week0, not counted
    rows = both(empty_db, "cohort_retention", {"weeks": 4})
    assert [(r["cohort_week"], r["cohort_size"], r["week1"], r["week2"]) for r in rows] == [
        (this_week, 1, 0, 0),
        (this_week - dt.timedelta(days=7), 0, 0, 0),
        (this_week - dt.timedelta(days=14), 0, 0, 0),
        (this_week - dt.timedelta(days=21), 1, 1, 0),
    ]


def test_revenue_counts_each_enrollment_price(empty_db):
    add_course(empty_db, "c1", "a", price=100)
    add_course(empty_db, "c2", "b", price=100)  # same price: must count twice
    add_course(empty_db, "c3", "c", price=999, published=False)  # unpublished: ignored
    add_user(empty_db, "u1")
    add_user(empty_db, "u2")
    day = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    add_progress(empty_db, "u1", "c1-l1", created=day)
    add_progress(empty_db, "u1", "c1-l2", created=day + dt.timedelta(days=1))  # same enrollment
    add_progress(empty_db, "u1", "c2-l1", created=day)
    add_progress(empty_db, "u2", "c3-l1", created=day)
    add_progress(empty_db, "u2", "c1-l1", created=day - dt.timedelta(days=5))  # before the range
    rows = both(empty_db, "revenue_metrics", {"start_date": "2026-03-09", "end_date": "2026-03-11"})
    assert [(r["new_enrollments"], r["potential_revenue"], r["active_courses"]) for r in rows] == [
        (0, 0, 0),
        (2, 200, 2),
        (0, 0, 0),
    ]
    late = both(
        empty_db,
        "revenue_metrics",
        {"start_date": "2026-03-10", "end_date": "2026-03-10", "tz": "Pacific/Kiritimati"},
    )
    assert late[0]["new_enrollments"] == 0  # 12:00 UTC is already the 11th there


def test_rollups_follow_inserts_updates_deletes_and_truncate(seeded):
    all_equal(seeded, per_query=6)
    ids = one_of_each(seeded)
    user = ids["active_user"]
    now = seeded.execute("SELECT now()").fetchone()[0]
    # New events (a multi-row INSERT: one trigger call) for an existing and a new session,
    # a null-userId row, and a new enrollment.
    with seeded.cursor() as cur:
        cur.executemany(
            'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration, "timestamp") '
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (uuid.uuid4().hex, user, "new-session", "/courses/investing", "video_play", 42, now),
                (uuid.uuid4().hex, user, "new-session", "/courses/investing/x", "quiz_submit", None, now),
                (uuid.uuid4().hex, None, "anon", "/courses/investing", "page_view", 5, now),
            ],
        )
    seeded.execute(
        'INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", duration, "timestamp") '
        "SELECT md5(g::text), u.id, 'bulk-' || (g % 7), '/courses/' || c.slug, 'page_view', g, "
        "now() - g * interval '1 hour' FROM generate_series(1, 300) g "
        'JOIN LATERAL (SELECT id FROM "User" ORDER BY id OFFSET g % 150 LIMIT 1) u ON true '
        'JOIN LATERAL (SELECT slug FROM "Course" ORDER BY id OFFSET g % 20 LIMIT 1) c ON true'
    )
    lesson = seeded.execute(
        'SELECT l.id FROM "Lesson" l WHERE NOT EXISTS (SELECT 1 FROM "UserProgress" p '
        'WHERE p."lessonId" = l.id AND p."userId" = %s) ORDER BY l.id LIMIT 1',
        [user],
    ).fetchone()[0]
    add_progress(seeded, user, lesson, status="COMPLETED", pct=100)
    all_equal(seeded, per_query=6)
    # Updates and deletes (rare for an append-only table, but the rollups must stay exact).
    seeded.execute(
        'UPDATE "BehaviorLog" SET duration = coalesce(duration, 0) + 7 WHERE "sessionId" = \'new-session\''
    )
    seeded.execute('UPDATE "BehaviorLog" SET "eventType" = \'x\' WHERE "sessionId" = \'bulk-3\'')
    seeded.execute('UPDATE "BehaviorLog" SET "sessionId" = \'moved\' WHERE "sessionId" = \'bulk-4\'')
    seeded.execute("DELETE FROM \"BehaviorLog\" WHERE \"sessionId\" IN ('bulk-1', 'bulk-2')")
    seeded.execute(
        'UPDATE "UserProgress" SET status = \'COMPLETED\', "progressPercentage" = 100 '
        "WHERE id IN (SELECT id FROM \"UserProgress\" WHERE status <> 'COMPLETED' ORDER BY id LIMIT 40)"
    )
    seeded.execute(
        'UPDATE "UserProgress" SET "createdAt" = "createdAt" - interval \'3 days\' WHERE "userId" = %s',
        [user],
    )
    seeded.execute('DELETE FROM "User" WHERE id = %s', [ids["quiet_user"] or user])
    seeded.execute('DELETE FROM "User" WHERE id = %s', [user])  # logs -> userId NULL, progress cascades
    all_equal(seeded, per_query=6)
    # A lesson moved to another course.
    seeded.execute(
        'UPDATE "Lesson" SET "courseId" = %s, "order" = 1000 '
        'WHERE id = (SELECT "lessonId" FROM "UserProgress" ORDER BY id LIMIT 1)',
        [ids["popular_course"]],
    )
    all_equal(seeded, per_query=6)
    seeded.execute('TRUNCATE "BehaviorLog", "UserProgress"')
    assert seeded.execute("SELECT count(*) FROM ops.activity_15m").fetchone()[0] == 0
    assert seeded.execute("SELECT count(*) FROM ops.enrollment").fetchone()[0] == 0
    all_equal(seeded, per_query=3)


def test_reseeding_keeps_rollups_exact(seeded, seeded_db):
    """The seeder truncates and COPYs: the TRUNCATE and INSERT triggers keep up."""
    vedfin_seed.seed(params_from_conninfo(seeded_db), preset="demo", seed=2, replace=True)
    all_equal(seeded, per_query=6)
