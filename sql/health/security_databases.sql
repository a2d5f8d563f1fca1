-- Databases the per-database security checks visit (template1 too: new databases copy it).
SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname
