-- leaderboard (oracle)
-- Params: group_id text or NULL (default NULL = all students), timeframe 'all'|'month'|'week'
--   (default 'all'), limit int (1..1000, default 50), tz text (default 'UTC').
-- Window for achievements: week = the 7 whole calendar days ending today in tz, month = the 30
--   whole calendar days ending today in tz, all = no limit (awardedAt local date compared).
-- Every STUDENT appears (in the group, when group_id is given), with 0 achievements if none.
-- Columns: rank (1..), id, name (jsonb), points, streak (UserStreak.currentStreak, 0 if no
--   row), achievement_count, total_score = points + 10 * streak + 50 * achievement_count.
-- Order: total_score DESC, id ASC (stable ties); first %(limit)s rows.
WITH scored AS (
    SELECT u."id", u."name", u."points",
           coalesce((SELECT s."currentStreak" FROM "UserStreak" s WHERE s."userId" = u."id"), 0) AS streak,
           (SELECT count(*) FROM "UserAchievement" a
             WHERE a."userId" = u."id"
               AND (%(timeframe)s::text = 'all'
                    OR (ops.utc(a."awardedAt") AT TIME ZONE %(tz)s::text)::date
                       > (now() AT TIME ZONE %(tz)s::text)::date
                         - CASE %(timeframe)s::text WHEN 'week' THEN 7 ELSE 30 END)) AS achievement_count
    FROM "User" u
    WHERE u."role" = 'STUDENT'
      AND (%(group_id)s::text IS NULL
           OR EXISTS (SELECT 1 FROM "BuddyMember" m
                       WHERE m."groupId" = %(group_id)s::text AND m."userId" = u."id"))
)
SELECT row_number() OVER (ORDER BY points + 10 * streak + 50 * achievement_count DESC, id) AS rank,
       id, name, points, streak, achievement_count,
       points + 10 * streak + 50 * achievement_count AS total_score
FROM scored
ORDER BY total_score DESC, id
LIMIT %(limit)s::int
