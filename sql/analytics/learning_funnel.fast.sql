-- learning_funnel (fast form) - same param, columns and meaning as the oracle.
-- One pass over the students' "UserProgress" rows (scoped to the course's lessons through
-- "Lesson"), aggregated per (user, course); course completers compare each user's count of
-- COMPLETED published lessons with the course's published lesson count ((userId, lessonId)
-- is unique, so counting rows counts distinct lessons) instead of the oracle's nested
-- NOT EXISTS per student and course.
-- Freshness: real time (base tables).
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson"
    WHERE "published" AND (%(course_id)s::text IS NULL OR "courseId" = %(course_id)s::text)
    GROUP BY "courseId"
), uc AS (
    SELECT p."userId", l."courseId",
           bool_or(p."status" = 'COMPLETED') AS completed_one,
           count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS completed_pub
    FROM "UserProgress" p
    JOIN "User" u ON u."id" = p."userId" AND u."role" = 'STUDENT'
    JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE %(course_id)s::text IS NULL OR l."courseId" = %(course_id)s::text
    GROUP BY p."userId", l."courseId"
)
SELECT
    (SELECT count(*) FROM "User" u WHERE u."role" = 'STUDENT') AS total_students,
    (SELECT count(DISTINCT "userId") FROM uc) AS started_students,
    (SELECT count(DISTINCT "userId") FROM uc WHERE completed_one) AS lesson_completers,
    (SELECT count(DISTINCT uc."userId") FROM uc JOIN pub ON pub."courseId" = uc."courseId"
      WHERE uc.completed_pub = pub.n) AS course_completers
