-- top_courses (fast form) - same param, columns and order as the oracle.
-- One pass over "UserProgress" aggregated per (course, user) for the published courses,
-- instead of three correlated subqueries per course (one of them a NOT EXISTS per user).
-- Freshness: real time (base tables).
WITH pub AS (
    SELECT "courseId", count(*) AS n FROM "Lesson" WHERE "published" GROUP BY "courseId"
), uc AS (
    SELECT l."courseId", p."userId",
           bool_or(p."status" = 'COMPLETED') AS completed_one,
           count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS completed_pub
    FROM "UserProgress" p
    JOIN "Lesson" l ON l."id" = p."lessonId"
    JOIN "Course" c ON c."id" = l."courseId" AND c."published"
    GROUP BY l."courseId", p."userId"
), per_course AS (
    SELECT uc."courseId",
           count(*) AS enrollments,
           count(*) FILTER (WHERE uc.completed_one) AS lesson_completers,
           count(*) FILTER (WHERE uc.completed_pub = pub.n) AS course_completions
    FROM uc LEFT JOIN pub ON pub."courseId" = uc."courseId"
    GROUP BY uc."courseId"
)
SELECT c."id", c."slug", c."title", c."level",
       coalesce(pc.enrollments, 0) AS enrollments,
       coalesce(pc.lesson_completers, 0) AS lesson_completers,
       coalesce(pc.course_completions, 0) AS course_completions
FROM "Course" c
LEFT JOIN per_course pc ON pc."courseId" = c."id"
WHERE c."published"
ORDER BY enrollments DESC, c."id"
LIMIT %(limit)s::int
