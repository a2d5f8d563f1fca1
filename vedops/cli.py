"""``python -m vedops COMMAND [options]``: run one stage, or the whole demo, and summarise."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from vedops import ROOT
from vedops.run import Display, run_command, run_playbook
from vedops.stages import COMMANDS, DEMO, STAGES, Stage
from vedops.summary import StageResult, build_summary

SCALES = ("demo", "staging", "large")
DEFAULT_INVENTORY = "inventories/local"
# --replica: a hot standby vps2 (SSH on 127.0.0.1:2223) next to vps1, in an inventory added
# after the local one (docs/SCALE_OUT.md).
REPLICA_INVENTORY = "inventories/local-replica"
REPLICA_HOST, REPLICA_SSH_PORT = "vps2", 2223


def _extra_vars(text: str) -> dict:
    """``key=value`` (a string) or a JSON object, as ansible-playbook's -e takes them."""
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"-e JSON is not valid: {exc}") from None
        if isinstance(value, dict):
            return value
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"-e expects key=value or a JSON object, got {text!r}")
    return {key: value}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m vedops",
        description="Run the ved-db-ops playbooks through ansible-runner with a live progress line, "
        "a full log per stage in reports/logs/ and a final summary.",
        epilog="commands:\n" + "\n".join(f"  {s.name:15} {s.title}" for s in STAGES.values() if s.playbook),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("command", choices=(*COMMANDS, "run"), help="demo runs: " + ", ".join(DEMO))
    p.add_argument("playbook", nargs="?", help="for run: any playbook path")
    p.add_argument("--scale", choices=SCALES, default="demo", help="data scale (seed, bench)")
    p.add_argument(
        "-i",
        "--inventory",
        default=DEFAULT_INVENTORY,
        help=f"inventory path or inline host list (default {DEFAULT_INVENTORY})",
    )
    p.add_argument(
        "-e",
        "--extra-vars",
        dest="extra_vars",
        action="append",
        type=_extra_vars,
        default=[],
        metavar="K=V|JSON",
    )
    p.add_argument(
        "--replica",
        action="store_true",
        help=f"local inventory only: add the hot standby {REPLICA_HOST} ({REPLICA_INVENTORY}); "
        "bench reads from it while a write load runs on the primary",
    )
    p.add_argument("--check", action="store_true", help="ansible-playbook --check")
    p.add_argument("--diff", action="store_true", help="ansible-playbook --diff")
    p.add_argument("--tags", help="ansible-playbook --tags (e.g. gate for health)")
    p.add_argument("--limit", help="ansible-playbook --limit")
    p.add_argument("--reports", default=str(ROOT / "reports"), help="where the reports and logs/ go")
    return p.parse_args(argv)


def extravars_for(args: argparse.Namespace, env: dict | None = None) -> dict:
    """-e values plus the scale; on the local inventory, VED_VPS_SSH_PORT (the port
    tools/local_vps.sh publishes) overrides the inventory's ansible_port (not with --replica:
    an extra var would give both hosts one port); --replica turns on the bench's replica mode."""
    env = os.environ if env is None else env
    extra = {"scale": args.scale}
    if args.replica:
        extra["bench_replica"] = True
    elif args.inventory == DEFAULT_INVENTORY and env.get("VED_VPS_SSH_PORT"):
        extra["ansible_port"] = int(env["VED_VPS_SSH_PORT"])
    for item in args.extra_vars:
        extra.update(item)
    return extra


def inventory_for(text: str) -> str:
    """A path (relative to the repo) or ansible's inline host list ``a,b,``; ansible-runner
    takes the latter as INI text, one host a line."""
    if "," in text:
        return "".join(f"{h.strip()}\n" for h in text.split(",") if h.strip())
    return str((ROOT / text).resolve())


def inventories_for(args: argparse.Namespace) -> str | list[str]:
    """The inventory of the run: ``-i``, plus the replica's with --replica."""
    inventory = inventory_for(args.inventory)
    return [inventory, inventory_for(REPLICA_INVENTORY)] if args.replica else inventory


def vps_up_argv(args: argparse.Namespace) -> list[str]:
    """The vps-up step: the local VPS, and with --replica the standby's host too."""
    up = str(ROOT / "tools/local_vps.sh")
    if not args.replica:
        return [up, "up"]
    return ["bash", "-c", f'"{up}" up && VED_VPS_SSH_PORT={REPLICA_SSH_PORT} "{up}" up {REPLICA_HOST}']


def cmdline_for(args: argparse.Namespace) -> list[str]:
    out = []
    if args.check:
        out.append("--check")
    if args.diff:
        out.append("--diff")
    if args.tags:
        out += ["--tags", args.tags]
    if args.limit:
        out += ["--limit", args.limit]
    return out


def run_stages(names, args: argparse.Namespace, display: Display) -> list[StageResult]:
    """Run ``names`` in order; stop after a failure (later stages are reported as skipped).
    A stage whose playbook is not in the repo is reported as missing and does not stop the rest."""
    reports = Path(args.reports)
    log_dir = reports / "logs"
    inventory = inventories_for(args)
    results: list[StageResult] = []
    for name in names:
        if any(r.status == "failed" for r in results):
            results.append(StageResult(name, "skipped", note="an earlier stage failed"))
            continue
        stage = STAGES.get(name) or Stage(name, args.playbook, "")
        if stage.playbook is None:
            result = run_command(name, vps_up_argv(args), log_dir=log_dir, display=display)
        elif not (ROOT / stage.playbook).is_file():
            result = StageResult(name, "missing", note=f"{stage.playbook} not in this checkout")
        else:
            result = run_playbook(
                name,
                (ROOT / stage.playbook).resolve(),
                inventory=inventory,
                extravars=extravars_for(args),
                cmdline=cmdline_for(args),
                log_dir=log_dir,
                display=display,
            )
        display.message(
            f"[{name}] {result.status} in {result.seconds:.0f}s"
            + (f" (log {result.log})" if result.log else f": {result.note}")
        )
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (args.command == "run") != bool(args.playbook):
        print("vedops: a playbook path is given with run, and only with run", file=sys.stderr)
        return 2
    if args.replica and args.inventory != DEFAULT_INVENTORY:
        print(f"vedops: --replica adds {REPLICA_INVENTORY} to {DEFAULT_INVENTORY} only", file=sys.stderr)
        return 2
    moved = [k for k in ("VED_VPS_NAME", "VED_VPS_SSH_PORT") if args.replica and os.environ.get(k)]
    if moved:
        print(
            f"vedops: --replica uses the inventories' vps1 (port 2222) and {REPLICA_HOST} (port "
            f"{REPLICA_SSH_PORT}); unset {' and '.join(moved)}",
            file=sys.stderr,
        )
        return 2
    display = Display()
    since = time.time()
    names = DEMO if args.command == "demo" else (args.command,)
    results = run_stages(names, args, display)
    display.message(build_summary(results, Path(args.reports), since=since))
    if args.command == "demo":
        port = os.environ.get("VED_VPS_SSH_PORT", "2222")
        # The host keys local_vps.sh pinned at vps-up, not the user's ~/.ssh/known_hosts.
        ssh = "ssh -i .local/ssh/id_ed25519 -o UserKnownHostsFile=.local/ssh/known_hosts"
        display.message(
            f"\nDemo host: {ssh} -p {port} ops@127.0.0.1   (make clean removes it)\n"
            f"NocoDB:    {ssh} -p {port} -N -L 8080:127.0.0.1:8080 ops@127.0.0.1"
            "\n           then http://127.0.0.1:8080/dashboard "
            "(admin: admin@vedfin.local, password in .local/secrets/nocodb_admin)"
            f"\nPrometheus: {ssh} -p {port} -N -L 9090:127.0.0.1:9090 -L 9093:127.0.0.1:9093 ops@127.0.0.1"
            "\n           then http://127.0.0.1:9090/alerts (rules) and http://127.0.0.1:9093 (Alertmanager)"
            + (
                f"\nStandby:   {ssh} -p {REPLICA_SSH_PORT} ops@127.0.0.1   ({REPLICA_HOST})"
                if args.replica
                else ""
            )
        )
    # demo reports a stage whose playbook is not there yet and goes on; a single command fails.
    passing = ("ok", "missing") if args.command == "demo" else ("ok",)
    return 0 if all(r.status in passing for r in results) else 1
