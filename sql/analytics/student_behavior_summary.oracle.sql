-- student_behavior_summary (oracle)
-- Params: user_id text (required), days int (1..3650, default 30), tz text (default 'UTC').
-- Window: the %(days)s whole calendar days ending today in tz (local dates of "timestamp").
-- Columns (always one row, zeros for an unknown or inactive user): user_id, total_events,
--   sessions (distinct sessionId), total_duration (sum of coalesce(duration, 0), seconds),
--   most_common_event (mode of eventType, ties by eventType ASC; NULL when no events).
WITH ev AS (
    SELECT b."sessionId", b."eventType", b."duration"
    FROM "BehaviorLog" b
    WHERE b."userId" = %(user_id)s::text
      AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date
          > (now() AT TIME ZONE %(tz)s::text)::date - %(days)s::int
      AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date <= (now() AT TIME ZONE %(tz)s::text)::date
)
SELECT %(user_id)s::text AS user_id,
       (SELECT count(*) FROM ev) AS total_events,
       (SELECT count(DISTINCT "sessionId") FROM ev) AS sessions,
       (SELECT coalesce(sum(coalesce("duration", 0)), 0) FROM ev) AS total_duration,
       (SELECT "eventType" FROM ev GROUP BY "eventType" ORDER BY count(*) DESC, "eventType" LIMIT 1)
           AS most_common_event
