-- cohort_retention (oracle)
-- Params: weeks int (1..520, default 12), tz text (default 'UTC').
-- Cohorts: the %(weeks)s whole calendar weeks (Monday..Sunday, local dates in tz) ending with
--   the current week; a STUDENT belongs to the week of the local date of "createdAt" (signup
--   day S). Every week appears, weeks with nobody with cohort_size 0.
-- weekK (K = 1..4): students of the cohort with at least one BehaviorLog event (non-null
--   userId) whose local date is in [S + 7K, S + 7K + 7) (whole days after their own signup
--   day). Windows still in the future simply count nobody yet.
-- Columns: cohort_week (date, the Monday), cohort_size, week1, week2, week3, week4.
-- Order: cohort_week DESC.
WITH w AS (
    SELECT date_trunc('week', now() AT TIME ZONE %(tz)s::text)::date AS this_week
), cohort AS (
    SELECT u."id", (ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date AS signup_day,
           date_trunc('week', ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date AS cohort_week
    FROM "User" u, w
    WHERE u."role" = 'STUDENT'
      AND date_trunc('week', ops.utc(u."createdAt") AT TIME ZONE %(tz)s::text)::date
          BETWEEN w.this_week - 7 * (%(weeks)s::int - 1) AND w.this_week
), flags AS (
    SELECT c."id", c.cohort_week,
        EXISTS (SELECT 1 FROM "BehaviorLog" b WHERE b."userId" = c."id"
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date >= c.signup_day + 7
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date < c.signup_day + 14) AS w1,
        EXISTS (SELECT 1 FROM "BehaviorLog" b WHERE b."userId" = c."id"
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date >= c.signup_day + 14
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date < c.signup_day + 21) AS w2,
        EXISTS (SELECT 1 FROM "BehaviorLog" b WHERE b."userId" = c."id"
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date >= c.signup_day + 21
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date < c.signup_day + 28) AS w3,
        EXISTS (SELECT 1 FROM "BehaviorLog" b WHERE b."userId" = c."id"
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date >= c.signup_day + 28
                AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date < c.signup_day + 35) AS w4
    FROM cohort c
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
