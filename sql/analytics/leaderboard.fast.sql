-- leaderboard (fast form) - same params, window, columns and order as the oracle.
-- Candidates first, then the candidates are scored from the base tables like the oracle:
--   all students, timeframe 'all': the first %(limit)s students of ops.user_score (migration
--     0008: points, streak and all-time achievements per user, kept by triggers) in the order
--     of its all-time score index - exactly the first %(limit)s of the board;
--   all students, week/month: the first %(limit)s students by points + 10 x streak (second
--     index of ops.user_score, "top_base") plus the students with an achievement in the
--     window (a range of the ("awardedAt") INCLUDE ("userId") index of 0005) whose score
--     reaches the last top_base's points + 10 x streak. A student outside both either has no
--     achievement in the window, so scores points + 10 x streak, and each of top_base scores
--     at least as much (ties: lower id), or scores below every top_base - none can be passed;
--   a buddy group: its members.
-- Achievements in the window are counted once per user in one aggregate; the streak comes
-- from a join on the unique "UserStreak"("userId").
-- Freshness: real time (triggers on "User", "UserStreak", "UserAchievement"). The Redis cache
-- layer (key leaderboard:{group|global}:{timeframe}:{limit}, TTL 5 minutes) sits on top.
WITH win AS (
    SELECT a."userId", count(*) AS n
    FROM "UserAchievement" a
    WHERE %(timeframe)s::text <> 'all'
      AND a."awardedAt" >= (((now() AT TIME ZONE %(tz)s::text)::date
                             - CASE %(timeframe)s::text WHEN 'week' THEN 6 ELSE 29 END)::timestamp
                            AT TIME ZONE %(tz)s::text) - interval '1 day'
      AND (ops.utc(a."awardedAt") AT TIME ZONE %(tz)s::text)::date
          > (now() AT TIME ZONE %(tz)s::text)::date - CASE %(timeframe)s::text WHEN 'week' THEN 7 ELSE 30 END
    GROUP BY a."userId"
), top_base AS (
    SELECT s."userId", s."points" + 10 * s."streak" AS base
    FROM ops.user_score s
    WHERE %(group_id)s::text IS NULL AND %(timeframe)s::text <> 'all' AND s."student"
    ORDER BY s."points" + 10 * s."streak" DESC, s."userId"
    LIMIT %(limit)s::int
), cand AS (
    (SELECT s."userId" FROM ops.user_score s
     WHERE %(group_id)s::text IS NULL AND %(timeframe)s::text = 'all' AND s."student"
     ORDER BY s."points" + 10 * s."streak" + 50 * s."achievements" DESC, s."userId"
     LIMIT %(limit)s::int)
    UNION
    SELECT t."userId" FROM top_base t
    UNION
    SELECT w."userId"
    FROM win w JOIN ops.user_score s ON s."userId" = w."userId" AND s."student"
    WHERE %(group_id)s::text IS NULL
      -- fewer students than %(limit)s: no bound (every student is in top_base anyway)
      AND s."points" + 10 * s."streak" + 50 * w.n
          >= coalesce((SELECT min(t.base) FROM top_base t HAVING count(*) = %(limit)s::int), 0)
    UNION
    SELECT m."userId" FROM "BuddyMember" m WHERE m."groupId" = %(group_id)s::text
), scored AS (
    SELECT u."id", u."name", u."points",
           coalesce(s."currentStreak", 0) AS streak,
           CASE WHEN %(timeframe)s::text = 'all'
                THEN (SELECT count(*) FROM "UserAchievement" a WHERE a."userId" = u."id")
                ELSE coalesce(w.n, 0) END AS achievement_count
    FROM cand c
    JOIN "User" u ON u."id" = c."userId" AND u."role" = 'STUDENT'
    LEFT JOIN "UserStreak" s ON s."userId" = u."id"
    LEFT JOIN win w ON w."userId" = u."id"
)
SELECT row_number() OVER (ORDER BY points + 10 * streak + 50 * achievement_count DESC, id) AS rank,
       id, name, points, streak, achievement_count,
       points + 10 * streak + 50 * achievement_count AS total_score
FROM scored
ORDER BY total_score DESC, id
LIMIT %(limit)s::int
