-- Checkpoints since the statistics reset (requested = forced by WAL volume or by hand) and
-- the WAL volume per hour since pg_stat_wal's reset.
SELECT b.checkpoints_timed,
       b.checkpoints_req,
       b.stats_reset AS bgwriter_reset,
       w.wal_bytes::float8 AS wal_bytes,
       extract(epoch FROM now() - w.stats_reset)::float8 AS wal_window_s,
       pg_size_bytes(current_setting('max_wal_size')) AS max_wal_size_bytes
FROM pg_stat_bgwriter AS b
CROSS JOIN pg_stat_wal AS w
