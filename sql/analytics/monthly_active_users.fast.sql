-- monthly_active_users (fast form) - same params, window, columns and order as the oracle.
-- In the reporting time zone (tz = ops.reporting_tz(), default UTC) it reads the window's
-- rows of ops.month_stats (migration 0006: distinct users and sessions per local month,
-- maintained by triggers): at most %(months)s rows. In any other zone it aggregates
-- ops.activity_15m (see daily_active_users.fast.sql for why buckets are exact in any zone).
-- Freshness: real time (statement-level triggers on "BehaviorLog").
WITH w AS (
    SELECT (date_trunc('month', now() AT TIME ZONE %(tz)s::text)
            - make_interval(months => %(months)s::int - 1))::date AS first_month,
           date_trunc('month', now() AT TIME ZONE %(tz)s::text)::date AS last_month,
           %(tz)s::text = ops.reporting_tz() AS counters
), r AS (
    SELECT date_trunc('month', a."bucket" AT TIME ZONE %(tz)s::text)::date AS month, a."userId", a."sessionId"
    FROM ops.activity_15m a, w
    WHERE NOT w.counters
      AND a."bucket" >= (w.first_month::timestamp AT TIME ZONE %(tz)s::text) - interval '1 day'
      AND a."bucket" < ((w.last_month + interval '1 month')::timestamp AT TIME ZONE %(tz)s::text)
                       + interval '1 day'
      AND date_trunc('month', a."bucket" AT TIME ZONE %(tz)s::text)::date
          BETWEEN w.first_month AND w.last_month
), agg AS (
    SELECT s."month", s."users" AS mau, s."sessions" AS sessions
    FROM ops.month_stats s, w
    WHERE w.counters AND s."month" BETWEEN w.first_month AND w.last_month
    UNION ALL
    SELECT month, count(DISTINCT "userId"), count(DISTINCT "sessionId")
    FROM r GROUP BY month
)
SELECT to_char(m.month, 'YYYY-MM') AS month,
       coalesce(a.mau, 0) AS mau,
       coalesce(a.sessions, 0) AS sessions
FROM w, generate_series(w.first_month, w.last_month, interval '1 month') AS m(month)
LEFT JOIN agg a ON a.month = m.month::date
ORDER BY m.month DESC
