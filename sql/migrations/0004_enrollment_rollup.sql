-- Enrollment rollup of "UserProgress" (issue "13 analytics queries: oracle + fast forms").
-- Read by sql/analytics/revenue_metrics.fast.sql; documented in docs/ANALYTICS_API_REFERENCE.md.
--
-- ops.enrollment: one row per (user, course) the user is enrolled in (has a "UserProgress"
-- row on one of the course's lessons) with "firstAt" = min("createdAt") of those rows, the
-- moment of enrollment. Indexed by "firstAt" for date-range reports.
--
-- Freshness: real time, maintained by statement-level triggers with transition tables:
--   "UserProgress" INSERT          additive upsert, firstAt = least(old, new);
--   "UserProgress" UPDATE / DELETE the rows of every user whose progress row was deleted or
--                                  changed user, lesson or createdAt are rebuilt from the
--                                  base table (index on "userId"); status/percentage updates
--                                  cost nothing more. FK cascades from "User" and "Lesson"
--                                  land here;
--   "UserProgress" TRUNCATE        empties the rollup;
--   "Lesson" UPDATE                when a lesson moves to another course (rare), the users
--                                  with progress on it are rebuilt (a changed lesson id
--                                  cascades to "UserProgress" and is handled there).
-- ops.rebuild_enrollment() rebuilds everything (used below as the backfill).
--
-- Locking: the CREATE TRIGGER statements take SHARE ROW EXCLUSIVE locks on "UserProgress" and
-- "Lesson" held until this transaction commits, so writes wait for the backfill (one
-- aggregate over "UserProgress", far smaller than "BehaviorLog"). That keeps the rollup exact
-- from the first moment.

CREATE TABLE IF NOT EXISTS ops.enrollment (
    "userId"   text NOT NULL,
    "courseId" text NOT NULL,
    "firstAt"  timestamptz NOT NULL,
    PRIMARY KEY ("userId", "courseId")
);
CREATE INDEX IF NOT EXISTS enrollment_first_at_idx ON ops.enrollment ("firstAt");
CREATE INDEX IF NOT EXISTS enrollment_course_idx ON ops.enrollment ("courseId");
COMMENT ON TABLE ops.enrollment IS
    'Rollup of "UserProgress": first progress per (user, course); maintained by triggers '
    '(ved-db-ops 0004_enrollment_rollup).';

-- Rebuild the enrollments of some users (all of them when users IS NULL).
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
    SELECT p."userId", l."courseId", min(p."createdAt")
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE users IS NULL OR p."userId" = ANY (users)
    GROUP BY 1, 2;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_enrollment_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    INSERT INTO ops.enrollment AS r ("userId", "courseId", "firstAt")
    SELECT n."userId", l."courseId", min(n."createdAt")
    FROM new_rows n JOIN "Lesson" l ON l."id" = n."lessonId"
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("userId", "courseId") DO UPDATE SET "firstAt" = least(r."firstAt", EXCLUDED."firstAt");
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_enrollment_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    users text[];
BEGIN
    -- Only rows whose user, lesson or createdAt changed matter: the application's frequent
    -- status/percentage updates cost one join of the transition tables and nothing else.
    users := ARRAY(
        SELECT x."userId"
        FROM old_rows o FULL JOIN new_rows n ON n."id" = o."id",
             LATERAL (VALUES (o."userId"), (n."userId")) AS x("userId")
        WHERE x."userId" IS NOT NULL
          AND (o."id" IS NULL OR n."id" IS NULL
               OR (o."userId", o."lessonId", o."createdAt") IS DISTINCT FROM (n."userId", n."lessonId", n."createdAt"))
        GROUP BY 1);
    IF cardinality(users) > 0 THEN
        PERFORM ops.rebuild_enrollment(users);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_enrollment_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    PERFORM ops.rebuild_enrollment(ARRAY(SELECT DISTINCT "userId" FROM old_rows));
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_progress_enrollment_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.enrollment;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.lesson_enrollment_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    users text[];
BEGIN
    SELECT array_agg(DISTINCT p."userId") INTO users
    FROM old_rows o JOIN new_rows n ON n."id" = o."id"
    JOIN "UserProgress" p ON p."lessonId" IN (o."id", n."id")
    WHERE o."courseId" IS DISTINCT FROM n."courseId";
    IF users IS NOT NULL THEN
        PERFORM ops.rebuild_enrollment(users);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER user_progress_enrollment_insert
    AFTER INSERT ON "UserProgress" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_enrollment_insert();
CREATE TRIGGER user_progress_enrollment_update
    AFTER UPDATE ON "UserProgress" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_enrollment_update();
CREATE TRIGGER user_progress_enrollment_delete
    AFTER DELETE ON "UserProgress" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_enrollment_delete();
CREATE TRIGGER user_progress_enrollment_truncate
    AFTER TRUNCATE ON "UserProgress"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_progress_enrollment_truncate();
CREATE TRIGGER lesson_enrollment_update
    AFTER UPDATE ON "Lesson" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.lesson_enrollment_update();

-- Backfill (the triggers above already hold the tables' locks, see the header).
SELECT ops.rebuild_enrollment();
