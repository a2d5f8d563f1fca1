-- at_risk_students (oracle)
-- Params: inactive_days int (0..3650, default 7), progress_threshold number (0..100, default
--   30), limit int (1..1000, default 100), tz text (default 'UTC').
-- A STUDENT is at risk when (a) they never had a BehaviorLog event, or their last event's
--   local date is at least %(inactive_days)s whole days before today in tz
--   (days_since_last_activity >= inactive_days), and (b) their avg progress (mean
--   progressPercentage over all their UserProgress rows, 0 when they have none) is below
--   progress_threshold.
-- Columns: id, name (jsonb), email, last_activity (timestamptz, NULL = never), avg_progress
--   (numeric 2 dp), current_streak (0 without a UserStreak row), days_since_last_activity
--   (int, NULL = never). Order: last_activity ASC NULLS FIRST (never-active first), id ASC.
WITH s AS (
    SELECT u."id", u."name", u."email",
           (SELECT ops.utc(max(b."timestamp")) FROM "BehaviorLog" b WHERE b."userId" = u."id") AS last_activity,
           (SELECT coalesce(avg(coalesce(p."progressPercentage", 0)::numeric), 0)
              FROM "UserProgress" p WHERE p."userId" = u."id") AS avg_progress_raw,
           coalesce((SELECT st."currentStreak" FROM "UserStreak" st WHERE st."userId" = u."id"), 0)
               AS current_streak
    FROM "User" u
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
