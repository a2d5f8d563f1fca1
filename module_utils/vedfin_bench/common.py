"""What every part of the benchmark shares: its error, its schema version and variants, and
its PostgreSQL connections (``vedfin_pg.connect_libpq``: autocommit, named, the password never
in a message)."""

from __future__ import annotations

from ansible.module_utils.vedfin_pg import VedfinError, connect_libpq

SCHEMA_VERSION = 1
VARIANTS = ("oracle", "fast", "cached", "default_settings", "tuned_settings")
# Seconds a background thread may take to finish after it is told to stop; its statements
# have this statement_timeout too, so a stuck one cannot hold the run.
THREAD_STOP_S = 10.0


class BenchError(VedfinError):
    """Bad benchmark input or a failure that stops the run; the message is safe to show."""


def connect(target, application_name: str, statement_timeout_ms: int | None = None):
    """An autocommit psycopg 3 connection to ``target`` (libpq keywords or a conninfo string);
    raises BenchError "cannot connect to PostgreSQL: <reason>" (password redacted)."""
    return connect_libpq(
        target,
        autocommit=True,
        application_name=application_name,
        statement_timeout_ms=statement_timeout_ms,
        error=BenchError,
    )


def scalar(conn, sql, params=None):
    """The first column of the first row, or None."""
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def column(conn, sql, params=None) -> list:
    """The first column of every row."""
    return [r[0] for r in conn.execute(sql, params).fetchall()]
