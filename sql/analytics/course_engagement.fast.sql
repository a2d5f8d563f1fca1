-- course_engagement (fast form) - same param, columns and meaning as the oracle.
-- Sessions come from ops.course_path_session (one row per (slug, session) of the rows under
-- '/courses/<slug>' or '/courses/<slug>/...', maintained by triggers, PK lookup by slug).
-- A slug that is empty or contains '/' cannot be a single path segment, so for such a course
-- the form falls back to scanning "BehaviorLog" exactly like the oracle (never in practice).
-- Progress metrics: one pass over the course's "UserProgress" rows ("Lesson" -> lessons).
-- Freshness: real time (triggers on "BehaviorLog"; "UserProgress" read directly).
WITH c AS (
    SELECT "id", "slug", ("slug" <> '' AND strpos("slug", '/') = 0) AS segment_slug
    FROM "Course" WHERE "id" = %(course_id)s::text
), pub AS (
    SELECT count(*) AS n FROM "Lesson" WHERE "courseId" = %(course_id)s::text AND "published"
), per_user AS (
    SELECT p."userId",
           sum(p."durationSpent") AS spent,
           bool_or(p."status" = 'COMPLETED') AS completed_one,
           count(*) FILTER (WHERE p."status" = 'COMPLETED' AND l."published") AS completed_pub
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE l."courseId" = %(course_id)s::text
    GROUP BY p."userId"
), completers AS (
    SELECT count(*) AS n FROM per_user, pub WHERE pub.n > 0 AND per_user.completed_pub = pub.n
), sess AS (
    SELECT r."sessionId", r."duration" AS dur
    FROM ops.course_path_session r, c
    WHERE c.segment_slug AND r."slug" = c."slug"
    UNION ALL
    SELECT b."sessionId", sum(coalesce(b."duration", 0))
    FROM "BehaviorLog" b, c
    WHERE NOT c.segment_slug AND b."userId" IS NOT NULL
      AND (b."path" = '/courses/' || c."slug" OR starts_with(b."path", '/courses/' || c."slug" || '/'))
    GROUP BY b."sessionId"
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
       (SELECT count(*) FROM sess) AS sessions,
       (SELECT round(avg(dur)::numeric, 2) FROM sess) AS avg_session_duration
FROM c
