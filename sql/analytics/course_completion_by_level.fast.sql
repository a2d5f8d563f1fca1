-- course_completion_by_level (fast form) - same columns and order as the oracle.
-- One pass over ops.user_course_progress (migration 0006: one row per enrolled (user,
-- course) with its progress rows, COMPLETED rows, COMPLETED rows on published lessons and
-- summed progressPercentage, maintained by triggers) for the published courses, instead of
-- "UserProgress" joined to "Lesson"; course completion = the user's COMPLETED published
-- lessons equal the course's published lesson count ((userId, lessonId) is unique).
-- Aggregated per (level, user) first, so the distinct user counts are plain counts.
-- Freshness: real time (triggers on "UserProgress" and "Lesson").
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson" WHERE "published" GROUP BY "courseId"
), uc AS (
    SELECT c."level", u."userId", u."completed" > 0 AS completed_one,
           u."completedPub" = pub.n AS completed_course, u."progressSum", u."rows"
    FROM ops.user_course_progress u
    JOIN "Course" c ON c."id" = u."courseId" AND c."published"
    LEFT JOIN pub ON pub."courseId" = u."courseId"
), per_user AS (
    -- one row per (level, user): the distinct counts become plain counts (no sorts)
    SELECT "level", bool_or(completed_one) AS completed_one, coalesce(bool_or(completed_course), false) AS completed_course,
           sum("progressSum") AS progress_sum, sum("rows") AS progress_rows
    FROM uc GROUP BY "level", "userId"
), per_level AS (
    SELECT "level",
           count(*) AS enrollments,
           count(*) FILTER (WHERE completed_one) AS lesson_completers,
           count(*) FILTER (WHERE completed_course) AS course_completions,
           round(sum(progress_sum) / sum(progress_rows), 2) AS avg_progress
    FROM per_user
    GROUP BY "level"
), courses AS (
    SELECT "level", count(*) AS n FROM "Course" WHERE "published" GROUP BY "level"
)
SELECT lv.level,
       coalesce(cs.n, 0) AS course_count,
       coalesce(pl.enrollments, 0) AS enrollments,
       coalesce(pl.lesson_completers, 0) AS lesson_completers,
       coalesce(pl.course_completions, 0) AS course_completions,
       pl.avg_progress
FROM unnest(enum_range(NULL::"Level")) WITH ORDINALITY AS lv(level, ord)
LEFT JOIN courses cs ON cs."level" = lv.level
LEFT JOIN per_level pl ON pl."level" = lv.level
ORDER BY lv.ord
