"""playbooks/tasks/textfile_metrics.yml, the one writer of our facts as node-exporter textfile
metrics in the playbooks (seed.yml: the migration ledger; health.yml: the check statuses): the
file parses with promtool, a second run changes nothing, and a host without the monitoring
role's directory gets no file."""

from __future__ import annotations

import shutil
import subprocess
import sys

from ansible_run import ROOT, run_playbook

TASKS = ROOT / "playbooks" / "tasks" / "textfile_metrics.yml"
PROMTOOL = shutil.which("promtool") or str(ROOT / ".local" / "bin" / "promtool")
METRICS = [
    {
        "name": "ved_migration_ledger_applied",
        "help": "Ops migrations in the ledger.",
        "samples": [{"labels": {"head": "0007_x", "note": 'a "quoted" \\ value, café'}, "value": 7}],
    },
    {"name": "ved_migration_ledger_pending", "help": "Not applied yet.", "samples": [{"value": 0}]},
]


def write(textfile_dir):
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [{"ansible.builtin.include_tasks": str(TASKS)}],
    }
    run = run_playbook(
        [play],
        extra_vars={
            "ansible_python_interpreter": sys.executable,
            "monitoring_textfile_dir": str(textfile_dir),
            "textfile_name": "ved_test",
            "textfile_metrics": METRICS,
        },
    )
    assert run.rc == 0, run.stdout[-2000:]
    return [r for r in run.task_results() if r["_task"].startswith("Write the metrics file")][0]


def test_written_whole_parsed_by_promtool_and_idempotent(tmp_path):
    assert write(tmp_path)["changed"] is True
    text = (tmp_path / "ved_test.prom").read_text()
    assert 'ved_migration_ledger_applied{head="0007_x",note="a \\"quoted\\" \\\\ value, café"} 7\n' in text
    assert "ved_migration_ledger_pending 0\n" in text
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert write(tmp_path)["changed"] is False


def test_no_directory_no_file(tmp_path):
    assert write(tmp_path / "absent").get("skipped") is True
    assert not (tmp_path / "absent").exists()
