-- Buffer cache hit ratio of this database and index hit ratio of its user indexes,
-- with the block counts so that a ratio over too little traffic can be ignored.
SELECT d.blks_hit::float8 AS cache_hit,
       d.blks_read::float8 AS cache_read,
       coalesce(i.hit, 0)::float8 AS index_hit,
       coalesce(i.read, 0)::float8 AS index_read
FROM pg_stat_database AS d
CROSS JOIN (SELECT sum(idx_blks_hit) AS hit, sum(idx_blks_read) AS read FROM pg_statio_user_indexes) AS i
WHERE d.datname = current_database()
