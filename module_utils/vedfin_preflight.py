"""App schema preflight: does the live application schema still have what the ops objects read?

Plain Python (psycopg 3, no Ansible).  The application (Prisma) owns the tables of schema
``public``; the ops objects (``sql/migrations/*.sql``: rollup tables, triggers, indexes, and
``sql/analytics/*.sql``: the report queries) read some of their columns.  When the app
changes one of those columns (drops or renames it, changes its type, makes it nullable, renames
an enum label) the ops objects break, or worse keep running and count wrong.  ``check(conn)``
compares the catalog with ``EXPECTED`` and lists every incompatibility; it reads only
``pg_catalog`` and changes nothing.  ``vedfin_migrate`` runs it before applying any pending
migration and refuses on problems.

``EXPECTED`` is one declarative table, written from what the ops SQL reads (grep the quoted
column names under sql/migrations and sql/analytics).  Rules:

* ids and foreign keys: ``text``;
* timestamps: ``timestamp without time zone`` (Prisma's default, UTC wall clock) or
  ``timestamp with time zone`` (``@db.Timestamptz``), both accepted;
* enum columns: the named enum type of the app (``"Role"``, ``"Level"``, ``"ProgressStatus"``),
  holding at least the labels the ops SQL uses (``REQUIRED_LABELS``);
* ``not_null=True``: the ops objects need NOT NULL (a NULL would break a NOT NULL rollup column,
  a primary key, a join or a count); ``False``: the ops SQL handles NULL, either is accepted.

Tables of the app that no ops object reads ("Achievement", "BuddyGroup", "SocialPost",
"UserRelationship", ...) are not listed: the app may change them freely.  Neither are the
columns the ops SQL does not read (for example "UserProgress"."id", "completedAt", "updatedAt").

Problems (errors) are strings formatted exactly ``table.column: found X, expected one of Y``:

* ``Lesson: found no such table, expected a table``
* ``User.points: found no such column, expected one of integer``
* ``User.points: found text, expected one of integer``
* ``UserProgress.userId: found nullable, expected one of NOT NULL``
* ``UserProgress.status: found "ProgressStatus" with labels ('STARTED', 'IN_PROGRESS', 'DONE')
  without 'COMPLETED', expected one of "ProgressStatus" with labels including 'STARTED',
  'IN_PROGRESS', 'COMPLETED'``

Warnings: an enum label of "Role", "ProgressStatus" or "Level" that the ops SQL does not know
(``KNOWN_LABELS``): rows carrying it silently fall out of the analytics (e.g. a new progress
status counts neither as completed nor as in progress), so the ops SQL should be reviewed.

Public API: ``EXPECTED``, ``REQUIRED_LABELS``, ``KNOWN_LABELS``, ``Column``,
``check(conn, schema="public") -> {"ok", "problems", "warnings"}``,
``compare(tables, enums)`` (the pure part, on catalog facts) and ``format_problems(problems)``.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT = ("text",)
INTEGER = ("integer",)
BOOLEAN = ("boolean",)
JSONB = ("jsonb",)
DOUBLE = ("double precision",)
TIMESTAMP = ("timestamp without time zone", "timestamp with time zone")


@dataclass(frozen=True)
class Column:
    types: tuple[str, ...]  # accepted types, as rendered by render_type (enums: '"Role"')
    not_null: bool  # True: the ops objects need NOT NULL; False: nullable is handled
    enum: str | None = None  # the enum type name when the column must be that enum


def enum(name: str, not_null: bool) -> Column:
    return Column((quote_ident(name),), not_null, name)


def quote_ident(name: str) -> str:
    """How PostgreSQL renders a type/identifier: quoted unless plain lower-case."""
    plain = name.isidentifier() and name == name.lower() and name.isascii()
    return name if plain else '"{}"'.format(name.replace('"', '""'))


# What the ops objects (sql/migrations, sql/analytics) read, table by table.
EXPECTED: dict[str, dict[str, Column]] = {
    "User": {
        "id": Column(TEXT, True),
        "name": Column(JSONB, False),  # reported as is (at_risk_students, leaderboard)
        "email": Column(TEXT, False),  # reported as is (at_risk_students)
        "role": enum("Role", True),  # -> ops.user_score."student" boolean NOT NULL
        "points": Column(INTEGER, True),  # -> ops.user_score."points" integer NOT NULL
        "createdAt": Column(TIMESTAMP, True),  # signup day of ops.user_cohort
    },
    "Course": {
        "id": Column(TEXT, True),
        "slug": Column(TEXT, True),  # key of ops.course_path (text PRIMARY KEY)
        "title": Column(JSONB, False),  # reported as is (top_courses)
        "level": enum("Level", True),  # -> ops.level_progress."level" NOT NULL
        "price": Column(INTEGER, False),  # summed (revenue_metrics); NULL is left out of sums
        "published": Column(BOOLEAN, True),  # compared with IS DISTINCT FROM by the triggers
    },
    "Lesson": {
        "id": Column(TEXT, True),
        "courseId": Column(TEXT, True),  # -> ops.enrollment."courseId" NOT NULL
        "published": Column(BOOLEAN, True),
    },
    "UserProgress": {
        "userId": Column(TEXT, True),  # -> ops.enrollment / ops.user_course_progress keys
        "lessonId": Column(TEXT, True),
        "status": enum("ProgressStatus", True),
        "durationSpent": Column(INTEGER, True),  # summed into NOT NULL counters
        "progressPercentage": Column(DOUBLE, False),  # Float?: NULL handled
        "createdAt": Column(TIMESTAMP, True),  # ops.enrollment."firstAt" NOT NULL
    },
    "BehaviorLog": {
        "userId": Column(TEXT, False),  # ON DELETE SET NULL: the rollups skip NULL users
        "sessionId": Column(TEXT, True),  # rollup keys (NOT NULL)
        "path": Column(TEXT, True),  # course slug of ops.course_path_session (NOT NULL)
        "eventType": Column(TEXT, True),
        "duration": Column(INTEGER, False),  # Int? default 0: coalesced
        "timestamp": Column(TIMESTAMP, True),  # 15-minute bucket (NOT NULL), BRIN index
    },
    "UserStreak": {
        "userId": Column(TEXT, True),
        "currentStreak": Column(INTEGER, True),  # -> ops.user_score NOT NULL
    },
    "UserAchievement": {
        "userId": Column(TEXT, True),
        "awardedAt": Column(TIMESTAMP, True),  # index ("awardedAt") INCLUDE ("userId")
    },
    "BuddyMember": {
        "groupId": Column(TEXT, True),  # leaderboard of a buddy group
        "userId": Column(TEXT, True),
    },
}

# Labels the ops SQL names (or, for "Level", iterates over with enum_range): must exist.
REQUIRED_LABELS: dict[str, tuple[str, ...]] = {
    "Role": ("STUDENT",),
    "ProgressStatus": ("STARTED", "IN_PROGRESS", "COMPLETED"),
    "Level": ("BEGINNER", "INTERMEDIATE", "EXPERT"),
}

# Every label the ops SQL was written for; any other label is a warning.
KNOWN_LABELS: dict[str, tuple[str, ...]] = {
    "Role": ("STUDENT", "TEACHER", "ADMIN"),
    "ProgressStatus": ("STARTED", "IN_PROGRESS", "COMPLETED"),
    "Level": ("BEGINNER", "INTERMEDIATE", "EXPERT"),
}

_COLUMNS_SQL = """
SELECT c.relname, a.attname, a.attnotnull,
       CASE WHEN t.typtype = 'e' AND tn.nspname = %(schema)s THEN quote_ident(t.typname)
            WHEN t.typtype = 'e' THEN quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
            ELSE format_type(a.atttypid, NULL) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%(tables)s)
"""

_ENUMS_SQL = """
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = %(schema)s AND t.typname = ANY(%(enums)s)
GROUP BY t.typname
"""


def _labels(labels) -> str:
    return ", ".join(f"'{label}'" for label in labels)


def problem(table: str, column: str | None, found: str, expected) -> str:
    """``table.column: found X, expected one of Y`` (``table: ...`` without a column)."""
    where = table if column is None else f"{table}.{column}"
    if not isinstance(expected, str):
        expected = ", ".join(expected)
    if column is None:
        return f"{where}: found {found}, expected {expected}"
    return f"{where}: found {found}, expected one of {expected}"


def compare(
    tables: dict[str, dict[str, tuple[str, bool]]],
    enums: dict[str, list[str]],
    expected: dict[str, dict[str, Column]] | None = None,
) -> dict:
    """The pure part of ``check``: catalog facts in, verdict out.

    ``tables``: {table: {column: (rendered type, attnotnull)}} (only tables that exist);
    ``enums``: {enum type name: [labels in order]} (only enums that exist in the schema).
    """
    expected = EXPECTED if expected is None else expected
    problems: list[str] = []
    warnings: list[str] = []
    for table, columns in expected.items():
        found_cols = tables.get(table)
        if found_cols is None:
            problems.append(problem(table, None, "no such table", "a table"))
            continue
        for column, spec in columns.items():
            if column not in found_cols:
                problems.append(problem(table, column, "no such column", spec.types))
                continue
            found_type, not_null = found_cols[column]
            if found_type not in spec.types:
                problems.append(problem(table, column, found_type, spec.types))
            elif spec.enum is not None:
                required = REQUIRED_LABELS.get(spec.enum, ())
                have = enums.get(spec.enum, [])
                missing = [label for label in required if label not in have]
                if missing:
                    problems.append(
                        problem(
                            table,
                            column,
                            f"{found_type} with labels ({_labels(have)}) without {_labels(missing)}",
                            f"{found_type} with labels including {_labels(required)}",
                        )
                    )
            if spec.not_null and not not_null:
                problems.append(problem(table, column, "nullable", "NOT NULL"))
    for name, known in KNOWN_LABELS.items():
        extra = [label for label in enums.get(name, []) if label not in known]
        if extra:
            warnings.append(
                f"{quote_ident(name)}: found labels {_labels(extra)} that the ops SQL does not know "
                f"(known: {_labels(known)}); rows with them fall out of the analytics until the ops "
                "SQL handles them"
            )
    return {"ok": not problems, "problems": problems, "warnings": warnings}


def check(conn, schema: str = "public") -> dict:
    """Compare the live catalog of ``schema`` with ``EXPECTED``; reads only the catalog.

    ``conn``: a psycopg 3 connection (autocommit or not; no transaction is left open by the
    read if the connection is in autocommit mode).
    Returns ``{"ok": bool, "problems": [str], "warnings": [str]}``.
    """
    params = {
        "schema": schema,
        "tables": list(EXPECTED),
        "enums": sorted(
            {c.enum for cols in EXPECTED.values() for c in cols.values() if c.enum} | set(KNOWN_LABELS)
        ),
    }
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    for relname, attname, attnotnull, typ in conn.execute(_COLUMNS_SQL, params).fetchall():
        tables.setdefault(relname, {})[attname] = (typ, bool(attnotnull))
    enums = {name: list(labels) for name, labels in conn.execute(_ENUMS_SQL, params).fetchall()}
    return compare(tables, enums)


def format_problems(problems: list[str]) -> str:
    """The refusal message used by vedfin_migrate: a header, then one problem per line."""
    return "app schema preflight failed:\n" + "\n".join(problems)


__all__ = [
    "EXPECTED",
    "KNOWN_LABELS",
    "REQUIRED_LABELS",
    "Column",
    "check",
    "compare",
    "format_problems",
    "problem",
]
