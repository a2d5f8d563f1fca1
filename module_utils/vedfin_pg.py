"""Shared PostgreSQL connection helpers for the ved-db-ops custom modules.

Plain Python (no Ansible API), so the same code runs inside an AnsibleModule on the managed
host and directly under pytest and tools/.  Modules, the other module_utils, tools and tests
all import it by the same name::

    from ansible.module_utils.vedfin_pg import VedfinError, connect

Under Ansible, ansible.cfg's ``module_utils = module_utils`` puts this directory in the
``ansible.module_utils`` package of the module payload; in plain Python,
``tools/module_utils_path.py`` adds it to that package's ``__path__`` (the tools/ scripts and
tests/conftest.py call it).

Public API
----------
``VedfinError``                       base exception of all our module_utils; its message is
                                      safe to show (never contains a password).
``HAS_PSYCOPG`` / ``PSYCOPG_IMPORT_ERROR``  for ``missing_required_lib('psycopg')``.
``pg_connection_argument_spec(db_required=True)``  the common connection options.
``connection_kwargs(params)``         module params -> libpq keyword dict.
``describe_target(params)``           "host:port db=name" for messages.
``connect(params, autocommit=False, application_name='ved-db-ops')``  psycopg 3 connection.
``params_from_conninfo(info)``        libpq keyword dict (e.g. the ``pg_db`` test fixture) ->
                                      module params, the inverse of ``connection_kwargs``.
``connect_libpq(target, ...)``        psycopg 3 connection from libpq keywords or a conninfo
                                      string (what ``connect`` uses; bench/health targets).
``redact(text, *secrets)``            the text with every secret replaced by ``********``.
``sql_ident(name)``                   an SQL identifier, always double-quoted.
``to_json_safe(value)``               psycopg values for JSON: Decimal -> float, dates/times ->
                                      ISO strings, through dicts and lists (analytics rows,
                                      bench parameters, health details).
"""

from __future__ import annotations

import datetime as _dt
import traceback
from decimal import Decimal

try:
    import psycopg
except ImportError:  # pragma: no cover - exercised only on hosts without psycopg
    psycopg = None
    HAS_PSYCOPG = False
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_PSYCOPG = True
    PSYCOPG_IMPORT_ERROR = None

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class VedfinError(Exception):
    """An operational error with a message that is safe to show to the operator."""


def pg_connection_argument_spec(db_required: bool = True) -> dict:
    """Return the AnsibleModule argument_spec entries shared by all our PostgreSQL modules.

    Modules extend it: ``spec = pg_connection_argument_spec(); spec.update(path=dict(...))``.
    ``db`` (alias ``login_db``) is required by default; with ``db_required=False`` it
    defaults to ``postgres``.  Keep the DOCUMENTATION of each module in step with this.
    """
    db = dict(type="str", aliases=["login_db"])
    if db_required:
        db["required"] = True
    else:
        db["default"] = "postgres"
    return dict(
        login_host=dict(type="str", default="localhost"),
        login_port=dict(type="int", default=5432),
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", default="", no_log=True),
        login_unix_socket=dict(type="str", default=""),
        db=db,
        connect_timeout=dict(type="int", default=10),
        ssl_mode=dict(type="str", default="prefer", choices=list(SSL_MODES)),
        ca_cert=dict(type="path", aliases=["ssl_rootcert"]),
    )


def connection_kwargs(params: dict) -> dict:
    """Translate module params (see the argument spec) into libpq keyword arguments.

    ``login_unix_socket`` (a socket directory) wins over ``login_host``.  Empty values are
    left out so that libpq defaults and environment variables (PGPASSFILE, ...) still apply.
    """
    kwargs: dict = {}
    host = params.get("login_unix_socket") or params.get("login_host")
    if host:
        kwargs["host"] = host
    if params.get("login_port") is not None:
        kwargs["port"] = int(params["login_port"])
    if params.get("login_user"):
        kwargs["user"] = params["login_user"]
    if params.get("login_password"):
        kwargs["password"] = params["login_password"]
    db = params.get("db") or params.get("login_db")
    if db:
        kwargs["dbname"] = db
    if params.get("connect_timeout") is not None:
        kwargs["connect_timeout"] = int(params["connect_timeout"])
    if params.get("ssl_mode"):
        kwargs["sslmode"] = params["ssl_mode"]
    if params.get("ca_cert"):
        kwargs["sslrootcert"] = params["ca_cert"]
    return kwargs


def params_from_conninfo(info: dict) -> dict:
    """libpq keywords (host, port, user, password, dbname) -> module params.

    Handy in tests: ``run_module('vedfin_migrate', {**params_from_conninfo(pg_db), ...})``.
    """
    params = {
        "login_host": info.get("host", "localhost"),
        "login_port": int(info.get("port", 5432)),
        "login_user": info.get("user", "postgres"),
        "db": info.get("dbname", "postgres"),
    }
    if info.get("password"):
        params["login_password"] = info["password"]
    return params


def describe_target(params: dict) -> str:
    """``host:port db=name`` (or ``socket:port``) for messages; never mentions the password."""
    kwargs = connection_kwargs(params)
    return "{}:{} db={}".format(
        kwargs.get("host", "localhost"),
        kwargs.get("port", 5432),
        kwargs.get("dbname", "?"),
    )


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each non-empty secret replaced by ``********`` (error messages of psycopg,
    redis-py and subprocesses may quote a password or a connection string)."""
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "********")
    return text


def sql_ident(name: str) -> str:
    """An SQL identifier, always double-quoted (safe for any name: keywords, upper case)."""
    return '"{}"'.format(name.replace('"', '""'))


def connect_libpq(
    target,
    *,
    autocommit: bool = False,
    application_name: str = "ved-db-ops",
    statement_timeout_ms: int | None = None,
    where: str | None = None,
    error: type[Exception] = VedfinError,
):
    """Open a psycopg 3 connection from libpq keywords (a dict) or a conninfo string.

    ``statement_timeout_ms`` is set for the session.  On failure raises ``error`` with
    "cannot connect to PostgreSQL at <where>: <reason>" (``where`` defaults to host:port db=name
    of the target); the password never appears in it.
    """
    if not HAS_PSYCOPG:
        raise error("the Python library psycopg (version 3) is required but not installed")
    at = f" at {where}" if where else ""
    if isinstance(target, dict):
        kwargs = dict(target)
    else:
        # Parsed here so the password is known for redaction; the parser's own message may
        # quote the string (password included), so it is not shown.
        try:
            kwargs = {
                k: v for k, v in psycopg.conninfo.conninfo_to_dict(str(target)).items() if v is not None
            }
        except psycopg.Error:
            raise error(
                f"cannot connect to PostgreSQL{at}: not a valid libpq connection string "
                "(key=value keywords or a postgresql:// URL)"
            ) from None
    if where is None:
        at = " at {}:{} db={}".format(
            kwargs.get("host") or "localhost", kwargs.get("port") or 5432, kwargs.get("dbname") or "?"
        )
    kwargs.setdefault("application_name", application_name)
    try:
        conn = psycopg.connect(autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise error(f"cannot connect to PostgreSQL{at}: {redact(reason, kwargs.get('password'))}") from None
    if statement_timeout_ms:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(statement_timeout_ms))])
    return conn


def connect(params: dict, autocommit: bool = False, application_name: str = "ved-db-ops"):
    """Open a psycopg 3 connection from module params.

    Raises ``VedfinError("cannot connect to PostgreSQL at host:port db=name: <reason>")``
    when psycopg is missing or the server refuses; the password never appears in it.
    """
    return connect_libpq(
        connection_kwargs(params),
        autocommit=autocommit,
        application_name=application_name,
        where=describe_target(params),
    )


def to_json_safe(value):
    """Decimal -> float, date/datetime/time -> ISO string, recursively through dicts and lists."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(v) for v in value]
    return value
