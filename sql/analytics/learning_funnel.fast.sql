-- learning_funnel (fast form) - same param, columns and meaning as the oracle.
-- One pass over the students' rows of ops.user_score (migrations 0008 and 0009, kept by
-- triggers: progress rows, COMPLETED rows and "completedCourses" = courses whose published
-- lessons the user all COMPLETED). With course_id, the course's rows of
-- ops.user_course_progress (0006: progress rows, COMPLETED rows, COMPLETED rows on published
-- lessons) are joined to them; the course is completed when its COMPLETED published lessons
-- equal its published lesson count, which is > 0 ((userId, lessonId) is unique).
-- Freshness: real time (triggers on "UserProgress", "Lesson" and "User").
WITH course AS (
    SELECT x."userId", x."completed",
           x."completedPub" > 0
           AND x."completedPub" = (SELECT count(*) FROM "Lesson" l
                                    WHERE l."courseId" = %(course_id)s::text AND l."published") AS done
    FROM ops.user_course_progress x
    WHERE x."courseId" = %(course_id)s::text
)
SELECT count(*) AS total_students,
       CASE WHEN %(course_id)s::text IS NULL THEN count(*) FILTER (WHERE s."progressRows" > 0)
            ELSE count(c."userId") END AS started_students,
       CASE WHEN %(course_id)s::text IS NULL THEN count(*) FILTER (WHERE s."completed" > 0)
            ELSE count(*) FILTER (WHERE c."completed" > 0) END AS lesson_completers,
       CASE WHEN %(course_id)s::text IS NULL THEN count(*) FILTER (WHERE s."completedCourses" > 0)
            ELSE count(*) FILTER (WHERE c.done) END AS course_completers
FROM ops.user_score s
LEFT JOIN course c ON c."userId" = s."userId"
WHERE s."student"
