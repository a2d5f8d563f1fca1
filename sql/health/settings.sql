-- Every setting with its unit and restart flag: compared in code with the recommendation.
SELECT name, setting, unit, vartype, pending_restart, source
FROM pg_settings
ORDER BY name
