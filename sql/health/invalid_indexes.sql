-- Indexes left INVALID (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): never
-- used by the planner, still updated by every write, and a unique one enforces nothing.
SELECT i.indexrelid::regclass::text AS index,
       i.indrelid::regclass::text AS "table",
       pg_relation_size(i.indexrelid) AS bytes,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
WHERE NOT i.indisvalid OR NOT i.indisready
ORDER BY 1
