-- leaderboard (fast form) - same params, window, columns and order as the oracle.
-- Achievements in the window are counted once per user in one aggregate (a range scan of the
-- ("awardedAt") INCLUDE ("userId") index of migration 0005 for week/month) instead of a
-- correlated count per student;
-- the streak comes from a join on the unique "UserStreak"("userId").
-- Freshness: real time (base tables). The Redis cache layer (key
-- leaderboard:{group|global}:{timeframe}:{limit}, TTL 5 minutes) sits on top of this form.
WITH ach AS (
    SELECT a."userId", count(*) AS n
    FROM "UserAchievement" a
    WHERE %(timeframe)s::text = 'all'
       OR (a."awardedAt" >= (((now() AT TIME ZONE %(tz)s::text)::date
                              - CASE %(timeframe)s::text WHEN 'week' THEN 6 ELSE 29 END)::timestamp
                             AT TIME ZONE %(tz)s::text) - interval '1 day'
           AND (a."awardedAt" AT TIME ZONE %(tz)s::text)::date
               > (now() AT TIME ZONE %(tz)s::text)::date - CASE %(timeframe)s::text WHEN 'week' THEN 7 ELSE 30 END)
    GROUP BY a."userId"
), scored AS (
    SELECT u."id", u."name", u."points",
           coalesce(s."currentStreak", 0) AS streak,
           coalesce(ach.n, 0) AS achievement_count
    FROM "User" u
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN ach ON ach."userId" = u."id"
    WHERE u."role" = 'STUDENT'
      AND (%(group_id)s::text IS NULL
           OR u."id" IN (SELECT m."userId" FROM "BuddyMember" m WHERE m."groupId" = %(group_id)s::text))
)
SELECT row_number() OVER (ORDER BY points + 10 * streak + 50 * achievement_count DESC, id) AS rank,
       id, name, points, streak, achievement_count,
       points + 10 * streak + 50 * achievement_count AS total_score
FROM scored
ORDER BY total_score DESC, id
LIMIT %(limit)s::int
