-- course_engagement (oracle)
-- Params: course_id text (required). All time. One row when the course exists, none otherwise.
-- Columns: course_id, slug,
--   enrollments            distinct users (any role) with progress on the course's lessons
--   lesson_completers      distinct users with a COMPLETED lesson of the course
--   course_completions     users who COMPLETED every published lesson (0 without published lessons)
--   completion_rate        100 * course_completions / enrollments (numeric 2 dp; NULL if no enrollment)
--   lesson_completion_rate 100 * lesson_completers / enrollments (numeric 2 dp; NULL if none)
--   avg_time_spent         per enrolled user, sum of durationSpent over the course's lessons,
--                          averaged over the enrolled users (numeric 2 dp, seconds; NULL if none)
--   sessions               distinct sessionId of BehaviorLog rows (non-null userId) whose path is
--                          exactly '/courses/<slug>' or starts with '/courses/<slug>/'
--   avg_session_duration   per such session, sum of coalesce(duration, 0) of its matching rows,
--                          averaged (numeric 2 dp; NULL without sessions)
-- Each aggregate is computed at its own grain (no join fan-out).
WITH c AS (
    SELECT "id", "slug" FROM "Course" WHERE "id" = %(course_id)s::text
), per_user AS (
    SELECT p."userId",
           sum(p."durationSpent") AS spent,
           bool_or(p."status" = 'COMPLETED') AS completed_one
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE l."courseId" = %(course_id)s::text
    GROUP BY p."userId"
), completers AS (
    SELECT count(*) AS n FROM "User" u
    WHERE EXISTS (SELECT 1 FROM "Lesson" l WHERE l."courseId" = %(course_id)s::text AND l."published")
      AND NOT EXISTS (
          SELECT 1 FROM "Lesson" l
           WHERE l."courseId" = %(course_id)s::text AND l."published"
             AND NOT EXISTS (SELECT 1 FROM "UserProgress" p
                              WHERE p."userId" = u."id" AND p."lessonId" = l."id"
                                AND p."status" = 'COMPLETED'))
), sess AS (
    SELECT b."sessionId", sum(coalesce(b."duration", 0)) AS dur
    FROM "BehaviorLog" b, c
    WHERE b."userId" IS NOT NULL
      AND (b."path" = '/courses/' || c."slug" OR starts_with(b."path", '/courses/' || c."slug" || '/'))
    GROUP BY b."sessionId"
)
SELECT c."id" AS course_id, c."slug",
       (SELECT count(*) FROM per_user) AS enrollments,
       (SELECT count(*) FROM per_user WHERE completed_one) AS lesson_completers,
       (SELECT n FROM completers) AS course_completions,
       (SELECT round(100.0 * (SELECT n FROM completers) / nullif(count(*), 0), 2) FROM per_user)
           AS completion_rate,
       (SELECT round(100.0 * count(*) FILTER (WHERE completed_one) / nullif(count(*), 0), 2) FROM per_user)
           AS lesson_completion_rate,
       (SELECT round(avg(spent)::numeric, 2) FROM per_user) AS avg_time_spent,
       (SELECT count(*) FROM sess) AS sessions,
       (SELECT round(avg(dur)::numeric, 2) FROM sess) AS avg_session_duration
FROM c
