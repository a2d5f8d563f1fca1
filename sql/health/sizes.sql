-- Database sizes, and the largest tables of this database (heap + indexes + TOAST).
SELECT 'database' AS kind, datname AS name, pg_database_size(datname) AS size_bytes
FROM pg_database
WHERE datallowconn
UNION ALL
(SELECT 'table', schemaname || '.' || relname, pg_total_relation_size(relid)
 FROM pg_stat_user_tables
 ORDER BY 3 DESC, 2
 LIMIT %(top)s)
ORDER BY kind, size_bytes DESC, name
