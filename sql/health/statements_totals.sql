-- pg_stat_statements totals per database, for the postgres exporter (ved_pg_statements_*):
-- counters without query text, so one series per database (the health report lists the top
-- statements themselves: statements.sql). rate() of these gives the queries per second and
-- the mean execution time of a database between two scrapes.
SELECT d.datname AS database,
       count(*)::float8 AS tracked,
       sum(s.calls)::float8 AS calls,
       (sum(s.total_exec_time) / 1000)::float8 AS exec_seconds,
       sum(s.rows)::float8 AS rows,
       sum(s.shared_blks_hit)::float8 AS shared_blks_hit,
       sum(s.shared_blks_read)::float8 AS shared_blks_read
FROM pg_stat_statements AS s
JOIN pg_database AS d ON d.oid = s.dbid
GROUP BY d.datname
