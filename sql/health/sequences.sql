-- Sequences of the connected database by the share of their range already used. The range
-- runs from where the sequence starts counting (its min value ascending, its max value
-- descending) to the limit that applies: its own, or that of the integer column it feeds
-- when that column is narrower (a bigint sequence behind an int4 key fails at 2^31 - 1 all
-- the same). ratio is NULL when this role may not read the sequence (pg_sequences then hides
-- last_value), 0 when it was never used. Catalog joins by oid, no regclass casts: they would
-- need USAGE on the schema.
WITH seq AS (
  SELECT s.schemaname || '.' || s.sequencename AS sequence,
         s.data_type::text AS sequence_type,
         s.last_value, s.increment_by, s.min_value, s.max_value,
         has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
         col.table_column, col.column_type, col.column_min, col.column_max
  FROM pg_sequences s
  JOIN pg_namespace n ON n.nspname = s.schemaname
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename AND c.relkind = 'S'
  LEFT JOIN LATERAL (
    SELECT t.relname || '.' || a.attname AS table_column,
           format_type(a.atttypid, a.atttypmod) AS column_type,
           CASE a.atttypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 END AS column_min,
           CASE a.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 END AS column_max
    FROM pg_depend d
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass
      AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i')
    LIMIT 1
  ) col ON true
), bounds AS (
  SELECT *,
         CASE WHEN increment_by > 0 THEN min_value ELSE max_value END AS start_value,
         CASE WHEN increment_by > 0 THEN least(max_value, coalesce(column_max, max_value))
              ELSE greatest(min_value, coalesce(column_min, min_value)) END AS limit_value
  FROM seq
)
SELECT sequence, sequence_type, table_column, column_type, last_value, limit_value,
       CASE WHEN NOT readable THEN NULL
            WHEN last_value IS NULL OR limit_value = start_value THEN 0.0
            ELSE (last_value - start_value)::float8 / (limit_value - start_value)::float8 END AS ratio
FROM bounds
ORDER BY ratio DESC NULLS LAST, sequence
LIMIT 20
