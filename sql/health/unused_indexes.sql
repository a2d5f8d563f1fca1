-- Indexes never scanned since the statistics were reset, that enforce no constraint
-- (primary key, unique, exclusion) and are at least min_bytes bytes.
SELECT s.schemaname || '.' || s.indexrelname AS index,
       s.schemaname || '.' || s.relname AS "table",
       pg_relation_size(s.indexrelid) AS size_bytes,
       s.idx_scan
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0
  AND NOT i.indisunique
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = s.indexrelid)
  AND pg_relation_size(s.indexrelid) >= %(min_bytes)s
ORDER BY size_bytes DESC, index
LIMIT 50
