-- The rules of pg_hba.conf as the server parsed them (superuser only); error is set on a line
-- that would not load.
SELECT line_number, type, database, user_name, address, netmask, auth_method, error
FROM pg_hba_file_rules
ORDER BY line_number
