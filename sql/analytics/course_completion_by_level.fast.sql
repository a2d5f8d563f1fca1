-- course_completion_by_level (fast form) - same columns and order as the oracle.
-- Enrollments and lesson completers: the level's counters in ops.level_stats (migration
-- 0009: distinct users enrolled in its published courses / with a COMPLETED lesson in them,
-- moved when a user enters or leaves the level). Average progress: the summed
-- progressPercentage and progress rows of the level's published courses
-- (ops.course_progress_sum, 0009). Course completions: for each published course with
-- published lessons, the users whose COMPLETED published lessons equal its published lesson
-- count (the ("courseId", "completedPub") index of ops.user_course_progress, 0006;
-- (userId, lessonId) is unique), de-duplicated per level.
-- Freshness: real time (triggers on "UserProgress", "Lesson" and "Course").
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson" WHERE "published" GROUP BY "courseId"
), courses AS (
    SELECT c."level", count(*) AS n, round(sum(s."progressSum") / sum(s."rows"), 2) AS avg_progress
    FROM "Course" c LEFT JOIN ops.course_progress_sum s ON s."courseId" = c."id"
    WHERE c."published"
    GROUP BY c."level"
), completions AS (
    SELECT "level", count(*) AS n
    FROM (SELECT DISTINCT c."level", x."userId"
          FROM pub
          JOIN "Course" c ON c."id" = pub."courseId" AND c."published"
          JOIN ops.user_course_progress x ON x."courseId" = pub."courseId" AND x."completedPub" = pub.n) d
    GROUP BY "level"
)
SELECT lv.level,
       coalesce(cs.n, 0) AS course_count,
       coalesce(ls."enrollments", 0) AS enrollments,
       coalesce(ls."lessonCompleters", 0) AS lesson_completers,
       coalesce(cc.n, 0) AS course_completions,
       cs.avg_progress
FROM unnest(enum_range(NULL::"Level")) WITH ORDINALITY AS lv(level, ord)
LEFT JOIN courses cs ON cs."level" = lv.level
LEFT JOIN ops.level_stats ls ON ls."level" = lv.level
LEFT JOIN completions cc ON cc."level" = lv.level
ORDER BY lv.ord
