-- gamification_effectiveness (fast form) - same segments, columns and order as the oracle.
-- Per student one row of ops.user_score (migration 0008: student flag, points, streak = the
-- UserStreak currentStreak or 0), ops.user_progress (rows, COMPLETED rows, summed
-- progressPercentage) and ops.user_activity (sessions) (migration 0006), joined by primary
-- key: three narrow rollups instead of the wide "User" rows and "UserStreak". Grouped by
-- integer segment codes (0 high, 1 medium, 2 low) in one hash aggregate, then the grid.
-- Freshness: real time (triggers).
WITH agg AS (
    SELECT (s."points" < 1000)::int + (s."points" < 100)::int AS pk,
           (s."streak" < 7)::int + (s."streak" < 3)::int AS sk,
           count(*) AS n, avg(coalesce(p."progressSum" / p."rows", 0)) AS ap,
           sum(a."sessions") AS sessions, sum(p."completed") AS completed
    FROM ops.user_score s
    LEFT JOIN ops.user_progress p ON p."userId" = s."userId"
    LEFT JOIN ops.user_activity a ON a."userId" = s."userId"
    WHERE s."student"
    GROUP BY 1, 2
), seg(name, k) AS (VALUES ('high', 0), ('medium', 1), ('low', 2))
SELECT p.name AS points_segment, s.name AS streak_segment,
       coalesce(a.n, 0) AS user_count,
       round(a.ap, 2) AS avg_progress,
       round(coalesce(a.sessions, 0)::numeric / nullif(a.n, 0), 2) AS sessions_per_user,
       coalesce(a.completed, 0)::bigint AS completed_lessons
FROM seg p CROSS JOIN seg s
LEFT JOIN agg a ON a.pk = p.k AND a.sk = s.k
ORDER BY p.k, s.k
