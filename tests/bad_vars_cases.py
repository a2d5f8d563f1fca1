"""The one bad-variables harness: run a role with each bad input of its case table, in one
``ansible-playbook`` run, and say which case was not rejected with its message.

The tables are ``tests/bad_vars/<role>.yml``: ``good`` (variables a valid run needs) and
``cases`` (``name``, ``vars`` put on top of ``good``, ``expect``: text, or a list of texts, the
error must contain; ``real_only``: needs a real host). Every case becomes a host of a generated
inventory, with its variables as host variables (so a ``{{ vault_x }}`` value is templated when
the role reads it, as from a real inventory), each host in a group of its own (``group_names |
first`` names it). The hosts run side by side (``--forks``) and fail independently.

Two callers: ``tests/integration/test_role_bad_vars.py`` (every role, check mode on the
controller, ``--tags validate``) and the molecule ``bad_vars`` scenarios of postgresql and
nocodb (for real, against the scenario's fresh container, which must stay untouched).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from ansible_run import ROOT, run_playbook

TABLES = ROOT / "tests" / "bad_vars"
FORKS = "12"


@dataclass(frozen=True)
class Case:
    name: str
    vars: dict
    expect: tuple[str, ...]
    real_only: bool = False


def load(role: str, table: Path | None = None) -> tuple[dict, list[Case]]:
    """``(good, cases)`` of a role's table."""
    data = yaml.safe_load((table or TABLES / f"{role}.yml").read_text())
    cases = []
    for raw in data["cases"]:
        expect = raw["expect"] if isinstance(raw["expect"], list) else [raw["expect"]]
        cases.append(Case(raw["name"], raw.get("vars") or {}, tuple(expect), bool(raw.get("real_only"))))
    names = [c.name for c in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{role}: case names must be unique; repeated: {dupes}")
    return data.get("good") or {}, cases


@dataclass(frozen=True)
class Outcome:
    rejected: bool
    message: str  # what stopped the host: its last failed result's msg (and argument errors)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _why(result: dict) -> str:
    """The refusal in a failed result: its msg, the argument-spec errors, a loop's item msgs
    (not task names, assertion sources or option descriptions, which could match by chance)."""
    parts = [str(result.get("msg", ""))]
    parts += [str(e) for e in result.get("argument_errors") or []]
    parts += [str(r.get("msg", "")) for r in result.get("results") or [] if r.get("failed")]
    return _flat(" ".join(parts))


def run(role: str, good: dict, cases: list[Case], *, connection: dict, check: bool) -> tuple[dict, str]:
    """Run ``role`` once for all ``cases``: ``({case name: Outcome}, the run's whole output)``.

    ``connection``: host variables reaching the target (``ansible_connection`` ...).
    ``check``: check mode limited to ``--tags validate``; otherwise a real run.
    """
    names = [f"case{i:02d}" for i in range(len(cases))]
    inventory = {
        "all": {
            "hosts": {n: {**good, **c.vars, **connection} for n, c in zip(names, cases, strict=True)},
            "children": {f"{n}_only": {"hosts": {n: None}} for n in names},
        }
    }
    play = [{"name": f"bad variables for {role}", "hosts": "all", "gather_facts": True, "roles": [role]}]
    args = ("--forks", FORKS, *(("--tags", "validate") if check else ()))
    # ansible_run's private remote temp dir is a controller path: fine for `local`, missing on
    # a container, where Ansible's default (~/.ansible/tmp on the target) is used instead.
    # The callers' verbosity (molecule runs at -vvv) would only slow this run: its output is JSON.
    env = {"ANSIBLE_VERBOSITY": "0"}
    if connection.get("ansible_connection") != "local":
        env["ANSIBLE_REMOTE_TEMP"] = "~/.ansible/tmp"
    result = run_playbook(play, check=check, inventory=inventory, args=args, env=env, timeout=900)
    outcomes = {}
    for name, case in zip(names, cases, strict=True):
        # A host stops at its first failure that is not ignored: the last failed result.
        failed = [r for r in result.task_results(name) if r.get("failed") or r.get("unreachable")]
        outcomes[case.name] = Outcome(bool(failed), _why(failed[-1]) if failed else "")
    return outcomes, result.stdout + result.stderr


def mismatches(cases: list[Case], outcomes: dict) -> list[str]:
    """One line per case that was accepted or rejected with another message."""
    wrong = []
    for case in cases:
        got = outcomes[case.name]
        if not got.rejected:
            wrong.append(f"{case.name}: accepted")
            continue
        missing = [e for e in case.expect if _flat(e) not in got.message]
        if missing:
            wrong.append(f"{case.name}: expected {missing}, got: {got.message[:1500]}")
    return wrong


def wrong_on_container(role: str, container: str) -> list[str]:
    """Every case of the role's table run for real against a podman container (the molecule
    bad_vars scenarios): the cases not refused with their message (empty: all were)."""
    good, cases = load(role)
    connection = {
        "ansible_connection": "containers.podman.podman",
        "ansible_host": container,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    outcomes, _ = run(role, good, cases, connection=connection, check=False)
    return mismatches(cases, outcomes)
