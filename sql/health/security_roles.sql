-- Role attributes and password hash kinds (pg_authid: superuser only). Only the kind of the
-- stored secret leaves the server, never the secret itself.
SELECT a.rolname,
       a.rolsuper,
       a.rolcreaterole,
       a.rolcreatedb,
       a.rolbypassrls,
       a.rolreplication,
       a.rolcanlogin,
       coalesce(a.rolpassword LIKE 'md5%', false) AS md5_password,
       a.rolpassword IS NULL AS no_password,
       ARRAY(SELECT g.rolname::text
             FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
             WHERE m.member = a.oid
               AND g.rolname IN ('pg_execute_server_program', 'pg_read_server_files',
                                 'pg_write_server_files')
             ORDER BY 1) AS server_file_roles
FROM pg_authid a
WHERE a.rolname NOT LIKE 'pg\_%'
ORDER BY a.rolname
