-- Migration 0011: the ops rollups on the application's real schema (issue 16).
--
-- The application's schema (sql/schema, rendered by Prisma) differs from the copy 0001-0010
-- were written against in two ways that reach the rollups:
--
-- 1. Timestamps. Prisma renders DateTime as timestamp(3) WITHOUT time zone holding UTC
--    wall-clock values; a team may also map it to timestamptz. 0003-0010 took both as
--    timestamptz: `col AT TIME ZONE tz` on a timestamp column reads it as a local time of tz
--    (an event at 00:00 UTC landed on 16:00 of the previous day in Asia/Ho_Chi_Minh instead of
--    07:00), and a timestamp stored into an ops timestamptz column was cast in the writing
--    session's TimeZone. ops.utc(col) is overloaded on the column's type, so the same text is
--    right on both flavours and in any session zone: every app timestamp now enters the ops
--    objects through it (ops.bucket_15m gets the same overload).
-- 2. NULL progress. "UserProgress"."progressPercentage" is Float? (nullable): a progress row
--    inserted with NULL made the per-(user, course) sum NULL and the rollup insert failed, so
--    the app's write was rejected. Decision (docs/ANALYTICS_API_REFERENCE.md, "NULL values"):
--    a NULL percentage counts as 0 (the app's own default), in the rollups and in every oracle.
--    ops.apply_progress_delta, the one funnel of progress deltas, and the full rebuild of
--    ops.rebuild_progress take NULL as 0; sums skip NULL terms, which is the same thing.
--
-- The functions below are those of 0004/0006/0008/0010 with only these changes (applied
-- migrations are immutable: each is replaced whole). Upgrade: on a database whose app
-- timestamps are timestamp without time zone, the rollups built by 0003-0010 may hold shifted
-- days, so they are rebuilt at the end (timestamptz databases keep theirs: nothing changes for
-- them). The rebuild reads "BehaviorLog" and "UserProgress" once each (the seeder's rebuild).
--
-- Locking: the rebuild TRUNCATEs the rollup tables, so app writes to "BehaviorLog",
-- "UserProgress" and "User" (whose triggers write them) wait until 0011 commits: 15 s at the
-- `staging` preset (1M events, measured), about ten times that at `large`. Apply it in a quiet
-- window on a big database; timestamptz databases skip the rebuild and take it at once.

CREATE OR REPLACE FUNCTION ops.utc(ts timestamp without time zone) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$fn$ SELECT ts AT TIME ZONE 'UTC' $fn$;
CREATE OR REPLACE FUNCTION ops.utc(ts timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$fn$ SELECT ts $fn$;
COMMENT ON FUNCTION ops.utc(timestamp without time zone) IS
    'The instant of an app timestamp: Prisma''s timestamp(3) holds UTC wall-clock values (0011).';
COMMENT ON FUNCTION ops.utc(timestamptz) IS
    'The instant of an app timestamp mapped to timestamptz: itself (0011).';

-- The 15-minute UTC bucket of a Prisma timestamp (the timestamptz one is 0003's).
CREATE OR REPLACE FUNCTION ops.bucket_15m(ts timestamp without time zone) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ops.bucket_15m(ts AT TIME ZONE 'UTC');

-- ops.apply_progress_delta: from 0008
CREATE OR REPLACE FUNCTION ops.apply_progress_delta(
    p_users text[], p_courses text[], p_rows bigint[], p_completed bigint[], p_completed_pub bigint[],
    p_progress numeric[], p_spent bigint[]
) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    WITH d AS (
        SELECT uid, cid, n, c, cp, coalesce(ps, 0) AS ps, coalesce(sp, 0) AS sp
        FROM unnest(p_users, p_courses, p_rows, p_completed, p_completed_pub, p_progress, p_spent)
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
        INSERT INTO ops.course_progress AS r ("courseId", "enrollments", "lessonCompleters", "durationSpent")
        SELECT up."courseId", sum((up."rows" > 0)::int - (up."rows" - d.n > 0)::int),
               sum((up."completed" > 0)::int - (up."completed" - d.c > 0)::int), sum(d.sp)
        FROM up JOIN d ON d.uid = up."userId" AND d.cid = up."courseId"
        GROUP BY 1 ORDER BY 1
        ON CONFLICT ("courseId") DO UPDATE
            SET "enrollments" = r."enrollments" + EXCLUDED."enrollments",
                "lessonCompleters" = r."lessonCompleters" + EXCLUDED."lessonCompleters",
                "durationSpent" = r."durationSpent" + EXCLUDED."durationSpent"
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

-- ops.rebuild_progress: from 0008
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
               coalesce(sum(p."progressPercentage"::numeric), 0), sum(p."durationSpent")
        FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
        GROUP BY 1, 2;
        INSERT INTO ops.user_progress
        SELECT "userId", sum("rows"), sum("completed"), sum("progressSum") FROM ops.user_course_progress GROUP BY 1;
        INSERT INTO ops.course_progress ("courseId", "enrollments", "lessonCompleters", "durationSpent")
        SELECT "courseId", count(*), count(*) FILTER (WHERE "completed" > 0), sum("durationSpent")
        FROM ops.user_course_progress GROUP BY 1;
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

-- ops.rebuild_enrollment: from 0004
CREATE OR REPLACE FUNCTION ops.rebuild_enrollment(users text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF users IS NULL THEN
        TRUNCATE ops.enrollment;
    ELSE
        DELETE FROM ops.enrollment WHERE "userId" = ANY (users);
    END IF;
    INSERT INTO ops.enrollment ("userId", "courseId", "firstAt")
    SELECT p."userId", l."courseId", ops.utc(min(p."createdAt"))
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE users IS NULL OR p."userId" = ANY (users)
    GROUP BY 1, 2;
END
$fn$;

-- ops.user_progress_enrollment_insert: from 0004
CREATE OR REPLACE FUNCTION ops.user_progress_enrollment_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.enrollment AS r ("userId", "courseId", "firstAt")
    SELECT n."userId", l."courseId", ops.utc(min(n."createdAt"))
    FROM new_rows n JOIN "Lesson" l ON l."id" = n."lessonId"
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("userId", "courseId") DO UPDATE SET "firstAt" = least(r."firstAt", EXCLUDED."firstAt");
    RETURN NULL;
END
$fn$;

-- ops.rebuild_calendar: from 0006
CREATE OR REPLACE FUNCTION ops.rebuild_calendar() RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
BEGIN
    TRUNCATE ops.user_day, ops.session_day, ops.user_month, ops.session_month, ops.day_stats, ops.month_stats;
    CREATE TEMP TABLE calendar_rebuild ON COMMIT DROP AS
    SELECT (ops.utc(b."timestamp") AT TIME ZONE tz)::date AS day, b."userId" AS uid, b."sessionId" AS sid,
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

-- ops.behavior_log_calendar_insert: from 0006
CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
    a date[]; u text[]; s text[]; e bigint[]; d bigint[];
BEGIN
    SELECT array_agg(day), array_agg(uid), array_agg(sid), array_agg(ev), array_agg(dur)
    INTO a, u, s, e, d
    FROM (SELECT (ops.utc(n."timestamp") AT TIME ZONE tz)::date AS day, n."userId" AS uid, n."sessionId" AS sid,
                 count(*) AS ev, sum(coalesce(n."duration", 0))::bigint AS dur
          FROM new_rows n WHERE n."userId" IS NOT NULL GROUP BY 1, 2, 3) g;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

-- ops.behavior_log_calendar_update: from 0006
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
    FROM (SELECT (ops.utc("timestamp") AT TIME ZONE tz)::date AS day, "userId" AS uid, "sessionId" AS sid,
                 sum(sign)::bigint AS ev, sum(sign * coalesce("duration", 0))::bigint AS dur
          FROM rows WHERE "userId" IS NOT NULL GROUP BY 1, 2, 3) g
    WHERE ev <> 0 OR dur <> 0;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

-- ops.behavior_log_calendar_delete: from 0006
CREATE OR REPLACE FUNCTION ops.behavior_log_calendar_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
    a date[]; u text[]; s text[]; e bigint[]; d bigint[];
BEGIN
    SELECT array_agg(day), array_agg(uid), array_agg(sid), array_agg(ev), array_agg(dur)
    INTO a, u, s, e, d
    FROM (SELECT (ops.utc(o."timestamp") AT TIME ZONE tz)::date AS day, o."userId" AS uid, o."sessionId" AS sid,
                 -count(*) AS ev, -sum(coalesce(o."duration", 0))::bigint AS dur
          FROM old_rows o WHERE o."userId" IS NOT NULL GROUP BY 1, 2, 3) g;
    IF a IS NOT NULL THEN
        PERFORM ops.apply_calendar_delta(a, u, s, e, d);
    END IF;
    RETURN NULL;
END
$fn$;

-- ops.rebuild_behavior_rollups: from 0006
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
    SELECT b."userId", b."sessionId", count(*), sum(coalesce(b."duration", 0)), ops.utc(max(b."timestamp"))
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

-- ops.behavior_log_rollup_insert: from 0006
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
               ops.utc(max(n."timestamp")) AS last_at
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

-- ops.user_cohort_of: from 0010
CREATE OR REPLACE FUNCTION ops.user_cohort_of(p_users text[], p_tz text)
    RETURNS TABLE ("userId" text, "student" boolean, "signupDay" date, "activeWeeks" smallint)
    LANGUAGE sql STABLE AS
$fn$
    SELECT u."id", u."role" = 'STUDENT', s.day,
           coalesce((SELECT bit_or(1 << ((d."day" - s.day) / 7 - 1))
                     FROM ops.user_day d
                     WHERE d."userId" = u."id" AND d."day" BETWEEN s.day + 7 AND s.day + 34), 0)::smallint
    FROM "User" u, LATERAL (SELECT (ops.utc(u."createdAt") AT TIME ZONE p_tz)::date AS day) s
    WHERE u."id" = ANY (p_users)
$fn$;

-- ops.rebuild_user_cohort: from 0010
CREATE OR REPLACE FUNCTION ops.rebuild_user_cohort() RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
BEGIN
    TRUNCATE ops.user_cohort;
    INSERT INTO ops.user_cohort ("userId", "student", "signupDay", "activeWeeks")
    SELECT u."id", u."role" = 'STUDENT', (ops.utc(u."createdAt") AT TIME ZONE tz)::date, coalesce(a.bits, 0)
    FROM "User" u
    LEFT JOIN (SELECT d."userId", bit_or(1 << ((d."day" - (ops.utc(x."createdAt") AT TIME ZONE tz)::date) / 7 - 1))::smallint AS bits
               FROM ops.user_day d JOIN "User" x ON x."id" = d."userId"
               WHERE d."day" - (ops.utc(x."createdAt") AT TIME ZONE tz)::date BETWEEN 7 AND 34
               GROUP BY 1) a ON a."userId" = u."id";
END
$fn$;

-- Upgrade in place: rebuild what 0003-0010 may have computed from shifted timestamps.
DO $do$
BEGIN
    IF (SELECT atttypid = 'timestamp'::regtype FROM pg_attribute
        WHERE attrelid = '"BehaviorLog"'::regclass AND attname = 'timestamp') THEN
        PERFORM ops.rebuild_enrollment();
        PERFORM ops.rebuild_behavior_rollups();
        PERFORM ops.rebuild_calendar();
        PERFORM ops.rebuild_user_cohort();
    END IF;
END
$do$;
