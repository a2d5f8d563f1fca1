-- Top statements of pg_stat_statements (all databases) by total and by mean execution time.
-- by: 'total' or 'mean'; min_calls, dml_only and top as below.
SELECT s.queryid::text AS queryid,
       d.datname AS database,
       s.calls,
       round(s.total_exec_time::numeric, 3)::float8 AS total_ms,
       round(s.mean_exec_time::numeric, 3)::float8 AS mean_ms,
       s.rows,
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 200) AS query
FROM pg_stat_statements AS s
LEFT JOIN pg_database AS d ON d.oid = s.dbid
WHERE s.calls >= %(min_calls)s
  -- dml_only: queries (SELECT/WITH/INSERT/UPDATE/DELETE/...) after any leading -- comments,
  -- leaving out DDL, COPY and maintenance that a migration or seed runs a few times.
  AND (NOT %(dml_only)s
       OR regexp_replace(s.query, '^(\s*--[^\n]*\n)*\s*', '')
          ~* '^(select|with|insert|update|delete|merge|table|values)\M')
ORDER BY CASE WHEN %(by)s = 'mean' THEN s.mean_exec_time ELSE s.total_exec_time END DESC
LIMIT %(top)s
