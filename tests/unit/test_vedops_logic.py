"""vedops' plain functions: event -> progress state, display, summary, argument handling."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest

from vedops import cli
from vedops.progress import ProgressState, apply_event, render, totals
from vedops.run import Display
from vedops.summary import (
    StageResult,
    bench_targets,
    build_summary,
    health_counts,
    report_lines,
    stage_table,
)


def ev(kind, **data):
    return {"event": kind, "event_data": data}


STATS = {
    "ok": {"vps1": 40, "vps2": 2},
    "changed": {"vps1": 3},
    "failures": {"vps1": 1},
    "dark": {},
    "skipped": {"vps1": 5},
    "rescued": {},
    "ignored": {"vps1": 1},
}


# -- progress --------------------------------------------------------------------------------
def test_events_fold_into_play_task_host_and_recap():
    s = ProgressState(stage="site", started=100.0)
    assert render(s, 100.0) == "[site 0:00] starting"
    apply_event(s, ev("playbook_on_play_start", play="PostgreSQL"))
    assert render(s, 161.0) == "[site 1:01] PostgreSQL"
    apply_event(s, ev("playbook_on_task_start", task="Install packages"))
    apply_event(s, ev("runner_on_start", host="vps1", task="Install packages"))
    assert render(s, 101.0) == "[site 0:01] vps1 | Install packages"
    assert apply_event(s, ev("runner_on_ok", host="vps1", res={"changed": True})) is None
    assert s.tasks_done == 1
    apply_event(s, ev("playbook_on_stats", **STATS))
    assert totals(s) == {
        "ok": 42,
        "changed": 3,
        "failures": 1,
        "dark": 0,
        "skipped": 5,
        "rescued": 0,
        "ignored": 1,
    }
    assert render(s, 100.0).endswith("| done")


def test_a_new_play_clears_the_task():
    s = ProgressState(stage="site", started=0)
    apply_event(s, ev("playbook_on_task_start", task="old"))
    apply_event(s, ev("playbook_on_play_start", play="Redis"))
    assert s.task == "" and render(s, 0) == "[site 0:00] Redis"


def test_failures_are_returned_and_kept_but_ignored_errors_are_not():
    s = ProgressState(stage="bench", started=0)
    apply_event(s, ev("playbook_on_task_start", task="Run"))
    line = apply_event(s, ev("runner_on_failed", host="vps1", task="Run", res={"msg": "no\n  database"}))
    assert line == "FAILED: vps1 | Run: no database"
    assert apply_event(s, ev("runner_on_failed", host="vps1", task="x", ignore_errors=True, res={})) is None
    line = apply_event(s, ev("runner_on_unreachable", host="vps2", res={"msg": "ssh: refused"}))
    assert line == "UNREACHABLE: vps2 | Run: ssh: refused"
    assert s.failures == ["FAILED: vps1 | Run: no database", "UNREACHABLE: vps2 | Run: ssh: refused"]


def test_failure_message_falls_back_to_stderr_and_joins_lists():
    s = ProgressState(stage="x", started=0)
    assert (
        apply_event(s, ev("runner_on_failed", host="h", task="t", res={"stderr": "bad"}))
        == "FAILED: h | t: bad"
    )
    assert (
        apply_event(s, ev("runner_on_failed", host="h", task="t", res={"msg": ["a", "b"]}))
        == "FAILED: h | t: a b"
    )
    assert apply_event(s, ev("runner_on_failed", host="h", task="t", res={})) == "FAILED: h | t"


def test_async_seed_shows_polling_then_rows_loaded():
    s = ProgressState(stage="seed", started=0)
    apply_event(s, ev("playbook_on_task_start", task="Seed the data set"))
    apply_event(s, ev("runner_on_async_poll", host="vps1", res={"started": 1, "finished": 0}))
    assert render(s, 12) == "[seed 0:12] vps1 | Seed the data set | running (async)"
    apply_event(
        s, ev("runner_on_async_ok", host="vps1", res={"rows_loaded": 10126, "table_counts": {"User": 200}})
    )
    assert s.rows_loaded == 10126
    assert render(s, 30).endswith("| rows loaded 10,126")
    # a later task's result without rows_loaded (the debug of table_counts) keeps the figure
    apply_event(s, ev("runner_on_ok", host="vps1", res={"table_counts": {"User": 5}}))
    assert s.rows_loaded == 10126


def test_rows_from_a_poll_that_carries_table_counts():
    s = ProgressState(stage="seed", started=0)
    apply_event(s, ev("runner_on_async_poll", host="vps1", res={"table_counts": {"User": 2, "Course": 3}}))
    assert s.rows_loaded == 5


def test_unknown_events_change_nothing():
    s = ProgressState(stage="x", started=0)
    before = render(s, 0)
    assert apply_event(s, {"event": "verbose", "stdout": "hello"}) is None
    assert apply_event(s, {"event": "runner_on_ok", "event_data": {"res": "not a dict"}}) is None
    assert render(s, 0) == before


# -- display ---------------------------------------------------------------------------------
def test_plain_display_prints_a_line_only_when_something_changes():
    out = io.StringIO()
    d = Display(out, tty=False)
    s = ProgressState(stage="site", started=time.time())
    apply_event(s, ev("playbook_on_task_start", task="A"))
    d.update(s)
    d.update(s)  # same task: nothing new
    apply_event(s, ev("playbook_on_task_start", task="B"))
    d.update(s)
    d.message("FAILED: x")
    d.finish()
    lines = out.getvalue().splitlines()
    assert [ln.split("] ", 1)[1] for ln in lines[:2]] == ["A", "B"]
    assert lines[2] == "FAILED: x"
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_tty_display_rewrites_one_line():
    out = io.StringIO()
    d = Display(out, tty=True)
    s = ProgressState(stage="site", started=time.time())
    d.update(s)
    d.update(s)
    d.finish()
    assert out.getvalue().count("\r\x1b[K") == 3 and "\n" not in out.getvalue()


# -- summary ---------------------------------------------------------------------------------
BENCH = {
    "scale": "demo",
    "passed": False,
    "checks": [
        {"name": "p95:q01", "enforced": True, "passed": True},
        {"name": "p95:q02", "enforced": True, "passed": False},
        {"name": "speedup", "enforced": False, "passed": True},
        {"name": "index:q03", "enforced": True, "passed": None},
    ],
}


def test_bench_targets_count_only_enforced_checks():
    assert bench_targets(BENCH) == {
        "met": ["p95:q01"],
        "missed": ["p95:q02"],
        "na": ["speedup", "index:q03"],
        "passed": False,
    }


@pytest.mark.parametrize(
    "report",
    [
        {
            "checks": [
                {"name": "a", "status": "ok"},
                {"name": "b", "status": "warn"},
                {"name": "c", "status": "CRIT"},
            ]
        },
        {
            "checks": {
                "postgresql": [{"name": "a", "status": "ok"}, {"name": "b", "status": "warn"}],
                "x": {"check": "c", "status": "crit"},
            }
        },
    ],
)
def test_health_counts_list_or_grouped(report):
    h = health_counts(report)
    assert h["counts"] == {"ok": 1, "warn": 1, "crit": 1}
    assert h["problems"] == ["warn: b", "crit: c"]


def test_report_lines_read_fresh_reports_and_skip_stale_ones(tmp_path):
    (tmp_path / "bench-vps1.json").write_text(json.dumps(BENCH))
    (tmp_path / "bench-vps1.html").write_text("<html>")
    (tmp_path / "health-vps1.json").write_text(json.dumps({"checks": [{"name": "disk", "status": "ok"}]}))
    (tmp_path / "restore-verify-vps1.json").write_text(
        json.dumps(
            {
                "status": "passed",
                "error": "",
                "backup": {"label": "20261129-F"},
                "tables": {"User": {}, "Course": {}},
                "durations_seconds": {"rto_estimate": 12.5},
            }
        )
    )
    (tmp_path / "health-old.json").write_text(json.dumps({"checks": [{"name": "x", "status": "crit"}]}))
    (tmp_path / "broken-restore-verify-x.json").write_text("{")
    (tmp_path / "restore-verify-bad.json").write_text("not json")
    os.utime(tmp_path / "health-old.json", (1, 1))
    lines = report_lines(tmp_path, since=time.time() - 60)
    assert lines[0] == "bench vps1 (scale demo): targets met 1, missed 1, n/a 2 -> FAIL"
    assert lines[1] == "    missed: p95:q02"
    assert lines[2] == "health vps1: ok 1, warn 0, crit 0"
    assert lines[3] == (
        "restore-verify vps1: passed (backup 20261129-F, 2 tables compared, RTO estimate 12.5s)"
    )
    assert lines[4] == "HTML reports:" and lines[5].endswith("bench-vps1.html")
    assert not any("old" in ln for ln in lines)


def test_build_summary_has_the_stage_table_failures_reports_and_logs(tmp_path):
    results = [
        StageResult("vps-up", "ok", 3.2, note="local_vps: vps1 ready"),
        StageResult(
            "site", "ok", 310.4, {"ok": 120, "changed": 0, "failures": 0, "dark": 0}, log="/l/site.log"
        ),
        StageResult("health", "missing", note="playbooks/health.yml not in this checkout"),
        StageResult(
            "bench", "failed", 20, {"ok": 5, "changed": 1, "failures": 1, "dark": 1}, failures=["FAILED: x"]
        ),
        StageResult("backup", "skipped", note="an earlier stage failed"),
    ]
    text = build_summary(results, tmp_path)
    table = stage_table(results).splitlines()
    assert table[0].split() == ["stage", "status", "time", "ok", "changed", "failed", "note"]
    assert table[2].split()[:3] == ["vps-up", "ok", "3s"]
    assert table[3].split()[:6] == ["site", "ok", "310s", "120", "0", "0"]
    assert table[4].split()[:6] == ["health", "missing", "0s", "-", "-", "-"]
    assert table[5].split()[:6] == ["bench", "failed", "20s", "5", "1", "2"]
    assert "total 334s" in text
    assert "Failures:\n    FAILED: x" in text
    assert "Full logs:\n    /l/site.log" in text


# -- command line ----------------------------------------------------------------------------
def test_extravars_scale_port_override_and_e_values():
    args = cli.parse_args(["bench", "--scale", "staging", "-e", "bench_iterations=5", "-e", "x=a=b"])
    assert cli.extravars_for(args, env={}) == {"scale": "staging", "bench_iterations": "5", "x": "a=b"}
    assert cli.extravars_for(args, env={"VED_VPS_SSH_PORT": "2229"})["ansible_port"] == 2229
    js = cli.parse_args(["tune", "-e", '{"postgresql_settings": {"work_mem": "8MB"}}', "-e", "a=1"])
    assert cli.extravars_for(js, env={}) == {
        "scale": "demo",
        "postgresql_settings": {"work_mem": "8MB"},
        "a": "1",
    }
    other = cli.parse_args(["bench", "-i", "inventories/staging"])
    assert "ansible_port" not in cli.extravars_for(other, env={"VED_VPS_SSH_PORT": "2229"})


def test_cmdline_and_inventory():
    args = cli.parse_args(["tune", "--check", "--diff", "--tags", "gate", "--limit", "vps1"])
    assert cli.cmdline_for(args) == ["--check", "--diff", "--tags", "gate", "--limit", "vps1"]
    assert cli.cmdline_for(cli.parse_args(["site"])) == []
    assert cli.inventory_for("localhost,") == "localhost\n"
    assert cli.inventory_for("a, b,") == "a\nb\n"
    assert cli.inventory_for("inventories/local").endswith("/inventories/local")


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["bench", "--scale", "huge"],
        ["bench", "-e", "novalue"],
        ["bench", "-e", "=x"],
        ["bench", "-e", "{not json"],
    ],
)
def test_bad_arguments_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse_args(argv)
    assert exc.value.code == 2
    assert "usage: python -m vedops" in capsys.readouterr().err


def test_run_needs_a_playbook_and_only_run_takes_one(capsys):
    assert cli.main(["run"]) == 2
    assert cli.main(["bench", "playbooks/bench.yml"]) == 2
    assert "only with run" in capsys.readouterr().err


def test_a_missing_playbook_is_reported_not_raised(tmp_path, capsys):
    rc = cli.main(["run", str(tmp_path / "absent.yml"), "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "missing" in out and "absent.yml not in this checkout" in out


def test_tty_display_ticks_during_a_long_task():
    out = io.StringIO()
    d = Display(out, tty=True)
    s = ProgressState(stage="site", started=time.time())
    with d.ticking(s, every=0.01):
        time.sleep(0.1)
    assert out.getvalue().count("[site 0:00] starting") >= 3
    plain = Display(io.StringIO(), tty=False)
    with plain.ticking(s, every=0.01):
        time.sleep(0.05)
    assert plain.stream.getvalue() == ""


def test_run_command_keeps_the_output_in_the_log(tmp_path):
    from vedops.run import run_command

    out = io.StringIO()
    ok = run_command(
        "vps-up", ["sh", "-c", "echo starting; echo ready"], log_dir=tmp_path, display=Display(out, tty=False)
    )
    assert (ok.status, ok.note, ok.failures) == ("ok", "ready", [])
    assert Path(ok.log).read_text() == "starting\nready\n"
    bad = run_command(
        "vps-up", ["sh", "-c", "echo no ssh >&2; exit 3"], log_dir=tmp_path, display=Display(out, tty=False)
    )
    assert bad.status == "failed" and bad.failures == ["vps-up: rc=3: no ssh"]
    assert bad.log != ok.log and Path(ok.log).read_text() == "starting\nready\n"
    assert out.getvalue().startswith("[vps-up] sh -c")


def test_report_lines_keep_to_the_hosts_of_the_run(tmp_path):
    for name in ("bench-vps1", "bench-large", "health-other"):
        (tmp_path / f"{name}.json").write_text(json.dumps(BENCH if "bench" in name else {"checks": []}))
        (tmp_path / f"{name}.html").write_text("<html>")
    lines = report_lines(tmp_path, hosts={"vps1"})
    assert lines[0].startswith("bench vps1 ") and not any("large" in ln or "other" in ln for ln in lines)
    results = [StageResult("bench", "ok", 1, hosts=["vps1"])]
    assert "bench-large" not in build_summary(results, tmp_path)


def test_replica_adds_the_standby_inventory_host_and_bench_mode():
    args = cli.parse_args(["demo", "--replica"])
    inventories = cli.inventories_for(args)
    assert [Path(i).name for i in inventories] == ["local", "local-replica"]
    assert all(Path(i).is_dir() for i in inventories)
    # Replica mode on; no port override, which would give vps1 and vps2 one port.
    extra = cli.extravars_for(args, env={"VED_VPS_SSH_PORT": "2229"})
    assert extra == {"scale": "demo", "bench_replica": True}
    argv = cli.vps_up_argv(args)
    assert argv[:2] == ["bash", "-c"] and "VED_VPS_SSH_PORT=2223" in argv[2] and argv[2].endswith("up vps2")
    plain = cli.parse_args(["demo"])
    assert cli.vps_up_argv(plain)[1:] == ["up"]
    assert isinstance(cli.inventories_for(plain), str)


def test_replica_needs_the_local_inventory(capsys):
    assert cli.main(["bench", "--replica", "-i", "inventories/staging"]) == 2
    assert "--replica adds inventories/local-replica to inventories/local only" in capsys.readouterr().err


def test_replica_refuses_a_moved_local_vps(monkeypatch, capsys):
    monkeypatch.setenv("VED_VPS_SSH_PORT", "2229")
    assert cli.main(["demo", "--replica"]) == 2
    assert "unset VED_VPS_SSH_PORT" in capsys.readouterr().err
