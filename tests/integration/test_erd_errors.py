"""tools/erd.py (over module_utils/vedfin_erd.py) given bad input: every error is one clear
line on stderr, exit code 2, and no file is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def dsn(info: dict, **over) -> str:
    info = {**info, **over}
    return " ".join(f"{k}={v}" for k, v in info.items())


def erd(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "erd.py"), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not out.exists() or not any(out.iterdir()), "nothing may be written on error"
    return res


def domains_file(tmp_path: Path, content) -> str:
    path = tmp_path / "domains.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_unreachable_server(tmp_path, pg_db):
    port = free_port()
    res = erd(tmp_path, "--dsn", dsn(pg_db, port=port))
    assert res.returncode == 2
    assert f"erd: error: cannot connect to PostgreSQL at 127.0.0.1:{port} db={pg_db['dbname']}" in res.stderr


def test_wrong_password(tmp_path, pg_db):
    res = erd(tmp_path, "--dsn", dsn(pg_db, password="not-the-password"))
    assert res.returncode == 2 and 'password authentication failed for user "postgres"' in res.stderr
    assert "not-the-password" not in res.stderr + res.stdout


def test_database_without_the_schema(tmp_path, pg_db):
    res = erd(tmp_path, "--dsn", dsn(pg_db))
    assert (
        res.returncode == 2 and "no tables found" in res.stderr and "application schema loaded" in res.stderr
    )


def test_missing_schema(tmp_path, schema_db):
    res = erd(tmp_path, "--dsn", dsn(schema_db), "--schema", "nosuch")
    assert res.returncode == 2 and "schema(s) nosuch do not exist in database" in res.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            {"learning": ["User", "NoSuchTable"]},
            "domain learning names table(s) that do not exist: NoSuchTable",
        ),
        ({"a": ["User"], "b": ["User"]}, "table User is mapped to two domains: a and b"),
        ({"Bad Name": ["User"]}, "invalid domain name 'Bad Name'"),
        (["User"], "domains must be a non-empty mapping"),
        ({"learning": []}, "domain learning must list at least one table name"),
    ],
)
def test_bad_domain_map(tmp_path, schema_db, content, words):
    res = erd(tmp_path, "--dsn", dsn(schema_db), "--domains-file", domains_file(tmp_path, content))
    assert res.returncode == 2 and words in res.stderr


def test_unknown_domain_selected(tmp_path, schema_db):
    res = erd(tmp_path, "--dsn", dsn(schema_db), "--domain", "nosuch")
    assert res.returncode == 2
    assert (
        "unknown domain(s) nosuch; allowed: analytics, gamification, learning, platform, social" in res.stderr
    )


def test_domain_map_file_missing_or_not_json(tmp_path, schema_db):
    missing = erd(tmp_path, "--dsn", dsn(schema_db), "--domains-file", str(tmp_path / "nope.json"))
    assert (
        missing.returncode == 2
        and "No such file or directory" in missing.stderr
        and "nope.json" in missing.stderr
    )
    broken = erd(tmp_path, "--dsn", dsn(schema_db), "--domains-file", domains_file(tmp_path, "{not json"))
    assert broken.returncode == 2 and "domains.json is not valid JSON" in broken.stderr
