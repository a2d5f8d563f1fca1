-- Indexes with the same table, key columns, operator classes, expressions and predicate:
-- all but one of each group are redundant.
SELECT (i.indrelid::regclass)::text AS "table",
       array_agg((i.indexrelid::regclass)::text ORDER BY (i.indexrelid::regclass)::text) AS indexes,
       sum(pg_relation_size(i.indexrelid))::bigint AS size_bytes
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
         coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), '')
HAVING count(*) > 1
ORDER BY "table", indexes
