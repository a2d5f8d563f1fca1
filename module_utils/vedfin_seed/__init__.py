"""Deterministic, resumable, fast seeder for the V-EdFinance application schema.

Plain Python (no Ansible API): ``library/vedfin_seed.py`` is a thin shell over
:func:`seed`, and tests/tools call it directly (``ansible.module_utils.vedfin_seed``, the
modules' import name; see module_utils/vedfin_pg.py).

What it writes
    The twelve application tables of ``sql/schema/001_app_schema.sql`` that the analytics
    read (DOMAIN.md; the app's other tables are emptied, ``TRUNCATE ... CASCADE``), every NOT
    NULL column filled as Prisma's client would (text uuids, ``updatedAt``, required JSON), FK
    consistent, with the app's NULLs (a share of progress rows without
    ``progressPercentage`` and of events without ``actionCategory``, page views without
    ``duration``, most users without ``dateOfBirth`` or ``preferredLanguage``) and realistic
    distributions: Zipf-like course popularity, log-normal (heavy-tailed) user activity,
    evening peaks and a weekend dip in event times (Asia/Ho_Chi_Minh local time), ~10 %
    churning students, ~3 % anonymous BehaviorLog sessions, Vietnamese-first ``{vi,en,zh}``
    names, progress consistent with enrollments (lessons 1..k-1 COMPLETED, lesson k
    STARTED/IN_PROGRESS), streaks/points/achievements derived from the generated activity.
    Course slugs include prefix pairs (``investing`` / ``investing-advanced``, ``saving`` /
    ``saving-goals``) so that path matching in analytics is exercised.

Determinism
    The identity of a seed is ``(preset, seed, users, courses, behavior_logs, days,
    anchor_date, generator version)``.  Same identity -> byte-identical table contents
    (``table_checksums``), whatever the chunk size or whether the load was interrupted and
    resumed.  Timestamps are relative to ``anchor_date`` (data covers
    ``[anchor - days, anchor)``), never to ``now()``.  ``anchor_date`` defaults to *today*
    (UTC) for a fresh seed so that "last 30 days" analytics see data; when it is omitted and
    the database already holds a seed with the same other parameters, that seed's recorded
    anchor is reused (so a rerun on the next day is still a no-op).  Random streams come
    from numpy's PCG64 seeded with ``SeedSequence([seed, stream, block])``: identical across
    machines for one numpy major version.

Speed
    Rows are generated vectorised with numpy and assembled directly into PostgreSQL COPY
    text (no per-row Python for the big tables), streamed with ``COPY ... FROM STDIN`` while
    the next buffers are generated, into tables whose secondary indexes and FKs (and the big
    tables' primary keys) are rebuilt after the load, in parallel; ``phases`` in the result
    times each part (generation, COPY per table, each index, constraints, ANALYZE, rollups).

Rollups
    With the ops rollups of sql/migrations, a superuser seeder loads without their triggers
    (in its own session) and rebuilds them with ``ops.rebuild_all_rollups()`` before the
    seed is recorded complete; otherwise the triggers fire and ``warnings`` says so.

Resumability and ledger
    The load is a list of steps, each one transaction recorded in ``ops.seed_ledger``;
    rerunning the same call resumes after the last committed step and ends with exactly the
    same rows.

Modules
    ==================  ==============================================================
    ``seeder``          ``seed()``: validation, the lock, seed/resume/replace/none
    ``params``          presets, limits, ``normalize_params``, ``SeedError``
    ``environment``     which environments may be seeded (``check_environment``)
    ``data``            the fixed vocabulary (names, catalog, achievements, events)
    ``plan``            the content of a seed, one module per domain
    ``encoder``         COPY text built with numpy
    ``loader``          prepare, COPY steps, finish
    ``ddl``             the app tables' indexes and constraints around the load
    ``rollups``         the ops rollups around the load
    ``ledger``          ``ops.seed_ledger``
    ``tables``          the app tables: counts, sizes, checksums
    ==================  ==============================================================

Public API
    ``PRESETS``, ``APP_TABLES``, ``DEFAULT_CHUNK_ROWS``, ``HAS_NUMPY``,
    ``normalize_params(...)``, ``check_environment(...)``, ``seed(conn_params, ...)``,
    ``table_checksums(conn, tables=None)``, ``table_counts(conn, tables=None)``,
    ``SeedError`` (a ``VedfinError``).  Importing the package does not need numpy
    (``HAS_NUMPY`` says whether it is there): the plan, which does, is imported when a seed
    needs it, so the module checks the environment on a host without numpy too.
"""

from __future__ import annotations

from ansible.module_utils.vedfin_pg import VedfinError
from ansible.module_utils.vedfin_seed.environment import check_environment
from ansible.module_utils.vedfin_seed.params import PRESETS, SeedError, normalize_params
from ansible.module_utils.vedfin_seed.seeder import DEFAULT_CHUNK_ROWS, HAS_NUMPY, seed
from ansible.module_utils.vedfin_seed.tables import APP_TABLES, table_checksums, table_counts

__all__ = [
    "APP_TABLES",
    "DEFAULT_CHUNK_ROWS",
    "HAS_NUMPY",
    "PRESETS",
    "SeedError",
    "VedfinError",
    "check_environment",
    "normalize_params",
    "seed",
    "table_checksums",
    "table_counts",
]
