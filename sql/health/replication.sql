-- Replication slots with the WAL they hold back, and the lag of connected standbys.
SELECT 'slot' AS kind,
       slot_name AS name,
       active,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 END AS retained_bytes,
       NULL::float8 AS lag_s
FROM pg_replication_slots
UNION ALL
SELECT 'standby',
       coalesce(application_name, client_addr::text),
       true,
       pg_wal_lsn_diff(sent_lsn, replay_lsn)::float8,
       extract(epoch FROM coalesce(replay_lag, interval '0'))::float8
FROM pg_stat_replication
ORDER BY kind, name
