"""Ordered, checksummed SQL migrations for the ops-owned parts of the database.

Plain Python (psycopg 3, no Ansible API); ``library/vedfin_migrate.py`` is a thin shell over it.

Files
    ``<dir>/NNNN_name.sql`` (four digits, lower-case name), applied in number order.  The
    ledger name of a file is its stem (``0002_analytics_indexes``).  Any other ``*.sql`` in the
    directory, or two files with one number, is an error (nothing silently skipped).
    The checksum is the SHA-256 of the text with CRLF normalised to LF.

Ledger
    ``ops.schema_migrations(name text PRIMARY KEY, checksum text, applied_at timestamptz,
    duration_ms numeric)``; ``apply()`` creates schema and table if missing, ``plan()`` never
    does.

Applying
    * A session advisory lock (``pg_try_advisory_lock`` polled for ``lock_wait`` seconds)
      keeps two runners from interleaving; the ledger is read again once it is held.
    * Refusals come first and change nothing: an applied file whose checksum changed, an
      applied file that is missing from the directory, an unknown ``target``, or safety-lint
      findings (see ``vedfin_migration_lint``) in a pending file, unless ``allow_unsafe``.
    * The app schema preflight (``vedfin_preflight.check``: does the app schema in ``public``
      still have the tables, columns, types, NOT NULLs and enum labels the ops objects read?)
      runs when at least one file is pending, unless ``preflight=False``; problems refuse with
      ``app schema preflight failed:`` and one problem per line, nothing applied.  Its
      warnings (enum labels the ops SQL does not know) are returned in ``preflight_warnings``.
    * A normal file runs in its own transaction with ``SET LOCAL lock_timeout`` and
      ``SET LOCAL statement_timeout``; its ledger row is inserted in the same transaction,
      so a failure leaves neither schema changes nor a ledger row.
    * A file whose header holds the line ``-- migrate: no-transaction`` (needed for
      ``CREATE INDEX CONCURRENTLY``) runs outside a transaction: the runner sets both
      timeouts for the session and runs the statements one by one.  Such a file is not
      atomic, so it must be idempotent (``IF NOT EXISTS``): after a failure it is run again
      from the top.  When ``CREATE INDEX CONCURRENTLY`` fails it leaves an INVALID index;
      the runner drops it (``DROP INDEX CONCURRENTLY``) so that the rerun rebuilds it.  An
      INVALID index with the same name left by an earlier crash is dropped before the build,
      and after the build the index must be valid, otherwise the file fails.
    * The first failing file stops the run; files applied before it stay applied.

Public API: ``Migration``, ``MigrationError``, ``load_migrations(path)``,
``Migrator(conn, path, ...)`` with ``.plan()`` and ``.apply()``, and the shortcuts
``plan(conn, path, **kw)`` / ``apply(conn, path, **kw)``.  Both return a dict::

    changed         bool: something was (plan: would be) applied
    applied         names applied by this run (plan: that would be applied)
    pending         names still not applied after this run (beyond ``target``)
    already_applied names already in the ledger, left alone (not "skipped": Ansible
                    reads a "skipped" key as the task status)
    executed_files  paths of the files run (plan: that would be run)
    durations       {name: milliseconds} (plan: {})
    allowed         lint findings accepted by allow comments (strings)
    unsafe          lint findings accepted only because allow_unsafe=True (strings)
    preflight_warnings  app schema preflight warnings (strings; [] when it did not run)
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ansible.module_utils.vedfin_migration_lint import (
    NO_TRANSACTION_MARKER,
    is_no_transaction,
    lint_sql,
    split_statements,
)
from ansible.module_utils.vedfin_pg import VedfinError
from ansible.module_utils.vedfin_preflight import check as preflight_check
from ansible.module_utils.vedfin_preflight import format_problems as preflight_message

try:
    import psycopg
    from psycopg import sql as pgsql
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    psycopg = None
    pgsql = None

FILE_RE = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")
LEDGER = "ops.schema_migrations"
# pg_advisory_lock key: first 8 bytes of sha256("ved-db-ops:migrate"), as a signed bigint.
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"ved-db-ops:migrate").digest()[:8], "big", signed=True)

_CREATE_LEDGER = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.schema_migrations (
    name        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms numeric NOT NULL
);
COMMENT ON TABLE ops.schema_migrations IS
    'Ledger of sql/migrations files applied by vedfin_migrate (ved-db-ops).'
"""

_CIC_RE = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<index>\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s+ON\s+(?:ONLY\s+)?"
    r"(?P<table>(?:(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s*\.\s*)?(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*))",
    re.IGNORECASE | re.DOTALL,
)


class MigrationError(VedfinError):
    """A refusal or a failed file; the message says which file and why."""


@dataclass(frozen=True)
class Migration:
    number: int
    name: str  # ledger name: the file stem, e.g. "0001_ops_schema"
    path: Path
    sql: str
    checksum: str
    no_transaction: bool


def checksum_of(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def load_migrations(path: str | Path) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from ``path`` in order; raise MigrationError on a bad dir."""
    directory = Path(path)
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    seen: dict[int, str] = {}
    for f in sorted(directory.glob("*.sql")):
        m = FILE_RE.match(f.name)
        if not m:
            raise MigrationError(
                f"unexpected file {f}: migration files are named NNNN_name.sql (4 digits, lower-case name)"
            )
        number = int(m.group(1))
        if number in seen:
            raise MigrationError(f"two migrations with number {number:04d}: {seen[number]} and {f.name}")
        seen[number] = f.name
        text = f.read_text(encoding="utf-8")
        migrations.append(Migration(number, f.stem, f, text, checksum_of(text), is_no_transaction(text)))
    return migrations


def _normalise_target(target: str | None, migrations: list[Migration]) -> str | None:
    if not target:
        return None
    t = str(target)
    t = t[:-4] if t.endswith(".sql") else t
    for m in migrations:
        if t in (m.name, f"{m.number:04d}"):
            return m.name
    raise MigrationError(
        "target {} is not a migration in {}".format(
            target, migrations[0].path.parent if migrations else "the directory"
        )
    )


class Migrator:
    """Plan or apply the migrations of one directory on one connection.

    ``conn`` is a psycopg 3 connection; the runner switches it to autocommit (it must be
    idle) and manages transactions itself.
    """

    def __init__(
        self,
        conn,
        path: str | Path,
        *,
        lock_timeout: str = "5s",
        statement_timeout: str = "15min",
        target: str | None = None,
        allow_unsafe: bool = False,
        lock_wait: float = 60.0,
        preflight: bool = True,
    ):
        self.conn = conn
        self.path = Path(path)
        self.lock_timeout = str(lock_timeout)
        self.statement_timeout = str(statement_timeout)
        self.target = target
        self.allow_unsafe = allow_unsafe
        self.lock_wait = float(lock_wait)
        self.preflight = bool(preflight)

    # -- reading -----------------------------------------------------------------------
    def _ensure_autocommit(self) -> None:
        if not self.conn.autocommit:
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raise MigrationError("the connection given to the migration runner is inside a transaction")
            self.conn.autocommit = True

    def _ledger(self) -> dict[str, str]:
        exists = self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", [LEDGER]).fetchone()[0]
        if not exists:
            return {}
        rows = self.conn.execute("SELECT name, checksum FROM ops.schema_migrations").fetchall()
        return dict(rows)

    def _check_timeouts(self) -> None:
        for name, value in (
            ("lock_timeout", self.lock_timeout),
            ("statement_timeout", self.statement_timeout),
        ):
            try:
                self.conn.execute("SELECT set_config(%s, %s, true)", [name, value])
            except psycopg.Error as exc:
                raise MigrationError(f"invalid {name} {value!r}: {_pg_message(exc)}") from None

    def _compute(self) -> dict:
        """Everything plan() and apply() decide before touching the database."""
        migrations = load_migrations(self.path)
        ledger = self._ledger()
        by_name = {m.name: m for m in migrations}
        problems = []
        for name in sorted(ledger):
            m = by_name.get(name)
            if m is None:
                problems.append(f"{name} is recorded as applied but {name}.sql is missing from {self.path}")
            elif m.checksum != ledger[name]:
                problems.append(
                    f"{m.path} was changed after it was applied (checksum {m.checksum[:12]}, "
                    f"ledger {ledger[name][:12]}): add a new migration instead of editing an applied one"
                )
        if problems:
            raise MigrationError("refusing to migrate: " + "; ".join(problems))
        target = _normalise_target(self.target, migrations)
        not_applied = [m for m in migrations if m.name not in ledger]
        to_apply = []
        for m in not_applied:
            if target is not None and m.number > by_name[target].number:
                break
            to_apply.append(m)
        # A file numbered below an applied one (merged late from a branch) still runs, in order.
        allowed, unsafe, refused = [], [], []
        for m in to_apply:
            result = lint_sql(m.sql, str(m.path))
            allowed.extend(str(f) for f in result.allowed)
            if result.findings:
                if self.allow_unsafe and not any(f.rule in ("parse-error",) for f in result.findings):
                    unsafe.extend(str(f) for f in result.findings)
                else:
                    refused.extend(str(f) for f in result.findings)
        if refused:
            raise MigrationError(
                "refusing to migrate: the safety lint found unsafe statements in pending files "
                "(fix them, add '-- safety: allow <rule> because <reason>', or set allow_unsafe):\n"
                + "\n".join(refused)
            )
        preflight_warnings: list[str] = []
        if to_apply and self.preflight:
            verdict = preflight_check(self.conn)
            if not verdict["ok"]:
                raise MigrationError(preflight_message(verdict["problems"]))
            preflight_warnings = verdict["warnings"]
        return dict(
            migrations=migrations,
            already_applied=[m.name for m in migrations if m.name in ledger],
            to_apply=to_apply,
            pending_after=[m.name for m in not_applied if m not in to_apply],
            allowed=allowed,
            unsafe=unsafe,
            preflight_warnings=preflight_warnings,
        )

    def plan(self) -> dict:
        """What apply() would do, without changing anything (check mode).

        Runs the same refusals as apply() (checksums, missing files, lint) so that check
        mode predicts a failure; reads only, inside a transaction that is rolled back.
        """
        self._ensure_autocommit()
        with self.conn.transaction(force_rollback=True):
            self._check_timeouts()
            state = self._compute()
        return self._result(state, [m.name for m in state["to_apply"]], {}, check_mode=True)

    def _result(self, state: dict, applied: list[str], durations: dict, check_mode: bool) -> dict:
        return dict(
            changed=bool(applied),
            applied=list(applied),
            pending=list(state["pending_after"]),
            already_applied=list(state["already_applied"]),
            executed_files=[str(m.path) for m in state["to_apply"] if m.name in applied],
            durations=durations,
            allowed=state["allowed"],
            unsafe=state["unsafe"],
            preflight_warnings=state["preflight_warnings"],
            check_mode=check_mode,
        )

    # -- applying ----------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        deadline = time.monotonic() + self.lock_wait
        while True:
            got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]
            if got:
                return
            if time.monotonic() >= deadline:
                holder = self.conn.execute(
                    "SELECT l.pid, a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid LIMIT 1",
                    [(ADVISORY_LOCK_KEY >> 32) & 0xFFFFFFFF, ADVISORY_LOCK_KEY & 0xFFFFFFFF],
                ).fetchone()
                who = " (pid {}, {})".format(*holder) if holder else ""
                raise MigrationError(
                    f"another migration runner holds the migration lock{who}; waited {self.lock_wait:.0f}s"
                )
            time.sleep(0.2)

    def _release_lock(self) -> None:
        try:
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.rollback()
            self.conn.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        except psycopg.Error:
            pass  # the session ends soon; the lock goes with it

    def apply(self) -> dict:
        """Apply pending migrations (up to ``target``); see the module docstring."""
        self._ensure_autocommit()
        with self.conn.transaction(force_rollback=True):
            self._check_timeouts()
        self._acquire_lock()
        try:
            state = self._compute()  # after the lock: another runner may have just finished
            if state["to_apply"]:
                self.conn.execute(_CREATE_LEDGER)
            applied: list[str] = []
            durations: dict[str, float] = {}
            for m in state["to_apply"]:
                started = time.monotonic()
                try:
                    if m.no_transaction:
                        self._apply_no_transaction(m, started)
                    else:
                        self._apply_transactional(m, started)
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"{m.path} failed{_what_failed(exc)}: {_pg_message(exc)}{_done_note(applied)}"
                    ) from None
                except MigrationError as exc:
                    raise MigrationError(f"{exc}{_done_note(applied)}") from None
                applied.append(m.name)
                durations[m.name] = round((time.monotonic() - started) * 1000, 1)
            return self._result(state, applied, durations, check_mode=False)
        finally:
            self._reset_session()
            self._release_lock()

    def _reset_session(self) -> None:
        """Best effort: leave the session as we found it (the caller may reuse it)."""
        try:
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.rollback()
            self.conn.execute("RESET lock_timeout")
            self.conn.execute("RESET statement_timeout")
        except psycopg.Error:
            pass

    def _record(self, m: Migration, started: float) -> None:
        self.conn.execute(
            "INSERT INTO ops.schema_migrations (name, checksum, applied_at, duration_ms) "
            "VALUES (%s, %s, clock_timestamp(), %s)",
            [m.name, m.checksum, round((time.monotonic() - started) * 1000, 1)],
        )

    def _apply_transactional(self, m: Migration, started: float) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT set_config('lock_timeout', %s, true)", [self.lock_timeout])
            self.conn.execute("SELECT set_config('statement_timeout', %s, true)", [self.statement_timeout])
            # No parameters: psycopg sends the whole file in one simple-protocol query.
            self.conn.execute(m.sql.encode("utf-8"))
            self._record(m, started)

    def _apply_no_transaction(self, m: Migration, started: float) -> None:
        self.conn.execute("SELECT set_config('lock_timeout', %s, false)", [self.lock_timeout])
        self.conn.execute("SELECT set_config('statement_timeout', %s, false)", [self.statement_timeout])
        for stmt in split_statements(m.sql):
            cic = _CIC_RE.match(stmt.text)
            if cic:
                self._drop_invalid_index(cic.group("index"), cic.group("table"))
            try:
                self.conn.execute(stmt.text.encode("utf-8"))
            except psycopg.Error as exc:
                if cic:
                    dropped = self._drop_invalid_index(cic.group("index"), cic.group("table"))
                    if dropped:
                        raise MigrationError(
                            f"{m.path} failed at line {stmt.line} ({_first_words(stmt.text)}): "
                            f"{_pg_message(exc)}; dropped the INVALID index {dropped} it left behind, "
                            "so a rerun starts clean"
                        ) from None
                raise MigrationError(
                    f"{m.path} failed at line {stmt.line} ({_first_words(stmt.text)})"
                    f"{_what_failed(exc)}: {_pg_message(exc)}"
                ) from None
            if cic and not self._index_valid(cic.group("index"), cic.group("table")):
                raise MigrationError(
                    f"{m.path} line {stmt.line}: index {cic.group('index')} exists but is not valid "
                    "after CREATE INDEX CONCURRENTLY"
                )
        self._record(m, started)

    def _find_index(self, index: str, table: str):
        relname = _unquote(index)
        return self.conn.execute(
            "SELECT c.oid::regclass::text, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(%s) AND c.relname = %s",
            [table, relname],
        ).fetchone()

    def _index_valid(self, index: str, table: str) -> bool:
        row = self._find_index(index, table)
        return bool(row and row[1])

    def _drop_invalid_index(self, index: str, table: str) -> str | None:
        row = self._find_index(index, table)
        if row and not row[1]:
            self.conn.execute(pgsql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(pgsql.SQL(row[0])))
            return row[0]
        return None


def _unquote(ident: str) -> str:
    if ident.startswith('"') and ident.endswith('"'):
        return ident[1:-1].replace('""', '"')
    return ident.lower()


def _first_words(text: str, n: int = 6) -> str:
    return " ".join(text.split()[:n]) + (" ..." if len(text.split()) > n else "")


def _pg_message(exc: Exception) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    return primary or " ".join(str(exc).split())


def _what_failed(exc: Exception) -> str:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == "55P03":
        return " (lock timeout: another session holds a conflicting lock)"
    if sqlstate == "57014":
        return " (statement timeout or cancel)"
    return ""


def _done_note(applied: list[str]) -> str:
    if applied:
        return "; applied before the failure and kept: {}".format(", ".join(applied))
    return "; nothing was applied"


def plan(conn, path: str | Path, **kwargs) -> dict:
    """Shortcut for ``Migrator(conn, path, **kwargs).plan()``."""
    return Migrator(conn, path, **kwargs).plan()


def apply(conn, path: str | Path, **kwargs) -> dict:
    """Shortcut for ``Migrator(conn, path, **kwargs).apply()``."""
    return Migrator(conn, path, **kwargs).apply()


__all__ = [
    "ADVISORY_LOCK_KEY",
    "NO_TRANSACTION_MARKER",
    "Migration",
    "MigrationError",
    "Migrator",
    "apply",
    "checksum_of",
    "load_migrations",
    "plan",
]
