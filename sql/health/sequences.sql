-- Sequences of the connected database by the share of their range already used. The range
-- ends at the sequence's own limit, or at the limit of the integer column it feeds when that
-- column is narrower (a bigint sequence behind an int4 key fails at 2^31 - 1 all the same).
WITH seq AS (
  SELECT s.schemaname || '.' || s.sequencename AS sequence,
         s.data_type::text AS sequence_type,
         s.last_value, s.increment_by, s.min_value, s.max_value,
         col.table_column, col.column_type, col.column_max
  FROM pg_sequences s
  LEFT JOIN LATERAL (
    SELECT c.oid::regclass::text || '.' || quote_ident(a.attname) AS table_column,
           format_type(a.atttypid, a.atttypmod) AS column_type,
           CASE a.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 END AS column_max
    FROM pg_depend d
    JOIN pg_class c ON c.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass
      AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
      AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i')
    LIMIT 1
  ) col ON true
)
SELECT sequence, sequence_type, table_column, column_type, last_value,
       CASE WHEN increment_by > 0 THEN least(max_value, coalesce(column_max, max_value))
            ELSE min_value END AS limit_value,
       CASE WHEN last_value IS NULL THEN 0.0
            WHEN increment_by > 0 THEN last_value::float8 / least(max_value, coalesce(column_max, max_value))
            ELSE last_value::float8 / min_value END AS ratio
FROM seq
ORDER BY ratio DESC, sequence
LIMIT 20
