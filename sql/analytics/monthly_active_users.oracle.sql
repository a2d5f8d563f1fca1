-- monthly_active_users (oracle)
-- Params: months int (1..120, default 12), tz text (default 'UTC').
-- Window: the %(months)s whole calendar months ending with the current month in tz (the
--   current month is included, up to now). Every month appears, empty ones with 0.
-- Events: BehaviorLog rows with a non-null userId; month = to_char(local timestamp, 'YYYY-MM').
-- Columns: month (text 'YYYY-MM'), mau (distinct userId), sessions (distinct sessionId in
--   the month). Order: month DESC.
WITH w AS (
    SELECT (date_trunc('month', now() AT TIME ZONE %(tz)s::text)
            - make_interval(months => %(months)s::int - 1))::date AS first_month,
           date_trunc('month', now() AT TIME ZONE %(tz)s::text)::date AS last_month
), ev AS (
    SELECT date_trunc('month', ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date AS month,
           b."userId", b."sessionId"
    FROM "BehaviorLog" b, w
    WHERE b."userId" IS NOT NULL
      AND date_trunc('month', ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date
          BETWEEN w.first_month AND w.last_month
), agg AS (
    SELECT month, count(DISTINCT "userId") AS mau, count(DISTINCT "sessionId") AS sessions
    FROM ev GROUP BY month
)
SELECT to_char(m.month, 'YYYY-MM') AS month,
       coalesce(a.mau, 0) AS mau,
       coalesce(a.sessions, 0) AS sessions
FROM w, generate_series(w.first_month, w.last_month, interval '1 month') AS m(month)
LEFT JOIN agg a ON a.month = m.month::date
ORDER BY m.month DESC
