-- daily_active_users (fast form) - same params, window, columns and order as the oracle.
-- In the reporting time zone (tz = ops.reporting_tz(), default UTC) it reads the window's
-- rows of ops.day_stats (migration 0006: distinct users, distinct sessions and summed
-- duration per local day, maintained by triggers): at most %(days)s rows.
-- In any other zone it aggregates ops.activity_15m (migration 0003: one row per 15-minute
-- UTC bucket, user and session; non-null userId only): a local calendar day of any zone whose
-- UTC offset is a multiple of 15 minutes is a union of whole buckets, so the result is exact.
-- The bucket range (PK prefix) is widened by a day on each side and the exact day test is
-- applied to the bucket's local date, so DST transitions cannot cut a day.
-- Freshness: real time (statement-level triggers on "BehaviorLog").
WITH w AS (
    SELECT (now() AT TIME ZONE %(tz)s::text)::date - (%(days)s::int - 1) AS first_day,
           (now() AT TIME ZONE %(tz)s::text)::date AS last_day,
           %(tz)s::text = ops.reporting_tz() AS counters
), r AS (
    SELECT (a."bucket" AT TIME ZONE %(tz)s::text)::date AS day, a."userId", a."sessionId", a."duration"
    FROM ops.activity_15m a, w
    WHERE NOT w.counters
      AND a."bucket" >= (w.first_day::timestamp AT TIME ZONE %(tz)s::text) - interval '1 day'
      AND a."bucket" < ((w.last_day + 1)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day'
      AND (a."bucket" AT TIME ZONE %(tz)s::text)::date BETWEEN w.first_day AND w.last_day
), per_session AS (
    SELECT day, "sessionId", sum("duration") AS dur FROM r GROUP BY day, "sessionId"
), users_per_day AS (
    SELECT day, count(DISTINCT "userId") AS dau FROM r GROUP BY day
), sessions_per_day AS (
    SELECT day, count(*) AS sessions, round(avg(dur)::numeric, 2) AS avg_session_duration
    FROM per_session GROUP BY day
), per_day AS (
    -- avg of the per-session sums = total duration / sessions (both numeric_div, same scale).
    SELECT s."day" AS day, s."users" AS dau, s."sessions" AS sessions,
           round(s."duration"::numeric / nullif(s."sessions", 0), 2) AS avg_session_duration
    FROM ops.day_stats s, w
    WHERE w.counters AND s."day" BETWEEN w.first_day AND w.last_day
    UNION ALL
    SELECT u.day, u.dau, s.sessions, s.avg_session_duration
    FROM users_per_day u JOIN sessions_per_day s ON s.day = u.day
)
SELECT d.day::date AS date,
       coalesce(p.dau, 0) AS dau,
       coalesce(p.sessions, 0) AS sessions,
       p.avg_session_duration
FROM w, generate_series(w.first_day, w.last_day, interval '1 day') AS d(day)
LEFT JOIN per_day p ON p.day = d.day::date
ORDER BY d.day DESC
