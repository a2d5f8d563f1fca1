-- cohort_retention at the `large` preset (issue 9: p95 < 100 ms at 100k users / 10M
-- BehaviorLog rows). Read by sql/analytics/cohort_retention.fast.sql; documented in
-- docs/ANALYTICS_API_REFERENCE.md ("Rollups").
--
-- The query probed ops.user_day (0006) once per student of the cohort weeks (about 13 000 for
-- 12 weeks at `large`, 0.17 s). ops.user_cohort keeps, per user, the signup day (local date of
-- "createdAt" in the reporting time zone, ops.reporting_tz()), the student flag and
-- "activeWeeks": bit K-1 (K = 1..4) set when the user has an ops.user_day row (an event) in
-- [signup day + 7K, signup day + 7K + 7). The query reads the cohort weeks' students as one
-- range of the partial ("signupDay") INCLUDE ("activeWeeks") index; in any other zone it keeps
-- its per-student probes of ops.activity_15m (0003).
--
-- Freshness: real time. Kept by statement-level triggers:
-- - ops.user_day INSERT (a user's first event of a local day, from the 0006 calendar
--   triggers): the bit of that day is OR-ed in (commutes under concurrency; keys locked in one
--   order). Most event statements insert no ops.user_day row and return at once;
-- - ops.user_day DELETE (a day lost its last event: rare) recomputes those users' bits;
--   TRUNCATE (the 0006 rebuild, e.g. a new reporting zone) clears them and the rebuild's
--   INSERT sets them again;
-- - "User" INSERT / UPDATE of id, role or "createdAt" (the row and its bits are recomputed),
--   DELETE, TRUNCATE;
-- - ops.analytics_setting UPDATE (ops.set_reporting_tz): every signup day is recomputed in the
--   new zone, then its calendar rebuild resets the bits through the triggers above.
-- ops.rebuild_user_cohort() recomputes everything (the backfill below; the seeder calls it).
--
-- Locking: CREATE TRIGGER holds SHARE ROW EXCLUSIVE on ops.user_day, "User" and
-- ops.analytics_setting until the backfill (one pass over "User" and ops.user_day, about 3 s
-- at `large`) commits: event and user writes wait for it, none falls in between.

CREATE TABLE IF NOT EXISTS ops.user_cohort (
    "userId"      text PRIMARY KEY,
    "student"     boolean NOT NULL,
    "signupDay"   date NOT NULL,
    "activeWeeks" smallint NOT NULL
);
CREATE INDEX IF NOT EXISTS user_cohort_signup_idx
    ON ops.user_cohort ("signupDay") INCLUDE ("activeWeeks") WHERE "student";
COMMENT ON TABLE ops.user_cohort IS
    'Per user: signup day in the reporting time zone, student flag, and the weeks 1..4 after signup '
    'with an event (bits); maintained by triggers (ved-db-ops 0010).';

-- The rows of some users in time zone p_tz (the rebuild below does all users in bulk), bits
-- from ops.user_day.
CREATE OR REPLACE FUNCTION ops.user_cohort_of(p_users text[], p_tz text)
    RETURNS TABLE ("userId" text, "student" boolean, "signupDay" date, "activeWeeks" smallint)
    LANGUAGE sql STABLE AS
$fn$
    SELECT u."id", u."role" = 'STUDENT', s.day,
           coalesce((SELECT bit_or(1 << ((d."day" - s.day) / 7 - 1))
                     FROM ops.user_day d
                     WHERE d."userId" = u."id" AND d."day" BETWEEN s.day + 7 AND s.day + 34), 0)::smallint
    FROM "User" u, LATERAL (SELECT (u."createdAt" AT TIME ZONE p_tz)::date AS day) s
    WHERE u."id" = ANY (p_users)
$fn$;

-- Recompute some users' rows (ids that no longer exist lose theirs).
CREATE OR REPLACE FUNCTION ops.recompute_user_cohort(p_users text[]) RETURNS void
    LANGUAGE plpgsql
    -- one cached plan: re-planning its "= ANY (p_users)" statements on every call (the
    -- custom plans chosen for array parameters) cost more than running them
    SET plan_cache_mode = force_generic_plan AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
BEGIN
    -- lock the kept rows first, then read: an event insert's bit OR-ed in meanwhile is either
    -- committed before the read below (and seen) or waits and is applied after (not lost)
    PERFORM 1 FROM ops.user_cohort WHERE "userId" = ANY (p_users) ORDER BY "userId" FOR UPDATE;
    INSERT INTO ops.user_cohort AS r ("userId", "student", "signupDay", "activeWeeks")
    SELECT * FROM ops.user_cohort_of(p_users, tz) ORDER BY 1
    ON CONFLICT ("userId") DO UPDATE
        SET "student" = EXCLUDED."student", "signupDay" = EXCLUDED."signupDay", "activeWeeks" = EXCLUDED."activeWeeks"
        WHERE (r."student", r."signupDay", r."activeWeeks")
              IS DISTINCT FROM (EXCLUDED."student", EXCLUDED."signupDay", EXCLUDED."activeWeeks");
    DELETE FROM ops.user_cohort r
    WHERE r."userId" = ANY (p_users) AND NOT EXISTS (SELECT 1 FROM "User" u WHERE u."id" = r."userId");
END
$fn$;

CREATE OR REPLACE FUNCTION ops.rebuild_user_cohort() RETURNS void
    LANGUAGE plpgsql AS
$fn$
DECLARE
    tz text := ops.reporting_tz();
BEGIN
    TRUNCATE ops.user_cohort;
    INSERT INTO ops.user_cohort ("userId", "student", "signupDay", "activeWeeks")
    SELECT u."id", u."role" = 'STUDENT', (u."createdAt" AT TIME ZONE tz)::date, coalesce(a.bits, 0)
    FROM "User" u
    LEFT JOIN (SELECT d."userId", bit_or(1 << ((d."day" - (x."createdAt" AT TIME ZONE tz)::date) / 7 - 1))::smallint AS bits
               FROM ops.user_day d JOIN "User" x ON x."id" = d."userId"
               WHERE d."day" - (x."createdAt" AT TIME ZONE tz)::date BETWEEN 7 AND 34
               GROUP BY 1) a ON a."userId" = u."id";
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_day_cohort() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    users text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE ops.user_cohort SET "activeWeeks" = 0 WHERE "activeWeeks" <> 0;
    ELSIF TG_OP = 'INSERT' THEN
        -- an upsert on rows that exist: keys locked in one order
        INSERT INTO ops.user_cohort AS r ("userId", "student", "signupDay", "activeWeeks")
        SELECT c."userId", c."student", c."signupDay", bit_or(1 << ((n."day" - c."signupDay") / 7 - 1))::smallint
        FROM new_rows n JOIN ops.user_cohort c ON c."userId" = n."userId"
        WHERE n."day" BETWEEN c."signupDay" + 7 AND c."signupDay" + 34
        GROUP BY 1, 2, 3 ORDER BY 1
        ON CONFLICT ("userId") DO UPDATE SET "activeWeeks" = r."activeWeeks" | EXCLUDED."activeWeeks"
            WHERE r."activeWeeks" | EXCLUDED."activeWeeks" <> r."activeWeeks";
    ELSE  -- DELETE
        SELECT array_agg(DISTINCT o."userId") INTO users
        FROM old_rows o JOIN ops.user_cohort c ON c."userId" = o."userId"
        WHERE o."day" BETWEEN c."signupDay" + 7 AND c."signupDay" + 34;
        IF users IS NOT NULL THEN
            PERFORM ops.recompute_user_cohort(users);
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.user_cohort_user() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    users text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE ops.user_cohort;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg("id") INTO users FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg("id") INTO users FROM old_rows;
    ELSE  -- the old and new ids of rows whose id, role or "createdAt" changed
        SELECT array_agg(DISTINCT k.uid) INTO users
        FROM new_rows n FULL JOIN old_rows o ON o."id" = n."id", unnest(ARRAY[n."id", o."id"]) AS k(uid)
        WHERE (o."id" IS NULL OR n."id" IS NULL OR (o."role", o."createdAt") IS DISTINCT FROM (n."role", n."createdAt"))
          AND k.uid IS NOT NULL;
    END IF;
    IF users IS NOT NULL THEN
        PERFORM ops.recompute_user_cohort(users);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ops.analytics_setting_cohort() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n."key" = o."key"
               WHERE n."key" = 'reporting_tz' AND n."value" IS DISTINCT FROM o."value") THEN
        PERFORM ops.rebuild_user_cohort();
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER user_cohort_insert
    AFTER INSERT ON ops.user_day REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_day_cohort();
CREATE TRIGGER user_cohort_delete
    AFTER DELETE ON ops.user_day REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_day_cohort();
CREATE TRIGGER user_cohort_truncate
    AFTER TRUNCATE ON ops.user_day FOR EACH STATEMENT EXECUTE FUNCTION ops.user_day_cohort();
CREATE TRIGGER user_cohort_insert
    AFTER INSERT ON "User" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_cohort_user();
CREATE TRIGGER user_cohort_update
    AFTER UPDATE ON "User" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_cohort_user();
CREATE TRIGGER user_cohort_delete
    AFTER DELETE ON "User" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.user_cohort_user();
CREATE TRIGGER user_cohort_truncate
    AFTER TRUNCATE ON "User" FOR EACH STATEMENT EXECUTE FUNCTION ops.user_cohort_user();
CREATE TRIGGER user_cohort_reporting_tz
    AFTER UPDATE ON ops.analytics_setting REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.analytics_setting_cohort();

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics_ro') THEN
        GRANT SELECT ON ops.user_cohort TO analytics_ro;
    END IF;
END
$do$;

-- Backfill (the triggers above hold their tables' locks, see the header).
SELECT ops.rebuild_user_cohort();
