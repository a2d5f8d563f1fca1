"""Backups that are proven: playbooks/backup.yml + restore_verify.yml against the converged
host, then the fault tests. Run from molecule verify; the tests run in file order and build
on each other (demo data -> round trip -> restore drill unit, its free-disk refusal and a
forced mismatch -> PITR after an accidental delete -> corrupted repo file -> wrong
passphrase -> backup under write load -> backup killed mid-run).

Measured durations are appended to $MOLECULE_EPHEMERAL_DIRECTORY/backup-timings.jsonl and
printed (pytest -s / molecule verify shows them).
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime
from pathlib import Path

from molecule_verify import psql, run_playbook

SCENARIO = Path(__file__).resolve().parents[1]
REPO = Path(__file__).resolve().parents[5]
VARS = SCENARIO / "vars" / "main.yml"
REPORT = REPO / "reports" / "restore-verify-ved-pgbackrest-default.json"
OWNER = ("vedfin_owner", "molecule-owner-password")  # test-only, see vars/main.yml

# Demo-preset-sized data (200 users, 25 courses, 6000 behaviour logs; module_utils/vedfin_seed
# PRESETS["demo"]) in tables of their own, with every column type the checksums must render
# stably (timestamptz, numeric, float, jsonb, bytea, arrays, NULLs).
DEMO_SQL = """
DROP TABLE IF EXISTS bk_logs, bk_users, bk_courses, bk_load, bk_big;
CREATE TABLE bk_users (id int PRIMARY KEY, email text UNIQUE, balance numeric(12,2), score float8,
                       created timestamptz, tags text[], avatar bytea);
CREATE TABLE bk_courses (id int PRIMARY KEY, title text, meta jsonb);
CREATE TABLE bk_logs (id bigserial PRIMARY KEY, user_id int REFERENCES bk_users, course_id int
                      REFERENCES bk_courses, event text, at timestamptz, payload jsonb);
CREATE INDEX ON bk_logs (user_id, at);
INSERT INTO bk_users SELECT i, 'u' || i || '@example.test', i * 1.25, i / 7.0,
  timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour', ARRAY['t' || i % 5, NULL],
  CASE WHEN i % 3 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END
  FROM generate_series(1, 200) i;
INSERT INTO bk_courses SELECT i, 'Course ' || i, jsonb_build_object('level', i % 4, 'price', i * 9.99)
  FROM generate_series(1, 25) i;
INSERT INTO bk_logs (user_id, course_id, event, at, payload)
  SELECT 1 + i % 200, 1 + i % 25, (ARRAY['view', 'quiz', 'done'])[1 + i % 3],
  timestamptz '2026-01-01 00:00:00+00' + i * interval '7 minutes', jsonb_build_object('n', i, 'x', random())
  FROM generate_series(1, 6000) i;
CREATE TABLE bk_load (id bigserial PRIMARY KEY, v int, at timestamptz DEFAULT clock_timestamp());
ALTER TABLE bk_load OWNER TO vedfin_owner;
"""


def playbook(name: str, *extra: str):
    return run_playbook(name, "-e", f"@{VARS}", *extra)


def sql(host, query):
    return psql(host, query, db="vedfin")


def pgbr(host, args):
    return host.run("runuser -u postgres -- pgbackrest --stanza=main " + args)


def report() -> dict:
    return json.loads(REPORT.read_text())


def record_timing(what: str, backup: dict | None = None, rep: dict | None = None) -> None:
    line = {"what": what}
    if backup:
        line["backup_seconds"] = backup["backup_seconds"]
        line["record_seconds"] = backup["record_seconds"]
        line["database_bytes"] = backup["database_bytes"]
    if rep:
        line.update(rep["durations_seconds"])
        line["database_bytes"] = rep["backup"]["database_bytes"]
    print("TIMING", json.dumps(line))
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if ephemeral:
        with open(Path(ephemeral, "backup-timings.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")


def diagnose(host, unit: str) -> str:
    """The unit's state and the journal's tail, for an assertion message."""
    return host.run(
        "systemctl show %s -p Result,ActiveState,SubState; journalctl -n 40 --no-pager -o cat", unit
    ).stdout


TEXTFILE = "/var/lib/prometheus/node-exporter"
STATUS = "/var/lib/pgbackrest/status"


def prom(host, name: str) -> dict[str, float]:
    """Samples of a textfile collector file: {'metric{labels}': value}."""
    text = host.file(f"{TEXTFILE}/{name}").content_string
    return {
        k: float(v)
        for k, v in (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    }


def last_verify(host) -> dict:
    return json.loads(host.file(f"{STATUS}/last-verify.json").content_string)


def run_drill(host):
    """systemctl start of the drill unit (a oneshot: returns when the drill ended)."""
    t0 = time.monotonic()
    res = host.run("systemctl start ved-pgbackrest-drill.service")
    return res, round(time.monotonic() - t0, 1)


def last_success(host) -> dict:
    return json.loads(host.file("/var/lib/pgbackrest/status/last-success.json").content_string)


def repo_fingerprint(host) -> dict[str, str]:
    res = host.run(
        "cd /var/lib/pgbackrest && find archive backup -type f -print0 | sort -z | xargs -0 sha256sum"
    )
    assert res.rc == 0, res.stderr
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in res.stdout.splitlines())}


def assert_repo_untouched(before: dict[str, str], after: dict[str, str]) -> None:
    """Every file is byte-identical; only WAL segments PostgreSQL's archiver pushed meanwhile
    (archive_timeout is 60 s, a slow run outlasts it) may be new."""
    assert {p: after.get(p) for p in before} == before
    new = sorted(set(after) - set(before))
    segment = re.compile(r"archive/main/[^/]+/[0-9A-F]{16}/[0-9A-F]{24}-[0-9a-f]{40}\.zst")
    assert all(segment.fullmatch(p) for p in new), new


def test_demo_data_backup_and_restore_verify(host):
    sql(host, DEMO_SQL)
    res = playbook("backup.yml", "-e", "backup_type=full")
    assert res.returncode == 0, res.stdout[-3000:]
    backup = last_success(host)
    assert backup["type"] == "full"
    res = playbook("restore_verify.yml")
    assert res.returncode == 0, res.stdout[-3000:]
    rep = report()
    assert rep["status"] == "passed"
    assert rep["compared"] is True
    assert rep["backup"]["label"] == backup["label"]
    assert rep["target"] == {"type": "lsn", "target": backup["record_lsn"]}
    tables = {(t["database"], t["table"]): t for t in rep["tables"]}
    assert tables[("vedfin", "public.bk_logs")]["rows_restored"] == 6000
    assert all(t["status"] == "ok" for t in rep["tables"])
    assert any("consistent recovery state reached" in line for line in rep["recovery_log"])
    record_timing("demo", backup, rep)


def test_drill_unit_passes_and_exports_metrics(host):
    backup = last_success(host)
    res, wall = run_drill(host)
    assert res.rc == 0, diagnose(host, "ved-pgbackrest-drill.service")
    rep = last_verify(host)
    assert rep["status"] == "passed" and rep["compared"] is True
    assert rep["backup"]["label"] == backup["label"]
    assert rep["scratch"]["dir"] == "/var/lib/postgresql/ved-restore-drill"
    assert rep["scratch"]["ok"] and rep["scratch"]["needed_bytes"] < rep["scratch"]["free_bytes"]
    rto, total = rep["durations_seconds"]["rto_estimate"], rep["durations_seconds"]["total"]
    print(
        f"DRILL demo data: total {total} s (unit {wall} s), RTO estimate {rto} s, {len(rep['tables'])} tables"
    )
    record_timing("drill (demo data)", rep=rep)
    assert 0 < rto < total <= 60  # issue 19's target at the demo preset
    # The scratch area is empty again; the role's directory stays for the next drill.
    assert host.run("ls -A /var/lib/postgresql/ved-restore-drill").stdout == ""
    drill = prom(host, "ved_restore_drill.prom")
    now = time.time()
    assert drill['ved_restore_drill_success{stanza="main"}'] == 1
    assert now - 300 < drill['ved_restore_drill_last_run_timestamp_seconds{stanza="main"}'] <= now + 5
    assert drill['ved_restore_drill_rto_seconds{stanza="main"}'] == rto
    assert drill['ved_restore_drill_duration_seconds{stanza="main"}'] == total
    assert drill['ved_restore_drill_tables_compared{stanza="main"}'] == len(rep["tables"]) >= 4
    # The backup unit's ExecStartPost wrote these after the demo backup.
    backups = prom(host, "ved_backup.prom")
    finished = datetime.fromisoformat(backup["finished_at"]).timestamp()
    assert (
        abs(backups['ved_backup_last_success_timestamp_seconds{stanza="main",type="full"}'] - finished) <= 1
    )
    window = backups['ved_backup_pitr_window_seconds{stanza="main"}']
    assert 0 < window < 3 * 3600
    # Nothing expired yet: the promise is capped by the stanza's history, so no alert.
    assert backups['ved_backup_pitr_window_target_seconds{stanza="main"}'] <= window


def test_drill_refuses_without_enough_free_disk(host):
    # A reserve no disk has: refused before anything is restored.
    res = host.run(
        "runuser -u postgres -- /usr/local/sbin/ved-pgbackrest restore-verify --space-reserve-mb 1e12"
    )
    assert res.rc == 1, res.stderr
    rep = last_verify(host)
    assert rep["status"] == "failed" and rep["reason"] == "insufficient_space"
    assert "not enough free disk" in rep["error"] and "nothing was restored" in rep["error"]
    assert "restore" not in rep["durations_seconds"]
    assert not rep["scratch"]["ok"]
    assert host.run("ls -A /var/lib/postgresql/ved-restore-drill").stdout == ""


def test_drill_mismatch_fails_the_unit_and_the_metric(host):
    label = last_success(host)["label"]
    record = f"/var/lib/pgbackrest/records/{label}.json"
    host.run("cp -p %s /root/ved-record.bak", record)
    edit = (
        "import json, sys; p = sys.argv[1]; d = json.load(open(p)); "
        "d['databases']['vedfin']['public.bk_courses']['rows'] += 1; json.dump(d, open(p, 'w'))"
    )
    try:
        assert host.run("python3 -c %s %s", edit, record).rc == 0
        res, _ = run_drill(host)
        assert res.rc != 0  # a drill that finds a mismatch fails its unit
        rep = last_verify(host)
        assert rep["status"] == "failed" and rep["reason"] == "mismatch"
        assert "vedfin.public.bk_courses: rows_differ" in rep["error"]
        assert prom(host, "ved_restore_drill.prom")['ved_restore_drill_success{stanza="main"}'] == 0
        # The OnFailure hook logged it at priority err; a drill is not a failed backup.
        waited = host.run(
            "for i in $(seq 50); do journalctl -t ved-pgbackrest -p err --no-pager -o cat"
            " | grep -q 'ved-pgbackrest-drill.service failed' && exit 0; sleep 0.2; done; exit 1"
        )
        assert waited.rc == 0
        assert not host.file(f"{STATUS}/last-failure.json").exists
        assert host.run("ls -A /var/lib/postgresql/ved-restore-drill").stdout == ""
    finally:
        host.run("cp -p /root/ved-record.bak %s", record)


def test_skip_needs_the_explicit_var(host):
    before = last_success(host)["label"]
    res = playbook("backup.yml", "-e", "backup_skip=true")
    assert res.returncode == 0, res.stdout[-3000:]
    assert "backup skipped by -e backup_skip=true" in res.stdout
    assert last_success(host)["label"] == before


def test_accidental_delete_then_pitr_brings_rows_back(host):
    before_delete = sql(host, "SELECT now()")
    time.sleep(1.5)
    sql(host, "DELETE FROM bk_logs WHERE id % 10 = 0")
    assert sql(host, "SELECT count(*) FROM bk_logs") == "5400"
    res = playbook("restore_verify.yml", "-e", f"target_time='{before_delete}'", "-e", "restore_compare=true")
    assert res.returncode == 0, res.stdout[-3000:]
    rep = report()
    assert rep["target"]["type"] == "time"
    tables = {(t["database"], t["table"]): t for t in rep["tables"]}
    logs = tables[("vedfin", "public.bk_logs")]
    assert logs["rows_restored"] == 6000
    assert logs["status"] == "ok"  # equal count AND equal content checksum
    # The primary keeps its 5400 rows: the later tests compare restores with their own records.


def test_corrupted_repository_file_fails_and_is_named(host):
    label = last_success(host)["label"]
    files = host.run(
        "find /var/lib/pgbackrest/backup/main/%s/pg_data/base -name '*.zst' -size +4k -printf '%%s %%p\\n'"
        " | sort -n | tail -1",
        label,
    ).stdout.split()
    victim = files[1]
    host.run("cp -p %s /root/ved-victim.bak", victim)
    host.run("printf 'garbage-garbage' | dd of=%s bs=1 seek=200 conv=notrunc", victim)
    try:
        res = playbook("restore_verify.yml")
        assert res.returncode != 0
        relative = victim.split("/backup/main/", 1)[1]
        out = res.stdout + res.stderr
        assert "invalid checksum" in out and relative in out, out[-3000:]
        rep = report()
        assert rep["status"] == "failed"
        assert relative in rep["error"]
        # The scratch instance and its directory are gone even though the play failed.
        assert not host.file("/var/lib/postgresql/ved-restore-verify").exists
    finally:
        host.run("cp -p /root/ved-victim.bak %s", victim)
    verify = pgbr(host, "--log-level-console=info verify")
    assert "status: error" not in verify.stdout


def test_wrong_passphrase_is_refused_and_repository_untouched(host, tmp_path):
    before = repo_fingerprint(host)
    conf_before = host.file("/etc/pgbackrest/pgbackrest.conf").sha256sum
    # 1. The tool itself with a wrong passphrase: fails, writes nothing.
    res = host.run(
        "runuser -u postgres -- env PGBACKREST_REPO1_CIPHER_PASS=wrong-passphrase-0123456789 "
        "pgbackrest --stanza=main --type=full backup"
    )
    assert res.rc != 0
    # 2. The role with a wrong vault value: stops with a clear message before any change.
    play = tmp_path / "wrong.yml"
    play.write_text(f"- hosts: all\n  become: true\n  vars_files: ['{VARS}']\n  roles: [pgbackrest]\n")
    run = run_playbook(play, "-e", "pgbackrest_repo_cipher_pass=wrong-passphrase-0123456789")
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "does not decrypt the existing repository" in out, out[-3000:]
    assert "wrong-passphrase-0123456789" not in out
    assert host.file("/etc/pgbackrest/pgbackrest.conf").sha256sum == conf_before
    assert_repo_untouched(before, repo_fingerprint(host))
    assert pgbr(host, "check").rc == 0


def test_backup_under_write_load_restores_consistently(host):
    # A bounded write load over loopback TCP (as the app would connect): 3000 autocommit
    # inserts, a few ms apart, running before, during and after the backup's record point.
    host.run(
        'for i in $(seq 1 3000); do echo "INSERT INTO bk_load (v) VALUES ($i); SELECT pg_sleep(0.004);"; done'
        " > /root/ved-load.sql"
    )
    host.run(
        "nohup env PGPASSWORD=%s psql -XAtq -h 127.0.0.1 -U %s -d vedfin -f /root/ved-load.sql "
        ">/root/ved-load.log 2>&1 & echo $! > /root/ved-load.pid",
        OWNER[1],
        OWNER[0],
    )
    time.sleep(2)
    res = playbook("backup.yml", "-e", "backup_type=diff")
    assert res.returncode == 0, res.stdout[-3000:]
    during = int(sql(host, "SELECT count(*) FROM bk_load"))
    host.run("while kill -0 $(cat /root/ved-load.pid) 2>/dev/null; do sleep 0.5; done")
    final = int(sql(host, "SELECT count(*) FROM bk_load"))
    assert final == 3000, host.file("/root/ved-load.log").content_string
    backup = last_success(host)
    record = json.loads(host.file(backup["record_file"]).content_string)
    recorded = record["databases"]["vedfin"]["public.bk_load"]["rows"]
    assert 0 < recorded < final, (recorded, during, final)  # the load spanned the record point
    res = playbook("restore_verify.yml")
    assert res.returncode == 0, res.stdout[-3000:]
    rep = report()
    tables = {(t["database"], t["table"]): t for t in rep["tables"]}
    assert tables[("vedfin", "public.bk_load")]["rows_restored"] == recorded
    assert all(t["status"] == "ok" for t in rep["tables"])


def test_backup_killed_mid_run_then_next_backup_and_verify_pass(host):
    # Enough data (~1M rows, staging-preset scale of BehaviorLog) for a backup to take seconds.
    sql(
        host,
        "CREATE TABLE bk_big AS SELECT i AS id, md5(i::text) || md5((i * 7)::text) AS body, "
        "timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second' AS at "
        "FROM generate_series(1, 1000000) i; "
        "ALTER TABLE bk_big ADD PRIMARY KEY (id)",
    )
    host.run("rm -f /var/lib/pgbackrest/status/last-failure.json")
    unit = "ved-pgbackrest-backup@full.service"
    # Test host only: on a cgroup v1 machine, systemd in a container can miss that the killed
    # unit's cgroup emptied and wait out TimeoutStopSec (90 s) before the unit fails (README,
    # "Test hosts without a registry"); a runtime drop-in bounds that wait here.
    host.run(
        "mkdir -p /run/systemd/system/%s.d && printf '[Service]\\nTimeoutStopSec=10s\\n' > "
        "/run/systemd/system/%s.d/10-test-host.conf && systemctl daemon-reload",
        unit,
        unit,
    )
    # Freeze the backup (SIGSTOP) as soon as it has written its first data file into the repo,
    # so the kill lands mid-copy however fast or loaded the machine is; then SIGKILL it.
    frozen = host.run(
        "touch /root/ved-kill.marker && systemctl start --no-block %s && for i in $(seq 1200); do"
        " if find /var/lib/pgbackrest/backup/main -path '*/pg_data/*' -type f"
        " -newer /root/ved-kill.marker -print -quit | grep -q .;"
        " then systemctl kill -s SIGSTOP %s; exit 0; fi; sleep 0.1; done; exit 1",
        unit,
        unit,
    )
    state = host.run("systemctl is-active %s", unit).stdout.strip()
    assert frozen.rc == 0 and state == "activating", (frozen.rc, state, diagnose(host, unit))
    host.run("systemctl kill -s SIGKILL %s", unit)
    # The unit fails (and OnFailure writes the record) only once every killed process is gone;
    # one stuck in disk I/O on a loaded machine kept it "deactivating" for over 30 s once.
    waited = host.run(
        "for i in $(seq 600); do test -f /var/lib/pgbackrest/status/last-failure.json && exit 0;"
        " sleep 0.2; done; exit 1"
    )
    assert waited.rc == 0, diagnose(host, unit)
    failure = json.loads(host.file("/var/lib/pgbackrest/status/last-failure.json").content_string)
    assert failure["unit"] == "ved-pgbackrest-backup@full.service"
    assert failure["result"] == "signal"
    journal = host.run("journalctl -t ved-pgbackrest -p err --no-pager -o cat -n 20").stdout
    assert "ved-pgbackrest-backup@full.service failed" in journal
    # The hook also updated the metrics: BackupFailed sees a full failure after the last full.
    key = 'ved_backup_last_failure_timestamp_seconds{stanza="main",type="full"}'
    host.run(
        "for i in $(seq 50); do grep -qF %s %s/ved_backup.prom && exit 0; sleep 0.2; done", key, TEXTFILE
    )
    backups = prom(host, "ved_backup.prom")
    assert backups[key] > backups['ved_backup_last_success_timestamp_seconds{stanza="main",type="full"}']
    # The next backup succeeds and the repository verifies clean.
    res = playbook("backup.yml", "-e", "backup_type=full")
    assert res.returncode == 0, res.stdout[-3000:]
    backup = last_success(host)
    verify = pgbr(host, "--log-level-console=info verify")
    assert verify.rc == 0 and "status: error" not in verify.stdout, verify.stdout
    res = playbook("restore_verify.yml")
    assert res.returncode == 0, res.stdout[-3000:]
    rep = report()
    assert rep["status"] == "passed"
    record_timing("staging-scale (1M-row table + demo data)", backup, rep)
