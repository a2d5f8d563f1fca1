-- Transaction-ID and multixact ages of every database, as a share of the 2^31 horizon at
-- which PostgreSQL stops accepting writes to prevent wraparound (docs: "Preventing
-- Transaction ID Wraparound Failures").
SELECT datname AS database,
       age(datfrozenxid)::bigint AS xid_age,
       mxid_age(datminmxid)::bigint AS multixact_age,
       (greatest(age(datfrozenxid), mxid_age(datminmxid)) / 2147483648.0)::float8 AS ratio
FROM pg_database
ORDER BY ratio DESC, datname
