"""Health checks of the database stack: PostgreSQL, its security baseline, Redis, pgBackRest
backups and the host.

Plain Python (psycopg 3, redis-py; no Ansible API): ``library/vedfin_health.py`` is a thin
shell over ``run_health`` and pytest calls the package directly, by the one import name
``ansible.module_utils.vedfin_health`` (Ansible packs this package, ``__init__`` first, into
the module's payload; tools/module_utils_path.py makes the same name work in plain Python).

Layout:

``registry``   ``CHECKS`` (name -> section, title, unit, runbook anchor, remedy, default
               threshold, function), filled by each section's ``@check`` decorator;
               ``DEFAULT_THRESHOLDS``, ``SECTIONS``, ``select_checks``, ``HealthError``.
``status``     ``grade``, ``worst``, ``summarize``, ``validate_thresholds``, ``make_check``
               (the check dict), ``evaluate`` (run a section's checks).
``settings``   ``normalize_setting`` (PostgreSQL units) and ``settings_drift``.
``postgresql``, ``security``, ``redis``, ``backup``, ``host``: one function per check, in
               report order, and ``<section>_checks`` to run a section on its connection.
``runner``     ``run_health``.
``report``     the Markdown/HTML renderer (controller only; not imported here, so the module
               payload does not carry it): ``from ansible.module_utils.vedfin_health import report``.

Every check is a dict::

    {"name": "pg_connections", "section": "postgresql", "title": "Connections vs max_connections",
     "value": 0.12, "unit": "ratio", "threshold": {"warn": 0.7, "crit": 0.9, "direction": "above"},
     "status": "ok" | "warn" | "crit", "remedy": "<one line>: docs/...#anchor",
     "note": "...", "details": ...}

``status`` comes from ``grade(value, threshold)`` unless the check sets it: with direction
``above`` a value at or above ``warn``/``crit`` is bad (connections, bloat), with ``below`` a
value at or below is bad (hit ratios); ``None`` for a level means it never applies. Checks
without a threshold are informational (``threshold: None``). A section whose server cannot be
reached gives one crit ``<section>_connection`` check with the cause. A PostgreSQL or security
check that errors gives ``warn`` with the error in ``note``; in the redis, backup and host
sections an error ends the run. The thresholds are ``DEFAULT_THRESHOLDS``, overridable per
name (``validate_thresholds``).
"""

from __future__ import annotations

from ansible.module_utils.vedfin_health.backup import PGBACKREST_TIMERS, backup_ages, backup_checks
from ansible.module_utils.vedfin_health.host import (
    host_checks,
    host_memory_budget,
    meminfo,
    validate_memory_budget,
)
from ansible.module_utils.vedfin_health.postgresql import REQUIRED_SQL, load_sql, pg_checks
from ansible.module_utils.vedfin_health.redis import redis_checks
from ansible.module_utils.vedfin_health.registry import (
    CHECKS,
    DEFAULT_THRESHOLDS,
    RUNBOOK,
    SCHEMA_VERSION,
    SECTIONS,
    Check,
    HealthError,
    Outcome,
    select_checks,
)
from ansible.module_utils.vedfin_health.runner import run_health
from ansible.module_utils.vedfin_health.security import (
    DEFAULT_PRELOAD_LIBRARIES,
    DEFAULT_SUPERUSERS,
    SECURITY_SQL,
    file_facts,
    listens_beyond_loopback,
    sec_file_modes,
    sec_hba,
    sec_logging,
    sec_md5_passwords,
    sec_password_encryption,
    sec_preload_libraries,
    sec_public_schema,
    sec_ssl,
    sec_superusers,
    sec_untrusted_languages,
    security_checks,
    validate_security,
)
from ansible.module_utils.vedfin_health.settings import normalize_setting, settings_drift
from ansible.module_utils.vedfin_health.status import (
    STATUSES,
    evaluate,
    grade,
    make_check,
    summarize,
    validate_thresholds,
    worst,
)

__all__ = [
    "CHECKS",
    "DEFAULT_PRELOAD_LIBRARIES",
    "DEFAULT_SUPERUSERS",
    "DEFAULT_THRESHOLDS",
    "PGBACKREST_TIMERS",
    "REQUIRED_SQL",
    "RUNBOOK",
    "SCHEMA_VERSION",
    "SECTIONS",
    "SECURITY_SQL",
    "STATUSES",
    "Check",
    "HealthError",
    "Outcome",
    "backup_ages",
    "backup_checks",
    "evaluate",
    "file_facts",
    "grade",
    "host_checks",
    "host_memory_budget",
    "listens_beyond_loopback",
    "load_sql",
    "make_check",
    "meminfo",
    "normalize_setting",
    "pg_checks",
    "redis_checks",
    "run_health",
    "sec_file_modes",
    "sec_hba",
    "sec_logging",
    "sec_md5_passwords",
    "sec_password_encryption",
    "sec_preload_libraries",
    "sec_public_schema",
    "sec_ssl",
    "sec_superusers",
    "sec_untrusted_languages",
    "security_checks",
    "select_checks",
    "settings_drift",
    "summarize",
    "validate_memory_budget",
    "validate_security",
    "validate_thresholds",
    "worst",
]
