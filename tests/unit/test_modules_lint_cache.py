"""Edge paths of module_utils that the behaviour tests leave out: the migration lint's tokenizer
and rarer statements, the cache's argument validation."""

from __future__ import annotations

import pytest
from ansible.module_utils import vedfin_cache as vc
from ansible.module_utils import vedfin_migration_lint as lint


def rules(sql: str, **kw) -> list[str]:
    return [f.rule for f in lint.lint_sql(sql, "t.sql", **kw).findings]


# -- migration lint: tokenizer ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("/* open /* nested */ still open", "unterminated /* comment"),
        ("SELECT $tag$ never closed", "unterminated dollar-quoted string $tag$"),
    ],
)
def test_parse_errors_are_findings_with_their_line(sql, message):
    result = lint.lint_sql("\n" + sql, "t.sql")
    assert [(f.rule, f.line) for f in result.findings] == [("parse-error", 2)]
    assert message in result.findings[0].reason
    assert not result.ok
    assert lint.is_no_transaction(sql) is False


def test_strings_params_and_lone_dollars_tokenize():
    sql = 'SELECT E\'it\\\'s\', $1, $$body$$, a $ b, "Quoted""Name";'
    tokens, comments = lint.tokenize(sql)
    kinds = [(t.kind, t.value) for t in tokens]
    assert ("string", "it\\'s") in kinds and ("param", "$1") in kinds and ("string", "body") in kinds
    assert ("op", "$") in kinds and ("qident", 'Quoted"Name') in kinds
    assert comments == []
    assert lint.lint_sql(sql).ok


# -- migration lint: statements that take strong locks ---------------------------------------
@pytest.mark.parametrize(
    "stmt",
    [
        'TRUNCATE "User";',
        'LOCK TABLE "User";',
        'REINDEX TABLE "User";',
        'CLUSTER "User" USING "User_pkey";',
        'ALTER INDEX "User_email_key" RENAME TO "User_email_uq";',
        "ALTER MATERIALIZED VIEW mv RENAME TO mv2;",
        "DROP VIEW v;",
        'DROP INDEX "User_email_key";',
    ],
)
def test_lock_taking_statements_need_a_lock_timeout_when_standalone(stmt):
    assert "missing-lock-timeout" in rules(stmt, standalone=True)
    assert "missing-lock-timeout" not in rules("SET LOCAL lock_timeout = '5s';\n" + stmt, standalone=True)
    with_config = "SELECT set_config('lock_timeout', '5s', false);\n" + stmt
    assert "missing-lock-timeout" not in rules(with_config, standalone=True)


def test_statements_on_tables_created_in_the_same_file_are_free():
    sql = (
        "CREATE TEMP TABLE t (id int);\n"
        "CREATE UNLOGGED TABLE IF NOT EXISTS u (id int);\n"
        "ALTER TABLE t ADD COLUMN c int NOT NULL;\n"
        "ALTER TABLE * ;\n"
        "DROP TABLE t, u;\n"
        "CREATE INDEX;\n"
        "CREATE OR REPLACE;\n"
        "DROP;\n"
    )
    assert rules(sql) == []
    # not a lock problem, but CONCURRENTLY cannot run in the migration's transaction
    assert rules("DROP INDEX CONCURRENTLY IF EXISTS i;") == ["concurrent-in-transaction"]


def test_dropping_an_existing_table_is_reported():
    assert "drop-table" in rules('DROP TABLE IF EXISTS "Legacy";')


def test_lint_paths_takes_directories_and_files(tmp_path):
    (tmp_path / "0002_b.sql").write_text('CREATE INDEX ON "User" (email);\n')
    (tmp_path / "0001_a.sql").write_text("SELECT 1;\n")
    (tmp_path / "notes.txt").write_text("not sql")
    results = lint.lint_paths([tmp_path, tmp_path / "0001_a.sql"])
    assert [r.path.rsplit("/", 1)[1] for r in results] == ["0001_a.sql", "0002_b.sql", "0001_a.sql"]
    assert [r.ok for r in results] == [True, False, True]


# -- cache: argument validation --------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: vc.cache_key("", {}), "query name must be a non-empty string"),
        (lambda: vc.cache_key("q", {}, query_version=""), "query_version must be a non-empty str or an int"),
        (lambda: vc.leaderboard_params({"group_id": 7}), "group_id must be a string or None"),
        (lambda: vc.leaderboard_params({"timeframe": 3}), "timeframe and tz must be strings"),
        (lambda: vc.leaderboard_params({"limit": True}), "limit must be an integer"),
        (lambda: vc.QueryCache("redis://127.0.0.1:1/0", schema_version=-1), "schema_version must be"),
        (lambda: vc.QueryCache("redis://127.0.0.1:1/0", default_ttl=0), "TTL of default_ttl"),
        (lambda: vc.QueryCache("redis://127.0.0.1:1/0", lock_timeout=0), "lock_timeout must be > 0"),
    ],
)
def test_cache_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
