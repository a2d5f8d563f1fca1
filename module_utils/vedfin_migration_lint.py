"""Safety lint for ops-owned SQL migrations (plain Python, no Ansible, no database).

The V-EdFinance application keeps reading and writing while we migrate, and "BehaviorLog"
grows by millions of rows, so a migration must not take a long ACCESS EXCLUSIVE lock, rewrite
a big table, or break the application's queries.  The lint reads SQL text only; it is run by
``tools/migration_lint.py`` (CI, pre-commit) and by the runner (``vedfin_migrate``) on every
pending file before anything is applied.

How the text is read
--------------------
A small tokenizer understands ``--`` and nested ``/* */`` comments, ``'...'`` strings
(``''`` escapes, ``E'...'`` backslash escapes), ``"quoted"`` identifiers and ``$tag$``
dollar quotes, so keywords inside comments, strings or function bodies never match.
Statements are split on ``;`` outside all of those (and outside ``BEGIN ATOMIC ... END``
bodies).  A finding is reported at the line where its statement starts.

Rules
-----
=========================  ===============================================================
index-not-concurrent       ``CREATE INDEX`` without ``CONCURRENTLY`` on an existing table
                           (blocks writes for the whole build).
volatile-default           ``ADD COLUMN ... DEFAULT <volatile>`` (clock_timestamp(), random(),
                           gen_random_uuid(), uuid_generate_*(), nextval(), ...), a serial
                           type, an identity or a stored generated column: the table is
                           rewritten under ACCESS EXCLUSIVE.  ``now()`` /
                           ``CURRENT_TIMESTAMP`` are STABLE, not volatile: since PostgreSQL 11
                           such a default is evaluated once and stored in the catalog, no
                           rewrite, so they are *not* reported.
alter-column-type          ``ALTER COLUMN ... TYPE`` (rewrite + ACCESS EXCLUSIVE, and the
                           application's reads may break).
set-not-null               ``ALTER COLUMN c SET NOT NULL`` without an earlier validated
                           ``CHECK (c IS NOT NULL)`` on the same table in the same file (with
                           one, PostgreSQL 12+ skips the full-table scan).  Put the
                           ``ADD ... NOT VALID``, ``VALIDATE`` and ``SET NOT NULL`` in a
                           no-transaction file: in one transaction the ADD's ACCESS
                           EXCLUSIVE lock would be held through the VALIDATE scan.
drop-table, drop-column    data loss, and the application may still use it.
rename-table,              the running application still uses the old name.
rename-column
constraint-not-valid       ``ADD [CONSTRAINT] FOREIGN KEY / CHECK`` without ``NOT VALID``
                           (validates under a strong lock; add ``NOT VALID`` and
                           ``VALIDATE CONSTRAINT`` separately).
vacuum-full, cluster       rewrite the table under ACCESS EXCLUSIVE.
missing-lock-timeout       a lock-taking statement (ALTER TABLE, CREATE INDEX without
                           CONCURRENTLY, DROP, TRUNCATE, LOCK, CREATE TRIGGER, REINDEX,
                           VACUUM FULL, CLUSTER, ...) with no ``SET lock_timeout`` earlier in
                           the file.  See "lock_timeout policy" below.
concurrent-in-transaction  ``CREATE/DROP INDEX CONCURRENTLY`` or ``REINDEX ... CONCURRENTLY``
                           in a file without the ``-- migrate: no-transaction`` marker (it
                           would fail: it cannot run inside a transaction block).
transaction-control        ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` / ``START TRANSACTION`` /
                           ``END`` / ``ABORT``: the runner owns transactions.
=========================  ===============================================================

Destructive and privilege rules (statements a migration almost never needs; each is
allowed like any other rule when it is meant):

=========================  ===============================================================
truncate                   ``TRUNCATE`` of an existing table: every row gone at once.
delete-without-where       ``DELETE FROM t`` with no ``WHERE`` at the statement's top level
                           (also after ``WITH ...``): every row gone.
update-without-where       ``UPDATE t SET ...`` with no top-level ``WHERE``: every row
                           rewritten (data loss and a full-table rewrite under write locks).
drop-schema-cascade        ``DROP SCHEMA ... CASCADE``: every object in it and every object
                           elsewhere that depends on them.
drop-database              ``DROP DATABASE``: the whole database.
role-superuser             ``CREATE/ALTER ROLE|USER ... SUPERUSER`` (or ``BYPASSRLS``): a
                           migration must not mint a role above every privilege check.
alter-system               ``ALTER SYSTEM``: server configuration belongs to the postgresql
                           role (postgresql.conf), not to a migration (it writes
                           postgresql.auto.conf, which overrides the role's settings).
grant-to-public            ``GRANT ... TO PUBLIC`` (also in ``ALTER DEFAULT PRIVILEGES``)
                           on tables, sequences, schemas, databases, ...: every role,
                           including analytics_ro and NocoDB's, gets it.  Functions and
                           procedures are exempt: EXECUTE to PUBLIC is PostgreSQL's default.
=========================  ===============================================================

Function bodies (``$$ ... $$`` strings and ``BEGIN ATOMIC`` bodies) are not run by the
migration, so a ``TRUNCATE`` or ``DELETE`` inside a trigger or rebuild function is not a
finding: it runs later, on the events the function is written for.  A ``DO`` block does run
at migration time: these rules look into its body (its static statements; dynamic SQL in
``EXECUTE '...'`` is a string and is not seen) and report at the ``DO`` line.  The data rules
(truncate, delete/update-without-where) also skip tables created earlier in the same file.

Statements on a table created earlier in the same file (``CREATE TABLE``) are exempt from
the table rules: nobody else can be using it yet.  Unparseable input (an unterminated
string or comment) gives ``parse-error``; malformed allow comments give
``bad-allow-comment``.  Neither can be allowed.

lock_timeout policy
-------------------
The runner always sets ``lock_timeout`` (``SET LOCAL`` in transactional files, a session
``SET`` before no-transaction files), so a *transactional* file need not set it and the rule
does not fire there: hard-coding it would override the value the operator chose.  Files
marked ``-- migrate: no-transaction`` are different: they are not atomic, and when one
fails half-way an operator typically finishes or re-runs it by hand with psql, where the
runner's setting is absent.  So in those files every non-concurrent lock-taking statement
needs an explicit ``SET lock_timeout`` earlier in the file (CREATE INDEX CONCURRENTLY does
not block the application's reads or writes and is not counted).  With ``standalone=True``
(CLI ``--standalone``, for SQL that is always run by hand) the rule applies to every file.
The rule reports once per file, at the first offending statement.

Allowing a finding
------------------
``-- safety: allow <rule> because <reason>`` on the statement's first line or on the line
just above it accepts exactly one finding of that rule for that statement (a statement
gives at most one finding per rule).  Allowed findings are returned separately so that
the runner can show them.

Public API: ``RULES``, ``Finding``, ``LintResult``, ``lint_sql()``, ``lint_file()``,
``lint_paths()``, ``split_statements()``, ``is_no_transaction()``, ``tokenize()``,
``NO_TRANSACTION_MARKER``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

NO_TRANSACTION_MARKER = "-- migrate: no-transaction"

RULES: dict[str, str] = {
    "index-not-concurrent": "CREATE INDEX without CONCURRENTLY on an existing table",
    "volatile-default": "ADD COLUMN with a volatile default rewrites the table",
    "alter-column-type": "ALTER COLUMN ... TYPE rewrites the table under ACCESS EXCLUSIVE",
    "set-not-null": "SET NOT NULL without a prior validated CHECK (col IS NOT NULL)",
    "drop-table": "DROP TABLE loses data the application may still use",
    "drop-column": "DROP COLUMN loses data the application may still use",
    "rename-table": "RENAME of a table breaks the running application",
    "rename-column": "RENAME of a column breaks the running application",
    "constraint-not-valid": "ADD CONSTRAINT FOREIGN KEY/CHECK without NOT VALID",
    "vacuum-full": "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
    "cluster": "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
    "missing-lock-timeout": "lock-taking statement without SET lock_timeout",
    "concurrent-in-transaction": "CONCURRENTLY cannot run inside a transaction",
    "transaction-control": "transaction control statement in a migration",
    "truncate": "TRUNCATE removes every row of an existing table",
    "delete-without-where": "DELETE without WHERE removes every row",
    "update-without-where": "UPDATE without WHERE rewrites every row",
    "drop-schema-cascade": "DROP SCHEMA ... CASCADE drops everything in and depending on it",
    "drop-database": "DROP DATABASE drops a whole database",
    "role-superuser": "CREATE/ALTER ROLE ... SUPERUSER or BYPASSRLS",
    "alter-system": "ALTER SYSTEM overrides the postgresql role's configuration",
    "grant-to-public": "GRANT ... TO PUBLIC gives every role the privilege",
}
# Findings about the file itself: never accepted by an allow comment.
UNALLOWABLE = {"parse-error", "bad-allow-comment"}

VOLATILE_FUNCTIONS = {
    "clock_timestamp",
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "timeofday",
    "txid_current",
    "random_normal",
}
SERIAL_TYPES = {"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"}

_MARKER_RE = re.compile(r"^--\s*migrate:\s*no-transaction\s*$", re.IGNORECASE)
_ALLOW_RE = re.compile(r"^--\s*safety:\s*allow\b(.*)$", re.IGNORECASE)
_ALLOW_FULL_RE = re.compile(r"^\s+([a-z0-9-]+)\s+because\s+(\S.*?)\s*$", re.IGNORECASE)


# --------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # word | qident | string | number | op | param
    value: str  # word: UPPER-cased; qident: unescaped name; string: body; op: the text
    line: int
    start: int  # offset in the source text
    end: int

    @property
    def key(self) -> str:
        """What rules match on: keywords upper-cased; other kinds as a placeholder."""
        if self.kind in ("word", "op"):
            return self.value
        return f"<{self.kind}>"


@dataclass(frozen=True)
class Comment:
    text: str
    line: int
    line_comment: bool  # "--" (True) or "/* */" (False)


class LintParseError(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


_WORD_RE = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER_RE = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DOLLAR_RE = re.compile(r"\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_PARAM_RE = re.compile(r"\$\d+")


def tokenize(text: str) -> tuple[list[Token], list[Comment]]:
    """Split SQL text into tokens and comments.  Raises LintParseError when unterminated."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append(Comment(text[i:j].rstrip(), line, True))
            i = j
        elif text.startswith("/*", i):
            start_line, depth, j = line, 1, i + 2
            while depth and j < n:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise LintParseError("unterminated /* comment", start_line)
            comments.append(Comment(text[i:j], start_line, False))
            line += text.count("\n", i, j)
            i = j
        elif c == "'":
            escapes = bool(
                tokens and tokens[-1].kind == "word" and tokens[-1].value == "E" and tokens[-1].end == i
            )
            if escapes:
                tokens.pop()
            j = _scan_quoted(text, i, "'", escapes, line)
            tokens.append(Token("string", text[i + 1 : j - 1], line, i, j))
            line += text.count("\n", i, j)
            i = j
        elif c == '"':
            j = _scan_quoted(text, i, '"', False, line)
            tokens.append(Token("qident", text[i + 1 : j - 1].replace('""', '"'), line, i, j))
            line += text.count("\n", i, j)
            i = j
        elif c == "$":
            m = _PARAM_RE.match(text, i)
            if m:
                tokens.append(Token("param", m.group(), line, i, m.end()))
                i = m.end()
                continue
            m = _DOLLAR_RE.match(text, i)
            if not m:
                tokens.append(Token("op", "$", line, i, i + 1))
                i += 1
                continue
            close = text.find(m.group(), m.end())
            if close < 0:
                raise LintParseError(f"unterminated dollar-quoted string {m.group()}", line)
            j = close + len(m.group())
            tokens.append(Token("string", text[m.end() : close], line, i, j))
            line += text.count("\n", i, j)
            i = j
        elif _WORD_RE.match(text, i):
            m = _WORD_RE.match(text, i)
            tokens.append(Token("word", m.group().upper(), line, i, m.end()))
            i = m.end()
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER_RE.match(text, i)
            tokens.append(Token("number", m.group(), line, i, m.end()))
            i = m.end()
        elif text.startswith("::", i):
            tokens.append(Token("op", "::", line, i, i + 2))
            i += 2
        else:
            tokens.append(Token("op", c, line, i, i + 1))
            i += 1
    return tokens, comments


def _scan_quoted(text: str, i: int, quote: str, backslash: bool, line: int) -> int:
    """Return the offset just past the closing quote of the literal starting at i."""
    j, n = i + 1, len(text)
    while j < n:
        ch = text[j]
        if backslash and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    what = "string" if quote == "'" else "quoted identifier"
    raise LintParseError(f"unterminated {what}", line)


# --------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------
@dataclass
class Statement:
    tokens: list[Token]
    text: str  # source text from the first token up to (not including) the ";"

    @property
    def line(self) -> int:
        return self.tokens[0].line

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.tokens]


def split_statements(text: str) -> list[Statement]:
    """Split SQL text into statements on ``;`` outside comments/quotes/dollar-quotes.

    Raises LintParseError on unterminated quotes or comments.  Empty statements are dropped.
    """
    tokens, _ = tokenize(text)
    return _split_tokens(text, tokens)


def _split_tokens(text: str, tokens: list[Token]) -> list[Statement]:
    statements: list[Statement] = []
    current: list[Token] = []
    atomic_depth = 0  # inside CREATE FUNCTION ... BEGIN ATOMIC ... END
    for tok in tokens:
        if tok.kind == "op" and tok.value == ";" and atomic_depth == 0:
            if current:
                statements.append(Statement(current, text[current[0].start : current[-1].end]))
            current = []
            continue
        if tok.kind == "word":
            if (
                tok.value == "ATOMIC"
                and current
                and current[-1].key == "BEGIN"
                or atomic_depth
                and tok.value == "CASE"
            ):
                atomic_depth += 1
            elif atomic_depth and tok.value == "END":
                atomic_depth -= 1
        current.append(tok)
    if current:
        statements.append(Statement(current, text[current[0].start : current[-1].end]))
    return statements


def is_no_transaction(text: str) -> bool:
    """True when the file's header (comments before the first statement) has the marker."""
    try:
        tokens, comments = tokenize(text)
    except LintParseError:
        return False
    first_line = tokens[0].line if tokens else float("inf")
    return any(c.line_comment and c.line < first_line and _MARKER_RE.match(c.text.strip()) for c in comments)


# --------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    reason: str
    allowed_because: str | None = None

    def format(self) -> str:
        text = f"{self.path}:{self.line}: {self.rule}: {self.reason}"
        if self.allowed_because:
            text += f" (allowed because {self.allowed_because})"
        return text

    def __str__(self) -> str:
        return self.format()


@dataclass
class LintResult:
    path: str
    findings: list[Finding] = field(default_factory=list)  # refused
    allowed: list[Finding] = field(default_factory=list)  # accepted by an allow comment
    no_transaction: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings


# --------------------------------------------------------------------------------------
# Helpers over token lists
# --------------------------------------------------------------------------------------
def _name_at(toks: list[Token], i: int) -> tuple[str | None, int]:
    """Parse a possibly qualified name at i; return (relation name, next index).

    Unquoted names fold to lower case like PostgreSQL does; the schema part is dropped.
    """
    name = None
    while i < len(toks) and toks[i].kind in ("word", "qident"):
        name = toks[i].value.lower() if toks[i].kind == "word" else toks[i].value
        i += 1
        if i < len(toks) and toks[i].key == ".":
            i += 1
            continue
        break
    return name, i


def _skip(keys: list[str], i: int, *words: str) -> int:
    """Skip the optional word sequence at i if present."""
    if keys[i : i + len(words)] == list(words):
        return i + len(words)
    return i


def _split_top_level(toks: list[Token], sep: str = ",") -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in toks:
        if tok.key == "(":
            depth += 1
        elif tok.key == ")":
            depth -= 1
        if tok.key == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def _has_seq(keys: list[str], *words: str) -> bool:
    n = len(words)
    return any(keys[i : i + n] == list(words) for i in range(len(keys) - n + 1))


def _is_not_null_check(toks: list[Token]) -> str | None:
    """For ``CHECK ( col IS NOT NULL )`` (extra parens allowed) return the column name."""
    inner = [t for t in toks if t.key not in ("(", ")")]
    keys = [t.key for t in inner]
    if len(inner) == 5 and keys[0] == "CHECK" and keys[2:] == ["IS", "NOT", "NULL"]:
        col = inner[1]
        if col.kind in ("word", "qident"):
            return col.value.lower() if col.kind == "word" else col.value
    return None


_TXN_START = {"BEGIN", "COMMIT", "ROLLBACK", "END", "ABORT"}
# Inside a DO body: a statement starts at the top or after one of these.
_PLPGSQL_STARTERS = {"BEGIN", "THEN", "ELSE", "LOOP", "DECLARE"}
_DESTRUCTIVE_HEADS = {"TRUNCATE", "DELETE", "UPDATE", "WITH", "DROP", "ALTER", "CREATE", "GRANT"}


class _FileLinter:
    def __init__(self, path: str, text: str, standalone: bool):
        self.path = path
        self.text = text
        self.standalone = standalone
        self.created: set[str] = set()
        self.not_null_checks: dict[tuple[str, str], bool] = {}  # (table, col) -> validated
        self.check_names: dict[tuple[str, str], tuple[str, str]] = {}  # (table, name) -> key
        self.lock_timeout_set = False
        self.lock_timeout_reported = False
        self.raw: list[Finding] = []

    def add(self, stmt: Statement, rule: str, reason: str) -> None:
        if any(f.line == stmt.line and f.rule == rule for f in self.raw):
            return  # one finding per (statement, rule)
        self.raw.append(Finding(self.path, stmt.line, rule, reason))

    # -- entry -------------------------------------------------------------------------
    def run(self, statements: list[Statement], no_transaction: bool) -> None:
        self.no_transaction = no_transaction
        for stmt in statements:
            self.statement(stmt)

    def statement(self, stmt: Statement) -> None:
        keys = stmt.keys
        toks = stmt.tokens
        head = keys[0]
        if head in _TXN_START or keys[:2] == ["START", "TRANSACTION"]:
            self.add(stmt, "transaction-control", f"{head}: the runner owns transactions")
            return
        if self._sets_lock_timeout(stmt):
            self.lock_timeout_set = True
            return
        if "CONCURRENTLY" in keys and head in ("CREATE", "DROP", "REINDEX") and not self.no_transaction:
            self.add(
                stmt,
                "concurrent-in-transaction",
                f"{head} ... CONCURRENTLY cannot run inside a transaction block: mark the file "
                f"with '{NO_TRANSACTION_MARKER}'",
            )
        self.destructive(stmt, keys, toks)
        if head == "CREATE":
            self.create(stmt, keys, toks)
        elif keys[:2] == ["ALTER", "TABLE"]:
            self.alter_table(stmt, keys, toks)
        elif head == "DROP":
            self.drop(stmt, keys, toks)
        elif head == "VACUUM":
            if "FULL" in keys[1:3] or (len(keys) > 1 and keys[1] == "(" and _has_seq(keys, "FULL")):
                self.add(stmt, "vacuum-full", "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE")
                self.lock_taking(stmt, "VACUUM FULL")
        elif head == "CLUSTER":
            self.add(stmt, "cluster", "CLUSTER rewrites the table under ACCESS EXCLUSIVE")
            self.lock_taking(stmt, "CLUSTER")
        elif head in ("TRUNCATE", "LOCK"):
            self.lock_taking(stmt, head)
        elif head == "REINDEX" and "CONCURRENTLY" not in keys:
            self.lock_taking(stmt, "REINDEX")
        elif keys[:2] == ["ALTER", "INDEX"] or keys[:3] == ["ALTER", "MATERIALIZED", "VIEW"]:
            self.lock_taking(stmt, " ".join(keys[:2]))

    # -- destructive and privilege statements ----------------------------------------
    def destructive(self, stmt: Statement, keys: list[str], toks: list[Token]) -> None:
        head = keys[0]
        if head == "WITH":
            head, toks = _main_of_with(toks)
            keys = [t.key for t in toks]
        if head == "TRUNCATE":
            i = _skip(keys, 1, "TABLE")
            names = [
                _name_at(part, _skip([t.key for t in part], 0, "ONLY"))[0]
                for part in _split_top_level(toks[i:])
            ]
            existing = [n for n in names if n and n not in self.created]
            if existing:
                self.add(
                    stmt,
                    "truncate",
                    "TRUNCATE {} removes every row (and takes ACCESS EXCLUSIVE)".format(", ".join(existing)),
                )
        elif head in ("DELETE", "UPDATE"):
            i = _skip(keys, 1, "FROM") if head == "DELETE" else 1
            i = _skip(keys, i, "ONLY")
            table, _ = _name_at(toks, i)
            if table in self.created or "WHERE" in _depth0_keys(toks):
                return
            rule = "delete-without-where" if head == "DELETE" else "update-without-where"
            what = "removes" if head == "DELETE" else "rewrites"
            self.add(stmt, rule, f"{head} on {table} without WHERE {what} every row: add a WHERE clause")
        elif head == "DO":
            self.do_block(stmt, toks)
        elif keys[:2] == ["DROP", "SCHEMA"]:
            if _depth0_keys(toks)[-1:] == ["CASCADE"]:
                self.add(
                    stmt,
                    "drop-schema-cascade",
                    "DROP SCHEMA ... CASCADE drops every object in the schema and every object that "
                    "depends on one: drop the objects one by one",
                )
        elif keys[:2] == ["DROP", "DATABASE"]:
            self.add(stmt, "drop-database", "DROP DATABASE drops a whole database: not a migration's job")
        elif keys[:2] == ["ALTER", "SYSTEM"]:
            self.add(
                stmt,
                "alter-system",
                "ALTER SYSTEM writes postgresql.auto.conf, which overrides the postgresql role's "
                "settings: set it through postgresql_settings instead",
            )
        elif head in ("CREATE", "ALTER") and len(keys) > 1 and keys[1] in ("ROLE", "USER", "GROUP"):
            granted = sorted({k for k in keys[2:] if k in ("SUPERUSER", "BYPASSRLS")})
            if granted:
                self.add(
                    stmt,
                    "role-superuser",
                    "{} {} grants {}: a migration must not create a role above every privilege check".format(
                        head, keys[1], " and ".join(granted)
                    ),
                )
        if "GRANT" in keys and (head == "GRANT" or keys[:3] == ["ALTER", "DEFAULT", "PRIVILEGES"]):
            self.grant_to_public(stmt, keys)

    def do_block(self, stmt: Statement, toks: list[Token]) -> None:
        """A DO block runs now, at migration time: apply the destructive rules to the
        PL/pgSQL statements of its body (reported at the DO's line, where its allow comment
        goes).  Dynamic SQL (``EXECUTE 'TRUNCATE ...'``) stays a string and is not seen."""
        body = next((t for t in toks[1:] if t.kind == "string"), None)
        if body is None:
            return
        try:
            inner, _ = tokenize(body.value)
        except LintParseError:
            return
        chunk: list[Token] = []
        for tok in [*inner, None]:
            if tok is None or tok.key == ";":
                # Statements start after PL/pgSQL block and control keywords.
                starts = [k for k, t in enumerate(chunk) if k == 0 or chunk[k - 1].key in _PLPGSQL_STARTERS]
                for k in starts:
                    if chunk[k].key in _DESTRUCTIVE_HEADS:
                        self.destructive(stmt, [t.key for t in chunk[k:]], chunk[k:])
                        break
                chunk = []
            else:
                chunk.append(tok)

    def grant_to_public(self, stmt: Statement, keys: list[str]) -> None:
        g = keys.index("GRANT")
        if "TO" not in keys[g:] or "ON" not in keys[g:]:
            return  # GRANT role TO role: role membership, no PUBLIC object privilege
        to = len(keys) - 1 - keys[::-1].index("TO")
        grantees = keys[to + 1 :]
        if "PUBLIC" not in grantees:
            return
        on = keys.index("ON", g)
        target = keys[on + 1 : on + 3]
        if target[:1] in (
            ["FUNCTION"],
            ["FUNCTIONS"],
            ["PROCEDURE"],
            ["PROCEDURES"],
            ["ROUTINE"],
            ["ROUTINES"],
        ):
            return
        if target[:1] == ["ALL"] and target[1:2] in (["FUNCTIONS"], ["PROCEDURES"], ["ROUTINES"]):
            return
        self.add(
            stmt,
            "grant-to-public",
            "GRANT ... TO PUBLIC gives every role (analytics_ro, NocoDB's, any future one) the privilege: "
            "grant it to the role that needs it",
        )

    @staticmethod
    def _sets_lock_timeout(stmt: Statement) -> bool:
        keys = stmt.keys
        if keys[0] == "SET":
            i = _skip(keys, 1, "LOCAL")
            i = _skip(keys, i, "SESSION")
            return i < len(keys) and keys[i] == "LOCK_TIMEOUT"
        if keys[:2] == ["SELECT", "SET_CONFIG"]:
            return any(t.kind == "string" and t.value.lower() == "lock_timeout" for t in stmt.tokens)
        return False

    def lock_taking(self, stmt: Statement, what: str, table: str | None = None) -> None:
        if table is not None and table in self.created:
            return
        needed = self.standalone or self.no_transaction
        if needed and not self.lock_timeout_set and not self.lock_timeout_reported:
            self.lock_timeout_reported = True
            where = "is run by hand" if self.standalone else "is not atomic and may be re-run by hand"
            self.add(
                stmt,
                "missing-lock-timeout",
                f"{what} takes a lock but the file sets no lock_timeout before it (this file {where}): "
                "add SET lock_timeout = '5s'",
            )

    # -- CREATE ------------------------------------------------------------------------
    def create(self, stmt: Statement, keys: list[str], toks: list[Token]) -> None:
        i = 1
        i = _skip(keys, i, "OR", "REPLACE")
        while i < len(keys) and keys[i] in ("GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "UNIQUE"):
            i += 1
        if i >= len(keys):
            return
        if keys[i] == "TABLE":
            i = _skip(keys, i + 1, "IF", "NOT", "EXISTS")
            name, _ = _name_at(toks, i)
            if name:
                self.created.add(name)
        elif keys[i] == "INDEX":
            i += 1
            concurrent = keys[i : i + 1] == ["CONCURRENTLY"]
            if concurrent:
                i += 1
            try:
                on = keys.index("ON", i)
            except ValueError:
                return
            j = _skip(keys, on + 1, "ONLY")
            table, _ = _name_at(toks, j)
            if concurrent or table in self.created:
                return
            self.add(
                stmt,
                "index-not-concurrent",
                f"CREATE INDEX on existing table {table} without CONCURRENTLY blocks writes for the "
                f"whole build: use CREATE INDEX CONCURRENTLY in a '{NO_TRANSACTION_MARKER}' file",
            )
            self.lock_taking(stmt, "CREATE INDEX", table)
        elif keys[i] in ("TRIGGER", "RULE") or keys[i : i + 2] == ["CONSTRAINT", "TRIGGER"]:
            self.lock_taking(stmt, "CREATE " + keys[i])

    # -- DROP --------------------------------------------------------------------------
    def drop(self, stmt: Statement, keys: list[str], toks: list[Token]) -> None:
        if len(keys) < 2:
            return
        what = keys[1]
        if what == "TABLE":
            i = _skip(keys, 2, "IF", "EXISTS")
            names = [_name_at(part, 0)[0] for part in _split_top_level(toks[i:])]
            existing = [n for n in names if n and n not in self.created]
            if existing:
                self.add(
                    stmt,
                    "drop-table",
                    "DROP TABLE {} loses data the application may still use".format(", ".join(existing)),
                )
                self.lock_taking(stmt, "DROP TABLE")
        elif what == "INDEX" and "CONCURRENTLY" in keys[2:3]:
            return
        elif what in ("INDEX", "VIEW", "MATERIALIZED", "TRIGGER", "RULE", "POLICY", "SEQUENCE"):
            self.lock_taking(stmt, "DROP " + what)

    # -- ALTER TABLE -------------------------------------------------------------------
    def alter_table(self, stmt: Statement, keys: list[str], toks: list[Token]) -> None:
        i = _skip(keys, 2, "IF", "EXISTS")
        i = _skip(keys, i, "ONLY")
        table, i = _name_at(toks, i)
        if i < len(keys) and keys[i] == "*":
            i += 1
        if table is None:
            return
        if table in self.created:
            return  # a table created in this file: nobody else uses it yet
        self.lock_taking(stmt, "ALTER TABLE", table)
        for action in _split_top_level(toks[i:]):
            self.alter_action(stmt, table, action)

    def alter_action(self, stmt: Statement, table: str, action: list[Token]) -> None:
        keys = [t.key for t in action]
        head = keys[0]
        if head == "ADD":
            self.alter_add(stmt, table, action, keys)
        elif head == "DROP":
            if keys[1:2] == ["CONSTRAINT"]:
                return
            i = _skip(keys, 1, "COLUMN")
            i = _skip(keys, i, "IF", "EXISTS")
            col, _ = _name_at(action, i)
            self.add(
                stmt,
                "drop-column",
                f"DROP COLUMN {table}.{col} loses data the application may still use",
            )
        elif head == "ALTER":
            i = _skip(keys, 1, "COLUMN")
            col, i = _name_at(action, i)
            rest = keys[i:]
            if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
                self.add(
                    stmt,
                    "alter-column-type",
                    f"ALTER COLUMN {table}.{col} TYPE rewrites the table under ACCESS EXCLUSIVE and may "
                    "break the application",
                )
            elif rest[:3] == ["SET", "NOT", "NULL"] and not self.not_null_checks.get((table, col)):
                self.add(
                    stmt,
                    "set-not-null",
                    f"SET NOT NULL on {table}.{col} scans the table under ACCESS EXCLUSIVE: first ADD "
                    f"CONSTRAINT ... CHECK ({col} IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it",
                )
        elif head == "RENAME":
            if keys[1:2] == ["TO"]:
                self.add(stmt, "rename-table", f"RENAME of table {table} breaks the running application")
            elif keys[1:2] != ["CONSTRAINT"]:
                i = _skip(keys, 1, "COLUMN")
                col, _ = _name_at(action, i)
                self.add(
                    stmt,
                    "rename-column",
                    f"RENAME of column {table}.{col} breaks the running application",
                )
        elif head == "VALIDATE" and keys[1:2] == ["CONSTRAINT"]:
            name, _ = _name_at(action, 2)
            key = self.check_names.get((table, name))
            if key:
                self.not_null_checks[key] = True

    def alter_add(self, stmt: Statement, table: str, action: list[Token], keys: list[str]) -> None:
        i = 1
        name = None
        if keys[1:2] == ["CONSTRAINT"]:
            name, i = _name_at(action, 2)
        kind = keys[i] if i < len(keys) else ""
        if kind in ("CHECK", "FOREIGN"):
            not_valid = _has_seq(keys, "NOT", "VALID")
            if kind == "CHECK":
                col = _is_not_null_check(_strip_not_valid(action[i:]))
                if col:
                    self.not_null_checks[(table, col)] = not not_valid
                    if name:
                        self.check_names[(table, name)] = (table, col)
            if not not_valid:
                self.add(
                    stmt,
                    "constraint-not-valid",
                    "ADD {} on {} without NOT VALID validates every row under a lock that blocks "
                    "writes: add it NOT VALID, then VALIDATE CONSTRAINT separately".format(
                        "FOREIGN KEY" if kind == "FOREIGN" else "CHECK", table
                    ),
                )
            return
        if kind in ("PRIMARY", "UNIQUE", "EXCLUDE") or name is not None:
            return
        # ADD [COLUMN] [IF NOT EXISTS] name type [constraints...]
        i = _skip(keys, i, "COLUMN")
        i = _skip(keys, i, "IF", "NOT", "EXISTS")
        col, i = _name_at(action, i)
        rest = action[i:]
        rkeys = keys[i:]
        reason = None
        if rkeys and rkeys[0] in SERIAL_TYPES:
            reason = f"a {rkeys[0].lower()} column fills every row from a sequence"
        elif _has_seq(rkeys, "GENERATED") and (_has_seq(rkeys, "IDENTITY") or _has_seq(rkeys, "STORED")):
            reason = "an identity or stored generated column is computed for every row"
        elif "DEFAULT" in rkeys:
            d = rkeys.index("DEFAULT")
            for k, tok in enumerate(rest[d + 1 :], start=d + 1):
                is_call = k + 1 < len(rest) and rest[k + 1].key == "("
                if tok.kind == "word" and tok.value.lower() in VOLATILE_FUNCTIONS and is_call:
                    reason = f"DEFAULT {tok.value.lower()}() is volatile"
                    break
        if reason:
            self.add(
                stmt,
                "volatile-default",
                f"ADD COLUMN {table}.{col}: {reason}, so the whole table is rewritten under "
                "ACCESS EXCLUSIVE: add the column without it, then backfill in batches",
            )


def _depth0_keys(toks: list[Token]) -> list[str]:
    """The keys of the tokens outside any parentheses (subqueries, argument lists)."""
    out, depth = [], 0
    for tok in toks:
        if tok.key == "(":
            depth += 1
        elif tok.key == ")":
            depth -= 1
        elif depth == 0:
            out.append(tok.key)
    return out


def _main_of_with(toks: list[Token]) -> tuple[str, list[Token]]:
    """For ``WITH a AS (...), b AS (...) <main>``: the main statement's keyword and tokens
    (the CTE bodies are in parentheses, so the first data keyword at depth 0 starts it)."""
    depth = 0
    for k, tok in enumerate(toks):
        if tok.key == "(":
            depth += 1
        elif tok.key == ")":
            depth -= 1
        elif depth == 0 and k and tok.key in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES"):
            return tok.key, toks[k:]
    return "WITH", toks


def _strip_not_valid(toks: list[Token]) -> list[Token]:
    keys = [t.key for t in toks]
    if keys[-2:] == ["NOT", "VALID"]:
        return toks[:-2]
    return toks


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------
def _allow_comments(path: str, comments: list[Comment]) -> tuple[list[list], list[Finding]]:
    allows: list[list] = []  # [line, rule, reason, used]
    bad: list[Finding] = []
    for c in comments:
        if not c.line_comment:
            continue
        m = _ALLOW_RE.match(c.text.strip())
        if not m:
            continue
        full = _ALLOW_FULL_RE.match(m.group(1))
        if not full:
            bad.append(
                Finding(path, c.line, "bad-allow-comment", "write '-- safety: allow <rule> because <reason>'")
            )
        elif full.group(1).lower() not in RULES:
            bad.append(Finding(path, c.line, "bad-allow-comment", f"unknown rule {full.group(1)!r}"))
        else:
            allows.append([c.line, full.group(1).lower(), full.group(2), False])
    return allows, bad


def lint_sql(text: str, path: str = "<sql>", *, standalone: bool = False) -> LintResult:
    """Lint one migration's SQL text.  ``path`` is only used in the findings."""
    result = LintResult(path)
    try:
        tokens, comments = tokenize(text)
    except LintParseError as exc:
        result.findings.append(Finding(path, exc.line, "parse-error", str(exc)))
        return result
    result.no_transaction = is_no_transaction(text)
    linter = _FileLinter(path, text, standalone)
    linter.run(_split_tokens(text, tokens), result.no_transaction)
    allows, bad = _allow_comments(path, comments)
    for finding in linter.raw:
        match = None
        for wanted_line in (finding.line, finding.line - 1):
            match = next(
                (a for a in allows if not a[3] and a[0] == wanted_line and a[1] == finding.rule), None
            )
            if match:
                break
        if match:
            match[3] = True
            result.allowed.append(Finding(finding.path, finding.line, finding.rule, finding.reason, match[2]))
        else:
            result.findings.append(finding)
    result.findings.extend(bad)
    result.findings.sort(key=lambda f: (f.line, f.rule))
    return result


def lint_file(path: str | Path, *, standalone: bool = False, display: str | None = None) -> LintResult:
    """Lint a file; ``display`` overrides the path shown in findings."""
    path = Path(path)
    return lint_sql(path.read_text(encoding="utf-8"), display or str(path), standalone=standalone)


def lint_paths(paths: list[str | Path], *, standalone: bool = False) -> list[LintResult]:
    """Lint files and directories (a directory means its ``*.sql`` files, sorted)."""
    results = []
    for p in paths:
        p = Path(p)
        files = sorted(p.glob("*.sql")) if p.is_dir() else [p]
        results.extend(lint_file(f, standalone=standalone) for f in files)
    return results
