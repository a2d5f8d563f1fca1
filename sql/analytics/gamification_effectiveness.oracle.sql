-- gamification_effectiveness (oracle)
-- Params: none. All time. STUDENT users only, each counted once.
-- Segments: points_segment = high (points >= 1000), medium (>= 100), low; streak_segment =
--   high (currentStreak >= 7), medium (>= 3), low (also without a UserStreak row). All nine
--   combinations appear (user_count 0, averages NULL when empty).
-- Columns: points_segment, streak_segment, user_count,
--   avg_progress      mean over the segment's users of each user's mean progressPercentage
--                     (0 for a user without progress), numeric 2 dp
--   sessions_per_user distinct (user, sessionId) pairs of the users' BehaviorLog rows divided
--                     by user_count, numeric 2 dp (no integer division)
--   completed_lessons UserProgress rows with status COMPLETED of the segment's users
-- Order: points_segment high -> low, then streak_segment high -> low.
WITH per_user AS (
    SELECT u."id",
           CASE WHEN u."points" >= 1000 THEN 'high' WHEN u."points" >= 100 THEN 'medium' ELSE 'low' END AS ps,
           CASE WHEN coalesce(s."currentStreak", 0) >= 7 THEN 'high'
                WHEN coalesce(s."currentStreak", 0) >= 3 THEN 'medium' ELSE 'low' END AS ss,
           (SELECT coalesce(avg(coalesce(p."progressPercentage", 0)::numeric), 0) FROM "UserProgress" p
             WHERE p."userId" = u."id") AS avg_progress,
           (SELECT count(DISTINCT b."sessionId") FROM "BehaviorLog" b WHERE b."userId" = u."id") AS sessions,
           (SELECT count(*) FROM "UserProgress" p WHERE p."userId" = u."id" AND p."status" = 'COMPLETED')
               AS completed
    FROM "User" u LEFT JOIN "UserStreak" s ON s."userId" = u."id"
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
