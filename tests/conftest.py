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

from app_db import create_database, drop_database  # noqa: E402


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


@pytest.fixture(scope="session")
def redis_server():
    """One redis-server on a free loopback port, no persistence, torn down after."""
    server = start_redis()
    yield server
    destroy_redis(server)
