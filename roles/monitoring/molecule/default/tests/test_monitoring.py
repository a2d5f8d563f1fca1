"""The converged monitoring role on a host with PostgreSQL and Redis: loopback-only services,
every target scraped, the alert rules loaded, the health SQL as metrics, our textfile facts,
the stack's memory, and an alert delivered end to end: PostgreSQL stops, the test webhook and
the test SMTP sink get "firing", then "resolved" once it is back (measured; run `pytest -s`
to see the times)."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

import pytest

UNITS = (
    "prometheus",
    "prometheus-node-exporter",
    "prometheus-postgres-exporter",
    "prometheus-redis-exporter",
    "prometheus-alertmanager",
)
PORTS = {
    "prometheus": 9090,
    "prometheus-node-exporter": 9100,
    "prometheus-postgres-exporter": 9187,
    "prometheus-redis-exporter": 9121,
    "prometheus-alertmanager": 9093,
}
PROM = "http://127.0.0.1:9090"
PG_UNIT = "postgresql@15-main"
ALERT_BOUND_S = 120  # issue 19: firing and resolved each within 2 minutes at the default settings
WEBHOOK_LOG = "/run/ved-test-webhook.jsonl"  # written by files/webhook_sink.py
# What this scenario measures, for the closing notes and docs (gitignored, like all of reports/).
MEASUREMENTS = Path(__file__).resolve().parents[5] / "reports" / "monitoring-measurements.json"


def record(**values):
    data = json.loads(MEASUREMENTS.read_text()) if MEASUREMENTS.exists() else {}
    data.update(values)
    MEASUREMENTS.parent.mkdir(exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def stack_pids(host):
    return [host.check_output("systemctl show -p MainPID --value %s", u) for u in UNITS]


def stack_cpu_seconds(host):
    """User + system CPU time of the stack's processes so far (fields 14 and 15 of /proc/PID/stat)."""
    ticks = int(host.check_output("getconf CLK_TCK"))
    total = 0
    for pid in stack_pids(host):
        fields = host.check_output("cat /proc/%s/stat", pid).rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


# Runs on the test host (the image has no curl): prints the JSON body of a GET.
_GET = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"


def get(host, url):
    res = host.run("python3 -c %s %s", _GET, url)
    assert res.rc == 0, res.stderr
    return res.stdout


def prom(host, path):
    body = json.loads(get(host, PROM + path))
    assert body["status"] == "success", body
    return body["data"]


def query(host, expr):
    return prom(host, "/api/v1/query?query=" + urllib.parse.quote(expr))["result"]


@pytest.mark.parametrize("unit", UNITS)
def test_service_active_enabled_and_bounded(host, unit):
    service = host.service(unit)
    assert service.is_running and service.is_enabled
    props = host.check_output("systemctl show %s -p MemoryMax -p Restart", unit)
    assert "Restart=always" in props
    assert "MemoryMax=infinity" not in props


def test_everything_listens_on_loopback_only(host):
    listeners = host.check_output("ss -Htlnp")
    for unit, port in PORTS.items():
        lines = [line for line in listeners.splitlines() if f":{port} " in line]
        assert lines, f"{unit}: nothing listens on {port}"
        assert all(" 127.0.0.1:" in line for line in lines), lines
    # Alertmanager's gossip port (0.0.0.0:9094 by default) is off.
    assert ":9094 " not in listeners


def test_alertmanager_config_is_a_secret_and_valid(host):
    conf = host.file("/etc/prometheus/alertmanager.yml")
    assert (conf.user, conf.group, conf.mode) == ("root", "prometheus", 0o640)
    assert host.run("amtool check-config /etc/prometheus/alertmanager.yml").rc == 0
    status = json.loads(get(host, "http://127.0.0.1:9093/api/v2/status"))
    assert status["cluster"]["status"] == "disabled"
    # Prometheus sends to it.
    managers = prom(host, "/api/v1/alertmanagers")["activeAlertmanagers"]
    assert [m["url"] for m in managers] == ["http://127.0.0.1:9093/api/v2/alerts"]


def test_exporter_secrets_are_root_only_and_off_the_command_line(host):
    for unit in ("prometheus-postgres-exporter", "prometheus-redis-exporter"):
        conf = host.file(f"/etc/default/{unit}")
        assert conf.user == "root" and conf.mode == 0o600
    commands = host.check_output("ps -eo args")
    assert "molecule-monitor-password" not in commands
    assert "molecule-exporter-password" not in commands


def test_every_target_is_up(host):
    targets = prom(host, "/api/v1/targets?state=active")["activeTargets"]
    jobs = sorted(t["labels"]["job"] for t in targets)
    assert jobs == ["alertmanager", "node", "postgres", "prometheus", "redis"]
    assert all(t["health"] == "up" for t in targets), targets
    assert query(host, "pg_up")[0]["value"][1] == "1"
    assert query(host, "redis_up")[0]["value"][1] == "1"


def test_alert_rules_are_loaded_and_quiet(host):
    groups = prom(host, "/api/v1/rules")["groups"]
    rules = [r for g in groups for r in g["rules"] if r["type"] == "alerting"]
    assert len(rules) == 26
    assert all(r["health"] == "ok" for r in rules), [r for r in rules if r["health"] != "ok"]
    firing = [a for a in prom(host, "/api/v1/alerts")["alerts"] if a["state"] == "firing"]
    # Only the backup ones may fire: this host has no pgBackRest, so no backup metrics.
    assert {a["labels"]["alertname"] for a in firing} <= {"BackupMetricsMissing"}, firing


def test_health_sql_becomes_metrics(host):
    wraparound = {
        r["metric"]["database"]: float(r["value"][1]) for r in query(host, "ved_pg_wraparound_ratio")
    }
    assert {"postgres", "vedfin", "template1"} <= set(wraparound)
    assert all(0 <= v < 0.01 for v in wraparound.values())


def test_statement_totals_become_metrics(host):
    # pg_stat_statements per database, without query text (the exporter may read the view).
    calls = {r["metric"]["database"]: float(r["value"][1]) for r in query(host, "ved_pg_statements_calls")}
    assert calls.get("vedfin", 0) > 0 or calls.get("postgres", 0) > 0, calls
    assert query(host, "ved_pg_statements_exec_seconds")


def test_systemd_units_and_textfile_facts_are_exported(host):
    metrics = get(host, "http://127.0.0.1:9100/metrics")
    active = [line for line in metrics.splitlines() if f'name="{PG_UNIT}.service",state="active"' in line]
    assert active and active[0].endswith(" 1"), active
    # PostgresRestarted reads the unit's start time.
    assert f'node_systemd_unit_start_time_seconds{{name="{PG_UNIT}.service"' in metrics
    host.run("printf 'ved_molecule_probe 42\\n' > /var/lib/prometheus/node-exporter/molecule.prom")
    try:
        assert "ved_molecule_probe 42" in get(host, "http://127.0.0.1:9100/metrics")
    finally:
        host.run("rm -f /var/lib/prometheus/node-exporter/molecule.prom")


def test_certificate_expiry_is_exported_hourly(host):
    timer = host.service("ved-cert-expiry.timer")
    assert timer.is_running and timer.is_enabled
    [expiry] = query(host, 'ved_tls_cert_not_after_timestamp_seconds{name="postgresql"}')
    assert expiry["metric"]["path"] == "/etc/ssl/certs/ssl-cert-snakeoil.pem"
    # Debian's snakeoil certificate is made for 10 years.
    assert float(expiry["value"][1]) > time.time() + 14 * 86400
    assert query(host, 'ved_tls_cert_readable{name="postgresql"}')[0]["value"][1] == "1"


def test_stack_memory(host):
    rss_kb = sum(int(host.check_output("ps -o rss= -p %s", pid)) for pid in stack_pids(host))
    print(f"MONITORING RSS {rss_kb / 1024:.0f} MB (prometheus + 3 exporters + alertmanager)")
    record(stack_rss_mb=round(rss_kb / 1024))
    assert rss_kb < 250 * 1024


def wait_for(host, predicate, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(2)
    return None


def webhook_status(host, alertname):
    """The status ("firing"/"resolved") of the last webhook POST that carries the alert."""
    status = None
    for line in host.run("cat %s", WEBHOOK_LOG).stdout.splitlines():
        body = json.loads(line)["body"]
        if any(a["labels"]["alertname"] == alertname for a in body["alerts"]):
            status = body["status"]
    return status


def test_postgres_down_reaches_the_receivers_and_resolves(host):
    assert webhook_status(host, "PostgresDown") is None
    # The stack's CPU is measured over this whole test (scrapes, rule evaluation, delivery).
    cpu_before, wall_before = stack_cpu_seconds(host), time.monotonic()
    host.run("systemctl stop %s", PG_UNIT)
    try:
        fired = wait_for(host, lambda: webhook_status(host, "PostgresDown") == "firing", ALERT_BOUND_S + 60)
    finally:
        host.run("systemctl start %s", PG_UNIT)
    resolved = wait_for(host, lambda: webhook_status(host, "PostgresDown") == "resolved", ALERT_BOUND_S + 60)
    cpu_share = (stack_cpu_seconds(host) - cpu_before) / (time.monotonic() - wall_before)
    print(
        f"ALERT PostgresDown at the webhook {fired} s after systemctl stop, "
        f"resolved {resolved} s after systemctl start; stack CPU {cpu_share:.2%} of one core"
    )
    record(
        postgres_down_to_webhook_s=fired and round(fired),
        postgres_start_to_resolved_s=resolved and round(resolved),
        stack_cpu_share_of_one_core=round(cpu_share, 4),
    )
    assert fired is not None and fired <= ALERT_BOUND_S
    assert resolved is not None and resolved <= ALERT_BOUND_S
    # The same two messages reached the e-mail receiver (the SMTP sink prints them).
    mail = host.check_output("journalctl -u ved-test-smtp -o cat --no-pager")
    assert "PostgresDown" in mail and "[FIRING:1]" in mail and "[RESOLVED]" in mail
