-- at_risk_students (fast form) - same params, rule, columns and order as the oracle.
-- Two ordered, LIMITed walks instead of a pass over every student:
--   never active: students without an ops.user_activity row (migration 0006: last event and
--     sessions per user, maintained by triggers), in id order;
--   inactive: ops.user_activity in ("lastAt", "userId") index order up to the cutoff (the
--     last local day that is at least inactive_days before today; the exact day test is
--     repeated), joined to "User" by primary key.
-- Average progress comes from ops.user_progress (summed progressPercentage / rows per user,
-- the same numeric division as avg()). The first %(limit)s of each walk that pass the
-- progress test are merged in the oracle's order (NULLs, i.e. never active, first).
-- Freshness: real time (triggers on "BehaviorLog" and "UserProgress").
WITH never AS (
    SELECT u."id", u."name", u."email", NULL::timestamptz AS last_activity,
           coalesce(p."progressSum" / p."rows", 0) AS avg_progress_raw,
           coalesce(st."currentStreak", 0) AS current_streak
    FROM "User" u
    LEFT JOIN ops.user_progress p ON p."userId" = u."id"
    LEFT JOIN "UserStreak" st ON st."userId" = u."id"
    WHERE u."role" = 'STUDENT'
      AND NOT EXISTS (SELECT 1 FROM ops.user_activity a WHERE a."userId" = u."id")
      AND coalesce(p."progressSum" / p."rows", 0) < %(progress_threshold)s::numeric
    ORDER BY u."id"
    LIMIT %(limit)s::int
), inactive AS (
    SELECT u."id", u."name", u."email", a."lastAt" AS last_activity,
           coalesce(p."progressSum" / p."rows", 0) AS avg_progress_raw,
           coalesce(st."currentStreak", 0) AS current_streak
    FROM ops.user_activity a
    JOIN "User" u ON u."id" = a."userId" AND u."role" = 'STUDENT'
    LEFT JOIN ops.user_progress p ON p."userId" = a."userId"
    LEFT JOIN "UserStreak" st ON st."userId" = a."userId"
    WHERE a."lastAt" < (((now() AT TIME ZONE %(tz)s::text)::date - %(inactive_days)s::int + 1)::timestamp
                        AT TIME ZONE %(tz)s::text) + interval '1 day'
      AND (now() AT TIME ZONE %(tz)s::text)::date - (a."lastAt" AT TIME ZONE %(tz)s::text)::date
          >= %(inactive_days)s::int
      AND coalesce(p."progressSum" / p."rows", 0) < %(progress_threshold)s::numeric
    ORDER BY a."lastAt", a."userId"
    LIMIT %(limit)s::int
), s AS (
    SELECT * FROM never UNION ALL SELECT * FROM inactive
)
SELECT "id", "name", "email", last_activity, round(avg_progress_raw, 2) AS avg_progress, current_streak,
       (now() AT TIME ZONE %(tz)s::text)::date - (last_activity AT TIME ZONE %(tz)s::text)::date
           AS days_since_last_activity
FROM s
ORDER BY last_activity ASC NULLS FIRST, "id"
LIMIT %(limit)s::int
