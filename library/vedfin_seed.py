#!/usr/bin/python
"""Ansible module: seed the V-EdFinance application tables (thin shell over module_utils)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vedfin_seed
short_description: Load deterministic, realistic V-EdFinance data into PostgreSQL
description:
  - Fills the twelve application tables (User, Course, Lesson, UserProgress, BehaviorLog,
    UserStreak, Achievement, UserAchievement, BuddyGroup, BuddyMember, SocialPost,
    UserRelationship) of a database holding the reference schema (C(sql/schema/)).
  - Deterministic - the same O(preset), O(seed), counts and O(anchor_date) give
    byte-identical table contents. Distributions are realistic (Zipf course popularity,
    heavy-tailed activity, daily and weekly rhythm, churn, anonymous events,
    Vietnamese-first localized names).
  - Fast - rows are generated vectorised and streamed with C(COPY) (C(FREEZE) for the first
    chunk of each table); secondary indexes and foreign keys are dropped during the load and
    recreated exactly afterwards on one session per CPU, then ANALYZE.
  - Rollup aware - when the ops rollups of C(sql/migrations) exist (their full rebuild
    C(ops.rebuild_all_rollups()), migration 0012), a superuser O(login_user)
    loads with C(session_replication_role=replica) in its own sessions only (the rollup
    triggers do not fire there; nothing global is changed) and rebuilds the rollups before
    the seed is recorded complete, so they are exact. Otherwise the triggers fire (about 3x
    slower) and a warning says so.
  - Resumable - the load commits in chunks recorded in C(ops.seed_ledger); rerunning the
    same task after an interruption finishes the load with exactly the same rows.
  - Idempotent - the same parameters again report C(changed=false) and write nothing.
    Different parameters are refused unless O(replace=true). Rows the seeder did not write
    are refused unless O(force=true).
  - Connect (O(login_user)) as a superuser, such as the default V(postgres), to load without
    firing the ops rollup triggers; any other role must own the app tables and loads with them
    (slower; see RV(seed_warnings)).
  - The seeder B(truncates) the application tables, so it runs only where the environment is
    explicitly disposable - O(environment) one of V(local), V(dev), V(ci), V(test), V(demo)
    (case-insensitive), or any named environment with O(disposable=true). A missing or empty
    O(environment) is refused, and so is a production name (V(production), V(prod), V(prd),
    V(live), also as a word of a longer name such as V(prod-eu)) unless both O(disposable) and
    O(allow_production) are true. The check runs before anything is contacted; with
    O(environment_only=true) it is all the module does (playbooks/seed.yml asks it first).
version_added: "1.0.0"
author: ved-db-ops
requirements:
  - psycopg >= 3.1
  - numpy
extends_documentation_fragment:
  - vedfin_pg
options:
  db:
    description: Database holding the application schema.
    type: str
    required: true
    aliases: [login_db]
  preset:
    description:
      - Scale preset. V(demo) 200 users, 25 courses, 6000 behavior logs over 30 days;
        V(staging) 10000 users, 100 courses, 1000000 logs over 180 days; V(large) 100000
        users, 500 courses, 10000000 logs over 365 days. V(custom) requires every count.
    type: str
    default: demo
    choices: [demo, staging, large, custom]
  seed:
    description: Random seed; the same seed and parameters give the same rows.
    type: int
    default: 1
  users:
    description: Number of users (overrides the preset). 1 to 100000000.
    type: int
  courses:
    description: Number of courses (overrides the preset); each has 8 to 15 lessons. 1 to 100000.
    type: int
  behavior_logs:
    description: Exact number of BehaviorLog rows (overrides the preset). 1 to 1000000000.
    type: int
  days:
    description: Length in days of the activity window ending at O(anchor_date) (overrides the preset).
    type: int
  anchor_date:
    description:
      - End (exclusive, UTC midnight) of the generated activity, as V(YYYY-MM-DD). Part of the
        identity of a seed.
      - When omitted, the anchor of an existing seed with the same other parameters is reused
        (so reruns stay idempotent on later days); otherwise today's UTC date.
    type: str
  replace:
    description: Replace a seed made with different parameters (truncates the app tables, then seeds).
    type: bool
    default: false
  force:
    description:
      - Truncate app tables holding rows that the seeder did not write (no ledger entry, or
        row counts changed since the recorded seed), then seed.
    type: bool
    default: false
  environment:
    description:
      - Name of the target environment (the inventory's C(vedfin_environment)). Required in
        effect - a missing or empty value is refused. V(local), V(dev), V(ci), V(test) and
        V(demo) are disposable; any other name needs O(disposable=true).
    type: str
  disposable:
    description:
      - Explicit marker that this environment's application data may be replaced (the
        inventory's C(seed_disposable)), for a name not on the built-in list, e.g. V(staging).
    type: bool
    default: false
  allow_production:
    description: Allow seeding an environment with a production name (V(production), V(prod),
      V(prd), V(live), V(prod-eu), ...); needs O(disposable=true) too.
    type: bool
    default: false
  chunk_rows:
    description: Rows per committed chunk of the big tables (resume granularity). Does not change the data.
    type: int
    default: 500000
  environment_only:
    description:
      - Only decide whether O(environment) may be seeded (with O(disposable) and
        O(allow_production)) and return RV(environment_allowed), and check the seed's parameters
        (O(preset) and the counts); connect to nothing, write nothing, need neither psycopg nor
        numpy. A refused environment or a bad parameter fails as in a real run.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Validates everything and reports what would be loaded (RV(would_load)); writes nothing.
  diff_mode:
    support: none
notes:
  - Row contents are stable for one numpy major version (numpy's Generator streams).
  - The ledger lives in C(ops.seed_ledger); C(ops) is created if missing.
seealso:
  - name: DOMAIN.md
    description: The data model and the seed presets.
"""

EXAMPLES = r"""
- name: Seed the demo data set
  vedfin_seed:
    login_host: 127.0.0.1
    login_password: "{{ vault_postgres_password }}"
    db: vedfinance
    preset: demo
    seed: 42
    environment: local

- name: Staging volume with a fixed anchor, replacing an older seed
  vedfin_seed:
    db: vedfinance
    preset: staging
    seed: 7
    anchor_date: "2026-01-31"
    replace: true
    environment: staging
    disposable: true  # staging is not on the built-in list: its inventory says seed_disposable

- name: A custom small data set
  vedfin_seed:
    db: vedfinance_test
    preset: custom
    users: 500
    courses: 10
    behavior_logs: 20000
    days: 14
    environment: test
"""

RETURN = r"""
changed:
  description: Whether rows were (or in check mode would be) written.
  returned: always
  type: bool
  sample: true
operation:
  description: V(seed) (fresh), V(resume) (finished an interrupted load), V(replace) (truncated and
    reseeded), V(none) (already seeded with these parameters).
  returned: always
  type: str
  sample: seed
params:
  description: The normalized identity of the seed (preset, seed, counts, anchor_date, generator).
  returned: always
  type: dict
  sample: {"preset": "demo", "seed": 1, "users": 200, "courses": 25, "behavior_logs": 6000,
           "days": 30, "anchor_date": "2026-11-25", "generator": 1}
anchor_date:
  description: The anchor used (end of the activity window).
  returned: always
  type: str
  sample: "2026-11-25"
table_counts:
  description: Row count per app table after the run (in check mode, the counts that would be loaded).
  returned: always
  type: dict
  sample: {"User": 200, "BehaviorLog": 6000}
would_load:
  description: Row counts per table a real run would load.
  returned: in check mode when changed
  type: dict
  sample: {"User": 200, "BehaviorLog": 6000}
rows_loaded:
  description: Rows written by this run.
  returned: always
  type: int
  sample: 10126
seconds:
  description: Wall time of this run in seconds.
  returned: always
  type: float
  sample: 0.31
rows_per_second:
  description: rows_loaded / seconds.
  returned: always
  type: float
  sample: 32000.0
mb_written:
  description: Growth of pg_total_relation_size of the app tables (heap + indexes + TOAST),
    in MB (10^6 bytes).
  returned: always
  type: float
  sample: 6.25
mb_per_second:
  description: mb_written / seconds.
  returned: always
  type: float
  sample: 20.1
ledger_id:
  description: Id of the seed's row in ops.seed_ledger.
  returned: when a ledger exists
  type: int
  sample: 1
steps:
  description: Number of committed steps of the load plan (base, UserProgress and BehaviorLog chunks).
  returned: always
  type: int
  sample: 3
rollups:
  description: How the ops rollup tables were kept exact - V(rebuilt) (loaded without their
    triggers, then rebuilt), V(maintained by triggers) (not a superuser), V(none) (no rollups).
  returned: when rows were written
  type: str
  sample: rebuilt
phases:
  description: Seconds per part of this run - prepare, generate (overlaps COPY), copy and
    copy_generate per table, indexes per index (and indexes_wall for the parallel pool),
    constraints per constraint (constraints_wall), analyze, rollups per rebuild function
    (rollups_wall).
  returned: when rows were written
  type: dict
  sample: {"prepare": 0.05, "generate": 4.1, "copy": {"BehaviorLog": 5.5}, "indexes_wall": 15.4,
           "analyze": 0.8, "rollups": {"ops.rebuild_behavior_rollups": 13.2}, "rollups_wall": 15.1}
environment_allowed:
  description: Whether O(environment) may be seeded; false in the failed result of a refusal (the
    reason is in C(msg)).
  returned: with O(environment_only=true), and when the environment is refused
  type: bool
  sample: true
seed_warnings:
  description: Degradations of this run (e.g. rollup triggers fired because O(login_user) is not a
    superuser); Ansible shows them as warnings.
  returned: always
  type: list
  elements: str
  sample: []
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.vedfin_pg import (
    HAS_PSYCOPG,
    PSYCOPG_IMPORT_ERROR,
    VedfinError,
    pg_connection_argument_spec,
)
from ansible.module_utils.vedfin_seed import DEFAULT_CHUNK_ROWS, HAS_NUMPY, SeedError, check_environment, seed
from ansible.module_utils.vedfin_seed.params import PRESETS, normalize_params


def main():
    argument_spec = pg_connection_argument_spec()
    argument_spec.update(
        preset=dict(type="str", default="demo", choices=[*PRESETS, "custom"]),
        seed=dict(type="int", default=1),
        users=dict(type="int"),
        courses=dict(type="int"),
        behavior_logs=dict(type="int"),
        days=dict(type="int"),
        anchor_date=dict(type="str"),
        replace=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        environment=dict(type="str"),
        allow_production=dict(type="bool", default=False),
        disposable=dict(type="bool", default=False),
        chunk_rows=dict(type="int", default=DEFAULT_CHUNK_ROWS),
        environment_only=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    # Before anything else: a seed replaces the app data, so only a disposable environment.
    try:
        check_environment(p["environment"], p["disposable"], p["allow_production"])
    except SeedError as exc:
        module.fail_json(msg=f"vedfin_seed: {exc}", environment_allowed=False)
    if p["environment_only"]:
        # The seed's own parameters too (a custom preset needs its counts), still before any change.
        try:
            counts = (p["users"], p["courses"], p["behavior_logs"], p["days"])
            normalize_params(p["preset"], p["seed"], *counts, p["anchor_date"])
        except SeedError as exc:
            module.fail_json(msg=f"vedfin_seed: {exc}")  # no environment_allowed: the play stops
        module.exit_json(changed=False, environment_allowed=True)
    if not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=PSYCOPG_IMPORT_ERROR)
    if not HAS_NUMPY:
        module.fail_json(msg=missing_required_lib("numpy"))
    try:
        result = seed(
            p,
            preset=p["preset"],
            seed=p["seed"],
            users=p["users"],
            courses=p["courses"],
            behavior_logs=p["behavior_logs"],
            days=p["days"],
            anchor_date=p["anchor_date"],
            replace=p["replace"],
            force=p["force"],
            environment=p["environment"],
            allow_production=p["allow_production"],
            disposable=p["disposable"],
            check_mode=module.check_mode,
            chunk_rows=p["chunk_rows"],
        )
    except VedfinError as exc:
        module.fail_json(msg=f"vedfin_seed: {exc}")
    except Exception as exc:  # noqa: BLE001 - report any database error with its cause
        module.fail_json(
            msg="vedfin_seed failed: {}".format(" ".join(str(exc).split())), exception=traceback.format_exc()
        )
    # Soft problems go through module.warn (Ansible shows them); the key stays in RETURN.
    for text in result.get("warnings") or []:
        module.warn(text)
    result["seed_warnings"] = result.pop("warnings", [])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
