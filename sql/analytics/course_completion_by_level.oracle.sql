-- course_completion_by_level (oracle)
-- Params: none. All time. Published courses only; every Level appears (0 / NULL when empty).
-- Enrollment = a user (any role) with any UserProgress row on a lesson of the course.
-- Columns: level, course_count (published courses), enrollments (distinct users enrolled in a
--   published course of the level), lesson_completers (distinct users with a COMPLETED lesson
--   in those courses), course_completions (distinct users who COMPLETED every published lesson
--   of at least one of those courses; a course with no published lesson cannot be completed),
--   avg_progress (numeric 2 dp: mean progressPercentage over the UserProgress rows on those
--   courses' lessons, NULL when none). Order: BEGINNER, INTERMEDIATE, EXPERT (enum order).
SELECT lv.level,
    (SELECT count(*) FROM "Course" c WHERE c."published" AND c."level" = lv.level) AS course_count,
    (SELECT count(DISTINCT p."userId") FROM "UserProgress" p
       JOIN "Lesson" l ON l."id" = p."lessonId"
       JOIN "Course" c ON c."id" = l."courseId"
      WHERE c."published" AND c."level" = lv.level) AS enrollments,
    (SELECT count(DISTINCT p."userId") FROM "UserProgress" p
       JOIN "Lesson" l ON l."id" = p."lessonId"
       JOIN "Course" c ON c."id" = l."courseId"
      WHERE c."published" AND c."level" = lv.level AND p."status" = 'COMPLETED') AS lesson_completers,
    (SELECT count(*) FROM "User" u
      WHERE EXISTS (
            SELECT 1 FROM "Course" c
             WHERE c."published" AND c."level" = lv.level
               AND EXISTS (SELECT 1 FROM "Lesson" l WHERE l."courseId" = c."id" AND l."published")
               AND NOT EXISTS (
                   SELECT 1 FROM "Lesson" l
                    WHERE l."courseId" = c."id" AND l."published"
                      AND NOT EXISTS (SELECT 1 FROM "UserProgress" p
                                       WHERE p."userId" = u."id" AND p."lessonId" = l."id"
                                         AND p."status" = 'COMPLETED')))) AS course_completions,
    (SELECT round(avg(coalesce(p."progressPercentage", 0)::numeric), 2) FROM "UserProgress" p
       JOIN "Lesson" l ON l."id" = p."lessonId"
       JOIN "Course" c ON c."id" = l."courseId"
      WHERE c."published" AND c."level" = lv.level) AS avg_progress
FROM unnest(enum_range(NULL::"Level")) WITH ORDINALITY AS lv(level, ord)
ORDER BY lv.ord
