-- migrate: no-transaction
-- Analytics indexes on the big, append-only "BehaviorLog" table. CREATE INDEX CONCURRENTLY
-- cannot run inside a transaction, hence the marker above: the runner runs each statement on
-- its own and drops an INVALID index left by a failed build, so keep every statement
-- idempotent (IF NOT EXISTS). The runner sets lock_timeout/statement_timeout for the session.

-- Time-range scans (daily/monthly active users, cohort retention) read recent "timestamp"
-- ranges of an insert-ordered table: a BRIN index is tiny (kilobytes per million rows) and
-- costs almost nothing on insert, unlike another btree.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "BehaviorLog_timestamp_brin_idx"
    ON "BehaviorLog" USING brin ("timestamp") WITH (pages_per_range = 32);
