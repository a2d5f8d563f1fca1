"""playbooks/bench.yml leaves no secret on the host: its async benchmark task's module payload
(AnsiballZ_vedfin_bench.py, which carries redis_url with the Redis app password in clear) and
its async job file are removed by the play itself, whether the benchmark passes or fails.

Without the cleanup, async_wrapper removes the payload only after the job ends (up to 5 s
after the controller saw the result) and never when it cannot (the job runs as postgres in a
temp dir that belongs to the SSH login user): the grep right after the run finds it.

Both runs use a unique password and then grep every place Ansible puts remote files: the
system temp dirs (/var/tmp, /tmp: become to an unprivileged user), the remote_tmp and
~/.ansible_async of root and postgres. They run with keep_remote_files, which makes
async_wrapper keep its temp dir exactly as it does on a real host where it cannot remove it
(SSH as ops, become postgres: the dir belongs to ops, postgres only has an ACL to read it);
here, connected locally as root, Ansible chowns the dir to postgres and the wrapper would
remove it a few seconds later, so without that setting a missing cleanup could go unseen.
"""

from __future__ import annotations

import glob
import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from ansible_run import repo_playbook_on_localhost, run_playbook

ROOT = Path(__file__).resolve().parents[2]
KEEP = {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
HOMES = [
    "/root/.ansible",
    "/root/.ansible_async",
    "/var/lib/postgresql/.ansible",
    "/var/lib/postgresql/.ansible_async",
]


def plays() -> list:
    return repo_playbook_on_localhost("bench.yml", ["postgresql"])


def files_holding(secret: str, remote_tmp: Path) -> list[str]:
    """Every file holding the secret where Ansible puts remote files: /var/tmp, Ansible's
    entries in /tmp (the rest of /tmp is other tests' data, gigabytes of it), the homes'
    ~/.ansible/tmp and ~/.ansible_async, and this run's remote_tmp."""
    # Ansible's own temp locations are exactly what this test inspects.
    system = ["/var/tmp", *glob.glob("/tmp/ansible*"), *glob.glob("/tmp/.ansible*")]  # noqa: S108
    places = [*system, *HOMES, str(remote_tmp)]
    existing = [d for d in places if Path(d).exists()]
    res = subprocess.run(
        ["grep", "-rlsF", "-e", secret, *existing], capture_output=True, text=True, check=False
    )
    return sorted(res.stdout.split())


@pytest.fixture
def app_redis(redis_server):
    """The Redis test server with the app ACL user (the password is new for every test)."""
    password = "ved-" + secrets.token_hex(16)
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    client.execute_command("ACL", "SETUSER", "app", "reset", "on", f">{password}", "~ved:*", "+@all")
    client.close()
    yield redis_server, password
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    client.execute_command("ACL", "DELUSER", "app")
    client.close()


def bench_vars(pg_server, db: dict, app_redis, tmp_path: Path, **more) -> dict:
    server, password = app_redis
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "vault_redis_app_password": password,
        "bench_install_libs": False,
        "bench_database": db["dbname"],
        "bench_pg_socket": str(pg_server.datadir.parent),
        "bench_pg_port": pg_server.port,
        "bench_pg_password": pg_server.password,
        "bench_redis_host": server.host,
        "bench_redis_port": server.port,
        "ops_runtime_dir": str(tmp_path / "ops"),
        "bench_controller_dir": str(tmp_path / "controller") + "/",
        "bench_iterations": 2,
        "bench_warmup": 1,
        "bench_concurrency": 2,
        "bench_duration": 1,
        "bench_time_budget": 10,
        **more,
    }


def test_bench_run_leaves_no_password_on_the_host(pg_server, small_app_db, app_redis, tmp_path):
    _, password = app_redis
    # As root without become: the payload goes to the remote_tmp (kept here: ansible_run's
    # default one is deleted with its temp dir, which would hide a leak).
    ev = bench_vars(pg_server, small_app_db, app_redis, tmp_path, ansible_become=False)
    remote_tmp = tmp_path / "remote"
    run = run_playbook(
        plays(), extra_vars=ev, env={**KEEP, "ANSIBLE_REMOTE_TEMP": str(remote_tmp)}, timeout=600
    )
    assert run.rc == 0, run.stdout[-3000:]
    results = {r["_task"]: r for r in run.task_results()}
    # The benchmark really used the Redis password (the cached variant was measured) ...
    report = json.loads((tmp_path / "controller" / "bench-localhost.json").read_text())
    cached = report["queries"]["leaderboard"]["variants"]["cached"]
    assert cached["n"] == 2 and cached["statuses"].get("hit") == 2
    # (the HTML report was rendered from that JSON on the controller)
    html = (tmp_path / "controller" / "bench-localhost.html").read_text()
    assert '<img src="data:image/png;base64,' in html and report["run_id"] in html
    # ... the cleanup ran ...
    assert not results["Remove them with their temp dirs"].get("failed")
    assert not list(
        Path("/root/.ansible_async").glob(
            results["Run the benchmark (async; progress shows while it polls)"]["ansible_job_id"]
        )
    )
    # ... and the password is nowhere on the host, right after the play (no async_wrapper delay).
    assert files_holding(password, remote_tmp) == []
    assert password not in run.stdout + run.stderr


def test_failed_bench_as_postgres_leaves_no_password_on_the_host(
    pg_server, small_app_db, app_redis, tmp_path
):
    """Become to the unprivileged postgres user, as on a real host: the payload lands in
    /var/tmp/ansible-tmp-*. The system Python has no psycopg, so the module fails at once: the
    play must still remove its payload (block/always)."""
    _, password = app_redis
    if subprocess.run(["id", "postgres"], capture_output=True, check=False).returncode != 0:
        pytest.skip("needs a postgres OS user")
    ev = bench_vars(
        pg_server,
        small_app_db,
        app_redis,
        tmp_path,
        ansible_python_interpreter="/usr/bin/python3",
        ansible_become_method="ansible.builtin.su",
        # Keep the play's other tasks off postgres-unreadable paths of the test run.
        ops_runtime_dir=str(tmp_path / "ops"),
    )
    remote_tmp = tmp_path / "remote"
    run = run_playbook(
        plays(), extra_vars=ev, env={**KEEP, "ANSIBLE_REMOTE_TEMP": str(remote_tmp)}, timeout=600
    )
    results = {r["_task"]: r for r in run.task_results()}
    bench = results["Run the benchmark (async; progress shows while it polls)"]
    assert run.rc != 0 and bench.get("failed"), run.stdout[-3000:]
    removed = results["Remove them with their temp dirs"]
    assert not removed.get("failed"), removed
    assert files_holding(password, remote_tmp) == []
    assert password not in run.stdout + run.stderr
