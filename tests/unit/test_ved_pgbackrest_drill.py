"""ved-pgbackrest's pure parts for the restore drill and the textfile metrics
(roles/pgbackrest/files/ved_pgbackrest.py): schedule gaps, the PITR window and its target,
the free-disk decision, the metrics text, the failure record per backup type. The restore
itself runs in the pgbackrest molecule scenario (it needs pgBackRest and systemd)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "ved_pgbackrest", ROOT / "roles/pgbackrest/files/ved_pgbackrest.py"
)
vp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vp)

DAY = 86400
# systemd 252's output (TZ=UTC), as the script reads it.
WEEKLY = """  Original form: Sun *-*-* 02:30:00
Normalized form: Sun *-*-* 02:30:00
    Next elapse: Sun 2026-12-13 02:30:00 UTC
       From now: 5 days left
       Iter. #2: Sun 2026-12-20 02:30:00 UTC
       From now: 1 week 5 days left
       Iter. #3: Sun 2026-12-27 02:30:00 UTC
       From now: 2 weeks 5 days left
"""
MON_SAT = """Normalized form: Mon..Sat *-*-* 02:30:00
    Next elapse: Fri 2026-12-11 02:30:00 UTC
       Iter. #2: Sat 2026-12-12 02:30:00 UTC
       Iter. #3: Mon 2026-12-14 02:30:00 UTC
       Iter. #4: Tue 2026-12-15 02:30:00 UTC
"""


def cfg(**over):
    base = vp.load_config("/nonexistent")
    base.update(stanza="main", retention_full=2, drill={**base["drill"], "enabled": True})
    base.update(over)
    return base


def backup(label, kind, start, stop, wal_start, db_id=1):
    return {
        "label": label,
        "type": kind,
        "timestamp": {"start": start, "stop": stop},
        "archive": {"start": wal_start, "stop": wal_start},
        "database": {"id": db_id, "repo-key": 1},
    }


def info(backups, wal_min="000000010000000000000005", name="main"):
    return {
        "name": name,
        "archive": [
            {
                "database": {"id": 1, "repo-key": 1},
                "id": "15-1",
                "min": wal_min,
                "max": "00000001000000000000FFFF",
            }
        ],
        "backup": backups,
    }


def test_calendar_gap_is_the_longest_between_runs():
    assert vp.calendar_max_gap(WEEKLY) == 7 * DAY
    # Saturday to Monday: the daily schedule's longest gap is two days, not one.
    assert vp.calendar_max_gap(MON_SAT) == 2 * DAY
    assert vp.calendar_max_gap("Normalized form: x\n    Next elapse: Sun 2026-12-13 02:30:00 UTC\n") is None
    assert vp.calendar_max_gap("") is None


@pytest.mark.parametrize("unit", ["μs", "us"])
def test_timespan_output_in_seconds(unit):
    assert vp.timespan_seconds_of(f"Original: 10min\n      {unit}: 600000000\n   Human: 10min\n") == 600
    assert vp.timespan_seconds_of("garbage") is None


def test_pitr_window_starts_at_the_oldest_backup_whose_wal_is_kept():
    data = info(
        [
            # Its WAL start expired from the archive (before min): not restorable with PITR.
            backup("F1", "full", 1000, 1100, "000000010000000000000003"),
            backup("F2", "full", 2000, 2100, "000000010000000000000005"),
            backup("D1", "diff", 3000, 3100, "000000010000000000000009"),
        ]
    )
    # The window opens where that backup ends: the first consistent point a restore reaches.
    assert vp.pitr_window_start(data) == {"label": "F2", "start": 2100}
    # A later timeline orders by position first.
    assert vp.wal_order("000000020000000000000004") < vp.wal_order("000000010000000000000005")
    assert (
        vp.pitr_window_start(info([backup("F", "full", 1, 2, "000000010000000000000001")], wal_min=None))
        is None
    )
    assert vp.pitr_window_start(info([])) is None


def test_backup_state_keeps_the_newest_success_of_each_type_across_expiry():
    first = vp.backup_state(
        info([backup("F1", "full", 1000, 1100, "000000010000000000000005")]), None, 5000, ("full", "F1", 1150)
    )
    assert first["last_success"] == {"full": {"label": "F1", "at": 1150}}
    assert first["first_backup_end"] == 1100
    assert first["pitr_window"] == {"label": "F1", "start": 1100, "seconds": 3900}
    # F1 expired; a diff came and went: both types stay known, the first backup too.
    later = vp.backup_state(
        info(
            [backup("F2", "full", 9000, 9100, "000000010000000000000009")], wal_min="000000010000000000000009"
        ),
        json.loads(json.dumps(first)),
        10000,
    )
    assert later["last_success"]["full"] == {"label": "F2", "at": 9100}
    first_with_diff = {**first, "last_success": {**first["last_success"], "diff": {"label": "D", "at": 4000}}}
    later = vp.backup_state(info([]), first_with_diff, 10000)
    assert later["last_success"]["diff"] == {"label": "D", "at": 4000}
    assert later["first_backup_end"] == 1100
    assert later["pitr_window"] is None


def test_pitr_target_is_the_retention_promise_capped_by_history():
    week = 7 * DAY
    assert vp.pitr_target(2, week, 600, history=30 * DAY) == week - 600
    assert vp.pitr_target(3, week, 0, history=30 * DAY) == 2 * week
    # A new host: the promise is what it has had time to build.
    assert vp.pitr_target(2, week, 0, history=2 * DAY) == 2 * DAY
    assert vp.pitr_target(1, week, 600, history=30 * DAY) == 0
    assert vp.pitr_target(2, None, 0, history=30 * DAY) is None
    assert vp.pitr_target(2, week, 0, history=None) == 0


def test_space_check_needs_size_times_factor_plus_reserve():
    mib = 1024 * 1024
    ok = vp.space_check(free_bytes=2000 * mib, database_bytes=500 * mib, factor=1.2, reserve_mb=1024)
    assert ok["ok"] and ok["needed_bytes"] == 600 * mib + 1024 * mib
    short = vp.space_check(free_bytes=1500 * mib, database_bytes=500 * mib, factor=1.2, reserve_mb=1024)
    assert not short["ok"]
    assert vp.space_check(10, 0, 1.0, 0)["ok"]


def test_scratch_dir_never_overlaps_the_live_cluster():
    live = "/var/lib/postgresql/15/main"
    vp.check_scratch_dir(Path("/var/lib/postgresql/ved-restore-drill"), live)
    for bad in (
        "/var/lib/postgresql",
        "/var/lib/postgresql/15/main",
        "/var/lib/postgresql/15/main/x",
        "/srv",
    ):
        with pytest.raises(vp.VedBackupError):
            vp.check_scratch_dir(Path(bad), live)


def test_verify_problems_read_the_log_even_on_exit_0():
    clean = "P00   INFO: verify command begin\nP00   INFO: verify command end: completed successfully\n"
    assert vp.verify_problems(0, clean, "") == []
    damaged = (
        "P00   INFO: stanza: main\n    status: error\n"
        "P01   INFO: invalid checksum '20261125-190613F/pg_data/base/5/16400.zst'\n"
    )
    problems = vp.verify_problems(0, damaged, "")
    assert "status: error" in problems
    assert any("20261125-190613F/pg_data/base/5/16400.zst" in p for p in problems)
    assert vp.verify_problems(1, "", "") == ["exit code 1"]


def test_choose_target():
    assert vp.choose_target("", "", {"lsn": "0/5000028"}) == {"type": "lsn", "target": "0/5000028"}
    assert vp.choose_target("2026-11-25 14:04:00+00", "", {"lsn": "0/1"})["type"] == "time"
    assert vp.choose_target("", "0/7", None) == {"type": "lsn", "target": "0/7"}
    assert vp.choose_target("", "", None) == {"type": "immediate", "target": ""}


def parse_prom(text: str) -> dict[str, float]:
    """{'name{labels}': value} of every sample; asserts every sample has HELP and TYPE."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) ved_\w+ ", line), line
            continue
        key, value = line.rsplit(" ", 1)
        name = key.split("{")[0]
        assert f"# TYPE {name} gauge" in text
        samples[key] = float(value)
    return samples


FACTS = {"gaps": {"full": 7 * DAY, "diff": 2 * DAY}, "delay": 600.0, "timeout": 6 * 3600.0}


def test_backup_metrics_carry_the_labels_the_alert_rules_match_on():
    state = vp.backup_state(
        info(
            [
                backup("F1", "full", 1000, 1100, "000000010000000000000005"),
                backup("D1", "diff", 3000, 3100, "000000010000000000000007"),
            ]
        ),
        None,
        40 * DAY,
    )
    failure = {"unit": "ved-pgbackrest-backup@diff.service", "failed_at": "2026-12-01T00:00:00+00:00"}
    m = parse_prom(vp.render_backup_metrics(cfg(), state, failure, FACTS))
    assert m['ved_backup_last_success_timestamp_seconds{stanza="main",type="full"}'] == 1100
    assert m['ved_backup_last_success_timestamp_seconds{stanza="main",type="diff"}'] == 3100
    assert m['ved_backup_last_failure_timestamp_seconds{stanza="main",type="diff"}'] == vp.parse_time(
        failure["failed_at"]
    )
    # BackupTooOld compares these one-to-one: the same labels as last_success.
    assert m['ved_backup_max_age_seconds{stanza="main",type="full"}'] == 7 * DAY + 600 + 6 * 3600 + 3600
    assert m['ved_backup_max_age_seconds{stanza="main",type="diff"}'] == 2 * DAY + 600 + 6 * 3600 + 3600
    assert m['ved_backup_pitr_window_seconds{stanza="main"}'] == 40 * DAY - 1100
    assert m['ved_backup_pitr_window_target_seconds{stanza="main"}'] == 7 * DAY - 600
    assert m['ved_backup_state_timestamp_seconds{stanza="main"}'] == 40 * DAY


def test_backup_metrics_without_any_backup_or_schedule():
    assert vp.render_backup_metrics(cfg(), None, None, {"gaps": {}, "delay": 0, "timeout": 0}) == ""
    text = vp.render_backup_metrics(cfg(), None, None, FACTS)
    assert "ved_backup_last_success_timestamp_seconds" not in text  # BackupMetricsMissing's job
    assert "ved_backup_max_age_seconds" in text


def test_failure_by_type_outlives_a_later_failure_of_another_type():
    failure = {
        "unit": "ved-pgbackrest-backup@diff.service",
        "failed_at": "2026-12-02T00:00:00+00:00",
        "by_type": {"full": "2026-12-01T00:00:00+00:00", "diff": "2026-12-02T00:00:00+00:00"},
    }
    m = parse_prom(vp.render_backup_metrics(cfg(), None, failure, {"gaps": {}, "delay": 0, "timeout": 0}))
    assert set(m) == {
        'ved_backup_last_failure_timestamp_seconds{stanza="main",type="full"}',
        'ved_backup_last_failure_timestamp_seconds{stanza="main",type="diff"}',
    }


def report(status="passed", **over):
    rep = {
        "status": status,
        "started_at": "2026-12-06T05:00:00+00:00",
        "finished_at": "2026-12-06T05:00:30+00:00",
        "compared": True,
        "durations_seconds": {"restore": 1.5, "recovery": 0.5, "rto_estimate": 2.0, "total": 30.25},
        "tables": [{"status": "ok"}, {"status": "ok"}, {"status": "rows_differ"}],
    }
    rep.update(over)
    return rep


def test_drill_metrics_passed_and_failed():
    m = parse_prom(vp.render_drill_metrics(cfg(), report(), None))
    assert m == {
        'ved_restore_drill_last_run_timestamp_seconds{stanza="main"}': vp.parse_time(
            "2026-12-06T05:00:30+00:00"
        ),
        'ved_restore_drill_success{stanza="main"}': 1,
        'ved_restore_drill_rto_seconds{stanza="main"}': 2.0,
        'ved_restore_drill_duration_seconds{stanza="main"}': 30.25,
        'ved_restore_drill_tables_compared{stanza="main"}': 3,
    }
    failed = parse_prom(vp.render_drill_metrics(cfg(), report("failed", durations_seconds={}), None))
    assert failed['ved_restore_drill_success{stanza="main"}'] == 0
    assert 'ved_restore_drill_rto_seconds{stanza="main"}' not in failed
    uncompared = parse_prom(vp.render_drill_metrics(cfg(), report(compared=False), None))
    assert uncompared['ved_restore_drill_tables_compared{stanza="main"}'] == 0


def test_no_drill_yet_counts_staleness_from_the_first_backup():
    state = {"first_backup_end": 1234}
    m = parse_prom(vp.render_drill_metrics(cfg(), None, state))
    assert m == {'ved_restore_drill_last_run_timestamp_seconds{stanza="main"}': 1234}
    off = cfg(drill={**cfg()["drill"], "enabled": False})
    assert vp.render_drill_metrics(off, None, state) == ""


def test_label_values_are_escaped_and_numbers_plain():
    text = vp.render_metrics([("ved_x", "help", [({"a": 'q"\\\n'}, 2.0), ({"a": "b"}, 0.1234)])])
    assert 'ved_x{a="q\\"\\\\\\n"} 2' in text
    assert 'ved_x{a="b"} 0.123' in text
    assert vp.render_metrics([("ved_y", "help", [])]) == ""


def test_write_metrics_writes_only_on_change_and_only_into_an_existing_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(vp, "schedule_facts", lambda c: FACTS)
    status = tmp_path / "status"
    status.mkdir()
    (status / "last-verify.json").write_text(json.dumps(report()))
    c = cfg(status_dir=str(status), textfile_dir=str(tmp_path / "textfile"))
    assert vp.write_metrics(c)["changed"] is False  # no collector directory: nothing written
    (tmp_path / "textfile").mkdir()
    first = vp.write_metrics(c)
    assert first["changed"] and sorted(first["written"]) == ["ved_backup.prom", "ved_restore_drill.prom"]
    assert vp.write_metrics(c) == {**first, "changed": False, "written": []}
    (status / "last-verify.json").write_text(json.dumps(report("failed")))
    assert vp.write_metrics(c)["written"] == ["ved_restore_drill.prom"]
    drill = (tmp_path / "textfile" / "ved_restore_drill.prom").read_text()
    assert 'ved_restore_drill_success{stanza="main"} 0' in drill
    # No temporary file left behind (node-exporter reads *.prom only, but keep the dir clean).
    assert sorted(p.name for p in (tmp_path / "textfile").iterdir()) == [
        "ved_backup.prom",
        "ved_restore_drill.prom",
    ]


def test_failure_keeps_the_newest_failure_per_backup_type(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(vp, "write_metrics", lambda c: calls.append(c))
    monkeypatch.setattr(
        vp.subprocess,
        "run",
        lambda cmd, **kw: vp.subprocess.CompletedProcess(cmd, 0, "Result=exit-code\nExecMainStatus=1\n", ""),
    )
    c = cfg(status_dir=str(tmp_path))
    (tmp_path / "last-failure.json").write_text(
        json.dumps({"unit": "ved-pgbackrest-backup@full.service", "failed_at": "2026-12-01T00:00:00+00:00"})
    )
    status = vp.failure(c, "ved-pgbackrest-backup@diff.service")
    assert status["type"] == "diff"
    assert status["by_type"]["full"] == "2026-12-01T00:00:00+00:00"
    assert set(status["by_type"]) == {"full", "diff"}
    # A failed drill is not a failed backup: last-failure.json stays as it was.
    before = (tmp_path / "last-failure.json").read_text()
    vp.failure(c, "ved-pgbackrest-drill.service")
    assert (tmp_path / "last-failure.json").read_text() == before
    assert len(calls) == 2


def test_restore_verify_refuses_to_run_as_root(monkeypatch, capsys):
    monkeypatch.setattr(vp.os, "geteuid", lambda: 0)
    assert vp.main(["--config", "/nonexistent", "restore-verify"]) == 2
    assert "run it as postgres" in capsys.readouterr().err


def test_backup_writes_the_state_with_its_own_finish(tmp_path, monkeypatch):
    full = backup("F1", "full", 1000, 1100, "000000010000000000000005")
    full.update(info={"size": 10, "repository": {"delta": 5}}, lsn={"start": "0/1", "stop": "0/2"})
    monkeypatch.setattr(vp, "pgbackrest", lambda c, *a, **kw: vp.subprocess.CompletedProcess(a, 0, "", ""))
    monkeypatch.setattr(vp, "backup_info", lambda c: info([full]))
    monkeypatch.setattr(vp, "snapshot", lambda c, label, kind: {"seconds": 0.5, "lsn": "0/3"})
    c = cfg(status_dir=str(tmp_path), record_dir=str(tmp_path))
    status = vp.run_backup(c, "full")
    state = json.loads((tmp_path / "backup-state.json").read_text())
    assert state["last_success"]["full"] == {"label": "F1", "at": int(vp.parse_time(status["finished_at"]))}
    assert state["pitr_window"]["label"] == "F1"


def test_a_drill_that_died_before_its_report_replaces_an_older_passed_one():
    """The failure hook's decision: a report older than the failed unit's start is stale."""
    old = {"status": "passed", "finished_at": "2026-12-06T05:00:00Z"}
    started = f"@{int(vp.parse_time('2026-12-07T05:00:00Z'))}"
    assert vp.stale_report(old, started) is True
    assert vp.stale_report({}, started) is True  # no report at all
    fresh = {"status": "failed", "finished_at": "2026-12-07T05:00:09Z"}
    assert vp.stale_report(fresh, started) is False  # the drill wrote its own failure
    failed = vp.unit_failed_report(
        {"stanza": "main"},
        "ved-pgbackrest-drill.service",
        {"result": "signal", "exit_status": "9", "failed_at": "2026-12-07T05:00:10Z"},
        ["Killed"],
    )
    metrics = parse_prom(vp.render_drill_metrics(cfg(), failed, None))
    assert metrics['ved_restore_drill_success{stanza="main"}'] == 0
