-- gamification_effectiveness (fast form) - same segments, columns and order as the oracle.
-- Sessions per user come from ops.user_session (one row per (user, session), maintained by
-- triggers) instead of count(DISTINCT "sessionId") over "BehaviorLog"; progress is
-- aggregated once per user (one pass over "UserProgress").
-- Freshness: real time.
WITH sess AS (
    SELECT "userId", count(*) AS sessions FROM ops.user_session GROUP BY "userId"
), prog AS (
    SELECT "userId", avg("progressPercentage"::numeric) AS ap,
           count(*) FILTER (WHERE "status" = 'COMPLETED') AS completed
    FROM "UserProgress" GROUP BY "userId"
), per_user AS (
    SELECT u."id",
           CASE WHEN u."points" >= 1000 THEN 'high' WHEN u."points" >= 100 THEN 'medium' ELSE 'low' END AS ps,
           CASE WHEN coalesce(s."currentStreak", 0) >= 7 THEN 'high'
                WHEN coalesce(s."currentStreak", 0) >= 3 THEN 'medium' ELSE 'low' END AS ss,
           coalesce(p.ap, 0) AS avg_progress,
           coalesce(x.sessions, 0) AS sessions,
           coalesce(p.completed, 0) AS completed
    FROM "User" u
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN prog p ON p."userId" = u."id"
    LEFT JOIN sess x ON x."userId" = u."id"
    WHERE u."role" = 'STUDENT'
), seg(name, ord) AS (VALUES ('high', 1), ('medium', 2), ('low', 3))
SELECT p.name AS points_segment, s.name AS streak_segment,
       count(u."id") AS user_count,
       round(avg(u.avg_progress), 2) AS avg_progress,
       round(sum(u.sessions)::numeric / nullif(count(u."id"), 0), 2) AS sessions_per_user,
       coalesce(sum(u.completed), 0)::bigint AS completed_lessons
FROM seg p CROSS JOIN seg s
LEFT JOIN per_user u ON u.ps = p.name AND u.ss = s.name
GROUP BY p.name, p.ord, s.name, s.ord
ORDER BY p.ord, s.ord
