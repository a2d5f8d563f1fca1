#!/usr/bin/python
# -*- coding: utf-8 -*-  # noqa: UP009 (header kept as in community modules)

# Copyright: (c) 2026, ved-db-ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vedfin_erd
short_description: Write per-domain ERDs (Markdown + Mermaid erDiagram) from a live PostgreSQL catalog
description:
  - Reads the tables of O(schemas) from C(pg_catalog) (columns with their C(format_type())
    types and nullability, primary keys, foreign keys, unique keys, indexes) and writes one
    Markdown file C(erd-<domain>.md) per domain of O(domains) into O(dest) on the managed host.
  - Each file holds a Mermaid C(erDiagram) (attributes C(type name PK/FK/UK "comment"), one
    relationship per foreign key with its cardinality from nullability and uniqueness), an
    index table per table and the foreign keys that cross domains. Tables of other domains
    that a foreign key points at are drawn with their primary key only.
  - The output is deterministic (sorted, no timestamps, no database name). Only files whose
    content differs are rewritten, so a second run reports C(changed=false).
  - Tables of O(schemas) that no domain maps are returned in RV(unmapped_tables) and
    reported as a warning; they are never dropped silently. A domain naming a table that
    does not exist, or an unknown domain in O(only), fails with the list of valid names.
  - The real work is in C(module_utils/vedfin_erd.py); C(tools/erd.py) is the CLI
    (C(make erd)) and the CI drift check.
version_added: "0.1.0"
author:
  - ved-db-ops maintainers
requirements:
  - psycopg >= 3.1 on the managed host
extends_documentation_fragment:
  - vedfin_pg
options:
  dest:
    description:
      - Directory on the managed host that receives the C(erd-<domain>.md) files. Created
        when missing (not in check mode).
      - Other files in it are left alone; C(erd-*.md) files that no domain produces are
        reported in RV(stale) and as a warning.
    type: path
    required: true
  domains:
    description:
      - Domain map, domain name to the list of its tables. A name becomes the file name
        C(erd-<domain>.md), so it must match C([a-z0-9][a-z0-9_-]*).
      - Tables are named as in the catalog - the bare name in schema C(public) (C(User)),
        C(schema.name) elsewhere (C(ops.enrollment)). A table belongs to at most one domain.
      - The default is the application's domain map from DOMAIN.md.
    type: dict
    default:
      learning: [User, Course, Lesson, UserProgress]
      analytics: [BehaviorLog]
      gamification: [UserStreak, UserAchievement, Achievement]
      social: [BuddyGroup, BuddyMember, SocialPost, UserRelationship]
  only:
    description:
      - Render only these domains of O(domains). Default is every domain.
    type: list
    elements: str
  schemas:
    description:
      - Schemas whose tables are read. The ops-owned schema C(ops) is not part of the
        application ERDs unless it is listed here (and mapped in O(domains)).
    type: list
    elements: str
    default: [public]
  db:
    description:
      - Database whose catalog is drawn.
    type: str
    required: true
    aliases: [login_db]
attributes:
  check_mode:
    support: full
    details: Reads the catalog, renders every file and reports in RV(files) which ones would
      change; nothing is written, not even O(dest).
  diff_mode:
    support: full
    details: Returns the before and after text of every file that changes.
notes:
  - "Mermaid attribute types cannot hold spaces or parentheses: C(format_type()) names are
    shortened and sanitized, for example C(timestamp(3) with time zone) becomes
    C(timestamptz_3) (rules in C(docs/schema/README.md))."
seealso:
  - module: community.postgresql.postgresql_info
  - name: Mermaid entity relationship diagrams
    description: Syntax of the generated C(erDiagram) blocks.
    link: https://mermaid.js.org/syntax/entityRelationshipDiagram.html
"""

EXAMPLES = r"""
- name: Regenerate the ERDs of the application domains
  vedfin_erd:
    db: vedfin
    login_unix_socket: /var/run/postgresql
    dest: /opt/ved-db-ops/docs/schema
  register: erd

- name: Would the committed ERDs change? (check mode writes nothing)
  vedfin_erd:
    db: vedfin
    login_host: db1.internal
    login_user: ops_reader
    login_password: "{{ vault_ops_reader_password }}"
    dest: /opt/ved-db-ops/docs/schema
  check_mode: true
  register: erd_drift

- name: Draw the ops-owned rollups too, in their own file
  vedfin_erd:
    db: vedfin
    login_unix_socket: /var/run/postgresql
    dest: /tmp/erd
    schemas: [public, ops]
    domains:
      learning: [User, Course, Lesson, UserProgress]
      analytics: [BehaviorLog]
      gamification: [UserStreak, UserAchievement, Achievement]
      social: [BuddyGroup, BuddyMember, SocialPost, UserRelationship]
      ops: [ops.activity_15m, ops.user_session, ops.course_path_session, ops.enrollment]
"""

RETURN = r"""
files:
  description: Paths of the files written by this run (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: [/opt/ved-db-ops/docs/schema/erd-social.md]
unchanged:
  description: Paths of the generated files whose content was already up to date.
  returned: always
  type: list
  elements: str
  sample: [/opt/ved-db-ops/docs/schema/erd-learning.md]
unmapped_tables:
  description: Tables of O(schemas) that no domain of O(domains) maps (not drawn, except
    as referenced tables). Also reported as a warning.
  returned: always
  type: list
  elements: str
  sample: [Coupon]
stale:
  description: C(erd-*.md) files in O(dest) that no rendered domain produces (left alone).
  returned: always
  type: list
  elements: str
  sample: []
domains:
  description: The domains rendered, sorted.
  returned: always
  type: list
  elements: str
  sample: [analytics, gamification, learning, social]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.vedfin_erd import DEFAULT_DOMAINS, generate, read_catalog, sync_files
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
        dest=dict(type="path", required=True),
        domains=dict(type="dict", default={k: list(v) for k, v in DEFAULT_DOMAINS.items()}),
        only=dict(type="list", elements="str"),
        schemas=dict(type="list", elements="str", default=["public"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=PSYCOPG_IMPORT_ERROR)

    p = module.params
    result = dict(changed=False, files=[], unchanged=[], unmapped_tables=[], stale=[], domains=[])
    conn = None
    try:
        conn = connect(p, autocommit=True, application_name="ved-db-ops vedfin_erd")
        catalog = read_catalog(conn, p["schemas"])
        conn.close()
        conn = None
        generated = generate(catalog, p["domains"], p["only"])
        synced = sync_files(p["dest"], generated["files"], check_mode=module.check_mode)
    except VedfinError as exc:
        module.fail_json(msg=f"vedfin_erd: {to_native(exc)}", **result)
    except Exception as exc:  # psycopg or file system errors
        module.fail_json(msg=f"vedfin_erd: unexpected error: {to_native(exc)}", **result)
    finally:
        if conn is not None:
            conn.close()

    for warning in generated["warnings"]:
        module.warn(warning)
    for path in synced["stale"]:
        module.warn(f"{path} is not produced by any rendered domain (stale); remove it if the domain is gone")
    result.update(
        changed=synced["changed"],
        files=synced["files"],
        unchanged=synced["unchanged"],
        unmapped_tables=generated["unmapped_tables"],
        stale=synced["stale"] if not p["only"] else [],
        domains=sorted(name[len("erd-") : -len(".md")] for name in generated["files"]),
    )
    if module._diff:
        result["diff"] = [
            dict(
                before_header=path,
                after_header=path,
                before=synced["befores"][path] or "",
                after=generated["files"][path.rsplit("/", 1)[-1]],
            )
            for path in synced["files"]
        ]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
