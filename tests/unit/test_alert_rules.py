"""The alert rules of roles/monitoring/files/rules, checked by the tool that runs them:
`promtool check rules` and `promtool test rules` (Prometheus 2.42's promtool, unpacked from
Debian's package by `make deps` into .local/bin). Beside that: every alert has a test case
where it fires and one where it stays quiet, and links to a runbook section that exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "roles" / "monitoring" / "files" / "rules"
RULE_FILES = sorted(RULES.glob("*.rules.yml"))
TEST_FILES = sorted((RULES / "tests").glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "DATABASE_TROUBLESHOOTING.md"


def promtool() -> str:
    found = shutil.which("promtool") or str(ROOT / ".local" / "bin" / "promtool")
    if not Path(found).exists():
        pytest.fail("promtool not found: run `make deps` (it unpacks it into .local/bin)")
    return found


def alerts() -> dict[str, dict]:
    out = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            out.update({r["alert"]: r for r in group["rules"] if "alert" in r})
    return out


def test_rules_are_valid():
    cmd = [promtool(), "check", "rules", *map(str, RULE_FILES)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_rule_unit_tests_pass():
    cmd = [promtool(), "test", "rules", *map(str, TEST_FILES)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=RULES / "tests")
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-6000:]


def test_every_alert_has_a_firing_and_a_quiet_case():
    firing, quiet = set(), set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = set(alerts())
    assert names, "no alert rules found"
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_links_to_a_runbook_section():
    anchors = {anchor(h) for h in re.findall(r"^#{2,3} (.+)$", RUNBOOK.read_text(), re.M)}
    for name, rule in alerts().items():
        url = rule["annotations"]["runbook_url"]
        path, _, fragment = url.partition("#")
        assert path == "docs/DATABASE_TROUBLESHOOTING.md" and fragment in anchors, f"{name}: {url}"
        assert rule["labels"]["severity"] in ("warning", "critical"), name
