"""Shared pytest fixtures: real, throwaway PostgreSQL 15 and Redis servers on loopback."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
# module_utils and filter_plugins are plain Python: import them directly in tests.
for sub in ("module_utils", "filter_plugins", "test_plugins", "tools", "tests"):
    path = str(ROOT / sub)
    if path not in sys.path:
        sys.path.insert(0, path)

from servers import (  # noqa: E402
    destroy_postgres,
    destroy_redis,
    destroy_replica,
    start_postgres,
    start_redis,
    start_replica,
)


class _ModuleUtilsAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``ansible.module_utils.vedfin_x`` (how the modules import it) is the same module object as
    plain ``vedfin_x`` (how tests and tools import it). Without this, a test that runs a module
    in-process would load a second copy, and an exception class from one copy would not match
    the other's ``except``/``pytest.raises``."""

    PREFIX = "ansible.module_utils."

    def find_spec(self, fullname, path=None, target=None):
        name = fullname.removeprefix(self.PREFIX)
        ours = name.startswith("vedfin_") and (ROOT / "module_utils" / f"{name}.py").exists()
        if name != fullname and ours:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(spec.name.removeprefix(self.PREFIX))

    def exec_module(self, module):
        """Already executed by its plain import."""


sys.meta_path.insert(0, _ModuleUtilsAlias())


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
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.conninfo(name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
