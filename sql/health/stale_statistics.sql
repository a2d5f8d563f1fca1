-- Tables holding at least min_rows rows whose planner statistics are missing or stale: never
-- analyzed, autovacuum turned off for the table, or more changed rows since the last analyze
-- than lag_factor times the count that should have triggered autovacuum's (threshold +
-- scale factor x rows, the table's own reloptions first) with the last analyze older than
-- min_age_s.
WITH t AS (
  SELECT st.relid, st.schemaname || '.' || st.relname AS "table",
         st.n_live_tup AS rows, st.n_mod_since_analyze AS changed,
         greatest(st.last_analyze, st.last_autoanalyze) AS last_analyzed,
         coalesce((SELECT option_value::bool FROM pg_options_to_table(c.reloptions)
                   WHERE option_name = 'autovacuum_enabled'), true) AS autovacuum_enabled,
         coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                   WHERE option_name = 'autovacuum_analyze_threshold'),
                  current_setting('autovacuum_analyze_threshold')::float8)
         + coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                     WHERE option_name = 'autovacuum_analyze_scale_factor'),
                    current_setting('autovacuum_analyze_scale_factor')::float8) * st.n_live_tup AS trigger_rows
  FROM pg_stat_user_tables st
  JOIN pg_class c ON c.oid = st.relid
)
SELECT "table", rows, changed, last_analyzed, autovacuum_enabled, round(trigger_rows)::bigint AS trigger_rows,
       CASE WHEN last_analyzed IS NULL THEN 'never analyzed'
            WHEN NOT autovacuum_enabled THEN 'autovacuum off'
            ELSE 'analyze lagging' END AS reason
FROM t
WHERE rows + changed >= %(min_rows)s
  AND (last_analyzed IS NULL OR NOT autovacuum_enabled
       OR (changed > %(lag_factor)s * trigger_rows
           AND last_analyzed < now() - make_interval(secs => %(min_age_s)s)))
ORDER BY rows DESC, "table"
