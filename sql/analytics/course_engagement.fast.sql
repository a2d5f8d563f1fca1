-- course_engagement (fast form) - same param, columns and meaning as the oracle.
-- Enrollments, lesson completers and the summed durationSpent come from the course's row of
-- ops.course_progress (migrations 0006, 0008: counters kept by triggers on "UserProgress");
-- avg_time_spent = summed durationSpent / enrollments, the same numeric division as avg() of
-- the per-user sums. Course completions: the users whose COMPLETED rows on published lessons
-- equal the course's published lessons, counted on the ("courseId", "completedPub") index of
-- ops.user_course_progress (0006; ("userId", "lessonId") is unique, so equal means all).
-- Sessions come from ops.course_path_stats (migration 0006: per slug, the number of
-- (slug, session) rows of ops.course_path_session - sessions with rows under
-- '/courses/<slug>' or '/courses/<slug>/...' - and their summed duration, maintained by
-- triggers): one primary-key lookup.
-- A slug that is empty or contains '/' cannot be a single path segment, so for such a course
-- the form falls back to scanning "BehaviorLog" exactly like the oracle (never in practice).
-- Freshness: real time (triggers on "BehaviorLog", "UserProgress" and "Lesson").
WITH c AS (
    SELECT "id", "slug", ("slug" <> '' AND strpos("slug", '/') = 0) AS segment_slug
    FROM "Course" WHERE "id" = %(course_id)s::text
), pub AS (
    SELECT count(*) AS n FROM "Lesson" WHERE "courseId" = %(course_id)s::text AND "published"
), cp AS (
    -- no row = nobody enrolled
    SELECT coalesce(max(p."enrollments"), 0) AS enrollments,
           coalesce(max(p."lessonCompleters"), 0) AS lesson_completers, max(p."durationSpent") AS spent
    FROM ops.course_progress p WHERE p."courseId" = %(course_id)s::text
), completers AS (
    SELECT count(*) AS n
    FROM ops.user_course_progress u, pub
    WHERE pub.n > 0 AND u."courseId" = %(course_id)s::text AND u."completedPub" = pub.n
), sess AS (
    SELECT s."sessions" AS n, s."duration" AS dur
    FROM ops.course_path_stats s, c
    WHERE c.segment_slug AND s."slug" = c."slug"
    UNION ALL
    SELECT count(*), sum(x.dur)
    FROM (SELECT b."sessionId", sum(coalesce(b."duration", 0)) AS dur
          FROM "BehaviorLog" b, c
          WHERE NOT c.segment_slug AND b."userId" IS NOT NULL
            AND (b."path" = '/courses/' || c."slug" OR starts_with(b."path", '/courses/' || c."slug" || '/'))
          GROUP BY b."sessionId") x
)
SELECT c."id" AS course_id, c."slug",
       cp.enrollments,
       cp.lesson_completers,
       completers.n AS course_completions,
       round(100.0 * completers.n / nullif(cp.enrollments, 0), 2) AS completion_rate,
       round(100.0 * cp.lesson_completers / nullif(cp.enrollments, 0), 2) AS lesson_completion_rate,
       round(cp.spent::numeric / nullif(cp.enrollments, 0), 2) AS avg_time_spent,
       (SELECT coalesce(sum(n), 0)::bigint FROM sess) AS sessions,
       -- avg of the per-session sums = summed duration / sessions (the same numeric division)
       (SELECT round(sum(dur)::numeric / nullif(sum(n), 0), 2) FROM sess) AS avg_session_duration
FROM c, cp, completers
