"""vedops end to end: real playbooks through ansible-runner (the same code path as
``python -m vedops``), running our modules against the throwaway PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import yaml
from ansible.module_utils.vedfin_pg import params_from_conninfo

from vedops import cli
from vedops.run import Display, run_playbook

ROOT = Path(__file__).resolve().parents[2]


def _playbook(tmp_path: Path, tasks: list) -> Path:
    play = {
        "name": "vedops test",
        "hosts": "all",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": tasks,
    }
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return path


def _migrations(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "0001_t.sql").write_text("CREATE TABLE ops_t (id int PRIMARY KEY);\n")
    return d


def test_module_run_events_progress_log_and_rerun(pg_db, tmp_path, capsys):
    args = {**params_from_conninfo(pg_db), "path": str(_migrations(tmp_path)), "preflight": False}
    pb = _playbook(tmp_path, [{"name": "Apply migrations", "vedfin_migrate": args, "register": "m"}])
    events: list = []
    result = run_playbook(
        "migrate",
        pb,
        inventory="localhost\n",
        log_dir=tmp_path / "logs",
        display=Display(tty=False),
        events=events,
    )
    assert result.status == "ok", result.failures
    assert result.totals["changed"] == 1 and result.totals["failures"] == 0
    kinds = [e["event"] for e in events]
    assert kinds[0] == "playbook_on_start"
    order = [
        kinds.index(k)
        for k in ("playbook_on_task_start", "runner_on_start", "runner_on_ok", "playbook_on_stats")
    ]
    assert order == sorted(order)
    ok = next(e for e in events if e["event"] == "runner_on_ok")
    assert ok["event_data"]["task"] == "Apply migrations"
    assert ok["event_data"]["res"]["applied"] == ["0001_t"]
    with psycopg.connect(**pg_db) as conn:
        assert conn.execute("SELECT to_regclass('ops_t')").fetchone()[0] == "ops_t"
    # progress lines went to stdout, the full Ansible output to the log
    out = capsys.readouterr().out
    assert "[migrate " in out and "localhost | Apply migrations" in out
    log = Path(result.log).read_text()
    assert "TASK [Apply migrations]" in log and "PLAY RECAP" in log
    # same run again: nothing to do
    again = run_playbook(
        "migrate", pb, inventory="localhost\n", log_dir=tmp_path / "logs", display=Display(tty=False)
    )
    assert again.status == "ok" and again.totals["changed"] == 0


def test_module_failure_is_shown_and_summarised(pg_db, tmp_path, capsys):
    args = {**params_from_conninfo(pg_db), "login_password": "wrong", "path": str(_migrations(tmp_path))}
    pb = _playbook(tmp_path, [{"name": "Apply migrations", "vedfin_migrate": args}])
    rc = cli.main(["run", str(pb), "-i", "localhost,", "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAILED: localhost | Apply migrations:" in out
    assert "password authentication failed" in out
    assert "wrong" not in out  # no_log: Ansible masks the password everywhere
    row = next(ln for ln in out.splitlines() if ln.startswith("run "))
    status, _time, ok, changed, failed = row.split()[1:6]
    assert (status, ok, changed, failed) == ("failed", "0", "0", "1")
    assert len(list((tmp_path / "logs").glob("run-*.log"))) == 1


def test_async_seed_reports_rows_loaded_in_the_summary(schema_db, tmp_path):
    seed = {
        **params_from_conninfo(schema_db),
        "preset": "custom",
        "users": 50,
        "courses": 5,
        "behavior_logs": 500,
        "days": 7,
        "anchor_date": "2026-11-25",
        "environment": "ci",
    }
    task = {"name": "Seed", "vedfin_seed": seed, "async": 300, "poll": 1, "register": "s"}
    proc = subprocess.run(
        [sys.executable, "-m", "vedops", "run", str(_playbook(tmp_path, [task])), "-i", "localhost,"]
        + ["--reports", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # non-TTY output: plain lines, no cursor control
    assert "\x1b" not in proc.stdout and "\r" not in proc.stdout
    assert "localhost | Seed" in proc.stdout
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("run "))
    loaded = int(row.split("rows loaded ")[1].replace(",", ""))
    with psycopg.connect(**schema_db) as conn:
        assert conn.execute('SELECT count(*) FROM "BehaviorLog"').fetchone()[0] == 500
    assert loaded > 500
