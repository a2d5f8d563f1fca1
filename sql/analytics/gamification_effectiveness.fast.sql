-- gamification_effectiveness (fast form) - same segments, columns and order as the oracle.
-- Per student one row of ops.user_progress (rows, COMPLETED rows, summed progressPercentage)
-- and of ops.user_activity (sessions), both migration 0006 and maintained by triggers,
-- joined by primary key instead of aggregating "UserProgress" and the sessions per user.
-- Freshness: real time.
WITH per_user AS (
    SELECT u."id",
           CASE WHEN u."points" >= 1000 THEN 'high' WHEN u."points" >= 100 THEN 'medium' ELSE 'low' END AS ps,
           CASE WHEN coalesce(s."currentStreak", 0) >= 7 THEN 'high'
                WHEN coalesce(s."currentStreak", 0) >= 3 THEN 'medium' ELSE 'low' END AS ss,
           coalesce(p."progressSum" / p."rows", 0) AS avg_progress,
           coalesce(a."sessions", 0) AS sessions,
           coalesce(p."completed", 0) AS completed
    FROM "User" u
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN ops.user_progress p ON p."userId" = u."id"
    LEFT JOIN ops.user_activity a ON a."userId" = u."id"
    WHERE u."role" = 'STUDENT'
), agg AS (
    -- nine groups from one hash aggregate, then the segment grid (no sort of every student)
    SELECT ps, ss, count(*) AS n, avg(avg_progress) AS ap, sum(sessions) AS sessions, sum(completed) AS completed
    FROM per_user GROUP BY ps, ss
), seg(name, ord) AS (VALUES ('high', 1), ('medium', 2), ('low', 3))
SELECT p.name AS points_segment, s.name AS streak_segment,
       coalesce(a.n, 0) AS user_count,
       round(a.ap, 2) AS avg_progress,
       round(a.sessions::numeric / nullif(a.n, 0), 2) AS sessions_per_user,
       coalesce(a.completed, 0)::bigint AS completed_lessons
FROM seg p CROSS JOIN seg s
LEFT JOIN agg a ON a.ps = p.name AND a.ss = s.name
ORDER BY p.ord, s.ord
