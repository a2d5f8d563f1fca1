-- cohort_retention (fast form) - same params, cohorts, columns and order as the oracle.
-- In the reporting time zone (tz = ops.reporting_tz()): the cohort weeks' students as one
-- range of ops.user_cohort's partial ("signupDay") INCLUDE ("activeWeeks") index (migration
-- 0010: per user the local signup day and bit K-1 set when the user had an event in week K
-- after it), instead of one probe per student. In any other zone: the students from a
-- "createdAt" range of "User_createdAt_idx" (a day wider on each side: DST) with the exact
-- local-week filter on top, then one probe each into ops.activity_15m through its
-- ("userId", "bucket") index (migration 0003). Both branches are in the statement, gated by
-- a one-row condition, so only one runs.
-- Freshness: real time (statement-level triggers on "BehaviorLog", ops.user_day and "User").
WITH w AS (
    SELECT date_trunc('week', now() AT TIME ZONE %(tz)s::text)::date AS this_week,
           %(tz)s::text = ops.reporting_tz() AS counters
), flags AS (
    SELECT date_trunc('week', c."signupDay")::date AS cohort_week,
           (c."activeWeeks" & 1) <> 0 AS w1, (c."activeWeeks" & 2) <> 0 AS w2,
           (c."activeWeeks" & 4) <> 0 AS w3, (c."activeWeeks" & 8) <> 0 AS w4
    FROM w, ops.user_cohort c
    WHERE w.counters AND c."student"
      AND c."signupDay" BETWEEN w.this_week - 7 * (%(weeks)s::int - 1) AND w.this_week + 6
    UNION ALL
    SELECT c.cohort_week,
           bool_or(k = 1) IS TRUE, bool_or(k = 2) IS TRUE, bool_or(k = 3) IS TRUE, bool_or(k = 4) IS TRUE
    FROM (SELECT u."id", (ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date AS signup_day,
                 date_trunc('week', ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date AS cohort_week
          FROM "User" u, w
          WHERE NOT w.counters AND u."role" = 'STUDENT'
            AND date_trunc('week', ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date
                BETWEEN w.this_week - 7 * (%(weeks)s::int - 1) AND w.this_week
            -- the same weeks as a "createdAt" range, a day wider on each side (DST): an index
            -- range scan of "User_createdAt_idx" instead of the week of every user
            AND u."createdAt" >= ((w.this_week - 7 * (%(weeks)s::int - 1))::timestamp AT TIME ZONE %(tz)s::text)
                                 - interval '1 day'
            AND u."createdAt" < ((w.this_week + 7)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day') c
    LEFT JOIN LATERAL (
        SELECT DISTINCT ((a."bucket" AT TIME ZONE %(tz)s::text)::date - c.signup_day) / 7 AS k
        FROM ops.activity_15m a
        WHERE a."userId" = c."id"
          AND a."bucket" >= ((c.signup_day + 7)::timestamp AT TIME ZONE %(tz)s::text) - interval '1 day'
          AND a."bucket" < ((c.signup_day + 35)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day'
          AND (a."bucket" AT TIME ZONE %(tz)s::text)::date - c.signup_day BETWEEN 7 AND 34
    ) act ON true
    GROUP BY c."id", c.cohort_week
)
SELECT wk.week::date AS cohort_week,
       count(f.cohort_week) AS cohort_size,
       count(*) FILTER (WHERE f.w1) AS week1,
       count(*) FILTER (WHERE f.w2) AS week2,
       count(*) FILTER (WHERE f.w3) AS week3,
       count(*) FILTER (WHERE f.w4) AS week4
FROM w, generate_series(w.this_week - 7 * (%(weeks)s::int - 1), w.this_week, interval '7 days') AS wk(week)
LEFT JOIN flags f ON f.cohort_week = wk.week::date
GROUP BY wk.week
ORDER BY wk.week DESC
