"""tools/failure_summary.py: the lines CI prints last when `make test` fails."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "failure_summary.py"
_spec = importlib.util.spec_from_file_location("failure_summary", SCRIPT)
fs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fs)

# Shaped like molecule's framed, coloured output (ansible-core YAML results).
MOLECULE_LOG = """\
==> [05:10:00] molecule nocodb/bad_vars
  \x1b[2m\u2502\x1b[0m TASK [nocodb : Check the metadata database server is reachable]
  \x1b[2m\u2502\x1b[0m fatal: [ved-nocodb-bad-vars]: FAILED! =>
  \x1b[2m\u2502\x1b[0m     changed: false
  \x1b[2m\u2502\x1b[0m     msg: Timeout when waiting for 127.0.0.1:5432
  \x1b[2m\u2502\x1b[0m ...ignoring
==> molecule nocodb/bad_vars: ok in 57s

==> [05:20:00] molecule postgresql/replication
  \u2502 TASK [Check systemd restarted it]
  \u2502 FAILED - RETRYING: [ved-repl-pg2]: Check systemd restarted it (10 retries
  \u2502   left).
  \u2502 fatal: [ved-repl-pg2]: FAILED! =>
  \u2502     attempts: 10
  \u2502     cmd:
  \u2502     - systemctl
  \u2502     msg: 'the unit stayed in stop-sigterm
  \u2502       with no process left'
  \u2502     stdout: '0'
  \u2502 PLAY RECAP
==> molecule postgresql/replication: FAILED (rc=2) in 528s
==> molecule: FAILED (rc=2) in 2781s
"""


def test_failed_stage_task_with_wrapped_msg_and_not_the_ignored_or_passed_ones():
    lines = fs.summarise(MOLECULE_LOG.splitlines(keepends=True))
    assert lines == [
        "task [Check systemd restarted it] fatal: [ved-repl-pg2] attempts: 10 "
        "msg: 'the unit stayed in stop-sigterm with no process left' stdout: '0'",
        "==> molecule postgresql/replication: FAILED (rc=2) in 528s",
        "==> molecule: FAILED (rc=2) in 2781s",
    ]


def test_json_result_on_the_fatal_line_and_pytest_failures():
    log = (
        "TASK [Fail with what systemd did]\n"
        'fatal: [pg2]: FAILED! => {"changed": false, "msg": "not restarted"}\n'
        "  \u2502 tests/test_roundtrip.py::test_backup_killed_mid_run_then_next_backup_and_ver\n"
        "  \u2502   ify_pass[ansible://ved-pgbackrest-default] FAILED [100%]\n"
        "FAILED tests/unit/test_x.py::test_y - assert 1 == 0\n"
        "==> pytest: FAILED (rc=1) in 9s\n"
    )
    assert fs.summarise(log.splitlines(keepends=True)) == [
        'task [Fail with what systemd did] fatal: [pg2] {"changed": false, "msg": "not restarted"}',
        "tests/test_roundtrip.py::test_backup_killed_mid_run_then_next_backup_and_verify_pass"
        "[ansible://ved-pgbackrest-default] FAILED [100%]",
        "FAILED tests/unit/test_x.py::test_y - assert 1 == 0",
        "==> pytest: FAILED (rc=1) in 9s",
    ]


def test_cli_limits_lines_and_says_when_nothing_was_found(tmp_path):
    log = tmp_path / "ci.log"
    log.write_text(MOLECULE_LOG, encoding="utf-8")
    out = subprocess.run([sys.executable, SCRIPT, log, "2"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        f"==> Why it failed (the last 2 of 3 line(s) found in {log}):",
        "    ==> molecule postgresql/replication: FAILED (rc=2) in 528s",
        "    ==> molecule: FAILED (rc=2) in 2781s",
    ]
    log.write_text("==> lint: ok in 5s\n", encoding="utf-8")
    out = subprocess.run([sys.executable, SCRIPT, log], capture_output=True, text=True, check=True)
    assert "(no failing task or test found in the log)" in out.stdout


def test_pytest_explanation_lines_are_kept_with_the_failed_test():
    log = (
        "  \u2502     def test_backup_killed(host):\n"
        "  \u2502 >       assert frozen.rc == 0 and state == 'activating', (frozen.rc, state)\n"
        "  \u2502 E       AssertionError: (1, 'inactive')\n"
        "  \u2502 E       assert (1 == 0)\n"
        "  \u2502 tests/test_roundtrip.py::test_backup_killed[ansible://h] FAILED [100%]\n"
        "==> molecule pgbackrest/default: FAILED (rc=1) in 680s\n"
    )
    assert fs.summarise(log.splitlines(keepends=True)) == [
        "E       AssertionError: (1, 'inactive')",
        "E       assert (1 == 0)",
        "tests/test_roundtrip.py::test_backup_killed[ansible://h] FAILED [100%]",
        "==> molecule pgbackrest/default: FAILED (rc=1) in 680s",
    ]
