"""``run_health``: validate the input, connect, run the selected checks section by section,
and return the result (schema in docs/DATABASE_TROUBLESHOOTING.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ansible.module_utils.vedfin_health.backup import DEFAULTS as BACKUP_DEFAULTS
from ansible.module_utils.vedfin_health.backup import backup_checks
from ansible.module_utils.vedfin_health.host import host_checks, validate_memory_budget
from ansible.module_utils.vedfin_health.postgresql import REQUIRED_SQL, load_sql, pg_checks, require_sql
from ansible.module_utils.vedfin_health.redis import redis_checks
from ansible.module_utils.vedfin_health.registry import CHECKS, SCHEMA_VERSION, HealthError, select_checks
from ansible.module_utils.vedfin_health.security import SECURITY_SQL, security_checks, validate_security
from ansible.module_utils.vedfin_health.status import summarize, unreachable, validate_thresholds
from ansible.module_utils.vedfin_pg import VedfinError, connect, to_json_safe
from ansible.module_utils.vedfin_redis import connect as redis_connect

APPLICATION_NAME = "ved-db-ops health"


def run_health(
    pg_params: dict | None = None,
    redis_params: dict | None = None,
    *,
    include=None,
    exclude=None,
    thresholds=None,
    recommended: dict | None = None,
    sql_dir=None,
    sql_texts: dict | None = None,
    backup: dict | None = None,
    host: str = "",
    security: dict | None = None,
    memory_budget: dict | None = None,
) -> dict:
    """Run the selected checks and return the result (schema in docs/DATABASE_TROUBLESHOOTING.md).

    ``pg_params``: vedfin_pg module params (None: the postgresql and security checks are
    skipped); ``redis_params``: ``{host, port, unix_socket, username, password, timeout}``
    for ``vedfin_redis.connect`` (None: the redis checks are skipped); ``sql_texts`` (name ->
    SQL, what the playbook passes) or ``sql_dir``: the queries of sql/health, needed when
    PostgreSQL is checked; ``backup``: ``{status_dir, stanza, pgbackrest_cmd, timers}``
    overrides; ``security``: ``{superusers, os_user, preload_libraries}`` of the security
    checks; ``memory_budget``: the postgresql role's budget (``host_memory_budget``). Bad
    input (including missing SQL) raises HealthError before anything is contacted; a server
    that cannot be reached is one crit ``<section>_connection`` check.
    """
    limits = validate_thresholds(thresholds)
    names = select_checks(include, exclude)
    security = validate_security(security)
    memory_budget = validate_memory_budget(memory_budget)
    if recommended is not None and not isinstance(recommended, dict):
        raise HealthError(f"recommended_settings must be a mapping of setting -> value, got {recommended!r}")
    sections = {CHECKS[n].section for n in names}
    for section, server, params in (
        ("postgresql", "postgresql", pg_params),
        ("security", "postgresql", pg_params),
        ("redis", "redis", redis_params),
    ):
        if include and section in sections and params is None:
            raise HealthError(f"include asks for {section} checks but no {server} connection is given")
    if pg_params is None:
        sections -= {"postgresql", "security"}
    if redis_params is None:
        sections.discard("redis")
    # host_disk looks at the filesystem of PostgreSQL's data directory when it can.
    use_pg = bool({"postgresql", "security"} & sections) or ("host_disk" in names and pg_params is not None)
    sql: dict[str, str] = {}
    if use_pg:
        sql = load_sql(sql_dir, sql_texts)
        require_sql(sql, REQUIRED_SQL + (SECURITY_SQL if "security" in sections else ()))
    started = time.monotonic()
    checks: list[dict] = []
    overview: dict = {}
    if use_pg:
        try:
            conn = connect(pg_params, autocommit=True, application_name=APPLICATION_NAME)
        except VedfinError as exc:
            checks.append(unreachable("postgresql", exc))
        else:
            try:
                pg, overview = pg_checks(conn, names, limits, sql, recommended)
                checks += pg
                if "security" in sections:
                    checks += security_checks(conn, names, limits, sql, pg_params, security)
            finally:
                conn.close()
    if "redis" in sections:
        try:
            client = redis_connect(
                host=redis_params.get("host"),
                port=redis_params.get("port"),
                unix_socket=redis_params.get("unix_socket"),
                username=redis_params.get("username"),
                password=redis_params.get("password"),
                timeout=redis_params.get("timeout", 5),
                decode_responses=True,
                error=VedfinError,
            )
        except VedfinError as exc:
            checks.append(unreachable("redis", exc))
        else:
            try:
                checks += redis_checks(client, names, limits)
            finally:
                client.close()
    if "backup" in sections:
        checks += backup_checks(names, limits, **{**BACKUP_DEFAULTS, **(backup or {})})
    if "host" in sections:
        checks += host_checks(names, limits, overview.get("data_directory"), memory_budget)
    return {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "summary": summarize(checks),
        "checks": to_json_safe(checks),
    }
