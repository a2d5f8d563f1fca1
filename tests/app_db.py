"""Throwaway app databases on the session PostgreSQL server: the reference app schema plus the
ops migrations, optionally seeded (shared by the integration tests that need the schema)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
from ansible.module_utils import vedfin_migrate, vedfin_seed
from ansible.module_utils.vedfin_pg import params_from_conninfo

ROOT = Path(__file__).resolve().parent.parent


# The app's DateTime columns: Prisma's default (timestamp(3), UTC wall clock) or mapped with
# @db.Timestamptz(3). Prisma renders the latter as exactly this substitution of the former
# (checked with tools/render_app_schema.py on both schemas).
FLAVOURS = ("timestamp", "timestamptz")


def app_schema_sql(flavour: str = "timestamp") -> str:
    sql = (ROOT / "sql" / "schema" / "001_app_schema.sql").read_text()
    if flavour == "timestamptz":
        return sql.replace("TIMESTAMP(3)", "TIMESTAMPTZ(3)")
    assert flavour == "timestamp", flavour
    return sql


def create_database(pg_server, prefix: str) -> dict:
    """A new, empty database named ``<prefix>_<random>`` on the session server: its libpq keywords."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.conninfo(name)


def drop_database(pg_server, info: dict) -> None:
    """Drop a database made by :func:`create_database` (sessions still on it are ended)."""
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')


def create_app_db(
    pg_server, seed_args: dict | None = None, flavour: str = "timestamp", target: str | None = None
) -> dict:
    """A new database with sql/schema (in ``flavour``) + sql/migrations (up to ``target`` when
    given), seeded with ``seed_args`` when given."""
    info = create_database(pg_server, "a")
    with psycopg.connect(**info, autocommit=True) as conn:
        conn.execute(app_schema_sql(flavour))
        vedfin_migrate.apply(conn, ROOT / "sql" / "migrations", target=target)
    if seed_args:
        vedfin_seed.seed(params_from_conninfo(info), **seed_args)
    return info


drop_app_db = drop_database
