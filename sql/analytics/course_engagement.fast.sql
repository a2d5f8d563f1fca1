-- course_engagement (fast form) - same param, columns and meaning as the oracle.
-- Sessions come from ops.course_path_stats (migration 0006: per slug, the number of
-- (slug, session) rows of ops.course_path_session - sessions with rows under
-- '/courses/<slug>' or '/courses/<slug>/...' - and their summed duration, maintained by
-- triggers): one primary-key lookup.
-- A slug that is empty or contains '/' cannot be a single path segment, so for such a course
-- the form falls back to scanning "BehaviorLog" exactly like the oracle (never in practice).
-- Progress metrics: the course's rows of ops.user_course_progress (migration 0006: one row
-- per enrolled user with COMPLETED rows, COMPLETED rows on published lessons and summed
-- durationSpent, maintained by triggers; ("courseId", ...) index).
-- Freshness: real time (triggers on "BehaviorLog", "UserProgress" and "Lesson").
WITH c AS (
    SELECT "id", "slug", ("slug" <> '' AND strpos("slug", '/') = 0) AS segment_slug
    FROM "Course" WHERE "id" = %(course_id)s::text
), pub AS (
    SELECT count(*) AS n FROM "Lesson" WHERE "courseId" = %(course_id)s::text AND "published"
), per_user AS (
    SELECT u."userId", u."durationSpent" AS spent, u."completed" > 0 AS completed_one,
           u."completedPub" AS completed_pub
    FROM ops.user_course_progress u
    WHERE u."courseId" = %(course_id)s::text
), completers AS (
    SELECT count(*) AS n FROM per_user, pub WHERE pub.n > 0 AND per_user.completed_pub = pub.n
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
       (SELECT count(*) FROM per_user) AS enrollments,
       (SELECT count(*) FROM per_user WHERE completed_one) AS lesson_completers,
       (SELECT n FROM completers) AS course_completions,
       (SELECT round(100.0 * (SELECT n FROM completers) / nullif(count(*), 0), 2) FROM per_user)
           AS completion_rate,
       (SELECT round(100.0 * count(*) FILTER (WHERE completed_one) / nullif(count(*), 0), 2) FROM per_user)
           AS lesson_completion_rate,
       (SELECT round(avg(spent)::numeric, 2) FROM per_user) AS avg_time_spent,
       (SELECT coalesce(sum(n), 0)::bigint FROM sess) AS sessions,
       -- avg of the per-session sums = summed duration / sessions (the same numeric division)
       (SELECT round(sum(dur)::numeric / nullif(sum(n), 0), 2) FROM sess) AS avg_session_duration
FROM c
