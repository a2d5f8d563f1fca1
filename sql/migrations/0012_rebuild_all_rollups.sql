-- Migration 0012: one entry point for the full rebuild of the ops rollups, and their list.
--
-- The rollups of 0003-0011 are kept by triggers; each family also has a full rebuild
-- function. Which functions exist, the order they must run in and which tables they write
-- were listed in Python by the seeder (module_utils/vedfin_seed), which loads the app tables
-- without the triggers and rebuilds afterwards. That knowledge belongs to the SQL that
-- defines the rollups: a later migration that adds a rollup replaces these two functions
-- (CREATE OR REPLACE, whole) with its rebuild and its tables added.
--
-- ops.rebuild_all_rollups() runs every full rebuild, in dependency order, in the caller's
-- transaction, and returns one row per rebuild function with its duration in seconds (the
-- seeder reports them in its phases). Order:
--   ops.rebuild_behavior_rollups  0003, 0006, 0011: activity_15m, user_session,
--                                 course_path_session, user_activity, course_path_stats
--   ops.rebuild_enrollment        0004, 0011: enrollment
--   ops.rebuild_calendar          0006, 0011: user_day, session_day, user_month,
--                                 session_month, day_stats, month_stats
--   ops.rebuild_user_cohort       0010, 0011: user_cohort (reads ops.user_day)
--   ops.rebuild_progress          0006, 0008, 0011: user_course_progress, user_progress,
--                                 course_progress
--   ops.rebuild_level_progress    0009: level_progress, level_stats, course_progress_sum
--   ops.rebuild_user_score        0008 (replaced in 0009): user_score (reads ops.user_progress,
--                                 ops.user_course_progress and ops.user_activity)
-- Each rebuild TRUNCATEs what it writes: the caller takes those locks, so app writes to
-- "BehaviorLog", "UserProgress" and "User" wait until its transaction ends.
--
-- ops.rollup_tables() is the set of tables those functions write (the seeder drops their
-- indexes around the rebuild and builds them again after it, sorted).
--
-- Applying this file creates two functions and touches no table.

CREATE OR REPLACE FUNCTION ops.rebuild_all_rollups()
    RETURNS TABLE (rebuild text, seconds double precision)
    LANGUAGE plpgsql AS
$fn$
DECLARE
    started timestamptz;
BEGIN
    FOREACH rebuild IN ARRAY ARRAY[
        'ops.rebuild_behavior_rollups',
        'ops.rebuild_enrollment',
        'ops.rebuild_calendar',
        'ops.rebuild_user_cohort',
        'ops.rebuild_progress',
        'ops.rebuild_level_progress',
        'ops.rebuild_user_score'
    ] LOOP
        started := clock_timestamp();
        EXECUTE format('SELECT %s()', rebuild);
        seconds := extract(epoch FROM clock_timestamp() - started);
        RETURN NEXT;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION ops.rebuild_all_rollups() IS
    'Full rebuild of every ops rollup from the app tables, in dependency order; one row per rebuild '
    'function with its seconds (ved-db-ops 0012; a migration adding a rollup replaces it).';

CREATE OR REPLACE FUNCTION ops.rollup_tables() RETURNS SETOF regclass
    LANGUAGE sql STABLE AS
$fn$
    SELECT unnest('{
        ops.activity_15m, ops.user_session, ops.course_path_session, ops.user_activity,
        ops.course_path_stats,
        ops.enrollment,
        ops.user_day, ops.session_day, ops.user_month, ops.session_month, ops.day_stats,
        ops.month_stats,
        ops.user_cohort,
        ops.user_course_progress, ops.user_progress, ops.course_progress,
        ops.level_progress, ops.level_stats, ops.course_progress_sum,
        ops.user_score
    }'::regclass[])
$fn$;
COMMENT ON FUNCTION ops.rollup_tables() IS
    'The tables written by ops.rebuild_all_rollups() (ved-db-ops 0012; replaced with it).';
