"""The migration runner (module_utils/vedfin_migrate.py) and the vedfin_migrate module,
against a real throwaway PostgreSQL 15 (tests/conftest.py)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest
from ansible.module_utils import vedfin_migrate, vedfin_pg
from ansible.module_utils.vedfin_migrate import MigrationError, Migrator
from ansible_run import run_module

ROOT = Path(__file__).resolve().parents[2]
REPO_MIGRATIONS = ROOT / "sql" / "migrations"
REPO_NAMES = sorted(p.stem for p in REPO_MIGRATIONS.glob("*.sql"))


# -- helpers --------------------------------------------------------------------------------
def conn_of(info: dict):
    return psycopg.connect(**info, autocommit=True)


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def repo_copy(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(REPO_MIGRATIONS, target)
    return target


def run(info: dict, path: Path, check: bool = False, **kwargs) -> dict:
    with conn_of(info) as conn:
        m = Migrator(conn, path, **kwargs)
        return m.plan() if check else m.apply()


def scalar(info: dict, query: str, params=None):
    with conn_of(info) as conn:
        return conn.execute(query, params).fetchone()[0]


def ledger(info: dict) -> dict[str, str]:
    with conn_of(info) as conn:
        if conn.execute("SELECT to_regclass('ops.schema_migrations')").fetchone()[0] is None:
            return {}
        return dict(conn.execute("SELECT name, checksum FROM ops.schema_migrations ORDER BY name"))


def index_state(info: dict, name: str):
    """(valid, access method) of an index by name, or None."""
    with conn_of(info) as conn:
        return conn.execute(
            "SELECT i.indisvalid, am.amname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "JOIN pg_am am ON am.oid = c.relam WHERE c.relname = %s",
            [name],
        ).fetchone()


def db_fingerprint(info: dict) -> dict:
    """Row counts and an md5 of every row of every app table."""
    with conn_of(info) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        out = {}
        for t in sorted(tables):
            out[t] = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                f'FROM "{t}" x'
            ).fetchone()
        return out


def seed_rows(info: dict) -> None:
    with conn_of(info) as conn:
        conn.execute(
            """
            INSERT INTO "User" (id, email, "passwordHash", name, role, points, "updatedAt")
            SELECT 'u' || g, 'u' || g || '@example.com', 'x', jsonb_build_object('vi', 'Người ' || g),
                   (CASE WHEN g % 10 = 0 THEN 'TEACHER' ELSE 'STUDENT' END)::"Role", g * 7, now()
            FROM generate_series(1, 200) g;
            INSERT INTO "Course" (id, slug, title, description, "thumbnailKey", price, level, published,
                                  "updatedAt")
            SELECT 'c' || g, 'course-' || g, '{"vi": "Khoá"}', '{"vi": "Mô tả"}',
                   'courses/c' || g || '/thumbnail.jpg', g * 100, 'BEGINNER', true, now()
            FROM generate_series(1, 5) g;
            INSERT INTO "Lesson" (id, "courseId", "order", title, content, "updatedAt")
            SELECT 'l' || g, 'c' || (g % 5 + 1), g, '{"vi": "Bài"}', '{"vi": "Nội dung"}', now()
            FROM generate_series(1, 40) g;
            INSERT INTO "UserProgress" (id, "userId", "lessonId", status, "progressPercentage", "updatedAt")
            SELECT 'p' || g, 'u' || (g % 200 + 1), 'l' || (g % 40 + 1), 'IN_PROGRESS', 50, now()
            FROM generate_series(1, 300) g ON CONFLICT DO NOTHING;
            INSERT INTO "BehaviorLog" (id, "userId", "sessionId", path, "eventType", "timestamp")
            SELECT 'b' || g, CASE WHEN g % 13 = 0 THEN NULL ELSE 'u' || (g % 200 + 1) END, 's' || (g / 5),
                   '/courses/course-' || (g % 5 + 1), 'page_view',
                   timestamptz '2026-01-01 00:00+00' + g * interval '1 minute'
            FROM generate_series(1, 5000) g;
            """
        )


# -- the repo's own migrations ----------------------------------------------------------------
def test_repo_migrations_apply_on_the_app_schema(schema_db):
    result = run(schema_db, REPO_MIGRATIONS)
    assert result["changed"] is True
    assert result["applied"] == REPO_NAMES
    assert result["pending"] == [] and result["already_applied"] == []
    assert result["executed_files"] == [str(REPO_MIGRATIONS / (n + ".sql")) for n in REPO_NAMES]
    assert set(result["durations"]) == set(REPO_NAMES)
    assert all(ms >= 0 for ms in result["durations"].values())

    recorded = ledger(schema_db)
    assert recorded == {m.name: m.checksum for m in vedfin_migrate.load_migrations(REPO_MIGRATIONS)}
    assert scalar(schema_db, "SELECT count(*) FROM ops.schema_migrations WHERE duration_ms >= 0") == len(
        REPO_NAMES
    )
    assert scalar(schema_db, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == 1
    # The concurrent index exists, is valid, and is a BRIN.
    assert index_state(schema_db, "BehaviorLog_timestamp_brin_idx") == (True, "brin")
    # The runner leaves no session state or advisory lock behind (connection closed anyway).
    assert scalar(schema_db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0


def test_reapply_is_a_no_op(schema_db):
    run(schema_db, REPO_MIGRATIONS)
    before = ledger(schema_db)
    again = run(schema_db, REPO_MIGRATIONS)
    assert again["changed"] is False
    assert again["applied"] == [] and again["executed_files"] == [] and again["durations"] == {}
    assert again["already_applied"] == REPO_NAMES
    assert ledger(schema_db) == before


def test_check_mode_plan_changes_nothing(schema_db):
    result = run(schema_db, REPO_MIGRATIONS, check=True)
    assert result["changed"] is True
    assert result["applied"] == REPO_NAMES  # what would be applied
    assert result["durations"] == {}
    # Nothing written: not even the ledger or the ops schema.
    assert scalar(schema_db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ops'") == 0
    assert index_state(schema_db, "BehaviorLog_timestamp_brin_idx") is None
    run(schema_db, REPO_MIGRATIONS)
    assert run(schema_db, REPO_MIGRATIONS, check=True)["changed"] is False


def test_apply_on_a_db_with_rows_keeps_every_row(schema_db):
    seed_rows(schema_db)
    before = db_fingerprint(schema_db)
    assert before["BehaviorLog"][0] == 5000 and before["User"][0] == 200
    run(schema_db, REPO_MIGRATIONS)
    assert db_fingerprint(schema_db) == before
    assert index_state(schema_db, "BehaviorLog_timestamp_brin_idx") == (True, "brin")


# -- refusals ---------------------------------------------------------------------------------
def test_changed_checksum_is_refused_and_nothing_changes(schema_db, tmp_path):
    d = repo_copy(tmp_path)
    run(schema_db, d)
    before = ledger(schema_db)
    first = d / (REPO_NAMES[0] + ".sql")
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    write(d, {"0099_more.sql": "CREATE TABLE ops.more (id int);"})
    for check in (True, False):
        with pytest.raises(MigrationError, match="changed after it was applied") as err:
            run(schema_db, d, check=check)
        assert str(first) in str(err.value)
    assert ledger(schema_db) == before
    assert scalar(schema_db, "SELECT to_regclass('ops.more')") is None


def test_crlf_line_endings_do_not_change_the_checksum(schema_db, tmp_path):
    d = write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE ops_a (id int);\n"})
    run(schema_db, d)
    (d / "0001_a.sql").write_bytes(b"CREATE TABLE ops_a (id int);\r\n")
    assert run(schema_db, d)["changed"] is False


def test_missing_applied_file_is_refused_and_nothing_changes(schema_db, tmp_path):
    d = write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE ops_a (id int);", "0002_b.sql": "SELECT 1;"})
    run(schema_db, d)
    (d / "0001_a.sql").unlink()
    write(d, {"0003_c.sql": "CREATE TABLE ops_c (id int);"})
    with pytest.raises(MigrationError, match="0001_a is recorded as applied but 0001_a.sql is missing"):
        run(schema_db, d)
    assert set(ledger(schema_db)) == {"0001_a", "0002_b"}
    assert scalar(schema_db, "SELECT to_regclass('ops_c')") is None


def test_badly_named_or_duplicate_files_are_refused(pg_db, tmp_path):
    d = write(tmp_path / "a", {"0001_ok.sql": "SELECT 1;", "2_bad-name.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="unexpected file .*2_bad-name.sql"):
        run(pg_db, d)
    d = write(tmp_path / "b", {"0001_one.sql": "SELECT 1;", "0001_two.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="two migrations with number 0001"):
        run(pg_db, d)
    with pytest.raises(MigrationError, match="does not exist"):
        run(pg_db, tmp_path / "nope")
    assert ledger(pg_db) == {}


def test_unsafe_file_is_refused_unless_allowed(schema_db, tmp_path):
    files = {
        "0001_safe.sql": "CREATE TABLE ops_safe (id int);",
        "0002_unsafe.sql": 'SELECT 1;\nCREATE INDEX "User_name_vi_idx" ON "User" (("name" ->> \'vi\'));\n',
    }
    d = write(tmp_path / "m", files)
    for check in (True, False):
        with pytest.raises(MigrationError, match=r"0002_unsafe.sql:2: index-not-concurrent: "):
            run(schema_db, d, check=check)
    # Refused before anything ran: not even the safe first file, not even the ledger.
    assert scalar(schema_db, "SELECT to_regclass('ops.schema_migrations')") is None
    assert scalar(schema_db, "SELECT to_regclass('ops_safe')") is None

    result = run(schema_db, d, allow_unsafe=True)
    assert result["applied"] == ["0001_safe", "0002_unsafe"]
    assert len(result["unsafe"]) == 1 and "index-not-concurrent" in result["unsafe"][0]
    assert index_state(schema_db, "User_name_vi_idx") == (True, "btree")


def test_allow_comment_lets_one_statement_through(schema_db, tmp_path):
    d = write(
        tmp_path / "m",
        {
            "0001_small.sql": "-- safety: allow index-not-concurrent because Course has < 1000 rows\n"
            'CREATE INDEX "Course_price_idx" ON "Course" ("price");\n'
        },
    )
    result = run(schema_db, d)
    assert result["applied"] == ["0001_small"] and result["unsafe"] == []
    assert "allowed because Course has < 1000 rows" in result["allowed"][0]


# -- transactions, timeouts, locks ------------------------------------------------------------
def test_failing_file_is_rolled_back_and_earlier_files_stay(schema_db, tmp_path):
    d = write(
        tmp_path / "m",
        {
            "0001_ok.sql": "CREATE TABLE ops_ok (id int);",
            "0002_broken.sql": "CREATE TABLE ops_half (id int);\nINSERT INTO ops_half VALUES (1 / 0);",
            "0003_later.sql": "CREATE TABLE ops_later (id int);",
        },
    )
    with pytest.raises(MigrationError, match=r"0002_broken.sql failed: division by zero; applied before"):
        run(schema_db, d)
    assert set(ledger(schema_db)) == {"0001_ok"}
    assert scalar(schema_db, "SELECT to_regclass('ops_half')") is None
    assert scalar(schema_db, "SELECT to_regclass('ops_later')") is None


def test_lock_timeout_is_honored_and_ledger_unchanged(schema_db, tmp_path):
    d = write(
        tmp_path / "m",
        {
            "0001_first.sql": "CREATE TABLE ops_first (id int);",
            "0002_alter.sql": 'ALTER TABLE "User" ADD COLUMN "x" int;',
        },
    )
    run(schema_db, d, target="0001")
    before = ledger(schema_db)
    with psycopg.connect(**schema_db) as blocker:  # the app, mid-transaction, reading "User"
        blocker.execute('SELECT count(*) FROM "User"').fetchone()
        started = time.monotonic()
        with pytest.raises(MigrationError, match=r"0002_alter.sql failed \(lock timeout") as err:
            run(schema_db, d, lock_timeout="300ms")
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert elapsed < 5, "failed fast instead of queueing behind the reader"
    assert "nothing was applied" in str(err.value)
    assert ledger(schema_db) == before
    assert (
        scalar(
            schema_db,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = '\"User\"'::regclass AND attname = 'x'",
        )
        == 0
    )
    # Once the reader is gone the same file applies.
    assert run(schema_db, d, lock_timeout="300ms")["applied"] == ["0002_alter"]


# The tests below run toy migrations on an empty database (no app schema): they test the
# runner itself, so the app schema preflight (tests/integration/test_preflight.py) is off.


def test_statement_timeout_is_honored(pg_db, tmp_path):
    d = write(tmp_path / "m", {"0001_slow.sql": "SELECT pg_sleep(3);"})
    started = time.monotonic()
    with pytest.raises(MigrationError, match="statement timeout"):
        run(pg_db, d, preflight=False, statement_timeout="200ms")
    assert time.monotonic() - started < 2.5
    assert ledger(pg_db) == {}


def test_invalid_timeouts_are_refused(pg_db, tmp_path):
    d = write(tmp_path / "m", {"0001_a.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="invalid lock_timeout 'soon'"):
        run(pg_db, d, preflight=False, lock_timeout="soon")


def test_two_runners_do_not_interleave(pg_db, tmp_path):
    d = write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE ops_a (id int);"})
    with conn_of(pg_db) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [vedfin_migrate.ADVISORY_LOCK_KEY])
        pid = holder.info.backend_pid
        with pytest.raises(
            MigrationError, match=rf"another migration runner holds the migration lock \(pid {pid}"
        ):
            run(pg_db, d, preflight=False, lock_wait=0.5)
        assert ledger(pg_db) == {}
        # A runner that waits gets the lock once it is released, and finds nothing to redo.
        results = {}
        waiter = threading.Thread(target=lambda: results.update(run(pg_db, d, preflight=False, lock_wait=20)))
        waiter.start()
        time.sleep(0.5)
        holder.execute("SELECT pg_advisory_unlock(%s)", [vedfin_migrate.ADVISORY_LOCK_KEY])
        waiter.join(30)
    assert results["applied"] == ["0001_a"]
    assert run(pg_db, d, preflight=False)["changed"] is False


def test_target_applies_up_to_and_including(pg_db, tmp_path):
    d = write(tmp_path / "m", {f"000{i}_m{i}.sql": f"CREATE TABLE ops_m{i} (id int);" for i in (1, 2, 3)})
    result = run(pg_db, d, preflight=False, target="0002_m2.sql")
    assert result["applied"] == ["0001_m1", "0002_m2"] and result["pending"] == ["0003_m3"]
    assert run(pg_db, d, preflight=False, target="0002_m2")["changed"] is False
    with pytest.raises(MigrationError, match="target 0009 is not a migration"):
        run(pg_db, d, preflight=False, target="0009")
    assert run(pg_db, d, preflight=False)["applied"] == ["0003_m3"]


# -- no-transaction files ---------------------------------------------------------------------
CIC_FILE = (
    "-- migrate: no-transaction\n"
    'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "BehaviorLog_sessionId_key"\n'
    '    ON "BehaviorLog" ("sessionId");\n'
)


def test_failed_concurrent_index_is_dropped_so_a_rerun_works(schema_db, tmp_path):
    seed_rows(schema_db)  # several rows per sessionId: the unique build fails
    d = write(tmp_path / "m", {"0001_unique_session.sql": CIC_FILE})
    with pytest.raises(
        MigrationError, match=r"line 2 .*could not create unique index.*dropped the INVALID index"
    ):
        run(schema_db, d)
    assert index_state(schema_db, "BehaviorLog_sessionId_key") is None
    assert ledger(schema_db) == {}
    with conn_of(schema_db) as conn:  # fix the data, rerun
        conn.execute('UPDATE "BehaviorLog" SET "sessionId" = id')
    assert run(schema_db, d)["applied"] == ["0001_unique_session"]
    assert index_state(schema_db, "BehaviorLog_sessionId_key") == (True, "btree")


def test_invalid_index_left_by_a_crash_is_rebuilt(schema_db, tmp_path):
    seed_rows(schema_db)
    with conn_of(schema_db) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(CIC_FILE.split("\n", 1)[1])  # by hand, as if a runner died: INVALID index stays
    assert index_state(schema_db, "BehaviorLog_sessionId_key") == (False, "btree")
    with conn_of(schema_db) as conn:
        conn.execute('UPDATE "BehaviorLog" SET "sessionId" = id')
    # IF NOT EXISTS alone would keep the invalid index and record success; the runner rebuilds.
    run(schema_db, write(tmp_path / "m", {"0001_unique_session.sql": CIC_FILE}))
    assert index_state(schema_db, "BehaviorLog_sessionId_key") == (True, "btree")


def test_no_transaction_file_runs_statements_one_by_one(schema_db, tmp_path):
    d = write(
        tmp_path / "m",
        {
            "0001_mixed.sql": "-- migrate: no-transaction\n"
            "SET lock_timeout = '2s';\n"
            "CREATE TABLE IF NOT EXISTS ops_nt (id int);\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ops_nt_id_idx ON ops_nt (id);\n"
            "INSERT INTO ops_nt SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ops_nt);\n"
        },
    )
    result = run(schema_db, d)
    assert result["applied"] == ["0001_mixed"]
    assert index_state(schema_db, "ops_nt_id_idx") == (True, "btree")
    assert scalar(schema_db, "SELECT count(*) FROM ops_nt") == 1


def test_lint_volatile_default_rule_matches_postgres(schema_db):
    """now() is STABLE: PostgreSQL 11+ stores it once (no rewrite), so the lint accepts it;
    clock_timestamp() is VOLATILE: the table is rewritten (new relfilenode), so it refuses."""
    seed_rows(schema_db)
    from ansible.module_utils import vedfin_migration_lint as lint

    def rewrites(default: str) -> bool:
        with conn_of(schema_db) as conn:
            before = conn.execute("SELECT pg_relation_filenode('\"BehaviorLog\"')").fetchone()[0]
            conn.execute(
                f'ALTER TABLE "BehaviorLog" ADD COLUMN "c_{default[:5]}" timestamptz DEFAULT {default}'
            )
            return conn.execute("SELECT pg_relation_filenode('\"BehaviorLog\"')").fetchone()[0] != before

    for default in ("now()", "clock_timestamp()"):
        sql = f'ALTER TABLE "BehaviorLog" ADD COLUMN c timestamptz DEFAULT {default};'
        flagged = [f.rule for f in lint.lint_sql(sql).findings] == ["volatile-default"]
        assert flagged == rewrites(default), default


# -- vedfin_pg ----------------------------------------------------------------------------------
def test_connect_error_names_the_target_and_hides_the_password(pg_db):
    params = vedfin_pg.params_from_conninfo(pg_db)
    with vedfin_pg.connect(params) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == pg_db["dbname"]
    bad = dict(params, login_password="Wr0ng-Secret-123")  # noqa: S106
    with pytest.raises(vedfin_pg.VedfinError) as err:
        vedfin_pg.connect(bad)
    msg = str(err.value)
    assert msg.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{pg_db['port']} db={pg_db['dbname']}: ")
    assert "password authentication failed" in msg
    assert "Wr0ng-Secret-123" not in msg and pg_db["password"] not in msg


def test_argument_spec_shape():
    spec = vedfin_pg.pg_connection_argument_spec()
    assert spec["db"] == {"type": "str", "aliases": ["login_db"], "required": True}
    assert spec["login_password"]["no_log"] is True
    assert spec["login_port"] == {"type": "int", "default": 5432}
    assert vedfin_pg.pg_connection_argument_spec(db_required=False)["db"]["default"] == "postgres"
    kwargs = vedfin_pg.connection_kwargs({"login_unix_socket": "/run/pg", "login_host": "h", "db": "d"})
    assert kwargs == {"host": "/run/pg", "dbname": "d"}


# -- the Ansible module, through ansible-playbook ---------------------------------------------
def module_args(info: dict, path: Path, **extra) -> dict:
    return {**vedfin_pg.params_from_conninfo(info), "path": str(path), **extra}


def test_module_check_mode_then_apply_then_rerun(schema_db):
    args = module_args(schema_db, REPO_MIGRATIONS, lock_timeout="2s")
    check = run_module("vedfin_migrate", args, check=True)
    assert not check["failed"], check.get("msg")
    assert check["changed"] is True and check["applied"] == REPO_NAMES and check["durations"] == {}
    assert scalar(schema_db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ops'") == 0

    real = run_module("vedfin_migrate", args)
    assert not real["failed"], real.get("msg")
    assert real["changed"] is True and real["applied"] == REPO_NAMES
    assert set(real["durations"]) == set(REPO_NAMES)
    assert real["executed_files"][-1].endswith(REPO_NAMES[-1] + ".sql")
    masked = real["invocation"]["module_args"]["login_password"]
    assert masked == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # noqa: S105
    assert index_state(schema_db, "BehaviorLog_timestamp_brin_idx") == (True, "brin")

    again = run_module("vedfin_migrate", args)
    assert again["changed"] is False and again["applied"] == [] and again["already_applied"] == REPO_NAMES
    assert run_module("vedfin_migrate", args, check=True)["changed"] is False


def test_module_reports_refusals_and_connection_errors(schema_db, tmp_path):
    d = write(tmp_path / "m", {"0001_drop.sql": 'DROP TABLE "SocialPost";'})
    refused = run_module("vedfin_migrate", module_args(schema_db, d))
    assert refused["failed"] is True and refused["changed"] is False
    assert "0001_drop.sql:1: drop-table" in refused["msg"]
    assert scalar(schema_db, "SELECT to_regclass('\"SocialPost\"') IS NOT NULL") is True

    forced = run_module("vedfin_migrate", module_args(schema_db, d, allow_unsafe=True))
    assert forced["changed"] is True and forced["applied"] == ["0001_drop"]
    assert any("allow_unsafe" in w for w in forced.get("warnings", [])), forced
    assert scalar(schema_db, "SELECT to_regclass('\"SocialPost\"')") is None

    wrong = run_module("vedfin_migrate", module_args(schema_db, d, login_password="Not-The-Pw-{{ x }}"))  # noqa: S106
    assert wrong["failed"] is True
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{schema_db['port']}" in wrong["msg"]
    assert "Not-The-Pw" not in wrong["msg"]
