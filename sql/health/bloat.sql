-- Table bloat estimate (the idea of ioguix's pgsql-bloat-estimation, simplified): pages the
-- live rows need from reltuples, the average row width in pg_stats and the fillfactor,
-- compared with the pages the table holds. Needs fresh statistics (ANALYZE); tables smaller
-- than min_bytes bytes are left out.
WITH widths AS (
    SELECT s.schemaname, s.tablename,
           sum((1 - s.null_frac) * s.avg_width) AS data_width
    FROM pg_stats AS s
    GROUP BY s.schemaname, s.tablename
), tables AS (
    SELECT n.nspname AS schemaname, c.relname, c.reltuples, c.relpages,
           current_setting('block_size')::int AS bs,
           coalesce((SELECT substring(o FROM 'fillfactor=(\d+)')::int
                     FROM unnest(c.reloptions) AS o WHERE o LIKE 'fillfactor=%%'), 100) AS fillfactor,
           w.data_width
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN widths AS w ON w.schemaname = n.nspname AND w.tablename = c.relname
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND c.relpages::bigint * current_setting('block_size')::int >= %(min_bytes)s
), estimate AS (
    SELECT schemaname, relname, relpages, bs,
           -- 24-byte page header; per row a 4-byte item pointer + 24-byte tuple header.
           ceil(greatest(reltuples, 0)
                / greatest(floor((bs - 24) * fillfactor / 100.0 / (28 + data_width)), 1)) AS expected_pages
    FROM tables
)
SELECT schemaname || '.' || relname AS "table",
       (relpages::bigint * bs) AS size_bytes,
       greatest(relpages - expected_pages, 0)::bigint * bs AS bloat_bytes,
       round((greatest(relpages - expected_pages, 0) / nullif(relpages, 0))::numeric, 4)::float8 AS ratio
FROM estimate
ORDER BY ratio DESC NULLS LAST, "table"
LIMIT 20
