-- Pre-aggregates for the fast forms at the `large` preset (issue 9: each query p95 < 100 ms
-- at 100k users / 10M BehaviorLog rows). Read by sql/analytics/*.fast.sql; documented in
-- docs/ANALYTICS_API_REFERENCE.md ("Rollups").
--
-- Calendar of "BehaviorLog" (non-null userId), in the reporting time zone
-- (ops.analytics_setting 'reporting_tz', default UTC; ops.set_reporting_tz() changes it and
-- rebuilds): membership tables ops.user_day, ops.session_day, ops.user_month,
-- ops.session_month (events per key; a key exists while it has events) and the counters
-- ops.day_stats (distinct users, distinct sessions, summed duration per day) and
-- ops.month_stats (distinct users, sessions per month). DAU/MAU read a handful of counter
-- rows; a query in another time zone falls back to ops.activity_15m (0003).
-- Per user: ops.user_activity (last event, number of sessions); per course slug:
-- ops.course_path_stats (sessions on the course's pages, their duration); both kept by the
-- 0003 functions, which this file replaces to maintain them.
-- "UserProgress": ops.user_course_progress (per user and course: progress rows, COMPLETED
-- rows, COMPLETED rows on published lessons, summed progressPercentage and durationSpent),
-- ops.user_progress (the same per user) and ops.course_progress (enrollments and lesson
-- completers per course).
--
-- Freshness: real time. Statement-level AFTER triggers with transition tables apply signed
-- deltas (INSERT +new, DELETE -old, UPDATE -old +new for rows whose rolled-up columns
-- changed), so the frequent writes (event inserts, progress status/percentage updates) are
-- additive upserts that commute under concurrency; a counter moves when a membership row
-- appears (old count 0) or disappears (new count 0), which the upsert's RETURNING tells.
-- Rare cases rebuild the affected users from the base tables (like 0004): a progress row
-- whose lesson no longer exists (Lesson deleted or its id changed: cascades) and a Lesson
-- whose "published" or "courseId" changed. TRUNCATE empties the rollups.
-- ops.rebuild_calendar() and ops.rebuild_progress() rebuild everything (the backfill below;
-- the seeder calls them after its trigger-less bulk load).
--
-- Locking: as in 0003/0004, CREATE TRIGGER holds SHARE ROW EXCLUSIVE on "BehaviorLog",
-- "UserProgress" and "Lesson" until the backfill commits, so no write slips between the
-- backfill and the triggers. The backfill reads "BehaviorLog" once (about 10 s per 10M rows
-- on the test host): run it in a quiet window on very large tables.

CREATE TABLE IF NOT EXISTS ops.analytics_setting (
    "key"   text PRIMARY KEY,
    "value" text NOT NULL
);
INSERT INTO ops.analytics_setting ("key", "value") VALUES ('reporting_tz', 'UTC') ON CONFLICT DO NOTHING;
COMMENT ON TABLE ops.analytics_setting IS
    'Settings of the ops rollups; reporting_tz: the time zone of the calendar rollups (change it '
    'with ops.set_reporting_tz, which rebuilds them).';

CREATE OR REPLACE FUNCTION ops.reporting_tz() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT "value" FROM ops.analytics_setting WHERE "key" = 'reporting_tz');

-- Calendar tables ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ops.user_day (
    "day"    date NOT NULL,
    "userId" text NOT NULL,
    "events" bigint NOT NULL,
    PRIMARY KEY ("day", "userId")
);
CREATE INDEX IF NOT EXISTS user_day_user_idx ON ops.user_day ("userId", "day");
CREATE TABLE IF NOT EXISTS ops.session_day (
    "day"       date NOT NULL,
    "sessionId" text NOT NULL,
    "events"    bigint NOT NULL,
    PRIMARY KEY ("day", "sessionId")
);
CREATE TABLE IF NOT EXISTS ops.user_month (
    "month"  date NOT NULL,
    "userId" text NOT NULL,
    "events" bigint NOT NULL,
    PRIMARY KEY ("month", "userId")
);
CREATE TABLE IF NOT EXISTS ops.session_month (
    "month"     date NOT NULL,
    "sessionId" text NOT NULL,
    "events"    bigint NOT NULL,
    PRIMARY KEY ("month", "sessionId")
);
CREATE TABLE IF NOT EXISTS ops.day_stats (
    "day"      date PRIMARY KEY,
    "users"    bigint NOT NULL,
    "sessions" bigint NOT NULL,
    "duration" bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.month_stats (
    "month"    date PRIMARY KEY,
    "users"    bigint NOT NULL,
    "sessions" bigint NOT NULL
);
COMMENT ON TABLE ops.day_stats IS
    'Per local day (ops.reporting_tz()) of "BehaviorLog" (non-null userId): distinct users, distinct '
    'sessions, summed duration; maintained by triggers (ved-db-ops 0006_analytics_counters).';
COMMENT ON TABLE ops.month_stats IS
    'Per local month (ops.reporting_tz()): distinct users and sessions; maintained by triggers.';

-- Apply signed per-(day, user, session) deltas (events, duration) to the calendar tables.
CREATE OR REPLACE FUNCTION ops.apply_calendar_delta(
    p_days date[], p_users text[], p_sessions text[], p_events bigint[], p_durations bigint[]
) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    WITH d AS (
        SELECT * FROM unnest(p_days, p_users, p_sessions, p_events, p_durations) AS t(day, uid, sid, ev, dur)
    ), gu AS (
        SELECT day, uid, sum(ev)::bigint AS ev FROM d GROUP BY 1, 2
    ), gs AS (
        SELECT day, sid, sum(ev)::bigint AS ev FROM d GROUP BY 1, 2
    ), gum AS (
        SELECT date_trunc('month', day)::date AS month, uid, sum(ev)::bigint AS ev FROM d GROUP BY 1, 2
    ), gsm AS (
        SELECT date_trunc('month', day)::date AS month, sid, sum(ev)::bigint AS ev FROM d GROUP BY 1, 2
    ), ud AS (
        -- ORDER BY: concurrent statements lock the keys in one order (no deadlocks).
        INSERT INTO ops.user_day AS r ("day", "userId", "events")
        SELECT day, uid, ev FROM gu WHERE ev <> 0 ORDER BY 1, 2
        ON CONFLICT ("day", "userId") DO UPDATE SET "events" = r."events" + EXCLUDED."events"
        RETURNING r."day", r."userId", r."events"
    ), sd AS (
        INSERT INTO ops.session_day AS r ("day", "sessionId", "events")
        SELECT day, sid, ev FROM gs WHERE ev <> 0 ORDER BY 1, 2
        ON CONFLICT ("day", "sessionId") DO UPDATE SET "events" = r."events" + EXCLUDED."events"
        RETURNING r."day", r."sessionId", r."events"
    ), um AS (
        INSERT INTO ops.user_month AS r ("month", "userId", "events")
        SELECT month, uid, ev FROM gum WHERE ev <> 0 ORDER BY 1, 2
        ON CONFLICT ("month", "userId") DO UPDATE SET "events" = r."events" + EXCLUDED."events"
        RETURNING r."month", r."userId", r."events"
    ), sm AS (
        INSERT INTO ops.session_month AS r ("month", "sessionId", "events")
        SELECT month, sid, ev FROM gsm WHERE ev <> 0 ORDER BY 1, 2
        ON CONFLICT ("month", "sessionId") DO UPDATE SET "events" = r."events" + EXCLUDED."events"
        RETURNING r."month", r."sessionId", r."events"
    ), day_delta AS (
        -- A key appeared when its count before (now - delta) was 0, vanished when it is now 0.
        SELECT ud."day", (ud."events" > 0)::int - (ud."events" - gu.ev > 0)::int AS du, 0 AS ds, 0::bigint AS dur
        FROM ud JOIN gu ON gu.day = ud."day" AND gu.uid = ud."userId"
        UNION ALL
        SELECT sd."day", 0, (sd."events" > 0)::int - (sd."events" - gs.ev > 0)::int, 0
        FROM sd JOIN gs ON gs.day = sd."day" AND gs.sid = sd."sessionId"
        UNION ALL
        SELECT day, 0, 0, sum(dur)::bigint FROM d GROUP BY day
    ), month_delta AS (
        SELECT um."month", (um."events" > 0)::int - (um."events" - gum.ev > 0)::int AS du, 0 AS ds
        FROM um JOIN gum ON gum.month = um."month" AND gum.uid = um."userId"
        UNION ALL
        SELECT sm."month", 0, (sm."events" > 0)::int - (sm."events" - gsm.ev > 0)::int
        FROM sm JOIN gsm ON gsm.month = sm."month" AND gsm.sid = sm."sessionId"
    ), ds AS (
        INSERT INTO ops.day_stats AS r ("day", "users", "sessions", "duration")
        SELECT "day", sum(du), sum(ds), sum(dur) FROM day_delta GROUP BY 1 ORDER BY 1
        ON CONFLICT ("day") DO UPDATE SET "users" = r."users" + EXCLUDED."users",
            "sessions" = r."sessions" + EXCLUDED."sessions", "duration" = r."duration" + EXCLUDED."duration"
    )
    INSERT INTO ops.month_stats AS r ("month", "users", "sessions")
    SELECT "month", sum(du), sum(ds) FROM month_delta GROUP BY 1 ORDER BY 1
    ON CONFLICT ("month") DO UPDATE SET "users" = r."users" + EXCLUDED."users",
        "sessions" = r."sessions" + EXCLUDED."sessions";

    IF EXISTS (SELECT 1 FROM unnest(p_events) e WHERE e < 0) THEN
        DELETE FROM ops.user_day r USING unnest(p_days, p_users) k(day, uid)
        WHERE r."day" = k.day AND r."userId" = k.uid AND r."events" = 0;
        DELETE FROM ops.session_day r USING unnest(p_days, p_sessions) k(day, sid)
        WHERE r."day" = k.day AND r."sessionId" = k.sid AND r."events" = 0;
        DELETE FROM ops.user_month r USING unnest(p_days, p_users) k(day, uid)
        WHERE r."month" = date_trunc('month', k.day)::date AND r."userId" = k.uid AND r."events" = 0;
        DELETE FROM ops.session_month r USING unnest(p_days, p_sessions) k(day, sid)
        WHERE r."month" = date_trunc('month', k.day)::date AND r."sessionId" = k.sid AND r."events" = 0;
        DELETE FROM ops.day_stats WHERE "users" = 0 AND "day" = ANY (p_days);
        DELETE FROM ops.month_stats m USING unnest(p_days) k(day)
        WHERE m."users" = 0 AND m."month" = date_trunc('month', k.day)::date;
    END IF;
END
$fn$;

-- Rebuild the calendar from "BehaviorLog" (one scan) in the reporting time zone.
CREATE OR REPLACE FUNCTION ops.rebuild_calendar() RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
BEGIN
    TRUNCATE ops.user_day, ops.session_day, ops.user_month, ops.session_month, ops.day_stats, ops.month_stats;
    CREATE TEMP TABLE calendar_rebuild ON COMMIT DROP AS
    SELECT (b."timestamp" AT TIME ZONE tz)::date AS day, b."userId" AS uid, b."sessionId" AS sid,
           count(*) AS ev, sum(coalesce(b."duration", 0)) AS dur
    FROM "BehaviorLog" b WHERE b."userId" IS NOT NULL
    GROUP BY 1, 2, 3;
    INSERT INTO ops.user_day SELECT day, uid, sum(ev) FROM calendar_rebuild GROUP BY 1, 2;
    INSERT INTO ops.session_day SELECT day, sid, sum(ev) FROM calendar_rebuild GROUP BY 1, 2;
    INSERT INTO ops.user_month
    SELECT date_trunc('month', day)::date, "userId", sum("events") FROM ops.user_day GROUP BY 1, 2;
    INSERT INTO ops.session_month
    SELECT date_trunc('month', day)::date, "sessionId", sum("events") FROM ops.session_day GROUP BY 1, 2;
    INSERT INTO ops.day_stats
    SELECT c.day, u.n, s.n, c.dur
    FROM (SELECT day, sum(dur) AS dur FROM calendar_rebuild GROUP BY 1) c
    JOIN (SELECT "day", count(*) AS n FROM ops.user_day GROUP BY 1) u ON u."day" = c.day
    JOIN (SELECT "day", count(*) AS n FROM ops.session_day GROUP BY 1) s ON s."day" = c.day;
    INSERT INTO ops.month_stats
    SELECT u."month", u.n, s.n
    FROM (SELECT "month", count(*) AS n FROM ops.user_month GROUP BY 1) u
    JOIN (SELECT "month", count(*) AS n FROM ops.session_month GROUP BY 1) s ON s."month" = u."month";
    DROP TABLE calendar_rebuild;
END
$fn$;

-- Change the reporting time zone of the calendar rollups (rebuilds them).
CREATE OR REPLACE FUNCTION ops.set_reporting_tz(tz text) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE "name" = tz) THEN
        RAISE EXCEPTION 'ops.set_reporting_tz: unknown time zone %; use an IANA name such as UTC or Asia/Ho_Chi_Minh', tz;
    END IF;
    UPDATE ops.analytics_setting SET "value" = tz WHERE "key" = 'reporting_tz';
    PERFORM ops.rebuild_calendar();
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
    a date[]; u text[]; s text[]; e bigint[]; d bigint[];
BEGIN
    SELECT array_agg(day), array_agg(uid), array_agg(sid), array_agg(ev), array_agg(dur)
    INTO a, u, s, e, d
    FROM (SELECT (n."timestamp" AT TIME ZONE tz)::date AS day, n."userId" AS uid, n."sessionId" AS sid,
                 count(*) AS ev, sum(coalesce(n."duration", 0))::bigint AS dur
          FROM new_rows n WHERE n."userId" IS NOT NULL GROUP BY 1, 2, 3) g;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
    a date[]; u text[]; s text[]; e bigint[]; d bigint[];
BEGIN
    -- -old +new for the rows whose rolled-up columns changed (not eventType, payload, ...).
    WITH changed AS (
        SELECT o."id" AS old_id, n."id" AS new_id
        FROM old_rows o FULL JOIN new_rows n ON n."id" = o."id"
        WHERE o."id" IS NULL OR n."id" IS NULL
           OR (o."userId", o."sessionId", o."duration", o."timestamp")
              IS DISTINCT FROM (n."userId", n."sessionId", n."duration", n."timestamp")
    ), rows AS (
        SELECT o."timestamp", o."userId", o."sessionId", -1 AS sign, o."duration"
        FROM old_rows o JOIN changed c ON c.old_id = o."id"
        UNION ALL
        SELECT n."timestamp", n."userId", n."sessionId", 1, n."duration"
        FROM new_rows n JOIN changed c ON c.new_id = n."id"
    )
    SELECT array_agg(day), array_agg(uid), array_agg(sid), array_agg(ev), array_agg(dur)
    INTO a, u, s, e, d
    FROM (SELECT ("timestamp" AT TIME ZONE tz)::date AS day, "userId" AS uid, "sessionId" AS sid,
                 sum(sign)::bigint AS ev, sum(sign * coalesce("duration", 0))::bigint AS dur
          FROM rows WHERE "userId" IS NOT NULL GROUP BY 1, 2, 3) g
    WHERE ev <> 0 OR dur <> 0;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
    a date[]; u text[]; s text[]; e bigint[]; d bigint[];
BEGIN
    SELECT array_agg(day), array_agg(uid), array_agg(sid), array_agg(ev), array_agg(dur)
    INTO a, u, s, e, d
    FROM (SELECT (o."timestamp" AT TIME ZONE tz)::date AS day, o."userId" AS uid, o."sessionId" AS sid,
                 -count(*) AS ev, -sum(coalesce(o."duration", 0))::bigint AS dur
          FROM old_rows o WHERE o."userId" IS NOT NULL GROUP BY 1, 2, 3) g;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.user_day, ops.session_day, ops.user_month, ops.session_month, ops.day_stats, ops.month_stats;
    RETURN NULL;
END
$fn$;

-- Per-user activity and per-course-path sessions, kept by the 0003 functions (replaced below) --
CREATE TABLE IF NOT EXISTS ops.user_activity (
    "userId"   text PRIMARY KEY,
    "lastAt"   timestamptz NOT NULL,
    "sessions" bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS user_activity_last_at_idx ON ops.user_activity ("lastAt", "userId");
COMMENT ON TABLE ops.user_activity IS
    'Per user of "BehaviorLog" (non-null userId): last event time and number of sessions '
    '(rows of ops.user_session); maintained by the 0003 rollup functions (replaced in 0006).';

CREATE TABLE IF NOT EXISTS ops.course_path_stats (
    "slug"     text PRIMARY KEY,
    "sessions" bigint NOT NULL,
    "duration" bigint NOT NULL
);
COMMENT ON TABLE ops.course_path_stats IS
    'Per course slug: rows of ops.course_path_session (sessions) and their summed duration; '
    'maintained by the 0003 rollup functions (replaced in 0006).';

CREATE OR REPLACE FUNCTION ops.rebuild_behavior_rollups(sessions text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    affected text[];
    slugs text[];
BEGIN
    IF sessions IS NULL THEN
        TRUNCATE ops.activity_15m, ops.user_session, ops.course_path_session, ops.user_activity,
            ops.course_path_stats;
    ELSE
        affected := ARRAY(SELECT DISTINCT "userId" FROM ops.user_session WHERE "sessionId" = ANY (sessions));
        slugs := ARRAY(SELECT DISTINCT "slug" FROM ops.course_path_session WHERE "sessionId" = ANY (sessions));
        DELETE FROM ops.activity_15m WHERE "sessionId" = ANY (sessions);
        DELETE FROM ops.user_session WHERE "sessionId" = ANY (sessions);
        DELETE FROM ops.course_path_session WHERE "sessionId" = ANY (sessions);
    END IF;

    INSERT INTO ops.activity_15m ("bucket", "userId", "sessionId", "events", "duration")
    SELECT ops.bucket_15m(b."timestamp"), b."userId", b."sessionId", count(*), sum(coalesce(b."duration", 0))
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2, 3;

    INSERT INTO ops.user_session ("userId", "sessionId", "events", "duration", "lastAt")
    SELECT b."userId", b."sessionId", count(*), sum(coalesce(b."duration", 0)), max(b."timestamp")
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2;

    INSERT INTO ops.course_path_session ("slug", "sessionId", "events", "duration")
    SELECT ops.course_slug_of_path(b."path"), b."sessionId", count(*), sum(coalesce(b."duration", 0))
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND ops.course_slug_of_path(b."path") IS NOT NULL
      AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2;

    IF sessions IS NULL THEN
        INSERT INTO ops.user_activity ("userId", "lastAt", "sessions")
        SELECT "userId", max("lastAt"), count(*) FROM ops.user_session GROUP BY 1;
        INSERT INTO ops.course_path_stats ("slug", "sessions", "duration")
        SELECT "slug", count(*), sum("duration") FROM ops.course_path_session GROUP BY 1;
    ELSE
        -- The users who had or now have rows of these sessions, recounted from ops.user_session.
        affected := affected || ARRAY(SELECT DISTINCT "userId" FROM ops.user_session WHERE "sessionId" = ANY (sessions));
        DELETE FROM ops.user_activity WHERE "userId" = ANY (affected);
        INSERT INTO ops.user_activity ("userId", "lastAt", "sessions")
        SELECT "userId", max("lastAt"), count(*) FROM ops.user_session WHERE "userId" = ANY (affected) GROUP BY 1;
        slugs := slugs || ARRAY(SELECT DISTINCT "slug" FROM ops.course_path_session WHERE "sessionId" = ANY (sessions));
        DELETE FROM ops.course_path_stats WHERE "slug" = ANY (slugs);
        INSERT INTO ops.course_path_stats ("slug", "sessions", "duration")
        SELECT "slug", count(*), sum("duration") FROM ops.course_path_session WHERE "slug" = ANY (slugs) GROUP BY 1;
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.activity_15m AS r ("bucket", "userId", "sessionId", "events", "duration")
    SELECT ops.bucket_15m(n."timestamp"), n."userId", n."sessionId", count(*), sum(coalesce(n."duration", 0))
    FROM new_rows n WHERE n."userId" IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ("bucket", "userId", "sessionId") DO UPDATE
        SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration";

    -- A (user, session) row whose events equal this statement's is new: one more session.
    WITH g AS (
        SELECT n."userId", n."sessionId", count(*) AS ev, sum(coalesce(n."duration", 0)) AS dur,
               max(n."timestamp") AS last_at
        FROM new_rows n WHERE n."userId" IS NOT NULL
        GROUP BY 1, 2
    ), us AS (
        INSERT INTO ops.user_session AS r ("userId", "sessionId", "events", "duration", "lastAt")
        SELECT "userId", "sessionId", ev, dur, last_at FROM g ORDER BY 1, 2
        ON CONFLICT ("userId", "sessionId") DO UPDATE
            SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration",
                "lastAt" = greatest(r."lastAt", EXCLUDED."lastAt")
        RETURNING r."userId", r."sessionId", r."events"
    )
    INSERT INTO ops.user_activity AS r ("userId", "lastAt", "sessions")
    SELECT g."userId", max(g.last_at), count(*) FILTER (WHERE us."events" = g.ev)
    FROM g JOIN us ON us."userId" = g."userId" AND us."sessionId" = g."sessionId"
    GROUP BY 1 ORDER BY 1
    ON CONFLICT ("userId") DO UPDATE
        SET "lastAt" = greatest(r."lastAt", EXCLUDED."lastAt"), "sessions" = r."sessions" + EXCLUDED."sessions";

    -- Likewise a new (slug, session) row is one more session of the course's pages.
    WITH g AS (
        SELECT ops.course_slug_of_path(n."path") AS slug, n."sessionId", count(*) AS ev,
               sum(coalesce(n."duration", 0)) AS dur
        FROM new_rows n WHERE n."userId" IS NOT NULL AND ops.course_slug_of_path(n."path") IS NOT NULL
        GROUP BY 1, 2
    ), cs AS (
        INSERT INTO ops.course_path_session AS r ("slug", "sessionId", "events", "duration")
        SELECT slug, "sessionId", ev, dur FROM g ORDER BY 1, 2
        ON CONFLICT ("slug", "sessionId") DO UPDATE
            SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration"
        RETURNING r."slug", r."sessionId", r."events"
    )
    INSERT INTO ops.course_path_stats AS r ("slug", "sessions", "duration")
    SELECT g.slug, count(*) FILTER (WHERE cs."events" = g.ev), sum(g.dur)
    FROM g JOIN cs ON cs."slug" = g.slug AND cs."sessionId" = g."sessionId"
    GROUP BY 1 ORDER BY 1
    ON CONFLICT ("slug") DO UPDATE
        SET "sessions" = r."sessions" + EXCLUDED."sessions", "duration" = r."duration" + EXCLUDED."duration";
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.activity_15m, ops.user_session, ops.course_path_session, ops.user_activity,
        ops.course_path_stats;
    RETURN NULL;
END
$fn$;

-- Progress tables ------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ops.user_course_progress (
    "userId"        text NOT NULL,
    "courseId"      text NOT NULL,
    "rows"          bigint NOT NULL,
    "completed"     bigint NOT NULL,
    "completedPub"  bigint NOT NULL,
    "progressSum"   numeric NOT NULL,
    "durationSpent" bigint NOT NULL,
    PRIMARY KEY ("userId", "courseId")
);
CREATE INDEX IF NOT EXISTS user_course_progress_course_idx
    ON ops.user_course_progress ("courseId", "completedPub") INCLUDE ("userId");
CREATE TABLE IF NOT EXISTS ops.user_progress (
    "userId"      text PRIMARY KEY,
    "rows"        bigint NOT NULL,
    "completed"   bigint NOT NULL,
    "progressSum" numeric NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.course_progress (
    "courseId"         text PRIMARY KEY,
    "enrollments"      bigint NOT NULL,
    "lessonCompleters" bigint NOT NULL
);
COMMENT ON TABLE ops.user_course_progress IS
    'Rollup of "UserProgress" per (user, course): rows, COMPLETED rows, COMPLETED rows on published '
    'lessons, summed progressPercentage and durationSpent; maintained by triggers (ved-db-ops 0006).';
COMMENT ON TABLE ops.user_progress IS 'Rollup of "UserProgress" per user; maintained by triggers.';
COMMENT ON TABLE ops.course_progress IS
    'Per course: enrolled users and users with a COMPLETED lesson; maintained by triggers.';

-- Apply signed per-(user, course) deltas; keys must be unique in the arrays.
CREATE OR REPLACE FUNCTION ops.apply_progress_delta(
    p_users text[], p_courses text[], p_rows bigint[], p_completed bigint[], p_completed_pub bigint[],
    p_progress numeric[], p_spent bigint[]
) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    WITH d AS (
        SELECT * FROM unnest(p_users, p_courses, p_rows, p_completed, p_completed_pub, p_progress, p_spent)
            AS t(uid, cid, n, c, cp, ps, sp)
    ), up AS (
        INSERT INTO ops.user_course_progress AS r
            ("userId", "courseId", "rows", "completed", "completedPub", "progressSum", "durationSpent")
        SELECT uid, cid, n, c, cp, ps, sp FROM d ORDER BY 1, 2
        ON CONFLICT ("userId", "courseId") DO UPDATE
            SET "rows" = r."rows" + EXCLUDED."rows", "completed" = r."completed" + EXCLUDED."completed",
                "completedPub" = r."completedPub" + EXCLUDED."completedPub",
                "progressSum" = r."progressSum" + EXCLUDED."progressSum",
                "durationSpent" = r."durationSpent" + EXCLUDED."durationSpent"
        RETURNING r."userId", r."courseId", r."rows", r."completed"
    ), cp AS (
        INSERT INTO ops.course_progress AS r ("courseId", "enrollments", "lessonCompleters")
        SELECT up."courseId", sum((up."rows" > 0)::int - (up."rows" - d.n > 0)::int),
               sum((up."completed" > 0)::int - (up."completed" - d.c > 0)::int)
        FROM up JOIN d ON d.uid = up."userId" AND d.cid = up."courseId"
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("courseId") DO UPDATE
            SET "enrollments" = r."enrollments" + EXCLUDED."enrollments",
                "lessonCompleters" = r."lessonCompleters" + EXCLUDED."lessonCompleters"
    )
    INSERT INTO ops.user_progress AS r ("userId", "rows", "completed", "progressSum")
    SELECT uid, sum(n), sum(c), sum(ps) FROM d GROUP BY 1 ORDER BY 1
    ON CONFLICT ("userId") DO UPDATE
        SET "rows" = r."rows" + EXCLUDED."rows", "completed" = r."completed" + EXCLUDED."completed",
            "progressSum" = r."progressSum" + EXCLUDED."progressSum";

    IF EXISTS (SELECT 1 FROM unnest(p_rows) x WHERE x < 0) THEN
        DELETE FROM ops.user_course_progress r USING unnest(p_users, p_courses) k(uid, cid)
        WHERE r."userId" = k.uid AND r."courseId" = k.cid AND r."rows" = 0;
        DELETE FROM ops.user_progress WHERE "rows" = 0 AND "userId" = ANY (p_users);
        DELETE FROM ops.course_progress WHERE "enrollments" = 0 AND "courseId" = ANY (p_courses);
    END IF;
END
$fn$;

-- Rebuild the progress rollups of some users (all when users IS NULL) from the base tables.
CREATE OR REPLACE FUNCTION ops.rebuild_progress(users text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; c text[]; n bigint[]; k bigint[]; kp bigint[]; ps numeric[]; sp bigint[];
BEGIN
    IF users IS NULL THEN
        TRUNCATE ops.user_course_progress, ops.user_progress, ops.course_progress;
        INSERT INTO ops.user_course_progress
        SELECT p."userId", l."courseId", count(*), count(*) FILTER (WHERE p."status" = 'COMPLETED'),
               count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published"),
               sum(p."progressPercentage"::numeric), sum(p."durationSpent")
        FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
        GROUP BY 1, 2;
        INSERT INTO ops.user_progress
        SELECT "userId", sum("rows"), sum("completed"), sum("progressSum") FROM ops.user_course_progress GROUP BY 1;
        INSERT INTO ops.course_progress
        SELECT "courseId", count(*), count(*) FILTER (WHERE "completed" > 0) FROM ops.user_course_progress GROUP BY 1;
        RETURN;
    END IF;
    -- Delta = base state - rollup state of these users, applied like any other delta.
    SELECT array_agg(uid), array_agg(cid), array_agg(dn), array_agg(dc), array_agg(dcp), array_agg(dps), array_agg(dsp)
    INTO u, c, n, k, kp, ps, sp
    FROM (
        SELECT coalesce(b.uid, r."userId") AS uid, coalesce(b.cid, r."courseId") AS cid,
               coalesce(b.n, 0) - coalesce(r."rows", 0) AS dn,
               coalesce(b.c, 0) - coalesce(r."completed", 0) AS dc,
               coalesce(b.cp, 0) - coalesce(r."completedPub", 0) AS dcp,
               coalesce(b.ps, 0) - coalesce(r."progressSum", 0) AS dps,
               coalesce(b.sp, 0) - coalesce(r."durationSpent", 0) AS dsp
        FROM (SELECT p."userId" AS uid, l."courseId" AS cid, count(*) AS n,
                     count(*) FILTER (WHERE p."status" = 'COMPLETED') AS c,
                     count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS cp,
                     sum(p."progressPercentage"::numeric) AS ps, sum(p."durationSpent") AS sp
              FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
              WHERE p."userId" = ANY (users) GROUP BY 1, 2) b
        FULL JOIN (SELECT * FROM ops.user_course_progress WHERE "userId" = ANY (users)) r
          ON r."userId" = b.uid AND r."courseId" = b.cid
    ) x
    WHERE dn <> 0 OR dc <> 0 OR dcp <> 0 OR dps <> 0 OR dsp <> 0;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_progress_delta(u, c, n, k, kp, ps, sp);
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_rollup_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; c text[]; n bigint[]; k bigint[]; kp bigint[]; ps numeric[]; sp bigint[];
BEGIN
    SELECT array_agg(uid), array_agg(cid), array_agg(dn), array_agg(dc), array_agg(dcp), array_agg(dps), array_agg(dsp)
    INTO u, c, n, k, kp, ps, sp
    FROM (SELECT p."userId" AS uid, l."courseId" AS cid, count(*) AS dn,
                 count(*) FILTER (WHERE p."status" = 'COMPLETED') AS dc,
                 count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS dcp,
                 sum(p."progressPercentage"::numeric) AS dps, sum(p."durationSpent") AS dsp
          FROM new_rows p JOIN "Lesson" l ON l."id" = p."lessonId" GROUP BY 1, 2) x;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_progress_delta(u, c, n, k, kp, ps, sp);
    END IF;
    RETURN NULL;
END
$fn$;

-- UPDATE and DELETE: signed deltas (-old +new of the rows whose rolled-up columns changed)
-- while every old row's lesson still exists; otherwise (cascades from a deleted "Lesson" or a
-- changed lesson id) the users concerned are rebuilt from the base tables.
CREATE OR REPLACE FUNCTION ops.user_progress_rollup_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; c text[]; n bigint[]; k bigint[]; kp bigint[]; ps numeric[]; sp bigint[];
    has_orphan boolean;
BEGIN
    WITH changed AS (
        SELECT o."id" AS old_id, n."id" AS new_id
        FROM old_rows o FULL JOIN new_rows n ON n."id" = o."id"
        WHERE o."id" IS NULL OR n."id" IS NULL
           OR (o."userId", o."lessonId", o."status", o."progressPercentage", o."durationSpent")
              IS DISTINCT FROM (n."userId", n."lessonId", n."status", n."progressPercentage", n."durationSpent")
    ), ch AS (
        SELECT -1 AS sign, o."userId", o."lessonId", o."status", o."progressPercentage", o."durationSpent"
        FROM old_rows o JOIN changed ON changed.old_id = o."id"
        UNION ALL
        SELECT 1, n."userId", n."lessonId", n."status", n."progressPercentage", n."durationSpent"
        FROM new_rows n JOIN changed ON changed.new_id = n."id"
    ), x AS (
        SELECT p."userId" AS uid, l."courseId" AS cid, bool_or(l."id" IS NULL) AS orphan, sum(p.sign) AS dn,
               coalesce(sum(p.sign) FILTER (WHERE p."status" = 'COMPLETED'), 0) AS dc,
               coalesce(sum(p.sign) FILTER (WHERE p."status" = 'COMPLETED' AND l."published"), 0) AS dcp,
               sum(p.sign * p."progressPercentage"::numeric) AS dps, sum(p.sign * p."durationSpent") AS dsp
        FROM ch p LEFT JOIN "Lesson" l ON l."id" = p."lessonId" GROUP BY 1, 2
    )
    SELECT bool_or(orphan),
           array_agg(uid) FILTER (WHERE d), array_agg(cid) FILTER (WHERE d), array_agg(dn) FILTER (WHERE d),
           array_agg(dc) FILTER (WHERE d), array_agg(dcp) FILTER (WHERE d), array_agg(dps) FILTER (WHERE d),
           array_agg(dsp) FILTER (WHERE d)
    INTO has_orphan, u, c, n, k, kp, ps, sp
    FROM (SELECT x.*, (dn <> 0 OR dc <> 0 OR dcp <> 0 OR dps <> 0 OR dsp <> 0) AS d FROM x) y;
    IF has_orphan THEN
        PERFORM ops.rebuild_progress(ARRAY(
            SELECT "userId" FROM old_rows UNION SELECT "userId" FROM new_rows));
    ELSIF u IS NOT NULL THEN
        PERFORM ops.apply_progress_delta(u, c, n, k, kp, ps, sp);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_rollup_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; c text[]; n bigint[]; k bigint[]; kp bigint[]; ps numeric[]; sp bigint[];
    has_orphan boolean;
BEGIN
    SELECT bool_or(orphan), array_agg(uid), array_agg(cid), array_agg(dn), array_agg(dc), array_agg(dcp),
           array_agg(dps), array_agg(dsp)
    INTO has_orphan, u, c, n, k, kp, ps, sp
    FROM (SELECT o."userId" AS uid, l."courseId" AS cid, bool_or(l."id" IS NULL) AS orphan, -count(*) AS dn,
                 -count(*) FILTER (WHERE o."status" = 'COMPLETED') AS dc,
                 -count(*) FILTER (WHERE o."status" = 'COMPLETED' AND l."published") AS dcp,
                 -sum(o."progressPercentage"::numeric) AS dps, -sum(o."durationSpent") AS dsp
          FROM old_rows o LEFT JOIN "Lesson" l ON l."id" = o."lessonId" GROUP BY 1, 2) x;
    IF has_orphan THEN
        PERFORM ops.rebuild_progress(ARRAY(SELECT DISTINCT "userId" FROM old_rows));
    ELSIF u IS NOT NULL THEN
        PERFORM ops.apply_progress_delta(u, c, n, k, kp, ps, sp);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.user_course_progress, ops.user_progress, ops.course_progress;
    RETURN NULL;
END
$fn$;

-- A lesson published/unpublished or moved to another course: rebuild its learners.
CREATE OR REPLACE FUNCTION ops.lesson_progress_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    users text[];
BEGIN
    SELECT array_agg(DISTINCT p."userId") INTO users
    FROM old_rows o JOIN new_rows n ON n."id" = o."id"
    JOIN "UserProgress" p ON p."lessonId" = n."id"
    WHERE (o."courseId", o."published") IS DISTINCT FROM (n."courseId", n."published");
    IF users IS NOT NULL THEN
        PERFORM ops.rebuild_progress(users);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER behavior_log_calendar_insert
    AFTER INSERT ON "BehaviorLog" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_calendar_insert();
CREATE TRIGGER behavior_log_calendar_update
    AFTER UPDATE ON "BehaviorLog" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_calendar_update();
CREATE TRIGGER behavior_log_calendar_delete
    AFTER DELETE ON "BehaviorLog" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_calendar_delete();
CREATE TRIGGER behavior_log_calendar_truncate
    AFTER TRUNCATE ON "BehaviorLog"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_calendar_truncate();
CREATE TRIGGER user_progress_rollup_insert
    AFTER INSERT ON "UserProgress" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_rollup_insert();
CREATE TRIGGER user_progress_rollup_update
    AFTER UPDATE ON "UserProgress" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_rollup_update();
CREATE TRIGGER user_progress_rollup_delete
    AFTER DELETE ON "UserProgress" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_rollup_delete();
CREATE TRIGGER user_progress_rollup_truncate
    AFTER TRUNCATE ON "UserProgress"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_rollup_truncate();
CREATE TRIGGER lesson_progress_update
    AFTER UPDATE ON "Lesson" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lesson_progress_update();

-- The read-only analytics role (roles/postgresql, postgresql_readonly_user) reads the
-- rollups the fast forms use; granted only where that role exists.
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics_ro') THEN
        GRANT USAGE ON SCHEMA ops TO analytics_ro;
        GRANT SELECT ON ops.activity_15m, ops.user_session, ops.course_path_session, ops.enrollment,
            ops.analytics_setting, ops.user_day, ops.session_day, ops.user_month, ops.session_month,
            ops.day_stats, ops.month_stats, ops.user_activity, ops.course_path_stats, ops.user_course_progress,
            ops.user_progress, ops.course_progress TO analytics_ro;
    END IF;
END
$do$;

-- Backfill (the triggers above already hold the tables' locks, see the header).
INSERT INTO ops.user_activity ("userId", "lastAt", "sessions")
SELECT "userId", max("lastAt"), count(*) FROM ops.user_session GROUP BY 1;
INSERT INTO ops.course_path_stats ("slug", "sessions", "duration")
SELECT "slug", count(*), sum("duration") FROM ops.course_path_session GROUP BY 1;
SELECT ops.rebuild_calendar();
SELECT ops.rebuild_progress();
