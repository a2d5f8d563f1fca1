"""Shared pytest fixtures: real, throwaway PostgreSQL 15 and Redis servers on loopback."""

from __future__ import annotations

from pathlib import Path

# tests/, tools/ and the plugin dirs are on sys.path by pyproject.toml's pytest `pythonpath`.
import module_utils_path
import psycopg
import pytest
from servers import (
    destroy_postgres,
    destroy_redis,
    destroy_replica,
    start_postgres,
    start_redis,
    start_replica,
)

ROOT = Path(__file__).resolve().parent.parent
# module_utils/ by the modules' own import name, ``ansible.module_utils.vedfin_x``
# (tools/module_utils_path.py, shared with the tools/ scripts); the helpers below import it.
module_utils_path.register()

from app_db import create_app_db, create_database, drop_app_db, drop_database  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL 15 server for the whole session (initdb + pg_ctl, torn down after)."""
    server = start_postgres()
    yield server
    destroy_postgres(server)


@pytest.fixture(scope="session")
def pg_replica(pg_server):
    """A streaming hot standby of ``pg_server`` (pg_basebackup -R, physical slot), same login;
    only started by the tests that ask for it."""
    server = start_replica(pg_server)
    yield server
    destroy_replica(pg_server, server)


@pytest.fixture
def pg_db(pg_server):
    """A fresh, empty database on the session server; dropped after the test.

    Yields a dict of libpq keywords (host, port, user, password, dbname).
    """
    info = create_database(pg_server, "t")
    yield info
    drop_database(pg_server, info)


@pytest.fixture
def schema_db(pg_db):
    """A fresh database holding the reference application schema from sql/schema/."""
    with psycopg.connect(**pg_db, autocommit=True) as conn:
        for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
            conn.execute(sql_file.read_text())
    return pg_db


@pytest.fixture
def empty_db(pg_server):
    """A writable app database (schema + migrations, no rows): an autocommit connection to it."""
    info = create_app_db(pg_server)
    with psycopg.connect(**info, autocommit=True) as conn:
        yield conn
    drop_app_db(pg_server, info)


# A small deterministic seed: enough rows for every query's plan and cache path, seconds to make.
SMALL_SEED = {"preset": "custom", "seed": 3, "users": 120, "courses": 10, "behavior_logs": 3000, "days": 21}


@pytest.fixture(scope="module")
def small_app_db(pg_server):
    """A database with the app schema, the ops migrations and SMALL_SEED: its libpq keywords."""
    info = create_app_db(pg_server, SMALL_SEED)
    yield info
    drop_app_db(pg_server, info)


@pytest.fixture(scope="session")
def redis_server():
    """One redis-server on a free loopback port, no persistence, torn down after."""
    server = start_redis()
    yield server
    destroy_redis(server)
