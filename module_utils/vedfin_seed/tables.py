"""The application tables the seeder fills, and what it measures of them: presence, exact
row counts, sizes and content checksums.

The twelve tables of ``sql/schema/001_app_schema.sql`` that the analytics read; the app's
other tables only reference them (a seed empties those, ``TRUNCATE ... CASCADE``).
"""

from __future__ import annotations

from ansible.module_utils.vedfin_pg import sql_ident

# Parent tables first: the order of the load and of the checks.
APP_TABLES = (
    "User",
    "Course",
    "Lesson",
    "Achievement",
    "BuddyGroup",
    "UserProgress",
    "BehaviorLog",
    "UserStreak",
    "UserAchievement",
    "BuddyMember",
    "SocialPost",
    "UserRelationship",
)
# Tables loaded in chunks; their secondary indexes and FKs are dropped during the load.
BIG_TABLES = ("UserProgress", "BehaviorLog")
SMALL_TABLES = tuple(t for t in APP_TABLES if t not in BIG_TABLES)


def existing_tables(conn):
    """{app table: whether it exists}."""
    rows = conn.execute(
        "SELECT t, to_regclass(format('%%I', t)) IS NOT NULL FROM unnest(%s::text[]) AS t",
        (list(APP_TABLES),),
    ).fetchall()
    return {t: ok for t, ok in rows}


def table_counts(conn, tables=None):
    """Exact row counts of the app tables (or ``tables``)."""
    tables = list(tables or APP_TABLES)
    if not tables:
        return {}
    sql = " UNION ALL ".join("SELECT {}, count(*) FROM {}".format(f"'{t}'", sql_ident(t)) for t in tables)
    return {t: int(c) for t, c in conn.execute(sql).fetchall()}


def table_bytes(conn, tables=None):
    """pg_total_relation_size (heap, indexes, TOAST) of the app tables (or ``tables``)."""
    tables = list(tables or APP_TABLES)
    rows = conn.execute(
        "SELECT t, pg_total_relation_size(to_regclass(format('%%I', t))) FROM unnest(%s::text[]) AS t",
        (tables,),
    ).fetchall()
    return {t: int(b or 0) for t, b in rows}


def table_checksums(conn, tables=None):
    """md5 of every row (as text, ordered by id) per table: equal contents <=> equal sums.

    Runs in UTC with fixed float output so the text form of each row is stable (the
    determinism tests compare seeds with it).  Returns {table: md5 hex or None for an empty
    table}.
    """
    tables = list(tables or APP_TABLES)
    out = {}
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL extra_float_digits = 1")
        conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        for t in tables:
            row = conn.execute(
                f"SELECT md5(string_agg(x::text, '|' ORDER BY x.id COLLATE \"C\")) FROM {sql_ident(t)} x"
            ).fetchone()
            out[t] = row[0]
    return out
