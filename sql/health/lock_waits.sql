-- Sessions waiting for a lock, with who blocks them and how long they have waited.
SELECT a.pid,
       a.usename AS "user",
       a.datname AS database,
       pg_blocking_pids(a.pid) AS blocked_by,
       extract(epoch FROM now() - a.state_change)::float8 AS wait_s,
       left(regexp_replace(a.query, '\s+', ' ', 'g'), 200) AS query
FROM pg_stat_activity AS a
WHERE a.wait_event_type = 'Lock'
ORDER BY wait_s DESC
LIMIT 50
