#!/usr/bin/python
"""Ansible module: health checks of PostgreSQL, Redis, backups and the host (thin shell)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vedfin_health
short_description: Health checks of the database stack with thresholds and runbook remedies
description:
  - Runs on the database host and reads only. PostgreSQL (version, uptime, connections vs
    max_connections, cache and index hit ratios, dead tuples with last autovacuum, bloat
    estimate, unused and duplicate indexes, long and idle-in-transaction sessions, lock waits,
    checkpoints and WAL rate, replication slots and lag, database and table sizes, the slowest
    pg_stat_statements entries, settings that differ from O(recommended_settings),
    pending_restart), Redis (memory vs maxmemory, hit rate, evictions, clients, RDB/AOF
    status, slowlog), pgBackRest backups (age of the last full and last backup, last failure,
    timers) and the host (disk of the data directory, memory, the memory budget of
    O(memory_budget)).
  - A security baseline (section V(security), after dev-sec postgres-baseline and CIS
    PostgreSQL 15) - weak pg_hba methods (trust, password, md5, ident over TCP, non-TLS and
    world-open lines), password_encryption and MD5 hashes still stored, superusers and
    superuser-equivalent roles, owner and modes of the data directory and config files (os.stat
    on the host), ssl and its protocol floor, connection logging, untrusted procedural languages
    and PUBLIC CREATE on schema public in every database, preloaded libraries. These need a
    superuser connection (the playbook connects as postgres over the socket).
  - Every check has a status C(ok), C(warn) or C(crit) from its threshold and a one-line
    remedy pointing to a section of docs/DATABASE_TROUBLESHOOTING.md. A server that cannot be
    reached is one C(crit) check (C(postgresql_connection), C(redis_connection)) with the
    cause; the other sections still report.
  - The SQL lives in the repository's C(sql/health); the playbook reads it on the controller
    and passes it in O(sql). With O(postgresql=true), one of O(sql) and O(sql_dir) is needed.
version_added: "1.0.0"
author: ved-db-ops
requirements:
  - psycopg >= 3.1 (PostgreSQL checks)
  - redis (redis-py), when O(redis) is set
extends_documentation_fragment:
  - vedfin_pg
options:
  db:
    description: Database to connect to; the table-level checks look at this database.
    type: str
    default: postgres
    aliases: [login_db]
  postgresql:
    description: Run the PostgreSQL checks (false on a Redis-only host).
    type: bool
    default: true
  redis:
    description:
      - Redis connection; omit to skip the Redis checks. The user needs C(INFO) and
        C(SLOWLOG GET) only (the C(monitor) ACL user of the redis role).
    type: dict
    suboptions:
      host:
        description: Redis host.
        type: str
        default: 127.0.0.1
      port:
        description: Redis port.
        type: int
        default: 6379
      unix_socket:
        description: Unix socket path; used instead of O(redis.host) when set.
        type: str
      username:
        description: ACL user.
        type: str
      password:
        description: Password of O(redis.username).
        type: str
      timeout:
        description: Connect and command timeout in seconds.
        type: float
        default: 5
  backup:
    description: Run the pgBackRest backup checks.
    type: bool
    default: true
  backup_status_dir:
    description: Directory of C(last-success.json) / C(last-failure.json) (pgbackrest role).
    type: path
    default: /var/lib/pgbackrest/status
  backup_stanza:
    description: pgBackRest stanza given to C(pgbackrest info).
    type: str
    default: main
  backup_timers:
    description: systemd timers that must be active.
    type: list
    elements: str
    default: [ved-pgbackrest-full.timer, ved-pgbackrest-diff.timer]
  pgbackrest_cmd:
    description: pgBackRest executable (name on PATH or path).
    type: str
    default: pgbackrest
  include:
    description:
      - Sections (V(postgresql), V(security), V(redis), V(backup), V(host)) or check names to run.
        Empty runs every check. Unknown names fail before anything is contacted.
    type: list
    elements: str
    default: []
  exclude:
    description: Sections or check names to leave out.
    type: list
    elements: str
    default: []
  thresholds:
    description:
      - Overrides of the default thresholds, check name -> C(warn) and/or C(crit); C(null) disables a
        level. Which way is worse is fixed per check (docs/DATABASE_TROUBLESHOOTING.md lists
        the defaults). Unknown checks, non-numbers and a warn beyond crit fail.
    type: dict
    default: {}
  recommended_settings:
    description: Recommended settings (name -> value), normally the C(pg_tune) filter output
      combined with C(postgresql_settings); each one that differs from the live value is listed.
    type: dict
    default: {}
  sql:
    description: The health queries, name -> SQL text (the files of C(sql/health), read on the
      controller).
    type: dict
    default: {}
  sql_dir:
    description: Directory of the health queries (C(*.sql)) on the host, used when O(sql) is empty.
    type: path
  security_superusers:
    description: Roles allowed to be superuser (or superuser-equivalent) without a crit.
    type: list
    elements: str
    default: [postgres]
  security_os_user:
    description: OS user that must own the data directory and the config files (root may own
      config files too).
    type: str
    default: postgres
  security_preload_libraries:
    description: Libraries allowed in shared/session/local_preload_libraries; others warn.
    type: list
    elements: str
    default: [pg_stat_statements, auto_explain, pgaudit, pg_prewarm]
  memory_budget:
    description:
      - The postgresql role's memory budget (C(__postgresql_memory_budget), computed by the
        C(pg_memory_budget) filter); check C(host_memory_budget) warns when the reservations plus
        the memory PostgreSQL is tuned for exceed the host's RAM. Needs C(ram_mb),
        C(reservations) (name -> MB) and C(postgresql_mb), integers of MB. Omit on a host without
        PostgreSQL (the check then only notes that no budget was given).
    type: dict
  host_label:
    description: Name of the host written into the result.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode runs the same checks.
  diff_mode:
    support: none
seealso:
  - name: docs/DATABASE_TROUBLESHOOTING.md
    description: Runbook the remedies point to; thresholds and the result schema.
  - module: vedfin_bench
"""

EXAMPLES = r"""
- name: Check the stack as postgres over the Unix socket
  become: true
  become_user: postgres
  vedfin_health:
    login_unix_socket: /var/run/postgresql
    db: vedfin
    redis:
      username: monitor
      password: "{{ vault_redis_monitor_password }}"
    recommended_settings: "{{ profile | pg_tune }}"
    # The repository's sql/health/*.sql, read on the controller: {name: text}.
    sql: >-
      {{ dict(sql_files | map('basename') | map('splitext') | map('first')
      | zip(query('ansible.builtin.file', *sql_files))) }}
    thresholds:
      pg_long_transactions: {warn: 120, crit: 900}
  vars:
    sql_files: "{{ query('ansible.builtin.fileglob', playbook_dir ~ '/../sql/health/*.sql') | sort }}"
  register: health

- name: Fail on any crit check
  ansible.builtin.assert:
    that: health.summary.crit | length == 0
    fail_msg: "crit: {{ health.summary.crit | join(', ') }}"
"""

RETURN = r"""
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
  sample: false
summary:
  description: Overall status, counts per status and the names of the crit and warn checks.
  returned: success
  type: dict
  sample: {"status": "warn", "counts": {"ok": 40, "warn": 2, "crit": 0},
           "crit": [], "warn": ["pg_unused_indexes", "redis_evicted_keys"]}
checks:
  description: Every check (name, section, title, value, unit, threshold, status, remedy, note,
    details).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "pg_connections", "section": "postgresql", "value": 0.05, "unit": "ratio",
            "threshold": {"warn": 0.7, "crit": 0.9, "direction": "above"}, "status": "ok",
            "remedy": "Find idle or leaking clients, pool connections:
              docs/DATABASE_TROUBLESHOOTING.md#connection-exhaustion", "note": "", "details": {}}]
report:
  description: The whole result (schema_version, host, generated_at, duration_s, summary,
    checks) to write as JSON and render with tools/health_report.py.
  returned: success
  type: dict
  sample: {"schema_version": 1, "host": "vps1", "summary": {}, "checks": []}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.vedfin_health import HealthError, run_health
from ansible.module_utils.vedfin_pg import HAS_PSYCOPG, PSYCOPG_IMPORT_ERROR, pg_connection_argument_spec

try:
    import redis  # noqa: F401 - imported by vedfin_redis; here only to fail early and clearly
except ImportError:  # pragma: no cover - exercised only on hosts without redis-py
    HAS_REDIS, REDIS_IMPORT_ERROR = False, traceback.format_exc()
else:
    HAS_REDIS, REDIS_IMPORT_ERROR = True, None


def main():
    argument_spec = pg_connection_argument_spec(db_required=False)
    argument_spec.update(
        postgresql=dict(type="bool", default=True),
        redis=dict(
            type="dict",
            options=dict(
                host=dict(type="str", default="127.0.0.1"),
                port=dict(type="int", default=6379),
                unix_socket=dict(type="str"),
                username=dict(type="str"),
                password=dict(type="str", no_log=True),
                timeout=dict(type="float", default=5.0),
            ),
        ),
        backup=dict(type="bool", default=True),
        backup_status_dir=dict(type="path", default="/var/lib/pgbackrest/status"),
        backup_stanza=dict(type="str", default="main"),
        backup_timers=dict(
            type="list", elements="str", default=["ved-pgbackrest-full.timer", "ved-pgbackrest-diff.timer"]
        ),
        pgbackrest_cmd=dict(type="str", default="pgbackrest"),
        include=dict(type="list", elements="str", default=[]),
        exclude=dict(type="list", elements="str", default=[]),
        thresholds=dict(type="dict", default={}),
        recommended_settings=dict(type="dict", default={}),
        sql=dict(type="dict", default={}),
        sql_dir=dict(type="path"),
        host_label=dict(type="str", default=""),
        memory_budget=dict(type="dict"),
        security_superusers=dict(type="list", elements="str", default=["postgres"]),
        security_os_user=dict(type="str", default="postgres"),
        security_preload_libraries=dict(
            type="list",
            elements="str",
            default=["pg_stat_statements", "auto_explain", "pgaudit", "pg_prewarm"],
        ),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["postgresql"] and not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=PSYCOPG_IMPORT_ERROR)
    if p["redis"] and not HAS_REDIS:  # pragma: no cover - as above
        module.fail_json(msg=missing_required_lib("redis"), exception=REDIS_IMPORT_ERROR)
    exclude = list(p["exclude"]) + ([] if p["backup"] else ["backup"])
    try:
        result = run_health(
            p if p["postgresql"] else None,
            p["redis"],
            include=p["include"] or None,
            exclude=exclude or None,
            thresholds=p["thresholds"],
            recommended={str(k): str(v) for k, v in p["recommended_settings"].items()},
            sql_dir=p["sql_dir"],
            sql_texts=p["sql"],
            backup={
                "status_dir": p["backup_status_dir"],
                "stanza": p["backup_stanza"],
                "pgbackrest_cmd": p["pgbackrest_cmd"],
                "timers": p["backup_timers"],
            },
            host=p["host_label"],
            security={
                "superusers": p["security_superusers"],
                "os_user": p["security_os_user"],
                "preload_libraries": p["security_preload_libraries"],
            },
            memory_budget=p["memory_budget"],
        )
    except HealthError as exc:
        module.fail_json(msg=f"vedfin_health: {exc}")
    module.exit_json(changed=False, summary=result["summary"], checks=result["checks"], report=result)


if __name__ == "__main__":
    main()
