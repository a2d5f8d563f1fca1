-- Whole-population fast forms at the `large` preset (issue 9: p95 < 100 ms at 100k users /
-- 1.26M progress rows): course_completion_by_level, learning_funnel and
-- gamification_effectiveness. Read by their sql/analytics/*.fast.sql; documented in
-- docs/ANALYTICS_API_REFERENCE.md ("Rollups").
--
-- course_completion_by_level grouped every ops.user_course_progress row (0.2M at `large`: a
-- hash aggregate over 0.15M (level, user) groups that spilled to disk, about 0.8 s). Now:
-- - ops.level_progress: one row per (Level, user) with enrolled *published* courses of that
--   level: how many ("courses") and how many of them with a COMPLETED lesson
--   ("completerCourses"). Membership only: the query does not read it.
-- - ops.level_stats: per Level, the users with a row there (enrollments) and those with a
--   completer course (lesson completers). A counter moves only when a user enters or leaves
--   a level or becomes/stops being a completer in it (the upsert's RETURNING tells), so
--   these three rows are not written by every progress write.
-- - ops.course_progress_sum: per course, its progress rows and summed progressPercentage
--   (the per-level average is a sum over the level's published courses). Written by every
--   progress write on the course, like ops.course_progress of 0006 (same row contention).
-- Its course completions stay a read of the ("courseId", "completedPub") index of 0006.
--
-- learning_funnel and gamification_effectiveness joined three per-user rollups (about 90 000
-- rows each) on every call. ops.user_score (0008: one row per user) gains the user's
-- progress rows, COMPLETED rows and summed progressPercentage (= ops.user_progress),
-- "completedCourses" (courses whose published lessons the user all COMPLETED; a course
-- without published lessons cannot be completed) and "sessions" (= ops.user_activity), so
-- both read one narrow row per user.
--
-- Freshness: real time. Statement-level triggers on ops.user_course_progress (itself kept by
-- the 0006/0008 triggers on "UserProgress" and "Lesson") apply signed deltas with additive
-- upserts (commute under concurrency; keys locked in one order); a (level, user) row
-- disappears when its course count reaches 0. "completedCourses" depends on each course's
-- published lesson count, so it is recomputed for the users concerned (delta = recomputed -
-- kept, applied the same way): users whose completed published lessons or enrolments
-- changed, and all learners of a course that gained or lost a published lesson (a "Lesson"
-- trigger). Row triggers on ops.user_activity move "sessions" only when it changes (a new
-- session, not every event). Rare cases:
-- - an ops.user_course_progress row whose course no longer exists (a deleted "Course", or a
--   changed course id, cascades): its level is unknown, so those users' memberships are
--   recomputed from ops.user_course_progress;
-- - a "Course" whose "published" or "level" changes: its users' memberships move between
--   levels;
-- - admin edits that change what progress counts toward (a course's level or published flag, a
--   lesson inserted, deleted, published, unpublished or moved) first take SHARE ROW
--   EXCLUSIVE on ops.user_course_progress in a BEFORE STATEMENT trigger, and every
--   "UserProgress" statement first takes ROW EXCLUSIVE on it: progress statements in flight
--   finish before the edit changes anything, later ones wait for its commit and then read the
--   new "Lesson"/"Course" rows (their rollup triggers run after the wait, with fresh
--   snapshots), and two such edits queue instead of deadlocking. Such edits are rare.
-- TRUNCATE of ops.user_course_progress / ops.user_activity (the 0006 truncate and rebuild
-- paths) empties the level tables / zeroes the columns. ops.rebuild_level_progress() and
-- ops.rebuild_user_score() (replaced below, after ops.rebuild_progress and
-- ops.rebuild_behavior_rollups: it reads their tables) recompute everything (the backfill
-- below; the seeder calls them).
--
-- Locking: ADD COLUMN with a constant default is catalog-only, but its ACCESS EXCLUSIVE lock on
-- ops.user_score is held to commit, and CREATE TRIGGER holds SHARE ROW EXCLUSIVE on
-- ops.user_course_progress, ops.user_activity, "Course" and "Lesson": progress, event, user,
-- streak and achievement writes wait for the backfill (one pass over the per-user rollups,
-- about two seconds at `large`) and none falls between the backfill and the triggers.

CREATE TABLE IF NOT EXISTS ops.level_progress (
    "level"            "Level" NOT NULL,
    "userId"           text NOT NULL,
    "courses"          bigint NOT NULL,
    "completerCourses" bigint NOT NULL,
    PRIMARY KEY ("level", "userId")
);
CREATE INDEX IF NOT EXISTS level_progress_user_idx ON ops.level_progress ("userId");  -- recomputes by user
CREATE TABLE IF NOT EXISTS ops.level_stats (
    "level"            "Level" PRIMARY KEY,
    "enrollments"      bigint NOT NULL,
    "lessonCompleters" bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.course_progress_sum (
    "courseId"    text PRIMARY KEY,
    "rows"        bigint NOT NULL,
    "progressSum" numeric NOT NULL
);
COMMENT ON TABLE ops.level_progress IS
    'Per (Level, user): enrolled published courses of the level and those with a COMPLETED lesson; '
    'maintained by triggers (ved-db-ops 0009).';
COMMENT ON TABLE ops.level_stats IS
    'Per Level: users enrolled in its published courses, users with a COMPLETED lesson in them; '
    'maintained by triggers (ved-db-ops 0009).';
COMMENT ON TABLE ops.course_progress_sum IS
    'Per course: progress rows and summed progressPercentage; maintained by triggers (ved-db-ops 0009).';

ALTER TABLE ops.user_score
    ADD COLUMN IF NOT EXISTS "progressRows"     bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS "completed"        bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS "progressSum"      numeric NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS "completedCourses" bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS "sessions"         bigint NOT NULL DEFAULT 0;
COMMENT ON TABLE ops.user_score IS
    'Per user: student flag and points (from "User"), current streak, all-time achievements (0008); '
    'progress rows, COMPLETED rows, summed progressPercentage, completed courses and sessions (0009); '
    'maintained by triggers (ved-db-ops).';

-- (level, user) memberships from the ops.user_course_progress rows of some users (all when
-- p_users IS NULL: the rebuild), published courses only. Two branches rather than
-- "p_users IS NULL OR ...", which a cached generic plan would answer with a full scan: the
-- condition on the argument becomes a one-time filter, so only one branch runs.
CREATE OR REPLACE FUNCTION ops.level_progress_of(p_users text[] DEFAULT NULL)
    RETURNS TABLE ("level" "Level", "userId" text, "courses" bigint, "completerCourses" bigint)
    LANGUAGE sql STABLE AS
$fn$
    SELECT c."level", u."userId", count(*), count(*) FILTER (WHERE u."completed" > 0)
    FROM ops.user_course_progress u
    JOIN "Course" c ON c."id" = u."courseId" AND c."published"
    WHERE p_users IS NOT NULL AND u."userId" = ANY (p_users)
    GROUP BY 1, 2
    UNION ALL
    SELECT c."level", u."userId", count(*), count(*) FILTER (WHERE u."completed" > 0)
    FROM ops.user_course_progress u
    JOIN "Course" c ON c."id" = u."courseId" AND c."published"
    WHERE p_users IS NULL
    GROUP BY 1, 2
$fn$;

-- Apply signed (level, user) deltas (keys unique in the arrays): upsert the memberships, move
-- the level counters by the users who entered or left (old value = new - delta), then drop
-- the memberships left without a course and the levels left without a user.
CREATE OR REPLACE FUNCTION ops.apply_level_delta(
    p_levels "Level"[], p_users text[], p_courses bigint[], p_completer bigint[]
) RETURNS void
    LANGUAGE plpgsql AS  -- not sql: PL/pgSQL keeps the plan across calls
$fn$
BEGIN
    WITH d AS (
        SELECT * FROM unnest(p_levels, p_users, p_courses, p_completer) AS t(lvl, uid, dn, dk)
    ), up AS (
        INSERT INTO ops.level_progress AS r ("level", "userId", "courses", "completerCourses")
        SELECT lvl, uid, dn, dk FROM d
        ORDER BY 1, 2  -- concurrent statements lock the keys in one order (no deadlocks)
        ON CONFLICT ("level", "userId") DO UPDATE
            SET "courses" = r."courses" + EXCLUDED."courses",
                "completerCourses" = r."completerCourses" + EXCLUDED."completerCourses"
        RETURNING r."level", r."userId", r."courses", r."completerCourses"
    )
    INSERT INTO ops.level_stats AS s ("level", "enrollments", "lessonCompleters")
    SELECT up."level", sum((up."courses" > 0)::int - (up."courses" - d.dn > 0)::int),
           sum((up."completerCourses" > 0)::int - (up."completerCourses" - d.dk > 0)::int)
    FROM up JOIN d ON d.lvl = up."level" AND d.uid = up."userId"
    GROUP BY 1
    -- only a level that gained or lost a user is written (not every progress write)
    HAVING sum((up."courses" > 0)::int - (up."courses" - d.dn > 0)::int) <> 0
        OR sum((up."completerCourses" > 0)::int - (up."completerCourses" - d.dk > 0)::int) <> 0
    ORDER BY 1
    ON CONFLICT ("level") DO UPDATE
        SET "enrollments" = s."enrollments" + EXCLUDED."enrollments",
            "lessonCompleters" = s."lessonCompleters" + EXCLUDED."lessonCompleters";
    IF EXISTS (SELECT 1 FROM unnest(p_courses) x WHERE x < 0) THEN
        DELETE FROM ops.level_progress r USING unnest(p_levels, p_users) k(lvl, uid)
        WHERE r."level" = k.lvl AND r."userId" = k.uid AND r."courses" = 0;
        DELETE FROM ops.level_stats WHERE "enrollments" = 0 AND "level" = ANY (p_levels);
    END IF;
END
$fn$;

-- Recompute some users' memberships: delta = their memberships now - their kept rows.
CREATE OR REPLACE FUNCTION ops.recompute_level_progress(p_users text[]) RETURNS void
    LANGUAGE plpgsql
    -- one cached plan: re-planning its "= ANY (p_users)" statements on every call (the
    -- custom plans chosen for array parameters) cost more than running them
    SET plan_cache_mode = force_generic_plan AS
$fn$
DECLARE
    l "Level"[]; u text[]; n bigint[]; k bigint[];
BEGIN
    SELECT array_agg(lvl), array_agg(uid), array_agg(dn), array_agg(dk) INTO l, u, n, k
    FROM (SELECT coalesce(b."level", x."level") AS lvl, coalesce(b."userId", x."userId") AS uid,
                 coalesce(b."courses", 0) - coalesce(x."courses", 0) AS dn,
                 coalesce(b."completerCourses", 0) - coalesce(x."completerCourses", 0) AS dk
          FROM ops.level_progress_of(p_users) b
          FULL JOIN (SELECT * FROM ops.level_progress WHERE "userId" = ANY (p_users)) x
            ON x."level" = b."level" AND x."userId" = b."userId") d
    WHERE dn <> 0 OR dk <> 0;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_level_delta(l, u, n, k);
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.rebuild_level_progress() RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.level_progress, ops.level_stats, ops.course_progress_sum;
    INSERT INTO ops.level_progress SELECT * FROM ops.level_progress_of();
    INSERT INTO ops.level_stats ("level", "enrollments", "lessonCompleters")
    SELECT "level", count(*), count(*) FILTER (WHERE "completerCourses" > 0) FROM ops.level_progress GROUP BY 1;
    INSERT INTO ops.course_progress_sum ("courseId", "rows", "progressSum")
    SELECT "courseId", sum("rows"), sum("progressSum") FROM ops.user_course_progress GROUP BY 1;
END
$fn$;

-- Signed per-user deltas of the 0009 columns of ops.user_score (keys unique in the arrays),
-- for users that exist; a missing row (a renamed id whose "User" trigger has not run yet) is
-- created with neutral user columns, which that trigger then sets (as ops.apply_score_delta).
CREATE OR REPLACE FUNCTION ops.apply_user_progress_delta(
    p_users text[], p_rows bigint[], p_completed bigint[], p_progress numeric[], p_courses bigint[],
    p_sessions bigint[]
) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.user_score AS r ("userId", "student", "points", "streak", "achievements", "progressRows",
                                     "completed", "progressSum", "completedCourses", "sessions")
    SELECT uid, false, 0, 0, 0, dr, dc, dps, dcc, ds
    FROM unnest(p_users, p_rows, p_completed, p_progress, p_courses, p_sessions) AS t(uid, dr, dc, dps, dcc, ds)
    WHERE EXISTS (SELECT 1 FROM "User" u WHERE u."id" = t.uid)
    ORDER BY 1  -- concurrent statements lock the keys in one order (no deadlocks)
    ON CONFLICT ("userId") DO UPDATE
        SET "progressRows" = r."progressRows" + EXCLUDED."progressRows",
            "completed" = r."completed" + EXCLUDED."completed",
            "progressSum" = r."progressSum" + EXCLUDED."progressSum",
            "completedCourses" = r."completedCourses" + EXCLUDED."completedCourses",
            "sessions" = r."sessions" + EXCLUDED."sessions";
END
$fn$;

-- Courses each user has completed: every published lesson COMPLETED ("completedPub" equals
-- the course's published lesson count, which is > 0; (userId, lessonId) is unique). For some
-- users the count is looked up per row (a few lessons through ("courseId", "order")), so a
-- trigger's recompute reads only their courses; for everyone (p_users NULL: the rebuild) the
-- counts of all courses are joined (one branch runs, as in ops.level_progress_of).
CREATE OR REPLACE FUNCTION ops.completed_courses_of(p_users text[] DEFAULT NULL)
    RETURNS TABLE ("userId" text, "completedCourses" bigint)
    LANGUAGE sql STABLE AS
$fn$
    SELECT x."userId", count(*)
    FROM ops.user_course_progress x
    WHERE p_users IS NOT NULL AND x."userId" = ANY (p_users)
      AND x."completedPub" > 0
      AND x."completedPub" = (SELECT count(*) FROM "Lesson" l WHERE l."courseId" = x."courseId" AND l."published")
    GROUP BY 1
    UNION ALL
    SELECT x."userId", count(*)
    FROM ops.user_course_progress x
    JOIN (SELECT "courseId", count(*) AS n FROM "Lesson" WHERE "published" GROUP BY 1) pub
      ON pub."courseId" = x."courseId" AND pub.n = x."completedPub"
    WHERE p_users IS NULL
    GROUP BY 1
$fn$;

-- Recompute "completedCourses" of some users: delta = recomputed - kept.
CREATE OR REPLACE FUNCTION ops.recompute_completed_courses(p_users text[]) RETURNS void
    LANGUAGE plpgsql
    -- one cached plan: re-planning its "= ANY (p_users)" statements on every call (the
    -- custom plans chosen for array parameters) cost more than running them
    SET plan_cache_mode = force_generic_plan AS
$fn$
DECLARE
    u text[]; d bigint[]; z bigint[];
BEGIN
    SELECT array_agg(uid), array_agg(dcc) INTO u, d
    FROM (SELECT k.uid, coalesce(b."completedCourses", 0) - coalesce(s."completedCourses", 0) AS dcc
          FROM (SELECT DISTINCT uid FROM unnest(p_users) AS t(uid)) k
          LEFT JOIN ops.completed_courses_of(p_users) b ON b."userId" = k.uid
          LEFT JOIN ops.user_score s ON s."userId" = k.uid) x
    WHERE dcc <> 0;
    IF u IS NOT NULL THEN
        z := array_fill(0::bigint, ARRAY[cardinality(u)]);
        PERFORM ops.apply_user_progress_delta(u, z, z, z::numeric[], d, z);
    END IF;
END
$fn$;

-- Replaced from 0008: also fills the 0009 columns, from ops.user_progress,
-- ops.user_course_progress and ops.user_activity (so it runs after ops.rebuild_progress and
-- ops.rebuild_behavior_rollups).
CREATE OR REPLACE FUNCTION ops.rebuild_user_score() RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.user_score;
    INSERT INTO ops.user_score ("userId", "student", "points", "streak", "achievements", "progressRows",
                                "completed", "progressSum", "completedCourses", "sessions")
    SELECT u."id", u."role" = 'STUDENT', u."points", coalesce(s."currentStreak", 0), coalesce(a.n, 0),
           coalesce(p."rows", 0), coalesce(p."completed", 0), coalesce(p."progressSum", 0),
           coalesce(cc."completedCourses", 0), coalesce(ua."sessions", 0)
    FROM "User" u
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN (SELECT "userId", count(*) AS n FROM "UserAchievement" GROUP BY 1) a ON a."userId" = u."id"
    LEFT JOIN ops.user_progress p ON p."userId" = u."id"
    LEFT JOIN ops.completed_courses_of() cc ON cc."userId" = u."id"
    LEFT JOIN ops.user_activity ua ON ua."userId" = u."id";
END
$fn$;

-- ops.user_course_progress rows: INSERT +new, DELETE -old, UPDATE -old +new. Course sums and
-- the users' progress columns take every row; memberships are filed under the course's level
-- (a row of an unpublished course moves none), and the users of a row whose course no
-- longer exists are recomputed; "completedCourses" is recomputed for the users whose
-- completed published lessons or enrolments changed.
CREATE OR REPLACE FUNCTION ops.user_course_progress_rollups() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    cu text[]; cc text[]; cs int[]; cn bigint[]; ck bigint[]; ckp bigint[]; cps numeric[];
    l "Level"[]; u text[]; n bigint[]; k bigint[]; ps numeric[]; z bigint[];
    orphans text[]; completion text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE ops.level_progress, ops.level_stats, ops.course_progress_sum;
        UPDATE ops.user_score SET "progressRows" = 0, "completed" = 0, "progressSum" = 0, "completedCourses" = 0
        WHERE ("progressRows", "completed", "progressSum", "completedCourses") <> (0, 0, 0, 0);
        RETURN NULL;
    END IF;
    -- the changed rows with their sign (a transition table exists only for its operations)
    IF TG_OP <> 'INSERT' THEN
        SELECT array_agg("userId"), array_agg("courseId"), array_agg(-1), array_agg("rows"),
               array_agg("completed"), array_agg("completedPub"), array_agg("progressSum")
        INTO cu, cc, cs, cn, ck, ckp, cps FROM old_rows;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT coalesce(cu, '{}') || array_agg("userId"), coalesce(cc, '{}') || array_agg("courseId"),
               coalesce(cs, '{}') || array_agg(1), coalesce(cn, '{}') || array_agg("rows"),
               coalesce(ck, '{}') || array_agg("completed"), coalesce(ckp, '{}') || array_agg("completedPub"),
               coalesce(cps, '{}') || array_agg("progressSum")
        INTO cu, cc, cs, cn, ck, ckp, cps FROM new_rows;
    END IF;
    IF coalesce(cardinality(cu), 0) = 0 THEN  -- INSERT ... ON CONFLICT fires both triggers
        RETURN NULL;
    END IF;

    INSERT INTO ops.course_progress_sum AS r ("courseId", "rows", "progressSum")
    SELECT cid, sum(sign * nrows), sum(sign * progress)
    FROM unnest(cc, cs, cn, cps) AS ch(cid, sign, nrows, progress)
    GROUP BY 1
    HAVING sum(sign * nrows) <> 0 OR sum(sign * progress) <> 0
    ORDER BY 1
    ON CONFLICT ("courseId") DO UPDATE
        SET "rows" = r."rows" + EXCLUDED."rows", "progressSum" = r."progressSum" + EXCLUDED."progressSum";
    IF EXISTS (SELECT 1 FROM unnest(cs) x WHERE x < 0) THEN
        DELETE FROM ops.course_progress_sum WHERE "rows" = 0 AND "courseId" = ANY (cc);
    END IF;

    SELECT array_agg(uid), array_agg(dr), array_agg(dc), array_agg(dps) INTO u, n, k, ps
    FROM (SELECT uid, sum(sign * nrows)::bigint AS dr, sum(sign * completed)::bigint AS dc,
                 sum(sign * progress) AS dps
          FROM unnest(cu, cs, cn, ck, cps) AS ch(uid, sign, nrows, completed, progress)
          GROUP BY 1) d
    WHERE dr <> 0 OR dc <> 0 OR dps <> 0;
    IF u IS NOT NULL THEN
        z := array_fill(0::bigint, ARRAY[cardinality(u)]);
        PERFORM ops.apply_user_progress_delta(u, n, k, ps, z, z);
    END IF;
    -- a (user, course) whose COMPLETED published lessons changed (a row that appears or
    -- disappears with none cannot make or unmake a completed course)
    SELECT array_agg(DISTINCT uid) INTO completion
    FROM (SELECT uid FROM unnest(cu, cc, cs, ckp) AS ch(uid, cid, sign, completed_pub)
          GROUP BY uid, cid HAVING sum(sign * completed_pub) <> 0) x;
    IF completion IS NOT NULL THEN
        PERFORM ops.recompute_completed_courses(completion);
    END IF;

    -- memberships: the rows' course level (published courses), or the users of rows whose
    -- course no longer exists
    WITH ch AS (
        SELECT ch.uid, ch.sign, ch.completed, c."id" IS NULL AS orphan, c."level", c."published"
        FROM unnest(cu, cc, cs, ck) AS ch(uid, cid, sign, completed)
        LEFT JOIN "Course" c ON c."id" = ch.cid
    ), o AS (
        SELECT array_agg(DISTINCT uid) AS users FROM ch WHERE orphan
    )
    SELECT o.users, d.l, d.u, d.n, d.k INTO orphans, l, u, n, k
    FROM o, LATERAL (
        SELECT array_agg(lvl) AS l, array_agg(uid) AS u, array_agg(dn) AS n, array_agg(dk) AS k
        FROM (SELECT ch."level" AS lvl, ch.uid, sum(ch.sign) AS dn,
                     coalesce(sum(ch.sign) FILTER (WHERE ch.completed > 0), 0) AS dk
              FROM ch
              WHERE ch."published" AND (o.users IS NULL OR NOT (ch.uid = ANY (o.users)))
              GROUP BY 1, 2) g
        WHERE dn <> 0 OR dk <> 0  -- most progress writes change neither
    ) d;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_level_delta(l, u, n, k);
    END IF;
    IF orphans IS NOT NULL THEN
        PERFORM ops.recompute_level_progress(orphans);
    END IF;
    RETURN NULL;
END
$fn$;

-- A course published/unpublished or moved to another level: its users' memberships move from
-- the old level (if it was published) to the new one (if it is). A changed course id is
-- handled by the cascade above (its old id is gone).
CREATE OR REPLACE FUNCTION ops.course_level_progress() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    moved text[];
    l "Level"[]; u text[]; n bigint[]; k bigint[];
BEGIN
    SELECT array_agg(n."id") INTO moved
    FROM old_rows o JOIN new_rows n ON n."id" = o."id"
    WHERE (o."published", o."level") IS DISTINCT FROM (n."published", n."level");
    IF moved IS NULL THEN
        RETURN NULL;
    END IF;
    -- no progress write runs meanwhile: see ops.lock_progress_rollups (BEFORE STATEMENT)
    SELECT array_agg(lvl), array_agg(uid), array_agg(dn), array_agg(dk) INTO l, u, n, k
    FROM (SELECT m.lvl, x."userId" AS uid, sum(m.sign) AS dn,
                 coalesce(sum(m.sign) FILTER (WHERE x."completed" > 0), 0) AS dk
          FROM (SELECT o."id", o."level" AS lvl, -1 AS sign FROM old_rows o WHERE o."published"
                UNION ALL
                SELECT n."id", n."level", 1 FROM new_rows n WHERE n."published") m
          JOIN ops.user_course_progress x ON x."courseId" = m."id"
          WHERE m."id" = ANY (moved)
          GROUP BY 1, 2) d
    WHERE dn <> 0 OR dk <> 0;
    IF u IS NOT NULL THEN
        PERFORM ops.apply_level_delta(l, u, n, k);
    END IF;
    RETURN NULL;
END
$fn$;

-- A course that gained or lost a published lesson (a lesson inserted, deleted, published,
-- unpublished or moved): recompute "completedCourses" of its learners. Runs after 0006's
-- lesson_progress_update (triggers fire in name order), which has already moved the
-- learners' COMPLETED rows of a moved or (un)published lesson; learners whose row for the
-- course disappeared were recomputed by the ops.user_course_progress trigger.
CREATE OR REPLACE FUNCTION ops.lesson_score_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    gone text[]; added text[]; courses text[]; users text[];
BEGIN
    -- courses whose published lesson count changed: -1 per old published row, +1 per new one
    -- (by course, not by lesson id, so a renamed lesson is covered too)
    IF TG_OP <> 'INSERT' THEN
        SELECT array_agg("courseId") INTO gone FROM old_rows WHERE "published";
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT array_agg("courseId") INTO added FROM new_rows WHERE "published";
    END IF;
    SELECT array_agg(cid) INTO courses
    FROM (SELECT cid FROM (SELECT unnest(gone) AS cid, -1 AS d UNION ALL SELECT unnest(added), 1) x
          GROUP BY cid HAVING sum(d) <> 0) y;
    IF courses IS NULL THEN
        RETURN NULL;
    END IF;
    -- no progress write runs meanwhile: see ops.lock_progress_rollups (BEFORE STATEMENT)
    SELECT array_agg(DISTINCT "userId") INTO users FROM ops.user_course_progress WHERE "courseId" = ANY (courses);
    IF users IS NOT NULL THEN
        PERFORM ops.recompute_completed_courses(users);
    END IF;
    RETURN NULL;
END
$fn$;

-- ops.user_activity rows (row triggers; the UPDATE one only fires when "sessions" changes):
-- the user's sessions into ops.user_score.
CREATE OR REPLACE FUNCTION ops.user_activity_sessions() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    z bigint[] := ARRAY[0::bigint];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE ops.user_score SET "sessions" = 0 WHERE "sessions" <> 0;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW."userId" = OLD."userId" THEN
        PERFORM ops.apply_user_progress_delta(ARRAY[NEW."userId"], z, z, z::numeric[], z,
                                              ARRAY[NEW."sessions" - OLD."sessions"]);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM ops.apply_user_progress_delta(ARRAY[OLD."userId"], z, z, z::numeric[], z, ARRAY[-OLD."sessions"]);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM ops.apply_user_progress_delta(ARRAY[NEW."userId"], z, z, z::numeric[], z, ARRAY[NEW."sessions"]);
    END IF;
    RETURN NULL;
END
$fn$;

-- BEFORE STATEMENT locks (see the header): admin edits of what progress counts toward take
-- SHARE ROW EXCLUSIVE, progress statements ROW EXCLUSIVE, on ops.user_course_progress.
CREATE OR REPLACE FUNCTION ops.lock_progress_rollups() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF TG_TABLE_NAME = 'UserProgress' THEN
        LOCK TABLE ops.user_course_progress IN ROW EXCLUSIVE MODE;
    ELSE
        LOCK TABLE ops.user_course_progress IN SHARE ROW EXCLUSIVE MODE;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER lock_progress_rollups
    BEFORE INSERT OR UPDATE OR DELETE ON "UserProgress"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lock_progress_rollups();
CREATE TRIGGER lock_progress_rollups
    BEFORE INSERT OR DELETE OR UPDATE OF "published", "courseId" ON "Lesson"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lock_progress_rollups();
CREATE TRIGGER lock_progress_rollups
    BEFORE DELETE OR UPDATE OF "published", "level" ON "Course"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lock_progress_rollups();
CREATE TRIGGER rollups_insert
    AFTER INSERT ON ops.user_course_progress REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_course_progress_rollups();
CREATE TRIGGER rollups_update
    AFTER UPDATE ON ops.user_course_progress REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_course_progress_rollups();
CREATE TRIGGER rollups_delete
    AFTER DELETE ON ops.user_course_progress REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_course_progress_rollups();
CREATE TRIGGER rollups_truncate
    AFTER TRUNCATE ON ops.user_course_progress
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_course_progress_rollups();
CREATE TRIGGER level_progress_update
    AFTER UPDATE ON "Course" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.course_level_progress();
CREATE TRIGGER lesson_score_insert
    AFTER INSERT ON "Lesson" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lesson_score_update();
CREATE TRIGGER lesson_score_update
    AFTER UPDATE ON "Lesson" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lesson_score_update();
CREATE TRIGGER lesson_score_delete
    AFTER DELETE ON "Lesson" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lesson_score_update();
CREATE TRIGGER sessions_insert
    AFTER INSERT ON ops.user_activity
    FOR EACH ROW EXECUTE FUNCTION ops.user_activity_sessions();
CREATE TRIGGER sessions_update
    AFTER UPDATE ON ops.user_activity
    FOR EACH ROW WHEN (OLD."sessions" IS DISTINCT FROM NEW."sessions" OR OLD."userId" IS DISTINCT FROM NEW."userId")
    EXECUTE FUNCTION ops.user_activity_sessions();
CREATE TRIGGER sessions_delete
    AFTER DELETE ON ops.user_activity
    FOR EACH ROW EXECUTE FUNCTION ops.user_activity_sessions();
CREATE TRIGGER sessions_truncate
    AFTER TRUNCATE ON ops.user_activity
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_activity_sessions();

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics_ro') THEN
        GRANT SELECT ON ops.level_progress, ops.level_stats, ops.course_progress_sum TO analytics_ro;
    END IF;
END
$do$;

-- Backfill (the ALTER and the triggers above hold their tables' locks, see the header).
SELECT ops.rebuild_level_progress();
SELECT ops.rebuild_user_score();
