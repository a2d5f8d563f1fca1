-- Settings the security baseline checks read (dev-sec postgres-baseline / CIS PostgreSQL 15).
-- The file paths are visible to superusers and pg_read_all_settings members only.
SELECT name, setting
FROM pg_settings
WHERE name IN ('password_encryption', 'ssl', 'ssl_min_protocol_version', 'listen_addresses',
               'log_connections', 'log_disconnections', 'log_line_prefix',
               'log_min_duration_statement', 'log_statement',
               'shared_preload_libraries', 'session_preload_libraries', 'local_preload_libraries',
               'data_directory', 'config_file', 'hba_file', 'ident_file')
ORDER BY name
