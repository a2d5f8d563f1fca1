-- Ops-owned schema and extensions (issue "App schema, safe migrations").
-- The runner (vedfin_migrate) creates ops.schema_migrations itself; this file documents the
-- schema's purpose and adds what every later migration and the analytics work rely on.

CREATE SCHEMA IF NOT EXISTS ops;
COMMENT ON SCHEMA ops IS
    'Owned by ved-db-ops (migration ledger, rollups, helpers). The application never writes here.';

-- Query statistics for the analytics benchmark and troubleshooting. CREATE EXTENSION works
-- without it, but the view returns rows only when the server has
-- shared_preload_libraries = 'pg_stat_statements' (set by the postgresql role).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
