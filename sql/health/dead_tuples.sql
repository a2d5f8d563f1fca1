-- Tables whose dead-tuple share is above min_ratio with at least min_dead dead rows.
SELECT schemaname || '.' || relname AS "table",
       n_live_tup AS live,
       n_dead_tup AS dead,
       round((n_dead_tup::numeric / nullif(n_live_tup + n_dead_tup, 0)), 4)::float8 AS ratio,
       last_autovacuum,
       last_vacuum,
       autovacuum_count
FROM pg_stat_user_tables
WHERE n_dead_tup >= %(min_dead)s
  AND n_dead_tup::numeric / nullif(n_live_tup + n_dead_tup, 0) >= %(min_ratio)s
ORDER BY ratio DESC, "table"
LIMIT 20
