-- cohort_retention (fast form) - same params, cohorts, columns and order as the oracle.
-- For the cohort's students only, one probe each instead of four correlated EXISTS probes
-- into "BehaviorLog": in the reporting time zone (tz = ops.reporting_tz()) into ops.user_day
-- (migration 0006: one row per local day and user, ("userId", "day") index), in any other
-- zone into ops.activity_15m through its ("userId", "bucket") index (migration 0003). The
-- students themselves come from a "createdAt" range of "User_createdAt_idx".
-- Freshness: real time (statement-level triggers on "BehaviorLog").
WITH w AS (
    SELECT date_trunc('week', now() AT TIME ZONE %(tz)s::text)::date AS this_week,
           %(tz)s::text = ops.reporting_tz() AS counters
), cohort AS (
    SELECT u."id", (u."createdAt" AT TIME ZONE %(tz)s::text)::date AS signup_day,
           date_trunc('week', u."createdAt" AT TIME ZONE %(tz)s::text)::date AS cohort_week
    FROM "User" u, w
    WHERE u."role" = 'STUDENT'
      AND date_trunc('week', u."createdAt" AT TIME ZONE %(tz)s::text)::date
          BETWEEN w.this_week - 7 * (%(weeks)s::int - 1) AND w.this_week
      -- the same weeks as a "createdAt" range, a day wider on each side (DST): an index range
      -- scan of "User_createdAt_idx" instead of the week of every user
      AND u."createdAt" >= ((w.this_week - 7 * (%(weeks)s::int - 1))::timestamp AT TIME ZONE %(tz)s::text)
                           - interval '1 day'
      AND u."createdAt" < ((w.this_week + 7)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day'
), act AS (
    SELECT c."id", (d."day" - c.signup_day) / 7 AS k
    FROM w, cohort c
    JOIN ops.user_day d ON d."userId" = c."id" AND d."day" BETWEEN c.signup_day + 7 AND c.signup_day + 34
    WHERE w.counters
    UNION ALL
    SELECT DISTINCT c."id", ((a."bucket" AT TIME ZONE %(tz)s::text)::date - c.signup_day) / 7
    FROM w, cohort c
    JOIN ops.activity_15m a
      ON a."userId" = c."id"
     AND a."bucket" >= ((c.signup_day + 7)::timestamp AT TIME ZONE %(tz)s::text) - interval '1 day'
     AND a."bucket" < ((c.signup_day + 35)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day'
    WHERE NOT w.counters AND (a."bucket" AT TIME ZONE %(tz)s::text)::date - c.signup_day BETWEEN 7 AND 34
), flags AS (
    SELECT c."id", c.cohort_week,
           bool_or(act.k = 1) AS w1, bool_or(act.k = 2) AS w2,
           bool_or(act.k = 3) AS w3, bool_or(act.k = 4) AS w4
    FROM cohort c LEFT JOIN act ON act."id" = c."id"
    GROUP BY c."id", c.cohort_week
)
SELECT wk.week::date AS cohort_week,
       count(f."id") AS cohort_size,
       count(f."id") FILTER (WHERE f.w1) AS week1,
       count(f."id") FILTER (WHERE f.w2) AS week2,
       count(f."id") FILTER (WHERE f.w3) AS week3,
       count(f."id") FILTER (WHERE f.w4) AS week4
FROM w, generate_series(w.this_week - 7 * (%(weeks)s::int - 1), w.this_week, interval '7 days') AS wk(week)
LEFT JOIN flags f ON f.cohort_week = wk.week::date
GROUP BY wk.week
ORDER BY wk.week DESC
