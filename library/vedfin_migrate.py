#!/usr/bin/python
# -*- coding: utf-8 -*-  # noqa: UP009 (header kept as in community modules)

# Copyright: (c) 2026, ved-db-ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vedfin_migrate
short_description: Apply ordered, checksummed, safety-linted SQL migrations to PostgreSQL
description:
  - Applies the files C(NNNN_name.sql) of a directory on the managed host in number order and
    records each one in the ledger table C(ops.schema_migrations) (name, checksum,
    applied_at, duration_ms), which it creates when missing.
  - Each file runs in its own transaction with C(SET LOCAL lock_timeout) and
    C(SET LOCAL statement_timeout).
  - >-
    A file whose header holds the line C(-- migrate: no-transaction) runs statement by
    statement outside a transaction (for C(CREATE INDEX CONCURRENTLY)); an INVALID index
    left by a failed concurrent build is dropped so that a rerun works. Such files must be
    idempotent.
  - >-
    Refuses, changing nothing, when an applied file was edited (checksum differs) or
    removed, or when the migration safety lint reports a finding in a pending file that
    carries no C(-- safety: allow <rule> because <reason>) comment (unless O(allow_unsafe)).
  - >-
    Before applying any pending file (not when everything is applied already) it runs the
    app schema preflight (C(module_utils/vedfin_preflight.py)): the application's tables in
    schema C(public) must still have every column the ops objects (C(sql/migrations),
    C(sql/analytics)) read, with an accepted type, NOT NULL where the ops objects need it, and
    the enum labels they use. Problems refuse, changing nothing, with a message starting
    C(app schema preflight failed:) and one C(table.column: found X, expected one of Y) per
    line (see docs/DATABASE_TROUBLESHOOTING.md). See O(preflight).
  - A session advisory lock keeps two runs from interleaving.
  - The real work is in C(module_utils/vedfin_migrate.py) and
    C(module_utils/vedfin_migration_lint.py).
version_added: "0.1.0"
author:
  - ved-db-ops maintainers
requirements:
  - psycopg >= 3.1 on the managed host
extends_documentation_fragment:
  - vedfin_pg
options:
  path:
    description:
      - Directory on the managed host holding the C(NNNN_name.sql) migration files.
      - Any other C(*.sql) file in it is an error.
    type: path
    required: true
  target:
    description:
      - Apply up to and including this migration, given as its name (C(0001_ops_schema)),
        file name (C(0001_ops_schema.sql)) or number (C(0001)). Later files stay pending.
      - Default is to apply every pending file.
    type: str
  lock_timeout:
    description:
      - PostgreSQL C(lock_timeout) for each file (C(SET LOCAL), or a session C(SET) for
        no-transaction files). A statement that waits longer for a lock fails, and so does
        the file, instead of queueing the application's queries behind it.
      - A PostgreSQL duration, for example C(500ms), C(5s), C(1min).
    type: str
    default: 5s
  statement_timeout:
    description:
      - PostgreSQL C(statement_timeout) for each statement of each file, a PostgreSQL
        duration.
    type: str
    default: 15min
  lock_wait:
    description:
      - Seconds to wait for the migration advisory lock held by another run before failing.
    type: int
    default: 60
  allow_unsafe:
    description:
      - Apply pending files even when the safety lint reports findings without an allow
        comment. The findings are returned in RV(unsafe) and as warnings.
      - Parse errors are never accepted.
    type: bool
    default: false
  preflight:
    description:
      - Run the app schema preflight before applying pending files, and refuse when the
        application's schema no longer has what the ops objects read.
      - Its warnings (enum labels of C("Role"), C("ProgressStatus"), C("Level") that the ops SQL
        does not know) do not refuse; they are returned in RV(preflight_warnings) and shown as
        warnings.
      - Set to V(false) only to migrate a database that is not the application's (the ops
        objects would then fail or count wrong on it).
    type: bool
    default: true
  db:
    description:
      - Database to migrate.
    type: str
    required: true
    aliases: [login_db]
attributes:
  check_mode:
    support: full
    details: Reads the ledger and the files, runs every refusal check and the lint, and
      reports what would be applied; nothing is written, not even the ledger table.
  diff_mode:
    support: none
notes:
  - Run C(python tools/migration_lint.py sql/migrations) in CI so that findings show up
    before a deploy.
seealso:
  - module: community.postgresql.postgresql_query
  - name: Safe migrations (rules and allow comments)
    description: Docstring of module_utils/vedfin_migration_lint.py in this repository.
    link: https://www.postgresql.org/docs/15/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
"""

EXAMPLES = r"""
- name: Preview the pending ops migrations (check mode)
  vedfin_migrate:
    db: vedfin
    login_user: postgres
    login_unix_socket: /var/run/postgresql
    path: /opt/ved-db-ops/sql/migrations
  check_mode: true
  register: migration_plan

- name: Apply the ops migrations with a short lock timeout
  vedfin_migrate:
    db: vedfin
    login_host: db1.internal
    login_user: ops_migrator
    login_password: "{{ vault_ops_migrator_password }}"
    path: /opt/ved-db-ops/sql/migrations
    lock_timeout: 3s
    statement_timeout: 30min

- name: Apply only up to the analytics indexes
  vedfin_migrate:
    db: vedfin
    login_unix_socket: /var/run/postgresql
    path: /opt/ved-db-ops/sql/migrations
    target: 0002_analytics_indexes
"""

RETURN = r"""
applied:
  description: Names of the migrations applied by this run (in check mode, that would be applied), in order.
  returned: always
  type: list
  elements: str
  sample: [0001_ops_schema, 0002_analytics_indexes]
pending:
  description: Names of the migrations still not applied after this run (beyond O(target)).
  returned: always
  type: list
  elements: str
  sample: []
already_applied:
  description: Names of the migrations that were already in the ledger (left alone).
  returned: always
  type: list
  elements: str
  sample: [0001_ops_schema]
executed_files:
  description: Paths of the files run (in check mode, that would be run).
  returned: always
  type: list
  elements: str
  sample: [/opt/ved-db-ops/sql/migrations/0002_analytics_indexes.sql]
durations:
  description: Milliseconds each applied file took, by name. Empty in check mode.
  returned: always
  type: dict
  sample: {"0002_analytics_indexes": 41.7}
allowed:
  description: "Lint findings accepted by C(-- safety: allow) comments, as C(file:line: rule: reason)."
  returned: always
  type: list
  elements: str
  sample:
    - "/opt/m/0003_drop_old.sql:4: drop-table: DROP TABLE old loses data ... (allowed because unused in v2)"
unsafe:
  description: Lint findings accepted only because O(allow_unsafe=true).
  returned: always
  type: list
  elements: str
  sample: []
preflight_warnings:
  description: App schema preflight warnings (enum labels the ops SQL does not know); empty
    when the preflight did not run (nothing pending, or O(preflight=false)).
  returned: always
  type: list
  elements: str
  sample:
    - "\"ProgressStatus\": found labels 'PAUSED' that the ops SQL does not know (known: 'STARTED',
      'IN_PROGRESS', 'COMPLETED'); rows with them fall out of the analytics until the ops SQL handles them"
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.vedfin_migrate import Migrator
from ansible.module_utils.vedfin_pg import (
    HAS_PSYCOPG,
    PSYCOPG_IMPORT_ERROR,
    VedfinError,
    connect,
    pg_connection_argument_spec,
)


def main():
    argument_spec = pg_connection_argument_spec()
    argument_spec.update(
        path=dict(type="path", required=True),
        target=dict(type="str"),
        lock_timeout=dict(type="str", default="5s"),
        statement_timeout=dict(type="str", default="15min"),
        lock_wait=dict(type="int", default=60),
        allow_unsafe=dict(type="bool", default=False),
        preflight=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=PSYCOPG_IMPORT_ERROR)

    p = module.params
    result = dict(changed=False, applied=[], pending=[], already_applied=[], executed_files=[], durations={})
    conn = None
    try:
        conn = connect(p, autocommit=True, application_name="ved-db-ops vedfin_migrate")
        migrator = Migrator(
            conn,
            p["path"],
            lock_timeout=p["lock_timeout"],
            statement_timeout=p["statement_timeout"],
            target=p["target"],
            allow_unsafe=p["allow_unsafe"],
            lock_wait=p["lock_wait"],
            preflight=p["preflight"],
        )
        outcome = migrator.plan() if module.check_mode else migrator.apply()
    except VedfinError as exc:
        module.fail_json(msg=f"vedfin_migrate: {to_native(exc)}", **result)
    except Exception as exc:  # psycopg errors outside the runner's own handling
        module.fail_json(msg=f"vedfin_migrate: unexpected error: {to_native(exc)}", **result)
    finally:
        if conn is not None:
            conn.close()

    outcome.pop("check_mode", None)
    for finding in outcome.get("unsafe", []):
        module.warn(f"applied despite the safety lint (allow_unsafe): {finding}")
    for warning in outcome.get("preflight_warnings", []):
        module.warn(f"app schema preflight: {warning}")
    result.update(outcome)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
