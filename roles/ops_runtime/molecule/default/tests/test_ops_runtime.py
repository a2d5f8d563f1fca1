"""The modules' runtime on a fresh host: the libraries import under the host's Python, and the
named SQL subdirectories (only those) are there, readable by their owner only."""

from __future__ import annotations

from pathlib import Path

REPO_SQL = Path(__file__).resolve().parents[5] / "sql"


def test_libraries_import(host):
    res = host.run("python3 -c 'import psycopg, psycopg_pool, redis'")
    assert res.rc == 0, res.stderr


def test_only_the_named_sql_is_copied(host):
    assert host.file("/var/lib/ved-db-ops").mode == 0o750
    assert host.file("/var/lib/ved-db-ops").user == "postgres"
    listed = host.run("ls /var/lib/ved-db-ops/sql").stdout.split()
    assert listed == ["migrations", "schema"]
    for name in listed:
        for src in sorted((REPO_SQL / name).glob("*.sql")):
            copy = host.file(f"/var/lib/ved-db-ops/sql/{name}/{src.name}")
            assert copy.exists and copy.user == "postgres" and copy.mode == 0o640, src.name
            assert copy.content_string == src.read_text(), src.name
