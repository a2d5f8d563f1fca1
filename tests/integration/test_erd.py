"""ERDs from the live catalog (module_utils/vedfin_erd.py, and tools/erd.py run in this process)."""

from __future__ import annotations

import json
from pathlib import Path

import erd  # tools/erd.py
import psycopg
import pytest
from ansible.module_utils import vedfin_erd as ve
from ansible.module_utils import vedfin_migrate
from app_db import create_database, drop_database
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[2]
APP_TABLES = sorted(t for tables in ve.DEFAULT_DOMAINS.values() for t in tables)
DOMAIN_FILES = [f"erd-{d}.md" for d in ("analytics", "gamification", "learning", "platform", "social")]


@pytest.fixture
def empty_db(pg_server):
    """A second, empty database (schema_db and pg_db are the same database)."""
    info = create_database(pg_server, "t_erd_empty")
    yield info
    drop_database(pg_server, info)


def catalog_of(info: dict, schemas=("public",)):
    with psycopg.connect(**info, autocommit=True) as conn:
        return ve.read_catalog(conn, schemas)


def diagram_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()]


def test_every_app_table_mapped_and_fks_rendered(schema_db):
    catalog = catalog_of(schema_db)
    assert sorted(catalog) == APP_TABLES and len(APP_TABLES) == 27  # all of the app's schema
    out = ve.generate(catalog)
    assert out["unmapped_tables"] == [] and out["warnings"] == []
    assert sorted(out["files"]) == [
        f"erd-{d}.md" for d in ("analytics", "gamification", "learning", "platform", "social")
    ]
    assert catalog["UserProgress"].columns[-1].type == "timestamp(3) without time zone"  # Prisma
    assert catalog["UserStreak"].unique_keys == (("userId",),)
    rels = {
        name: [line for line in diagram_lines(text) if "--" in line] for name, text in out["files"].items()
    }
    assert {
        'Course ||--o{ Lesson : "courseId"',
        'Lesson ||--o{ UserProgress : "lessonId"',
        'User ||--o{ UserProgress : "userId"',
        'Lesson ||--o{ Quiz : "lessonId"',
    } <= set(rels["erd-learning.md"])
    assert rels["erd-analytics.md"] == ['User |o--o{ BehaviorLog : "userId"']  # nullable FK
    assert 'User ||--o| UserStreak : "userId"' in rels["erd-gamification.md"]  # unique FK
    assert 'BuddyGroup |o--o{ SocialPost : "groupId"' in rels["erd-social.md"]
    analytics = diagram_lines(out["files"]["erd-analytics.md"])
    user = analytics.index("User {")
    assert analytics[user : user + 3] == ["User {", "text id PK", "}"]  # external: PK only
    learning = out["files"]["erd-learning.md"]
    assert "timestamp_3 createdAt" in diagram_lines(learning)
    assert "| `User_email_key` | unique | btree | `email` |  |  |  |" in learning


def test_unmapped_tables_are_reported_and_ops_left_out(schema_db):
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")  # creates ops.* tables
        conn.execute('CREATE TABLE "Coupon" (id text PRIMARY KEY, "courseId" text REFERENCES "Course")')
    out = ve.generate(catalog_of(schema_db))
    assert out["unmapped_tables"] == ["Coupon"]
    assert "Coupon" in out["warnings"][0]
    # ops tables only when asked for, keyed schema.name
    with_ops = catalog_of(schema_db, ["public", "ops"])
    assert "ops.enrollment" in with_ops and "ops.schema_migrations" in with_ops
    domains = {**ve.DEFAULT_DOMAINS, "misc": ["Coupon"], "ops": ["ops.enrollment"]}
    out = ve.generate(with_ops, domains)
    assert "ops.schema_migrations" in out["unmapped_tables"] and "Coupon" not in out["unmapped_tables"]
    assert "ops_enrollment {" in diagram_lines(out["files"]["erd-ops.md"])
    assert 'Course ||--o{ Coupon : "courseId"' not in diagram_lines(out["files"]["erd-misc.md"])
    assert 'Course |o--o{ Coupon : "courseId"' in diagram_lines(out["files"]["erd-misc.md"])


def test_errors_unknown_table_missing_schema_empty_db(schema_db, empty_db):
    with pytest.raises(ve.ErdError, match=r"domain social names table\(s\) that do not exist: Nope"):
        ve.generate(catalog_of(schema_db), {**ve.DEFAULT_DOMAINS, "social": ["Nope"]})
    with pytest.raises(ve.ErdError, match="schema\\(s\\) nosuch do not exist in database"):
        catalog_of(schema_db, ["nosuch"])
    with pytest.raises(ve.ErdError, match="no tables found"):
        ve.generate(catalog_of(empty_db))


def test_committed_docs_equal_a_fresh_generation(schema_db, tmp_path):
    """Drift test: docs/schema/erd-*.md == regeneration from sql/schema + sql/migrations."""
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")
    out = ve.generate(catalog_of(schema_db))
    check = ve.sync_files(ROOT / "docs" / "schema", out["files"], check_mode=True)
    assert check["changed"] is False, "run make erd:\n" + "".join(check["diffs"].values())
    assert check["stale"] == []


def run_erd(capsys, info: dict, out: Path, *args: str) -> tuple[int, str, str]:
    """tools/erd.py's main() in this process (so its lines count) -> exit code, stdout, stderr."""
    capsys.readouterr()
    rc = erd.main(["--dsn", make_conninfo(**info), "--out", str(out), *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_cli_check_writes_nothing_then_write_then_idempotent(schema_db, tmp_path, capsys):
    out = tmp_path / "schema"
    expected = ve.generate(catalog_of(schema_db))["files"]
    assert sorted(expected) == DOMAIN_FILES

    rc, stdout, stderr = run_erd(capsys, schema_db, out, "--check")
    assert rc == 1 and not out.exists()  # check mode writes nothing, not even --out
    assert stdout.count("--- /dev/null\n") == 5  # every file would be new
    assert "warning" not in stderr  # every table is mapped
    assert all(str(out / name) in stderr for name in DOMAIN_FILES)

    rc, stdout, stderr = run_erd(capsys, schema_db, out)
    assert rc == 0 and stderr == ""
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == expected
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in out.iterdir())
    assert stdout.splitlines() == [f"erd: wrote {out / name}" for name in DOMAIN_FILES] + [
        f"erd: 5 written, 0 unchanged in {out}"
    ]

    rc, stdout, stderr = run_erd(capsys, schema_db, out)
    assert (rc, stdout, stderr) == (0, f"erd: 0 written, 5 unchanged in {out}\n", "")
    rc, stdout, stderr = run_erd(capsys, schema_db, out, "--check")
    assert (rc, stdout, stderr) == (0, f"erd: 5 file(s) in {out} are up to date\n", "")


def test_cli_check_detects_drift_and_unmapped_tables(schema_db, tmp_path, capsys):
    out = tmp_path / "schema"
    assert run_erd(capsys, schema_db, out)[0] == 0
    learning = out / "erd-learning.md"
    before = learning.read_text(encoding="utf-8")
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        conn.execute('CREATE INDEX "Course_price_idx" ON "Course" ("price")')
        conn.execute('CREATE TABLE "Coupon" (id text PRIMARY KEY)')

    rc, stdout, stderr = run_erd(capsys, schema_db, out, "--check")
    assert rc == 1
    # only the learning file differs, with the new index in its diff
    assert stdout.startswith(f"--- {learning} (committed)\n+++ {learning} (generated)\n")
    assert stdout.count(" (generated)\n") == 1
    assert "\n+| `Course_price_idx` | index | btree | `price` |  |  |  |\n" in stdout
    assert f"erd: {learning} differ from the live catalog; regenerate with: make erd" in stderr
    assert "erd: warning: tables not in any domain (not drawn except as referenced tables): Coupon;" in stderr
    assert learning.read_text(encoding="utf-8") == before  # --check wrote nothing
    assert ve.generate(catalog_of(schema_db))["unmapped_tables"] == ["Coupon"]


def test_cli_names_stale_files_and_filters_domains(schema_db, tmp_path, capsys):
    out = tmp_path / "schema"
    assert run_erd(capsys, schema_db, out)[0] == 0
    stale = out / "erd-old.md"
    stale.write_text("gone")

    rc, stdout, stderr = run_erd(capsys, schema_db, out)
    assert rc == 0 and stdout == f"erd: 0 written, 5 unchanged in {out}\n"
    assert stderr == f"erd: warning: {stale} is not produced by any domain (stale): remove it\n"
    assert stale.read_text() == "gone"  # named, left alone
    rc, stdout, stderr = run_erd(capsys, schema_db, out, "--check")
    assert rc == 1 and stdout == f"erd: {stale} is not produced by any domain (stale): remove it\n"
    assert f"erd: {stale} differ from the live catalog" in stderr
    sync = ve.sync_files(out, ve.generate(catalog_of(schema_db))["files"], check_mode=True)
    assert sync["changed"] is False and sync["stale"] == [str(stale)] and len(sync["unchanged"]) == 5

    # --domain (``only``): just those files; the other domains' files are not called stale
    with psycopg.connect(**schema_db, autocommit=True) as conn:
        conn.execute('CREATE TABLE "Coupon" (id text PRIMARY KEY)')
    rc, stdout, stderr = run_erd(capsys, schema_db, out, "--domain", "learning", "--check")
    assert rc == 0 and stdout == f"erd: 1 file(s) in {out} are up to date\n"
    assert "stale" not in stderr and "Coupon" in stderr  # unmapped tables still reported
    part = tmp_path / "part"
    rc, stdout, stderr = run_erd(capsys, schema_db, part, "--domain", "social", "--domain", "learning")
    assert rc == 0 and sorted(p.name for p in part.iterdir()) == ["erd-learning.md", "erd-social.md"]
    assert all((part / n).read_text() == (out / n).read_text() for n in ("erd-learning.md", "erd-social.md"))
    only = ve.generate(catalog_of(schema_db), only=["learning"])
    assert list(only["files"]) == ["erd-learning.md"] and only["unmapped_tables"] == ["Coupon"]


def test_cli_errors_write_nothing(schema_db, empty_db, tmp_path, capsys):
    """Bad input in process (test_erd_errors.py runs the script): exit 2, one clear line, no file."""
    out = tmp_path / "out"
    rc, stdout, stderr = run_erd(capsys, {**schema_db, "password": "Not-The-Pw"}, out)
    assert rc == 2
    assert f"erd: error: cannot connect to PostgreSQL at 127.0.0.1:{schema_db['port']}" in stderr
    assert "Not-The-Pw" not in stdout + stderr

    rc, _, stderr = run_erd(capsys, empty_db, out)
    assert rc == 2 and "no tables found" in stderr

    rc, _, stderr = run_erd(capsys, schema_db, out, "--domain", "learning", "--domain", "billing")
    assert rc == 2
    assert stderr == (
        "erd: error: unknown domain(s) billing; "
        "allowed: analytics, gamification, learning, platform, social\n"
    )

    domains = tmp_path / "domains.json"
    domains.write_text(json.dumps({"learning": ["Usr"]}))
    rc, _, stderr = run_erd(capsys, schema_db, out, "--domains-file", str(domains))
    assert rc == 2 and "domain learning names table(s) that do not exist: Usr" in stderr
    assert not out.exists()

    blocked = tmp_path / "file"  # --out is a file
    blocked.write_text("x")
    rc, _, stderr = run_erd(capsys, schema_db, blocked)
    assert (rc, stderr) == (2, f"erd: error: dest {blocked} exists and is not a directory\n")
    assert blocked.read_text() == "x"
