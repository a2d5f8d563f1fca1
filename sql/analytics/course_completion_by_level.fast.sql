-- course_completion_by_level (fast form) - same columns and order as the oracle.
-- One pass over "UserProgress" joined to the published courses, aggregated per (user,
-- course), then per level; course completion = the user's COMPLETED published lessons
-- equal the course's published lesson count ((userId, lessonId) is unique).
-- Freshness: real time (base tables).
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson" WHERE "published" GROUP BY "courseId"
), uc AS (
    SELECT c."level", p."userId", l."courseId",
           bool_or(p."status" = 'COMPLETED') AS completed_one,
           count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS completed_pub,
           sum(p."progressPercentage"::numeric) AS progress_sum,
           count(*) AS progress_rows
    FROM "UserProgress" p
    JOIN "Lesson" l ON l."id" = p."lessonId"
    JOIN "Course" c ON c."id" = l."courseId" AND c."published"
    GROUP BY c."level", p."userId", l."courseId"
), per_level AS (
    SELECT uc."level",
           count(DISTINCT uc."userId") AS enrollments,
           count(DISTINCT uc."userId") FILTER (WHERE uc.completed_one) AS lesson_completers,
           count(DISTINCT uc."userId") FILTER (WHERE uc.completed_pub = pub.n) AS course_completions,
           round(sum(uc.progress_sum) / sum(uc.progress_rows), 2) AS avg_progress
    FROM uc LEFT JOIN pub ON pub."courseId" = uc."courseId"
    GROUP BY uc."level"
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
