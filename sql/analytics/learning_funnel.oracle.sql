-- learning_funnel (oracle)
-- Params: course_id text or NULL (default NULL = all courses).
-- No time window (all time).
-- Columns (one row):
--   total_students      all users with role STUDENT (never narrowed by course_id)
--   started_students    students with any UserProgress row (on a lesson of course_id if given)
--   lesson_completers   students with a COMPLETED UserProgress row (same scope):
--                       (what the application calls "completions")
--   course_completers   students who COMPLETED every published lesson of at least one course
--                       (course_id if given); a course without published lessons cannot be
--                       completed
SELECT
    (SELECT count(*) FROM "User" u WHERE u."role" = 'STUDENT') AS total_students,
    (SELECT count(DISTINCT p."userId")
       FROM "UserProgress" p
       JOIN "User" u ON u."id" = p."userId" AND u."role" = 'STUDENT'
       JOIN "Lesson" l ON l."id" = p."lessonId"
      WHERE %(course_id)s::text IS NULL OR l."courseId" = %(course_id)s::text) AS started_students,
    (SELECT count(DISTINCT p."userId")
       FROM "UserProgress" p
       JOIN "User" u ON u."id" = p."userId" AND u."role" = 'STUDENT'
       JOIN "Lesson" l ON l."id" = p."lessonId"
      WHERE p."status" = 'COMPLETED'
        AND (%(course_id)s::text IS NULL OR l."courseId" = %(course_id)s::text)) AS lesson_completers,
    (SELECT count(*) FROM "User" u
      WHERE u."role" = 'STUDENT'
        AND EXISTS (
            SELECT 1 FROM "Course" c
             WHERE (%(course_id)s::text IS NULL OR c."id" = %(course_id)s::text)
               AND EXISTS (SELECT 1 FROM "Lesson" l WHERE l."courseId" = c."id" AND l."published")
               AND NOT EXISTS (
                   SELECT 1 FROM "Lesson" l
                    WHERE l."courseId" = c."id" AND l."published"
                      AND NOT EXISTS (SELECT 1 FROM "UserProgress" p
                                       WHERE p."userId" = u."id" AND p."lessonId" = l."id"
                                         AND p."status" = 'COMPLETED')))) AS course_completers
