-- gamification_effectiveness (fast form) - same segments, columns and order as the oracle.
-- One narrow row per student of ops.user_score (migrations 0008 and 0009: student flag,
-- points, streak = the UserStreak currentStreak or 0, and the user's progress rows, COMPLETED
-- rows, summed progressPercentage and sessions, kept by triggers) instead of the wide "User"
-- rows joined to "UserStreak", "UserProgress" and the sessions of "BehaviorLog". Grouped by
-- integer segment codes (0 high, 1 medium, 2 low) in one hash aggregate, then the grid.
-- Freshness: real time (triggers).
WITH agg AS (
    SELECT (s."points" < 1000)::int + (s."points" < 100)::int AS pk,
           (s."streak" < 7)::int + (s."streak" < 3)::int AS sk,
           count(*) AS n,
           avg(CASE WHEN s."progressRows" > 0 THEN s."progressSum" / s."progressRows" ELSE 0 END) AS ap,
           sum(s."sessions") AS sessions, sum(s."completed") AS completed
    FROM ops.user_score s
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
