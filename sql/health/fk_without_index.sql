-- Foreign keys whose columns do not lead any valid, non-partial index of their table (as key
-- columns, not INCLUDE ones), on tables with at least min_rows rows: each DELETE or key
-- UPDATE of a referenced row then scans the referencing table, and holds its lock meanwhile.
SELECT con.conrelid::regclass::text AS "table",
       con.conname AS constraint_name,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
        FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       con.confrelid::regclass::text AS referenced,
       st.n_live_tup AS rows
FROM pg_constraint con
JOIN pg_stat_user_tables st ON st.relid = con.conrelid
WHERE con.contype = 'f'
  AND st.n_live_tup >= %(min_rows)s
  AND NOT EXISTS (
    SELECT 1
    FROM pg_index i
    WHERE i.indrelid = con.conrelid
      AND i.indisvalid
      AND i.indpred IS NULL
      AND cardinality(con.conkey) <= i.indnkeyatts  -- INCLUDE columns do not lead the index
      AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
      AND con.conkey @> (i.indkey::int2[])[0:cardinality(con.conkey) - 1]
  )
ORDER BY st.n_live_tup DESC, 1, 2
