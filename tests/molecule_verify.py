"""Helpers for the molecule verify tests (testinfra, roles/*/molecule/*/tests/): SQL on the test
host, and this repo's playbooks run against it with molecule's own inventory and environment,
as converge ran. (tests/ is on pytest's pythonpath, pyproject.toml.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def psql(host, query: str, db: str = "postgres") -> str:
    """psql as the postgres OS user over the socket (peer auth), stopping at the first error;
    asserts success and returns stdout, stripped."""
    res = host.run("runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d %s -c %s", db, query)
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def psql_tcp(
    host, user: tuple[str, str], query: str, db: str = "vedfin", sslmode: str = "require", password=None
):
    """psql over TCP to 127.0.0.1 as a password user, ``user`` = (name, password); the password
    goes through the environment, never the command line. Returns the command result (a test
    may expect a refusal)."""
    name, secret = user
    dsn = f"host=127.0.0.1 port=5432 dbname={db} user={name} sslmode={sslmode}"
    return host.run("PGPASSWORD=%s psql -XAtq %s -c %s", password or secret, dsn, query)


def run_playbook(playbook: str | Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """ansible-playbook on molecule's inventory: ``playbook`` is a path, or a file name under
    playbooks/. Its output is also kept as <name>-last.log in the scenario's ephemeral directory
    (for a failure's post-mortem). Skips the test outside ``molecule verify``."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.skip("needs molecule's inventory (run through molecule verify)")
    path = Path(playbook) if Path(playbook).is_absolute() else REPO / "playbooks" / playbook
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    res = subprocess.run(
        ["ansible-playbook", "-i", inventory, str(path), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if ephemeral:
        Path(ephemeral, f"{path.name}-last.log").write_text(res.stdout + res.stderr)
    return res
