-- top_courses (fast form) - same param, columns and order as the oracle.
-- Ranks the published courses by ops.course_progress (migration 0006: enrolled users and
-- lesson completers per course, maintained by triggers), then counts the course completions
-- of the %(limit)s chosen courses only: users whose COMPLETED published lessons
-- (ops.user_course_progress."completedPub", ("courseId", "completedPub") index) equal the
-- course's published lesson count ((userId, lessonId) is unique); a course without
-- published lessons has none.
-- Freshness: real time (triggers on "UserProgress" and "Lesson").
WITH top AS (
    SELECT c."id", c."slug", c."title", c."level",
           coalesce(cp."enrollments", 0) AS enrollments,
           coalesce(cp."lessonCompleters", 0) AS lesson_completers,
           (SELECT count(*) FROM "Lesson" l WHERE l."courseId" = c."id" AND l."published") AS pub
    FROM "Course" c
    LEFT JOIN ops.course_progress cp ON cp."courseId" = c."id"
    WHERE c."published"
    ORDER BY enrollments DESC, c."id"
    LIMIT %(limit)s::int
)
SELECT t."id", t."slug", t."title", t."level", t.enrollments, t.lesson_completers,
       CASE WHEN t.pub = 0 THEN 0
            ELSE (SELECT count(*) FROM ops.user_course_progress u
                   WHERE u."courseId" = t."id" AND u."completedPub" = t.pub) END AS course_completions
FROM top t
ORDER BY t.enrollments DESC, t."id"
