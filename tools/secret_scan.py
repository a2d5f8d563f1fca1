#!/usr/bin/env python3
"""Look for secrets in Ansible logs: the molecule scenarios run at -vvv and must not print one.

The secrets are the values the scenario itself sets (any YAML key naming a password,
passphrase, secret, token or key, in the scenario's files), plus anything shaped like a JWT
(NocoDB's xc-auth tokens are made at run time, so no file names them). Every hit is printed
masked; exit 1 when there is one. Usage: secret_scan.py LOG SCENARIO_DIR|YAML_FILE [...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

SECRET_KEY = re.compile(r"(password|passphrase|passwd|secret|token|cipher_pass|encrypt_key|api_key)$", re.I)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
MIN_LENGTH = 8  # shorter values would match ordinary words
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A line break with molecule's frame ("  │ ") and indentation: where a long line was wrapped.
WRAP = re.compile(r"\n[ \t]*(?:\u2502[ \t]*)?")


def secret_values(node, key: str = "") -> set[str]:
    """String values under secret-named keys, anywhere in a YAML document."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            found |= secret_values(v, str(k))
    elif isinstance(node, list):
        for item in node:
            found |= secret_values(item, key)
    elif isinstance(node, str) and SECRET_KEY.search(key) and len(node) >= MIN_LENGTH and "{{" not in node:
        found.add(node)
    return found


def scenario_secrets(scenario_dir: Path) -> set[str]:
    """Secret values in a scenario's YAML files (or in one YAML file)."""
    found: set[str] = set()
    files = [scenario_dir] if scenario_dir.is_file() else sorted(scenario_dir.rglob("*.yml"))
    for path in files:
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        for doc in docs:
            found |= secret_values(doc)
    return found


def mask(value: str) -> str:
    return value[:3] + "…" + f"({len(value)} chars)"


def scan(log_text: str, secrets: set[str]) -> list[str]:
    """One line per leak: which secret (masked) or JWT, and the first log line it is on."""
    lines = log_text.splitlines()
    unwrapped = None  # built only when a secret is not on any one line
    hits = []
    for secret in sorted(secrets):
        for number, line in enumerate(lines, 1):
            if secret in line:
                hits.append(f"line {number}: secret {mask(secret)}")
                break
        else:
            if unwrapped is None:
                unwrapped = WRAP.sub("", ANSI.sub("", log_text))
            if secret in unwrapped:
                hits.append(f"secret {mask(secret)}, split over a wrapped line")
    for number, line in enumerate(lines, 1):
        match = JWT.search(line)
        if match:
            hits.append(f"line {number}: a JWT {mask(match.group(0))}")
    return hits


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    log = Path(argv[0])
    secrets: set[str] = set()
    for scenario in argv[1:]:
        secrets |= scenario_secrets(Path(scenario))
    hits = scan(log.read_text(errors="replace"), secrets)
    for hit in hits:
        print(f"secret-scan: {log}: {hit}")
    print(f"secret-scan: {log}: {len(secrets)} secret values looked for, {len(hits)} found")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
