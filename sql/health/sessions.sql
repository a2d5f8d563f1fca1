-- Client sessions in a transaction (active or idle in transaction), oldest first, with the
-- age of the transaction and of the current state; query text cut to 200 characters.
SELECT pid,
       usename AS "user",
       datname AS database,
       application_name,
       state,
       extract(epoch FROM now() - xact_start)::float8 AS xact_age_s,
       extract(epoch FROM now() - state_change)::float8 AS state_age_s,
       left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query
FROM pg_stat_activity
WHERE backend_type = 'client backend'
  AND xact_start IS NOT NULL
  AND pid <> pg_backend_pid()
ORDER BY xact_start
LIMIT 50
