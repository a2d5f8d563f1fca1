-- daily_active_users (oracle: plain SQL over the base tables)
-- Params: days int (1..3650, default 30), tz text (IANA zone, default 'UTC').
-- Window: the %(days)s whole calendar days ending today, "today" = (now() AT TIME ZONE tz)::date;
--   a day D covers [D 00:00, D+1 00:00) local time in tz. Every day of the window appears,
--   days without events with dau = 0, sessions = 0, avg_session_duration = NULL.
-- Events: BehaviorLog rows with a non-null userId (any role); null userId rows are ignored.
-- Columns: date (date), dau (distinct userId), sessions (distinct sessionId that day),
--   avg_session_duration (numeric 2 dp, seconds: per (day, sessionId) sum of
--   coalesce(duration, 0), averaged over that day's sessions). Order: date DESC.
WITH w AS (
    SELECT (now() AT TIME ZONE %(tz)s::text)::date - (%(days)s::int - 1) AS first_day,
           (now() AT TIME ZONE %(tz)s::text)::date AS last_day
), ev AS (
    SELECT (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date AS day, b."userId", b."sessionId", b."duration"
    FROM "BehaviorLog" b, w
    WHERE b."userId" IS NOT NULL
      AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date BETWEEN w.first_day AND w.last_day
), per_session AS (
    SELECT day, "sessionId", sum(coalesce("duration", 0)) AS dur
    FROM ev GROUP BY day, "sessionId"
), users_per_day AS (
    SELECT day, count(DISTINCT "userId") AS dau FROM ev GROUP BY day
), sessions_per_day AS (
    SELECT day, count(*) AS sessions, round(avg(dur)::numeric, 2) AS avg_session_duration
    FROM per_session GROUP BY day
)
SELECT d.day::date AS date,
       coalesce(u.dau, 0) AS dau,
       coalesce(s.sessions, 0) AS sessions,
       s.avg_session_duration
FROM w, generate_series(w.first_day, w.last_day, interval '1 day') AS d(day)
LEFT JOIN users_per_day u ON u.day = d.day::date
LEFT JOIN sessions_per_day s ON s.day = d.day::date
ORDER BY d.day DESC
