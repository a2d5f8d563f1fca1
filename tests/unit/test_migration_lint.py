"""The migration safety lint: example files, inline cases, allow comments, the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils import vedfin_migration_lint as lint

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "fixtures" / "migrations_lint"
GOOD = sorted((EXAMPLES / "good").glob("*.sql"))
BAD = sorted((EXAMPLES / "bad").glob("*.sql"))
EXPECT_RE = re.compile(r"^-- expect: (?P<rule>[a-z-]+) at line (?P<line>\d+)$", re.MULTILINE)


def findings(sql: str, **kwargs) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in lint.lint_sql(sql, "t.sql", **kwargs).findings]


def test_example_sets_are_big_enough():
    assert len(GOOD) >= 6
    assert len(BAD) >= 12
    covered = {m.group("rule") for f in BAD for m in EXPECT_RE.finditer(f.read_text())}
    assert set(lint.RULES) <= covered, "every rule has a bad example"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_examples_are_clean(path):
    result = lint.lint_file(path)
    assert result.findings == [], [f.format() for f in result.findings]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_examples_give_exactly_the_expected_findings(path):
    text = path.read_text()
    expected = sorted((m.group("rule"), int(m.group("line"))) for m in EXPECT_RE.finditer(text))
    assert expected, "a bad example declares its findings"
    result = lint.lint_file(path)
    assert sorted((f.rule, f.line) for f in result.findings) == expected
    for f in result.findings:
        assert f.reason and f.path == str(path)


# -- inline cases: one rule each --------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('CREATE UNIQUE INDEX i ON ONLY public."User" ("email");', [("index-not-concurrent", 1)]),
        ('\n\nCREATE INDEX ON "User" (lower(email));', [("index-not-concurrent", 3)]),
        ("CREATE TABLE t (id int);\nCREATE INDEX ON t (id);", []),
        ('CREATE TABLE IF NOT EXISTS ops."Roll" (id int);\nCREATE INDEX ON ops."Roll" (id);', []),
        ('ALTER TABLE "User" ADD COLUMN c timestamptz DEFAULT clock_timestamp();', [("volatile-default", 1)]),
        ('ALTER TABLE "User" ADD c double precision DEFAULT random();', [("volatile-default", 1)]),
        ("ALTER TABLE \"User\" ADD COLUMN n int DEFAULT nextval('s');", [("volatile-default", 1)]),
        ('ALTER TABLE "User" ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;', [("volatile-default", 1)]),
        ('ALTER TABLE "User" ADD COLUMN c timestamptz DEFAULT now();', []),
        ('ALTER TABLE "User" ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP;', []),
        ('ALTER TABLE "User" ADD COLUMN "random" int DEFAULT 4;', []),
        ('ALTER TABLE "User" ALTER COLUMN "points" TYPE bigint;', [("alter-column-type", 1)]),
        ('ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;', [("set-not-null", 1)]),
        (
            'ALTER TABLE "User" ADD CONSTRAINT c CHECK ((("name" IS NOT NULL))) NOT VALID;\n'
            'ALTER TABLE "User" VALIDATE CONSTRAINT c;\n'
            'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;',
            [],
        ),
        (
            # validated, but for another column
            'ALTER TABLE "User" ADD CONSTRAINT c CHECK ("email" IS NOT NULL) NOT VALID;\n'
            'ALTER TABLE "User" VALIDATE CONSTRAINT c;\n'
            'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;',
            [("set-not-null", 3)],
        ),
        ("DROP TABLE IF EXISTS old_stuff;", [("drop-table", 1)]),
        ("CREATE TABLE scratch (id int);\nDROP TABLE scratch;", []),
        ('ALTER TABLE "User" DROP COLUMN IF EXISTS "x";', [("drop-column", 1)]),
        ('ALTER TABLE "User" DROP CONSTRAINT "c", ALTER COLUMN "name" DROP NOT NULL;', []),
        ('ALTER TABLE IF EXISTS ONLY "User" RENAME TO u;', [("rename-table", 1)]),
        ('ALTER TABLE "User" RENAME "name" TO n;', [("rename-column", 1)]),
        ('ALTER TABLE "User" ADD FOREIGN KEY (a) REFERENCES b (id);', [("constraint-not-valid", 1)]),
        ('ALTER TABLE "User" ADD CONSTRAINT u UNIQUE USING INDEX u_idx;', []),
        ('VACUUM (ANALYZE) "User";\nVACUUM "User";', []),
        ('VACUUM (VERBOSE, FULL) "User";', [("vacuum-full", 1)]),
        ("CLUSTER;", [("cluster", 1)]),
        ('-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON "User" (a);', []),
        ('-- migrate: no-transaction\nDROP INDEX "i";', [("missing-lock-timeout", 2)]),
        (
            "-- migrate: no-transaction\nSELECT set_config('lock_timeout', '1s', false);\nDROP INDEX \"i\";",
            [],
        ),
        ('DROP INDEX "i";\nLOCK TABLE "User";', []),  # transactional: the runner sets it
        ('REINDEX INDEX CONCURRENTLY "i";', [("concurrent-in-transaction", 1)]),
        ("START TRANSACTION;", [("transaction-control", 1)]),
        ("ROLLBACK;", [("transaction-control", 1)]),
    ],
)
def test_inline_cases(sql, expected):
    assert findings(sql) == expected


# -- destructive and privilege rules: bad example, allow comment, near miss -----------------
DESTRUCTIVE = [
    # (rule, statement that fires, near miss that must not)
    ("truncate", 'TRUNCATE "User";', "CREATE TABLE t (id int);\nTRUNCATE t;"),
    ("truncate", "TRUNCATE TABLE ONLY a, b CASCADE;", "SELECT 'TRUNCATE a';"),
    ("delete-without-where", 'DELETE FROM "User";', 'DELETE FROM "User" WHERE id = 1;'),
    (
        "delete-without-where",
        "WITH x AS (SELECT 1 WHERE true) DELETE FROM t;",
        "-- DELETE FROM t;\nSELECT 1;",
    ),
    (
        "delete-without-where",
        "DELETE FROM t USING u;",
        "WITH d AS (DELETE FROM t WHERE a RETURNING 1) SELECT 1 FROM d;",
    ),
    ("update-without-where", "UPDATE t SET a = (SELECT b FROM u WHERE c);", "UPDATE t SET a = 1 WHERE b;"),
    (
        "update-without-where",
        "UPDATE ONLY t SET a = 1;",
        "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2;",
    ),
    ("drop-schema-cascade", "DROP SCHEMA IF EXISTS ops CASCADE;", "DROP SCHEMA IF EXISTS ops RESTRICT;"),
    ("drop-database", "DROP DATABASE vedfin_old;", "/* DROP DATABASE vedfin; */ SELECT 1;"),
    ("role-superuser", "ALTER ROLE app WITH SUPERUSER;", "ALTER ROLE app NOSUPERUSER NOBYPASSRLS;"),
    ("role-superuser", "CREATE USER bi LOGIN BYPASSRLS;", "ALTER ROLE app SET search_path = 'superuser';"),
    ("alter-system", "ALTER SYSTEM SET fsync = off;", "COMMENT ON TABLE t IS 'ALTER SYSTEM';"),
    ("grant-to-public", "GRANT SELECT ON t TO PUBLIC;", "GRANT SELECT ON t TO analytics_ro;"),
    (
        "grant-to-public",
        "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO public;",
        "GRANT EXECUTE ON FUNCTION f() TO PUBLIC;",
    ),
    (
        "grant-to-public",
        "GRANT CONNECT ON DATABASE vedfin TO PUBLIC;",
        "REVOKE ALL ON SCHEMA ops FROM PUBLIC;",
    ),
]


@pytest.mark.parametrize(("rule", "bad", "near_miss"), DESTRUCTIVE, ids=lambda v: v if "-" in v else None)
def test_destructive_rule_fires_is_allowed_and_ignores_its_near_miss(rule, bad, near_miss):
    assert findings(bad) == [(rule, 1)]
    allowed = lint.lint_sql(f"-- safety: allow {rule} because reviewed in OPS-1\n{bad}", "t.sql")
    assert allowed.findings == []
    assert [(f.rule, f.allowed_because) for f in allowed.allowed] == [(rule, "reviewed in OPS-1")]
    assert findings(near_miss) == []


def test_destructive_allow_comment_for_another_rule_does_not_silence_it():
    sql = "-- safety: allow truncate because wrong rule\nDELETE FROM t;"
    assert findings(sql) == [("delete-without-where", 2)]


def test_do_block_bodies_are_linted_but_function_bodies_are_not():
    do = "DO $$\nBEGIN\n  IF true THEN\n    TRUNCATE t;\n  END IF;\n  DELETE FROM u WHERE a;\nEND\n$$;"
    assert findings(do) == [("truncate", 1)]
    fn = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN TRUNCATE t; RETURN NULL; END $$;"
    assert findings(fn) == []
    atomic = "CREATE FUNCTION g() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END;"
    assert findings(atomic) == []
    # FOR UPDATE is a locking clause, not an UPDATE statement
    assert findings("DO $$ BEGIN PERFORM 1 FROM t FOR UPDATE; END $$;") == []


def test_repo_migrations_trip_no_destructive_rule():
    """The applied migrations are checksummed by the ledger (vedfin_migrate.checksum_of), so
    they cannot be edited to add allow comments: they must be clean as they are."""
    new_rules = {rule for rule, _, _ in DESTRUCTIVE}
    for result in lint.lint_paths([ROOT / "sql" / "migrations"]):
        assert not [f for f in result.findings + result.allowed if f.rule in new_rules], result.path


def test_standalone_mode_wants_lock_timeout_in_every_file():
    sql = 'SELECT 1;\nALTER TABLE "User" ADD COLUMN c int;\nALTER TABLE "User" ADD COLUMN d int;'
    assert findings(sql) == []
    assert findings(sql, standalone=True) == [("missing-lock-timeout", 2)]  # once per file
    assert findings("SET LOCAL lock_timeout TO '1s';\n" + sql, standalone=True) == []


def test_marker_only_counts_in_the_header():
    assert lint.is_no_transaction("-- migrate: no-transaction\nSELECT 1;")
    assert lint.is_no_transaction("-- a title\n--   migrate:   no-transaction  \n\nSELECT 1;")
    assert not lint.is_no_transaction("SELECT 1;\n-- migrate: no-transaction\n")
    assert not lint.is_no_transaction("/* -- migrate: no-transaction */ SELECT 1;")
    assert not lint.is_no_transaction("SELECT '-- migrate: no-transaction';")


# -- allow comments -----------------------------------------------------------------------
def test_allow_comment_on_same_line_and_line_above():
    sql = (
        "-- safety: allow drop-table because replaced by ops.rollup in v2\n"
        "DROP TABLE old_a;\n"
        "DROP TABLE old_b; -- safety: allow drop-table because same\n"
    )
    result = lint.lint_sql(sql, "t.sql")
    assert result.findings == []
    assert [(f.rule, f.line, f.allowed_because) for f in result.allowed] == [
        ("drop-table", 2, "replaced by ops.rollup in v2"),
        ("drop-table", 3, "same"),
    ]
    assert "allowed because replaced by ops.rollup in v2" in result.allowed[0].format()


def test_allow_comment_two_lines_above_does_not_count():
    sql = "-- safety: allow drop-table because too far\n\nDROP TABLE old_a;"
    assert findings(sql) == [("drop-table", 3)]


def test_allow_comment_accepts_one_rule_of_a_statement_only():
    sql = (
        "-- safety: allow rename-column because the app reads both names since v4\n"
        'ALTER TABLE "User" RENAME COLUMN a TO b;\n'
        "-- safety: allow drop-column because dropped in the app in v4\n"
        'ALTER TABLE "User" DROP COLUMN c, ALTER COLUMN d TYPE bigint;\n'
    )
    assert findings(sql) == [("alter-column-type", 4)]


def test_bad_allow_comments_are_findings_and_cannot_be_allowed():
    sql = "-- safety: allow no-such-rule because x\n-- safety: allow drop-table because\nSELECT 1;"
    assert findings(sql) == [("bad-allow-comment", 1), ("bad-allow-comment", 2)]


# -- statement splitting ------------------------------------------------------------------
def test_split_statements_respects_quotes_comments_and_dollar_quotes():
    sql = (
        "SELECT 'a;b' AS \"x;y\"; -- c;d\n"
        "/* e; /* f; */ g; */ SELECT $fn$ h; $$ i; $fn$;\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true "
        "THEN 2 END; END;\n"
        "SELECT E'\\';' ;\n"
        "SELECT 3"
    )
    statements = lint.split_statements(sql)
    assert [s.line for s in statements] == [1, 2, 3, 4, 5]
    assert statements[0].text == "SELECT 'a;b' AS \"x;y\""
    assert statements[1].text == "SELECT $fn$ h; $$ i; $fn$"
    assert statements[2].text.endswith("END; END")
    assert statements[4].text == "SELECT 3"


def test_finding_is_reported_where_the_statement_starts():
    sql = 'SELECT 1; /* x\n y */\n\n  ALTER TABLE\n  "User"\n  DROP COLUMN a;'
    assert findings(sql) == [("drop-column", 4)]


# -- CLI ------------------------------------------------------------------------------------
def run_cli(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "migration_lint.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_cli_clean_on_the_repo_migrations_and_good_examples():
    proc = run_cli(ROOT / "sql" / "migrations", *GOOD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_cli_reports_file_line_rule_reason_and_exits_1():
    bad = EXAMPLES / "bad" / "index_not_concurrent.sql"
    proc = run_cli(bad)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{bad}:3: index-not-concurrent: ")


def test_cli_directory_and_usage_errors():
    proc = run_cli(EXAMPLES / "bad")
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) >= len(BAD)
    assert run_cli(ROOT / "no" / "such" / "dir").returncode == 2
    assert run_cli().returncode == 2
    rules = run_cli("--rules")
    assert rules.returncode == 0 and "index-not-concurrent" in rules.stdout
