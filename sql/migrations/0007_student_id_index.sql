-- migrate: no-transaction
-- Students in id order (issue 9: whole-population fast forms at the `large` preset).
-- learning_funnel, gamification_effectiveness and at_risk_students join one row per
-- student of the ops rollups (primary key "userId") to the students; this partial index lets
-- them read just the students' ids (index-only, in id order: merge joins, and an id-ordered
-- walk with LIMIT for the never-active students) instead of every "User" row. Built
-- CONCURRENTLY: the application's writes to "User" are not blocked; the runner drops an
-- INVALID leftover and the statement is idempotent (IF NOT EXISTS).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "User_student_id_idx" ON "User" ("id") WHERE "role" = 'STUDENT';
