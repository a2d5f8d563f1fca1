-- Analytics rollups of "BehaviorLog" (issue "13 analytics queries: oracle + fast forms").
-- Read by sql/analytics/*.fast.sql; documented in docs/ANALYTICS_API_REFERENCE.md.
--
-- Three ops-owned tables summarise the big, append-only "BehaviorLog" (rows with a null
-- "userId" are ignored by every analytics query, so they are not rolled up):
--
--   ops.activity_15m         one row per (15-minute UTC bucket, user, session): events,
--                            summed duration. Any whole local day/week/month of a time zone
--                            whose UTC offset is a multiple of 15 minutes (every IANA zone
--                            today) is a union of buckets, so DAU/MAU/cohorts are exact in
--                            any reporting time zone.
--   ops.user_session         one row per (user, session): events, summed duration, last
--                            event time (sessions per user, last activity per user).
--   ops.course_path_session  one row per (course slug, session) for rows whose path is
--                            '/courses/<slug>' or '/courses/<slug>/...': events, duration.
--
-- Freshness: real time. Statement-level AFTER triggers with transition tables keep them
-- exact inside the writing transaction:
--   INSERT   additive upsert of the statement's rows, grouped (one upsert per key per
--            statement, not per row; COPY fires it too);
--   UPDATE / DELETE (rare: the table is append-only; FK actions of "User" ON UPDATE
--            CASCADE / ON DELETE SET NULL land here) the rollup rows of every sessionId
--            with a deleted row or a row whose userId, sessionId, path, duration or
--            timestamp changed are deleted and rebuilt from the base table (sessionId index);
--   TRUNCATE empties the rollups.
-- ops.rebuild_behavior_rollups() rebuilds everything from scratch (also used below).
--
-- Locking: CREATE TRIGGER takes a SHARE ROW EXCLUSIVE lock on "BehaviorLog" that this
-- transaction keeps until the backfill at the end commits, so the application's inserts
-- wait for the backfill (about a second per million rows). That is what makes the rollups
-- exact from the first moment: no insert can slip between the backfill's snapshot and the
-- trigger. Run it in a quiet window on very large tables.

CREATE TABLE IF NOT EXISTS ops.activity_15m (
    "bucket"    timestamptz NOT NULL,
    "userId"    text NOT NULL,
    "sessionId" text NOT NULL,
    "events"    bigint NOT NULL,
    "duration"  bigint NOT NULL,
    PRIMARY KEY ("bucket", "userId", "sessionId")
);
CREATE INDEX IF NOT EXISTS activity_15m_user_bucket_idx ON ops.activity_15m ("userId", "bucket");
CREATE INDEX IF NOT EXISTS activity_15m_session_idx ON ops.activity_15m ("sessionId");
COMMENT ON TABLE ops.activity_15m IS
    'Rollup of "BehaviorLog" (non-null userId) per 15-minute UTC bucket, user and session; '
    'maintained by triggers (ved-db-ops 0003_analytics_rollups).';

CREATE TABLE IF NOT EXISTS ops.user_session (
    "userId"    text NOT NULL,
    "sessionId" text NOT NULL,
    "events"    bigint NOT NULL,
    "duration"  bigint NOT NULL,
    "lastAt"    timestamptz NOT NULL,
    PRIMARY KEY ("userId", "sessionId")
);
CREATE INDEX IF NOT EXISTS user_session_session_idx ON ops.user_session ("sessionId");
COMMENT ON TABLE ops.user_session IS
    'Rollup of "BehaviorLog" (non-null userId) per user and session; maintained by triggers.';

CREATE TABLE IF NOT EXISTS ops.course_path_session (
    "slug"      text NOT NULL,
    "sessionId" text NOT NULL,
    "events"    bigint NOT NULL,
    "duration"  bigint NOT NULL,
    PRIMARY KEY ("slug", "sessionId")
);
CREATE INDEX IF NOT EXISTS course_path_session_session_idx ON ops.course_path_session ("sessionId");
COMMENT ON TABLE ops.course_path_session IS
    'Rollup of "BehaviorLog" (non-null userId) rows under /courses/<slug> per slug and session; '
    'maintained by triggers.';

-- The course slug of a path: '/courses/<slug>' or '/courses/<slug>/...' -> <slug>, else NULL.
CREATE OR REPLACE FUNCTION ops.course_slug_of_path(path text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN substring(path FROM '^/courses/([^/]+)(?:/|$)');

-- The 15-minute UTC bucket of a timestamp.
CREATE OR REPLACE FUNCTION ops.bucket_15m(ts timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN date_bin('15 minutes', ts, timestamptz '2000-01-01 00:00:00+00');

-- Rebuild the rollup rows of some sessions (all of them when sessions IS NULL).
CREATE OR REPLACE FUNCTION ops.rebuild_behavior_rollups(sessions text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF sessions IS NULL THEN
        TRUNCATE ops.activity_15m, ops.user_session, ops.course_path_session;
    ELSE
        DELETE FROM ops.activity_15m WHERE "sessionId" = ANY (sessions);
        DELETE FROM ops.user_session WHERE "sessionId" = ANY (sessions);
        DELETE FROM ops.course_path_session WHERE "sessionId" = ANY (sessions);
    END IF;

    INSERT INTO ops.activity_15m ("bucket", "userId", "sessionId", "events", "duration")
    SELECT ops.bucket_15m(b."timestamp"), b."userId", b."sessionId", count(*), sum(coalesce(b."duration", 0))
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2, 3;

    INSERT INTO ops.user_session ("userId", "sessionId", "events", "duration", "lastAt")
    SELECT b."userId", b."sessionId", count(*), sum(coalesce(b."duration", 0)), max(b."timestamp")
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2;

    INSERT INTO ops.course_path_session ("slug", "sessionId", "events", "duration")
    SELECT ops.course_slug_of_path(b."path"), b."sessionId", count(*), sum(coalesce(b."duration", 0))
    FROM "BehaviorLog" b
    WHERE b."userId" IS NOT NULL AND ops.course_slug_of_path(b."path") IS NOT NULL
      AND (sessions IS NULL OR b."sessionId" = ANY (sessions))
    GROUP BY 1, 2;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    -- ORDER BY: concurrent statements lock the rollup keys in one order (no deadlocks).
    INSERT INTO ops.activity_15m AS r ("bucket", "userId", "sessionId", "events", "duration")
    SELECT ops.bucket_15m(n."timestamp"), n."userId", n."sessionId", count(*), sum(coalesce(n."duration", 0))
    FROM new_rows n WHERE n."userId" IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ("bucket", "userId", "sessionId") DO UPDATE
        SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration";

    INSERT INTO ops.user_session AS r ("userId", "sessionId", "events", "duration", "lastAt")
    SELECT n."userId", n."sessionId", count(*), sum(coalesce(n."duration", 0)), max(n."timestamp")
    FROM new_rows n WHERE n."userId" IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("userId", "sessionId") DO UPDATE
        SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration",
            "lastAt" = greatest(r."lastAt", EXCLUDED."lastAt");

    INSERT INTO ops.course_path_session AS r ("slug", "sessionId", "events", "duration")
    SELECT ops.course_slug_of_path(n."path"), n."sessionId", count(*), sum(coalesce(n."duration", 0))
    FROM new_rows n WHERE n."userId" IS NOT NULL AND ops.course_slug_of_path(n."path") IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("slug", "sessionId") DO UPDATE
        SET "events" = r."events" + EXCLUDED."events", "duration" = r."duration" + EXCLUDED."duration";
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_update() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    sessions text[];
BEGIN
    -- Only rows whose rolled-up columns changed matter (not eventType, payload, ...).
    sessions := ARRAY(
        SELECT x."sessionId"
        FROM old_rows o FULL JOIN new_rows n ON n."id" = o."id",
             LATERAL (VALUES (o."sessionId"), (n."sessionId")) AS x("sessionId")
        WHERE x."sessionId" IS NOT NULL
          AND (o."id" IS NULL OR n."id" IS NULL
               OR (o."userId", o."sessionId", o."path", o."duration", o."timestamp")
                  IS DISTINCT FROM (n."userId", n."sessionId", n."path", n."duration", n."timestamp"))
        GROUP BY 1);
    IF cardinality(sessions) > 0 THEN
        PERFORM ops.rebuild_behavior_rollups(sessions);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_delete() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    PERFORM ops.rebuild_behavior_rollups(ARRAY(SELECT DISTINCT "sessionId" FROM old_rows));
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.behavior_log_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    TRUNCATE ops.activity_15m, ops.user_session, ops.course_path_session;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER behavior_log_rollup_insert
    AFTER INSERT ON "BehaviorLog" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_rollup_insert();
CREATE TRIGGER behavior_log_rollup_update
    AFTER UPDATE ON "BehaviorLog" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_rollup_update();
CREATE TRIGGER behavior_log_rollup_delete
    AFTER DELETE ON "BehaviorLog" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_rollup_delete();
CREATE TRIGGER behavior_log_rollup_truncate
    AFTER TRUNCATE ON "BehaviorLog"
    FOR EACH STATEMENT EXECUTE FUNCTION ops.behavior_log_rollup_truncate();

-- Backfill (the triggers above already hold the table's lock, see the header).
SELECT ops.rebuild_behavior_rollups();
