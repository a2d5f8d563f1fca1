-- top_courses (oracle)
-- Params: limit int (1..1000, default 10). All time. Published courses only.
-- Columns: id, slug, title (jsonb), level, enrollments (distinct users, any role, with a
--   UserProgress row on one of the course's lessons), lesson_completers (distinct users with a
--   COMPLETED lesson of the course), course_completions (users who COMPLETED every published
--   lesson of the course; 0 for a course without published lessons).
-- Order: enrollments DESC, id ASC; first %(limit)s rows.
SELECT c."id", c."slug", c."title", c."level",
    (SELECT count(DISTINCT p."userId") FROM "UserProgress" p
       JOIN "Lesson" l ON l."id" = p."lessonId" WHERE l."courseId" = c."id") AS enrollments,
    (SELECT count(DISTINCT p."userId") FROM "UserProgress" p
       JOIN "Lesson" l ON l."id" = p."lessonId"
      WHERE l."courseId" = c."id" AND p."status" = 'COMPLETED') AS lesson_completers,
    (SELECT count(*) FROM "User" u
      WHERE EXISTS (SELECT 1 FROM "Lesson" l WHERE l."courseId" = c."id" AND l."published")
        AND NOT EXISTS (
            SELECT 1 FROM "Lesson" l
             WHERE l."courseId" = c."id" AND l."published"
               AND NOT EXISTS (SELECT 1 FROM "UserProgress" p
                                WHERE p."userId" = u."id" AND p."lessonId" = l."id"
                                  AND p."status" = 'COMPLETED'))) AS course_completions
FROM "Course" c
WHERE c."published"
ORDER BY enrollments DESC, c."id"
LIMIT %(limit)s::int
