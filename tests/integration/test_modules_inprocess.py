"""The modules' main() run in this process, with Ansible's own module-args mechanism
(``ansible.module_utils.testing.patch_module_args``), against the real test servers.

Why: under ``ansible-playbook`` (tests/ansible_run.py) a module runs from an AnsiballZ copy in a
temp dir, so coverage cannot attribute its lines to library/*.py. Here ``library/<name>.py`` runs
as ``__main__`` from the repo and ``ansible.module_utils.vedfin_*`` resolve to the repo's
module_utils files, so the shells' own paths (argument handling, check mode, error mapping,
warnings, return values) are measured. The behaviour itself is covered through Ansible in the
other test files.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import runpy
import uuid
from pathlib import Path

import pg_tune
import psycopg
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.vedfin_pg import params_from_conninfo
from app_db import create_app_db, drop_app_db

ROOT = Path(__file__).resolve().parents[2]
# ``from ansible.module_utils.vedfin_x import ...`` in the modules resolves to the repo's files
# (tests/conftest.py registers module_utils/), as ansible.cfg's module_utils setting does for AnsiballZ.

PROFILE = {
    "total_memory_mb": 4096,
    "cpus": 2,
    "max_connections": 100,
    "storage": "ssd",
    "workload": "web",
    "pg_version": 15,
}
SMALL = {"preset": "custom", "users": 60, "courses": 6, "behavior_logs": 800, "days": 14}


def call_module(name: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Run library/<name>.py as Ansible would run it on the target; return its JSON result."""
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    out, err = io.StringIO(), io.StringIO()
    with (
        patch_module_args(args),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as exc,
    ):
        runpy.run_path(str(ROOT / "library" / f"{name}.py"), run_name="__main__")
    result = json.loads(out.getvalue())
    assert (exc.value.code != 0) == bool(result.get("failed")), result
    result.setdefault("failed", False)
    # outside AnsiballZ, module.warn() goes to stderr instead of the result
    result.setdefault("warnings", re.findall(r"\[WARNING\]: (.*)", err.getvalue()))
    return result


@pytest.fixture
def migrations(tmp_path):
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "0001_t.sql").write_text("CREATE TABLE ops_t (id int PRIMARY KEY);\n")
    return d


# -- vedfin_migrate ----------------------------------------------------------------------------
def test_migrate_check_apply_rerun(pg_db, migrations):
    args = {**params_from_conninfo(pg_db), "path": str(migrations), "preflight": False}
    check = call_module("vedfin_migrate", args, check=True)
    assert check["changed"] is True and check["applied"] == ["0001_t"] and "check_mode" not in check
    with psycopg.connect(**pg_db) as conn:
        assert conn.execute("SELECT to_regclass('ops_t')").fetchone()[0] is None
    real = call_module("vedfin_migrate", args)
    assert real["changed"] is True and real["applied"] == ["0001_t"]
    again = call_module("vedfin_migrate", args)
    assert again["changed"] is False and again["already_applied"] == ["0001_t"]


def test_migrate_errors(pg_db, migrations, tmp_path):
    args = {**params_from_conninfo(pg_db), "path": str(migrations)}
    wrong = call_module("vedfin_migrate", {**args, "login_password": "Not-The-Pw"})
    assert wrong["failed"] and wrong["msg"].startswith("vedfin_migrate: cannot connect")
    assert "Not-The-Pw" not in json.dumps(wrong)
    missing = call_module("vedfin_migrate", {**args, "path": str(tmp_path / "none")})
    assert missing["failed"] and missing["msg"].startswith("vedfin_migrate: ")
    # a database error outside the runner's own handling (timeout setting PostgreSQL rejects)
    bad = call_module("vedfin_migrate", {**args, "lock_timeout": "soon"})
    assert bad["failed"] and "vedfin_migrate" in bad["msg"]
    unknown = call_module("vedfin_migrate", {**args, "colour": "blue"})
    assert unknown["failed"] and "colour" in unknown["msg"]


def test_migrate_unsafe_is_applied_with_a_warning(pg_db, tmp_path):
    d = tmp_path / "unsafe"
    d.mkdir()
    (d / "0001_t.sql").write_text("CREATE TABLE ops_u (id int);\n")
    (d / "0002_idx.sql").write_text("CREATE INDEX ops_u_id ON ops_u (id);\n")
    args = {**params_from_conninfo(pg_db), "path": str(d), "preflight": False}
    refused = call_module("vedfin_migrate", args)
    assert refused["failed"], refused
    allowed = call_module("vedfin_migrate", {**args, "allow_unsafe": True})
    assert not allowed["failed"], allowed.get("msg")
    assert any("allow_unsafe" in w for w in allowed.get("warnings", []))


# -- vedfin_seed -------------------------------------------------------------------------------
def test_seed_check_real_rerun(schema_db):
    args = {**params_from_conninfo(schema_db), **SMALL, "anchor_date": "2026-11-25", "environment": "local"}
    check = call_module("vedfin_seed", args, check=True)
    assert check["changed"] is True and check["would_load"]["BehaviorLog"] == 800
    real = call_module("vedfin_seed", args)
    assert real["changed"] is True and real["operation"] == "seed" and real["rows_loaded"] > 800
    assert real["seed_warnings"] == []
    again = call_module("vedfin_seed", args)
    assert again["changed"] is False and again["operation"] == "none"


def test_seed_errors(schema_db, pg_server):
    args = {**params_from_conninfo(schema_db), **SMALL}
    prod = call_module("vedfin_seed", {**args, "environment": "production"})
    assert prod["failed"] and prod["msg"].startswith("vedfin_seed: ") and "production" in prod["msg"]
    bad_preset = call_module("vedfin_seed", {**args, "preset": "huge"})
    assert bad_preset["failed"] and "huge" in bad_preset["msg"]
    # a database with a foreign "User" table and nothing else
    name = f"f_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(**pg_server.conninfo(name), autocommit=True) as conn:
        conn.execute('CREATE TABLE "User" (nick text)')
    foreign = call_module(
        "vedfin_seed", {**params_from_conninfo(pg_server.conninfo(name)), **SMALL, "environment": "local"}
    )
    assert foreign["failed"] and foreign["msg"].startswith("vedfin_seed")


def test_seed_environment_only():
    """The environment rule alone (playbooks/seed.yml's first task): nothing is contacted."""
    nowhere = {"db": "none", "login_port": 1, "environment_only": True}
    ok = call_module("vedfin_seed", {**nowhere, "environment": "CI"}, check=True)
    assert ok["environment_allowed"] is True and ok["changed"] is False and not ok["failed"]
    refused = call_module("vedfin_seed", {**nowhere, "environment": "eu-live", "disposable": True})
    assert refused["failed"] and refused["environment_allowed"] is False
    assert "names a production environment (live)" in refused["msg"]


# -- vedfin_bench ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench_db(pg_server):
    info = create_app_db(pg_server, {"seed": 2, **SMALL})
    yield info
    drop_app_db(pg_server, info)


def _bench_args(info, tmp_path, **extra):
    return {
        **params_from_conninfo(info),
        "sql_dir": str(ROOT / "sql" / "analytics"),
        "iterations": 2,
        "warmup": 1,
        "concurrency": 2,
        "duration": 1.0,
        "time_budget": 10.0,
        **extra,
    }


def test_bench_runs_and_writes_reports(bench_db, redis_server, tmp_path):
    out = tmp_path / "out"
    args = _bench_args(
        bench_db,
        tmp_path,
        redis_url=redis_server.url,
        tuned_settings=pg_tune.compute(PROFILE),
        output_json=str(out / "bench.json"),
    )
    res = call_module("vedfin_bench", args)
    assert not res["failed"], res.get("msg")
    assert res["changed"] is True and "overall:" in res["summary"]
    assert json.loads((out / "bench.json").read_text())["schema_version"] == res["schema_version"]
    # the HTML report is rendered from the JSON on the controller (bench.yml runs this tool)
    import bench_report  # tools/

    assert bench_report.main([res["output_json"]]) == 0 and (out / "bench.html").stat().st_size > 1000
    assert set(res["settings"]) == {"tuned_source", "compared", "skipped"}
    assert "catalog" not in res["mixed"]


def test_bench_without_reports_or_redis_changes_nothing(bench_db, tmp_path):
    res = call_module("vedfin_bench", _bench_args(bench_db, tmp_path))
    assert not res["failed"], res.get("msg")
    assert res["changed"] is False and "output_json" not in res


def test_bench_check_mode_and_errors(bench_db, redis_server, tmp_path):
    check = call_module(
        "vedfin_bench", _bench_args(bench_db, tmp_path, redis_url=redis_server.url), check=True
    )
    assert check["changed"] is False and check["preflight"]["redis"] == "PONG"
    no_sql = _bench_args(bench_db, tmp_path, sql_dir=str(tmp_path / "missing"))
    warned = call_module("vedfin_bench", no_sql, check=True)
    assert not warned["failed"] and any("sql_dir" in w for w in warned.get("warnings", []))
    bad = call_module("vedfin_bench", _bench_args(bench_db, tmp_path, iterations=0))
    assert bad["failed"] and bad["msg"].startswith("vedfin_bench: ") and "iterations" in bad["msg"]
    # a setting PostgreSQL rejects in the tuned session: named, nothing measured
    rejected = call_module(
        "vedfin_bench", _bench_args(bench_db, tmp_path, tuned_settings={"work_mem": "lots"})
    )
    assert rejected["failed"] and rejected["msg"].startswith("vedfin_bench: cannot set work_mem")
    # any other error (here the Redis client refuses the URL) is reported with its cause
    odd = call_module("vedfin_bench", _bench_args(bench_db, tmp_path, redis_url="memcache://127.0.0.1:1"))
    assert odd["failed"] and odd["msg"].startswith("vedfin_bench failed: Redis URL must specify")
    # the report cannot be written (its directory is a file)
    (tmp_path / "file").write_text("x")
    blocked = call_module(
        "vedfin_bench", _bench_args(bench_db, tmp_path, output_json=str(tmp_path / "file" / "b.json"))
    )
    assert (
        blocked["failed"] and "cannot write the report" in blocked["msg"] and "overall:" in blocked["summary"]
    )
