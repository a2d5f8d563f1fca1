"""ERDs from the live catalog (module_utils/vedfin_erd.py, library/vedfin_erd.py, tools/erd.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from ansible.module_utils import vedfin_erd as ve
from ansible.module_utils import vedfin_migrate
from ansible.module_utils.vedfin_pg import params_from_conninfo
from ansible_run import run_module

ROOT = Path(__file__).resolve().parents[2]
APP_TABLES = sorted(t for tables in ve.DEFAULT_DOMAINS.values() for t in tables)


@pytest.fixture
def empty_db(pg_server):
    """A second, empty database (schema_db and pg_db are the same database)."""
    name = f"t_erd_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.conninfo(name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def module_args(info: dict, dest: Path, **extra) -> dict:
    return {**params_from_conninfo(info), "dest": str(dest), **extra}


def test_module_check_mode_then_write_then_idempotent(schema_db, tmp_path):
    dest = tmp_path / "schema"
    args = module_args(schema_db, dest)
    check = run_module("vedfin_erd", args, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] is True and len(check["files"]) == 5 and not dest.exists()
    assert check["unmapped_tables"] == []

    real = run_module("vedfin_erd", args)
    assert not real.get("failed"), real.get("msg")
    assert real["changed"] is True
    assert sorted(Path(f).name for f in real["files"]) == sorted(ve.generate(catalog_of(schema_db))["files"])
    assert real["domains"] == ["analytics", "gamification", "learning", "platform", "social"]

    again = run_module("vedfin_erd", args)
    assert again["changed"] is False and again["files"] == [] and len(again["unchanged"]) == 5

    with psycopg.connect(**schema_db, autocommit=True) as conn:
        conn.execute('CREATE INDEX "Course_price_idx" ON "Course" ("price")')
        conn.execute('CREATE TABLE "Coupon" (id text PRIMARY KEY)')
    drift = run_module("vedfin_erd", args, check=True)
    assert drift["changed"] is True and drift["files"] == [str(dest / "erd-learning.md")]
    assert drift["unmapped_tables"] == ["Coupon"]
    assert any("Coupon" in w for w in drift.get("warnings", []))
    assert "Course_price_idx" not in (dest / "erd-learning.md").read_text()


def test_module_bad_input(schema_db, empty_db, tmp_path):
    wrong = run_module("vedfin_erd", module_args(schema_db, tmp_path, login_password="Not-The-Pw"))
    assert wrong["failed"] is True
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{schema_db['port']}" in wrong["msg"]
    assert "Not-The-Pw" not in wrong["msg"]

    empty = run_module("vedfin_erd", module_args(empty_db, tmp_path))
    assert empty["failed"] is True and "no tables found" in empty["msg"]

    unknown = run_module("vedfin_erd", module_args(schema_db, tmp_path, only=["learning", "billing"]))
    assert unknown["failed"] is True
    assert (
        "unknown domain(s) billing; allowed: analytics, gamification, learning, platform, social"
        in unknown["msg"]
    )

    missing = run_module("vedfin_erd", module_args(schema_db, tmp_path, domains={"learning": ["Usr"]}))
    assert (
        missing["failed"] is True
        and "domain learning names table(s) that do not exist: Usr" in missing["msg"]
    )
    assert list(tmp_path.iterdir()) == []
