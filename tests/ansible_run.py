"""Run our custom modules (or small playbooks) through real ``ansible-playbook`` in tests.

Usage::

    from ansible_run import run_module
    from ansible.module_utils.vedfin_pg import params_from_conninfo

    result = run_module("vedfin_migrate", {**params_from_conninfo(pg_db), "path": str(d)},
                        check=True)
    assert result["changed"] and not result.get("failed")

How it works
    A temporary one-play playbook (``hosts: localhost``, ``connection: local``,
    ``gather_facts: false``) is written with the module arguments as ``!unsafe`` YAML values,
    so strings containing ``{{ }}`` reach the module verbatim.  It runs with the repo's
    ansible.cfg (``library``, ``module_utils``, collections from .venv; the env also sets
    ``ANSIBLE_LIBRARY``/``ANSIBLE_MODULE_UTILS`` so any cwd works), an inline ``localhost,``
    inventory (no dependency on inventories/), the ``ansible.posix.json`` stdout callback
    (ansible-core has no JSON stdout callback of its own) with every other callback
    disabled, and private local/remote temp dirs.  The module runs under this test's Python
    (``ansible_python_interpreter = sys.executable``), so psycopg and friends are importable.

Results
    ``run_module`` returns the task's result dict as the json callback reports it
    (``changed``, ``failed``, ``msg``, the module's return values, ``warnings`` ...).  A module
    failure is *returned* (``result["failed"] is True``), not raised; ``AnsibleRunError`` is
    raised only when ansible itself did not produce a task result (bad playbook, unknown
    module, callback missing...), with stdout/stderr attached.  ``run_playbook`` is the
    general form: any list of plays (or YAML text, or a path) -> ``PlaybookRun``.

Public API
    ``run_module(name, args, check=False, *, diff=False, extra_vars=None, env=None,
    timeout=300, python=None) -> dict``
    ``run_playbook(playbook, *, check=False, diff=False, extra_vars=None, env=None,
    timeout=300, inventory=None, args=()) -> PlaybookRun`` with ``.rc``, ``.data`` (parsed JSON), ``.stdout``,
    ``.stderr``, ``.task_results(host='localhost') -> list[dict]``
    ``repo_playbook_on_localhost(playbook, groups) -> list`` (plays for ``run_playbook``)
    ``AnsibleRunError``
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def repo_playbook_on_localhost(playbook: str, groups: list[str]) -> list:
    """Plays that run the repo's ``playbooks/<playbook>`` against localhost, first put into the
    inventory ``groups`` the playbook targets (add_host, tagged always so a --tags run keeps it)."""
    add = {"ansible.builtin.add_host": {"name": "localhost", "groups": list(groups)}, "tags": ["always"]}
    return [
        {"name": "inventory", "hosts": "localhost", "gather_facts": False, "tasks": [add]},
        {"import_playbook": str(ROOT / "playbooks" / playbook)},
    ]


class AnsibleRunError(RuntimeError):
    """ansible-playbook did not produce the expected JSON/task result."""


class _Unsafe(str):
    """A string dumped as ``!unsafe '...'`` so that Ansible never templates it."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, value: _Unsafe):
    return dumper.represent_scalar("!unsafe", str(value), style="'")


_Dumper.add_representer(_Unsafe, _represent_unsafe)


def _mark_unsafe(value):
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, dict):
        return {k: _mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark_unsafe(v) for v in value]
    if isinstance(value, Path):
        return _Unsafe(str(value))
    return value


def _ansible_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise AnsibleRunError(f"{name} not found next to {sys.executable} or on PATH")
    return found


@dataclass
class PlaybookRun:
    rc: int
    data: dict
    stdout: str
    stderr: str

    def task_results(self, host: str = "localhost") -> list[dict]:
        """The results of ``host`` for every task of every play, in order."""
        out = []
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                if host in task.get("hosts", {}):
                    result = dict(task["hosts"][host])
                    result.setdefault("_task", task.get("task", {}).get("name"))
                    out.append(result)
        return out


def _base_env(tmp: Path, extra: dict | None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_LIBRARY": str(ROOT / "library"),
            "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
            "ANSIBLE_FILTER_PLUGINS": str(ROOT / "filter_plugins"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            # Replace ansible.cfg's list (profile_tasks would print into the JSON) by the stdout
            # callback itself: an empty value is not accepted by ansible-core 2.19.
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.json",
            "ANSIBLE_JSON_INDENT": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(tmp / "local"),
            "ANSIBLE_REMOTE_TEMP": str(tmp / "remote"),
            "ANSIBLE_HOME": str(tmp / "home"),
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
        }
    )
    env.update(extra or {})
    return env


def run_playbook(
    playbook: list | str | Path,
    *,
    check: bool = False,
    diff: bool = False,
    extra_vars: dict | None = None,
    env: dict | None = None,
    timeout: float = 300,
    inventory: dict | None = None,
    args: tuple[str, ...] = (),
) -> PlaybookRun:
    """Run ``ansible-playbook`` on a list of plays, YAML text or a playbook path.

    The inventory is the inline ``localhost,`` (plays should use ``connection: local``) unless
    ``inventory`` gives one (a YAML inventory as a dict, written as is: its strings may be
    templates). ``args`` are more command-line arguments (``--tags``, ``--forks`` ...).
    ``extra_vars`` are passed as an ``@file`` (JSON).  Returns the parsed json-callback output
    whatever the exit code; raises AnsibleRunError if there is no parsable JSON.
    """
    with tempfile.TemporaryDirectory(prefix="ved-ansible-") as tmpdir:
        tmp = Path(tmpdir)
        if isinstance(playbook, Path) or (isinstance(playbook, str) and "\n" not in playbook):
            pb_path = Path(playbook)
        else:
            pb_path = tmp / "playbook.yml"
            text = (
                playbook
                if isinstance(playbook, str)
                else yaml.dump(playbook, Dumper=_Dumper, sort_keys=False)
            )
            pb_path.write_text(text)
        hosts = "localhost,"
        if inventory is not None:
            hosts = str(tmp / "inventory.yml")
            Path(hosts).write_text(yaml.safe_dump(inventory, sort_keys=False))
        cmd = [_ansible_bin("ansible-playbook"), "-i", hosts, str(pb_path), *args]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            ev = tmp / "extra_vars.json"
            ev.write_text(json.dumps(extra_vars))
            cmd += ["-e", f"@{ev}"]
        proc = subprocess.run(
            cmd,
            cwd=str(ROOT),
            env=_base_env(tmp, env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    stdout = proc.stdout
    start = stdout.find("{")
    try:
        data = json.loads(stdout[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise AnsibleRunError(
            f"ansible-playbook (rc={proc.returncode}) printed no JSON result\n"
            f"--- stdout ---\n{stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return PlaybookRun(proc.returncode, data, stdout, proc.stderr)


def run_module(
    name: str,
    args: dict,
    check: bool = False,
    *,
    diff: bool = False,
    extra_vars: dict | None = None,
    env: dict | None = None,
    timeout: float = 300,
    python: str | None = None,
) -> dict:
    """Run one module on localhost through ansible-playbook and return its task result.

    ``args`` go to the module verbatim (never templated).  ``check``/``diff`` map to
    ``--check``/``--diff``.  ``python`` is the interpreter for the module (default: the one
    running the tests).  A failed module gives ``result["failed"] is True`` and its ``msg``.
    ``failed`` and ``changed`` are always present; ``_task`` holds the task name.
    """
    play = {
        "name": f"run {name}",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": python or sys.executable},
        "tasks": [{"name": f"module {name}", name: _mark_unsafe(dict(args))}],
    }
    run = run_playbook([play], check=check, diff=diff, extra_vars=extra_vars, env=env, timeout=timeout)
    results = run.task_results("localhost")
    if not results:
        raise AnsibleRunError(
            f"no task result for localhost (rc={run.rc})\n"
            f"--- stdout ---\n{run.stdout[-4000:]}\n--- stderr ---\n{run.stderr[-4000:]}"
        )
    result = results[-1]
    result.setdefault("failed", False)
    result.setdefault("changed", False)
    return result
