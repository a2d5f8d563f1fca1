-- migrate: no-transaction
-- Index for the leaderboard's timeframe filter (issue "13 analytics queries: oracle + fast
-- forms"; see sql/analytics/leaderboard.fast.sql and docs/ANALYTICS_API_REFERENCE.md).
-- "week" / "month" leaderboards count the achievements awarded in the last 7 / 30 days:
-- a range on "awardedAt" that also yields "userId" (INCLUDE) answers it with an index-only
-- scan. CREATE INDEX CONCURRENTLY does not block the application's writes; the runner drops
-- an INVALID leftover and this statement is idempotent (IF NOT EXISTS).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "UserAchievement_awardedAt_userId_idx"
    ON "UserAchievement" ("awardedAt") INCLUDE ("userId");
