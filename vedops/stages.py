"""The stages vedops knows: one playbook each, and the order `demo` runs them in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    playbook: str | None  # relative to the repo; None for a non-Ansible step
    title: str


STAGES = {
    s.name: s
    for s in (
        Stage("vps-up", None, "create/start the local test host (tools/local_vps.sh up)"),
        Stage("site", "playbooks/site.yml", "converge everything, in order (site.yml)"),
        Stage("seed", "playbooks/seed.yml", "ops migrations + deterministic seed"),
        Stage("bench", "playbooks/bench.yml", "analytics benchmark, JSON + HTML report"),
        Stage("health", "playbooks/health.yml", "health checks, JSON + Markdown + HTML dashboard"),
        Stage("backup", "playbooks/backup.yml", "on-demand pgBackRest backup"),
        Stage("restore-verify", "playbooks/restore_verify.yml", "restore into a scratch instance and verify"),
        Stage("tune", "playbooks/tune.yml", "tuning rollout (use --check --diff to preview)"),
        Stage("monitoring", "playbooks/monitoring.yml", "Prometheus, Alertmanager, exporters; what fires"),
    )
}

# `demo`: a fresh machine to a measured, backed-up and restore-verified host; health after the
# backup, so it grades the backup the demo just took (before it, a fresh host has none: crit);
# monitoring last, so the alerts it lists see the backup, the drill and the health results.
DEMO = ("vps-up", "site", "bench", "backup", "restore-verify", "health", "monitoring")

COMMANDS = ("demo", *(n for n in STAGES if n != "vps-up"))
