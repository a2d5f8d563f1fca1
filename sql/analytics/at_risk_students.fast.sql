-- at_risk_students (fast form) - same params, rule, columns and order as the oracle.
-- Last activity per user comes from ops.user_session (max of its per-session "lastAt",
-- maintained by triggers; equal to max("timestamp") over the user's non-null-userId logs);
-- average progress is aggregated once per user (one hash aggregate over "UserProgress")
-- instead of a correlated subquery per student.
-- Freshness: real time (triggers on "BehaviorLog"; "UserProgress" read directly).
WITH last AS (
    SELECT "userId", max("lastAt") AS last_activity FROM ops.user_session GROUP BY "userId"
), prog AS (
    SELECT "userId", avg("progressPercentage"::numeric) AS ap FROM "UserProgress" GROUP BY "userId"
), s AS (
    SELECT u."id", u."name", u."email", l.last_activity,
           coalesce(p.ap, 0) AS avg_progress_raw,
           coalesce(st."currentStreak", 0) AS current_streak
    FROM "User" u
    LEFT JOIN last l ON l."userId" = u."id"
    LEFT JOIN prog p ON p."userId" = u."id"
    LEFT JOIN "UserStreak" st ON st."userId" = u."id"
    WHERE u."role" = 'STUDENT'
)
SELECT "id", "name", "email", last_activity, round(avg_progress_raw, 2) AS avg_progress, current_streak,
       (now() AT TIME ZONE %(tz)s::text)::date - (last_activity AT TIME ZONE %(tz)s::text)::date
           AS days_since_last_activity
FROM s
WHERE (last_activity IS NULL
       OR (now() AT TIME ZONE %(tz)s::text)::date - (last_activity AT TIME ZONE %(tz)s::text)::date
          >= %(inactive_days)s::int)
  AND avg_progress_raw < %(progress_threshold)s::numeric
ORDER BY last_activity ASC NULLS FIRST, "id"
LIMIT %(limit)s::int
