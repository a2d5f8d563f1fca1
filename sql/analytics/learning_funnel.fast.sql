-- learning_funnel (fast form) - same param, columns and meaning as the oracle.
-- Started / lesson completers: one row per student of ops.user_progress (all courses) or of
-- ops.user_course_progress for course_id (migration 0006, maintained by triggers), joined
-- to the students. Course completers: for each course with published lessons, the users
-- whose COMPLETED published lessons equal the course's published lesson count (the
-- ("courseId", "completedPub") index of ops.user_course_progress; (userId, lessonId) is
-- unique, so counting rows counts distinct lessons), instead of the oracle's nested
-- NOT EXISTS per student and course.
-- Freshness: real time (triggers on "UserProgress" and "Lesson").
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson"
    WHERE "published" AND (%(course_id)s::text IS NULL OR "courseId" = %(course_id)s::text)
    GROUP BY "courseId"
), scope AS (
    SELECT p."userId", p."completed" FROM ops.user_progress p WHERE %(course_id)s::text IS NULL
    UNION ALL
    SELECT p."userId", p."completed" FROM ops.user_course_progress p WHERE p."courseId" = %(course_id)s::text
), started AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE s."completed" > 0) AS completers
    FROM scope s JOIN "User" u ON u."id" = s."userId" AND u."role" = 'STUDENT'
)
SELECT
    (SELECT count(*) FROM "User" u WHERE u."role" = 'STUDENT') AS total_students,
    (SELECT n FROM started) AS started_students,
    (SELECT completers FROM started) AS lesson_completers,
    (SELECT count(*)
       FROM (SELECT DISTINCT x."userId"
               FROM pub
               JOIN ops.user_course_progress x ON x."courseId" = pub."courseId" AND x."completedPub" = pub.n) d
       JOIN "User" u ON u."id" = d."userId" AND u."role" = 'STUDENT') AS course_completers
