-- course_engagement, revenue_metrics and leaderboard at the `large` preset (issue 9: p95 <
-- 100 ms at 100k users / 1.26M progress rows). Read by sql/analytics/course_engagement,
-- revenue_metrics and leaderboard .fast.sql; documented in docs/ANALYTICS_API_REFERENCE.md.
--
-- ops.course_progress (0006) gains "durationSpent": the summed durationSpent of the course's
-- progress rows, kept by the same signed-delta upsert as its enrollments and lesson
-- completers (ops.apply_progress_delta, replaced below with that one column more; its other
-- statements are unchanged). course_engagement then reads one counter row instead of one
-- ops.user_course_progress row per enrolled user (34 566 for the most popular course at
-- `large`); its course completions still count the (courseId, completedPub) index of 0006.
-- Freshness: real time (triggers on "UserProgress" and "Lesson", as for the other counters).
--
-- ops.enrollment gets ("firstAt") INCLUDE ("courseId") in place of its ("firstAt") index of
-- 0004: revenue_metrics reads a day range of enrollments with an index-only scan instead of
-- one heap visit per enrollment (about 16 000 for 30 days at `large`).
--
-- Locking: ADD COLUMN with a constant default is catalog-only; its ACCESS EXCLUSIVE lock on
-- ops.course_progress is held to commit, so progress writes (whose trigger upserts
-- ops.user_course_progress and ops.course_progress in one statement) wait for the backfill
-- below (one pass over ops.user_course_progress, about a second at `large`) and none can
-- fall between the backfill and the new function. The index build holds SHARE on
-- ops.enrollment for a similar time (see the allow comment). The leaderboard's triggers hold
-- SHARE ROW EXCLUSIVE on "User", "UserStreak" and "UserAchievement" until ops.user_score is
-- backfilled (one pass over the three tables).

ALTER TABLE ops.course_progress ADD COLUMN IF NOT EXISTS "durationSpent" bigint NOT NULL DEFAULT 0;
COMMENT ON TABLE ops.course_progress IS
    'Per course: enrolled users, users with a COMPLETED lesson and summed durationSpent of its progress '
    'rows; maintained by triggers (ved-db-ops 0006, durationSpent 0008).';

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

-- Backfill (the ALTER above holds ops.course_progress, see the header).
UPDATE ops.course_progress c SET "durationSpent" = s.spent
FROM (SELECT "courseId", sum("durationSpent") AS spent FROM ops.user_course_progress GROUP BY 1) s
WHERE s."courseId" = c."courseId" AND c."durationSpent" IS DISTINCT FROM s.spent;

-- safety: allow index-not-concurrent because ops.enrollment is an ops rollup (one row per enrolled pair, 0.3M at large) built in about a second, and it must swap atomically with the old index
CREATE INDEX IF NOT EXISTS enrollment_first_at_course_idx ON ops.enrollment ("firstAt") INCLUDE ("courseId");
DROP INDEX IF EXISTS ops.enrollment_first_at_idx;

-- Leaderboard scores ---------------------------------------------------------------------------
-- ops.user_score: one row per user with the three terms of the leaderboard's score: "points"
-- and "student" (role = 'STUDENT') copied from "User", "streak" = UserStreak.currentStreak (0
-- without a row), "achievements" = all-time UserAchievement rows. Two partial expression
-- indexes over the students give the top of the all-time score and of points + 10 x streak
-- (the week/month leaderboards add their window's achievements to the latter) without
-- scoring every student. The fast form reads only the candidates' ids here and scores them
-- from the base tables.
-- Kept by statement-level triggers: "User" INSERT/UPDATE upsert the user's own columns (a
-- user's row updates are serialized by the row lock on "User"); "UserStreak" and
-- "UserAchievement" apply signed deltas (INSERT +new, DELETE -old, UPDATE -old +new) with
-- additive upserts, which commute under concurrency. A user's deleted or renamed id: the
-- "User" trigger drops the rows of ids that no longer exist (and creates the new id's row);
-- the deltas that the FK cascades then bring from "UserStreak"/"UserAchievement" apply only
-- to ids that exist in "User", so the old id's are dropped and the new id's land on its row
-- (in either order of the triggers). TRUNCATE resets.
CREATE TABLE IF NOT EXISTS ops.user_score (
    "userId"       text PRIMARY KEY,
    "student"      boolean NOT NULL,
    "points"       integer NOT NULL,
    "streak"       integer NOT NULL,
    "achievements" bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS user_score_all_idx
    ON ops.user_score (("points" + 10 * "streak" + 50 * "achievements") DESC, "userId") WHERE "student";
CREATE INDEX IF NOT EXISTS user_score_base_idx
    ON ops.user_score (("points" + 10 * "streak") DESC, "userId") WHERE "student";
COMMENT ON TABLE ops.user_score IS
    'Per user: student flag and points (from "User"), current streak, all-time achievements; the '
    'leaderboard''s candidates; maintained by triggers (ved-db-ops 0008).';

-- Signed per-user deltas of streak and achievements (keys unique in the arrays), for users
-- that exist. A key without a row would be a renamed id whose "User" trigger has not run yet:
-- the row is created with neutral user columns, which that trigger then sets.
CREATE OR REPLACE FUNCTION ops.apply_score_delta(p_users text[], p_streak bigint[], p_achievements bigint[])
    RETURNS void
    LANGUAGE plpgsql AS  -- not sql: PL/pgSQL keeps the plan across calls
$fn$
BEGIN
    INSERT INTO ops.user_score AS r ("userId", "student", "points", "streak", "achievements")
    SELECT uid, false, 0, ds, da
    FROM unnest(p_users, p_streak, p_achievements) AS t(uid, ds, da)
    WHERE (ds <> 0 OR da <> 0) AND EXISTS (SELECT 1 FROM "User" u WHERE u."id" = t.uid)
    ORDER BY 1  -- concurrent statements lock the keys in one order (no deadlocks)
    ON CONFLICT ("userId") DO UPDATE
        SET "streak" = r."streak" + EXCLUDED."streak", "achievements" = r."achievements" + EXCLUDED."achievements";
END
$fn$;

CREATE OR REPLACE FUNCTION ops.rebuild_user_score() RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.user_score;
    INSERT INTO ops.user_score ("userId", "student", "points", "streak", "achievements")
    SELECT u."id", u."role" = 'STUDENT', u."points", coalesce(s."currentStreak", 0), coalesce(a.n, 0)
    FROM "User" u
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN (SELECT "userId", count(*) AS n FROM "UserAchievement" GROUP BY 1) a ON a."userId" = u."id";
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_score_user_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.user_score AS r ("userId", "student", "points", "streak", "achievements")
    SELECT n."id", n."role" = 'STUDENT', n."points", 0, 0 FROM new_rows n ORDER BY 1
    ON CONFLICT ("userId") DO UPDATE SET "student" = EXCLUDED."student", "points" = EXCLUDED."points";
    RETURN NULL;
END
$fn$;

-- Only rows whose id, role or points changed are upserted (most "User" updates touch neither).
CREATE OR REPLACE FUNCTION ops.user_score_user_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.user_score AS r ("userId", "student", "points", "streak", "achievements")
    SELECT n."id", n."role" = 'STUDENT', n."points", 0, 0
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM old_rows o
                      WHERE o."id" = n."id" AND o."role" = n."role" AND o."points" = n."points")
    ORDER BY 1
    ON CONFLICT ("userId") DO UPDATE SET "student" = EXCLUDED."student", "points" = EXCLUDED."points";
    DELETE FROM ops.user_score r USING old_rows o
    WHERE r."userId" = o."id" AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n."id" = o."id");
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_score_user_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    DELETE FROM ops.user_score r USING old_rows o WHERE r."userId" = o."id";
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_score_streak() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; d bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(uid), array_agg(ds) INTO u, d
        FROM (SELECT "userId" AS uid, sum("currentStreak")::bigint AS ds FROM new_rows GROUP BY 1) x;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(uid), array_agg(ds) INTO u, d
        FROM (SELECT "userId" AS uid, -sum("currentStreak")::bigint AS ds FROM old_rows GROUP BY 1) x;
    ELSE
        SELECT array_agg(uid), array_agg(ds) INTO u, d
        FROM (SELECT uid, sum(ds)::bigint AS ds
              FROM (SELECT "userId" AS uid, -"currentStreak" AS ds FROM old_rows
                    UNION ALL SELECT "userId", "currentStreak" FROM new_rows) c
              GROUP BY 1) x
        WHERE ds <> 0;
    END IF;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_score_delta(u, d, array_fill(0::bigint, ARRAY[cardinality(u)]));
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_score_achievement() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    u text[]; d bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(uid), array_agg(da) INTO u, d
        FROM (SELECT "userId" AS uid, count(*) AS da FROM new_rows GROUP BY 1) x;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(uid), array_agg(da) INTO u, d
        FROM (SELECT "userId" AS uid, -count(*) AS da FROM old_rows GROUP BY 1) x;
    ELSE  -- only a changed "userId" moves a count
        SELECT array_agg(uid), array_agg(da) INTO u, d
        FROM (SELECT uid, sum(da)::bigint AS da
              FROM (SELECT "userId" AS uid, -1 AS da FROM old_rows
                    UNION ALL SELECT "userId", 1 FROM new_rows) c
              GROUP BY 1) x
        WHERE da <> 0;
    END IF;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_score_delta(u, array_fill(0::bigint, ARRAY[cardinality(u)]), d);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_score_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF TG_TABLE_NAME = 'User' THEN
        TRUNCATE ops.user_score;
    ELSIF TG_TABLE_NAME = 'UserStreak' THEN
        UPDATE ops.user_score SET "streak" = 0 WHERE "streak" <> 0;
    ELSE
        UPDATE ops.user_score SET "achievements" = 0 WHERE "achievements" <> 0;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER user_score_insert
    AFTER INSERT ON "User" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_user_insert();
CREATE TRIGGER user_score_update
    AFTER UPDATE ON "User" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_user_update();
CREATE TRIGGER user_score_delete
    AFTER DELETE ON "User" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_user_delete();
CREATE TRIGGER user_score_truncate
    AFTER TRUNCATE ON "User" FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_truncate();
CREATE TRIGGER user_score_insert
    AFTER INSERT ON "UserStreak" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_streak();
CREATE TRIGGER user_score_update
    AFTER UPDATE ON "UserStreak" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_streak();
CREATE TRIGGER user_score_delete
    AFTER DELETE ON "UserStreak" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_streak();
CREATE TRIGGER user_score_truncate
    AFTER TRUNCATE ON "UserStreak" FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_truncate();
CREATE TRIGGER user_score_insert
    AFTER INSERT ON "UserAchievement" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_achievement();
CREATE TRIGGER user_score_update
    AFTER UPDATE ON "UserAchievement" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_achievement();
CREATE TRIGGER user_score_delete
    AFTER DELETE ON "UserAchievement" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_achievement();
CREATE TRIGGER user_score_truncate
    AFTER TRUNCATE ON "UserAchievement" FOR EACH STATEMENT EXECUTE FUNCTION ops.user_score_truncate();

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics_ro') THEN
        GRANT SELECT ON ops.user_score TO analytics_ro;
    END IF;
END
$do$;

-- Backfill (CREATE TRIGGER holds SHARE ROW EXCLUSIVE on the three tables until commit).
SELECT ops.rebuild_user_score();
