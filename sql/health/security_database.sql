-- Run in each database: untrusted procedural languages (only superusers can write functions in
-- them, and those run as the OS user postgres) and PUBLIC's CREATE on schema public (revoked by
-- default since PostgreSQL 15; with it any role can plant objects other roles' search_path finds).
SELECT current_database() AS database,
       ARRAY(SELECT lanname::text FROM pg_language
             WHERE lanispl AND NOT lanpltrusted ORDER BY 1) AS untrusted_languages,
       EXISTS (SELECT 1
               FROM pg_namespace n,
                    aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS acl
               WHERE n.nspname = 'public' AND acl.grantee = 0
                 AND acl.privilege_type = 'CREATE') AS public_create
