-- student_behavior_pattern (oracle)
-- Params: user_id text (required), days int (1..3650, default 30), tz text (default 'UTC').
-- Event metrics use the user's BehaviorLog rows in the %(days)s whole calendar days ending
--   today in tz; progress metrics use all of the user's UserProgress rows (all time).
-- Columns (always one row): user_id,
--   preferred_hour       mode of the local hour of day (0..23) of the events, ties -> lowest
--                        hour; NULL without events
--   active_days          distinct local dates with an event
--   avg_session_duration per sessionId sum of coalesce(duration, 0), averaged (numeric 2 dp;
--                        NULL without events)
--   most_common_event    mode of eventType, ties -> eventType ASC; NULL without events
--   preferred_difficulty mode of the Level of the distinct courses the user is enrolled in
--                        (has progress on), ties -> lower level; NULL when not enrolled
--   completed_lessons    UserProgress rows with status COMPLETED
--   in_progress_lessons  UserProgress rows with status STARTED or IN_PROGRESS
--   avg_progress         mean progressPercentage (numeric 2 dp, 0 without progress)
--   total_sessions       distinct sessionId among the window's events
WITH ev AS (
    SELECT b."sessionId", b."eventType", b."duration", ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text AS local_ts
    FROM "BehaviorLog" b
    WHERE b."userId" = %(user_id)s::text
      AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date
          > (now() AT TIME ZONE %(tz)s::text)::date - %(days)s::int
      AND (ops.utc(b."timestamp") AT TIME ZONE %(tz)s::text)::date <= (now() AT TIME ZONE %(tz)s::text)::date
), prog AS (
    SELECT p."status", p."progressPercentage", l."courseId"
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    WHERE p."userId" = %(user_id)s::text
)
SELECT %(user_id)s::text AS user_id,
    (SELECT extract(hour FROM local_ts)::int FROM ev
      GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS preferred_hour,
    (SELECT count(DISTINCT local_ts::date) FROM ev) AS active_days,
    (SELECT round(avg(dur)::numeric, 2)
       FROM (SELECT sum(coalesce("duration", 0)) AS dur FROM ev GROUP BY "sessionId") x) AS avg_session_duration,
    (SELECT "eventType" FROM ev GROUP BY "eventType" ORDER BY count(*) DESC, "eventType" LIMIT 1)
        AS most_common_event,
    (SELECT c."level" FROM "Course" c
      WHERE c."id" IN (SELECT "courseId" FROM prog)
      GROUP BY c."level" ORDER BY count(*) DESC, c."level" LIMIT 1) AS preferred_difficulty,
    (SELECT count(*) FROM prog WHERE "status" = 'COMPLETED') AS completed_lessons,
    (SELECT count(*) FROM prog WHERE "status" IN ('STARTED', 'IN_PROGRESS')) AS in_progress_lessons,
    (SELECT round(coalesce(avg(coalesce("progressPercentage", 0)::numeric), 0), 2) FROM prog) AS avg_progress,
    (SELECT count(DISTINCT "sessionId") FROM ev) AS total_sessions
