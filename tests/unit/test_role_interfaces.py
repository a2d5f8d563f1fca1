"""Every role's variable API, checked the same way: defaults/main.yml is where a default
lives, meta/argument_specs.yml documents it (type, choices, description) and must agree.

No host needed: these read the roles' YAML.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
ROLE_NAMES = sorted(p.parent.parent.name for p in ROLES.glob("*/meta/argument_specs.yml"))
SECRET_WORDS = ("password", "passphrase", "cipher_pass", "token", "secret", "encrypt_key")


def load(role: str, rel: str):
    return yaml.safe_load((ROLES / role / rel).read_text()) or {}


def specs(role: str) -> dict:
    return load(role, "meta/argument_specs.yml")["argument_specs"]


def is_template(value) -> bool:
    return isinstance(value, str) and "{{" in value


def test_every_role_has_an_interface():
    roles_with_tasks = sorted(p.parent.parent.name for p in ROLES.glob("*/tasks/main.yml"))
    assert roles_with_tasks == ROLE_NAMES


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_default_has_an_argument_spec(role):
    entry_points = specs(role)
    options = entry_points["main"]["options"]
    assert set(load(role, "defaults/main.yml")) == set(options)
    # Other entry points (e.g. postgresql's `tune`) take the same variables.
    for name, entry in entry_points.items():
        assert entry.get("options", options) == options, name


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_argument_spec_defaults_match_the_role_defaults(role):
    """A default stated in the spec equals the role default, word for word. Only a templated
    default (it depends on other variables) may be left out of the spec."""
    options = specs(role)["main"]["options"]
    for name, value in load(role, "defaults/main.yml").items():
        spec = options[name]
        if spec.get("required"):
            continue
        if "default" in spec:
            assert spec["default"] == value, f"{role}: {name} drifted between defaults and argument_specs"
        else:
            assert is_template(value), f"{role}: {name} has a literal default its spec does not state"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_default_is_commented(role):
    """Each variable sits in a paragraph (no blank line in between) that has a comment."""
    lines = (ROLES / role / "defaults" / "main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{role}_"):
            paragraph = list(itertools.takewhile(lambda text: text.strip(), reversed(lines[:i])))
            assert any(text.startswith("#") for text in paragraph), (
                f"{role}: no comment for {line.split(':')[0]}"
            )


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_option_is_described(role):
    for name, spec in specs(role)["main"]["options"].items():
        assert spec.get("description"), f"{role}: {name} has no description"
        assert spec.get("type"), f"{role}: {name} has no type"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_secrets_are_no_log(role):
    for name, spec in specs(role)["main"]["options"].items():
        if any(word in name for word in SECRET_WORDS):
            assert spec.get("no_log") is True, f"{role}: {name}"


# `role_var | default(literal)` where that role's defaults may not be loaded (a playbook that
# does not run the role, another role reading it: the postgresql role's memory budget reads
# the redis, nocodb and monitoring settings): the fallback must be the role's own default, or
# the two drift apart.
PLAYBOOKS = ROLES.parent / "playbooks"
FALLBACK_FILES = (
    sorted(PLAYBOOKS.glob("*.yml"))
    + sorted(PLAYBOOKS.glob("tasks/*.yml"))
    + sorted(ROLES.glob("*/tasks/*.yml"))
    + sorted(ROLES.glob("*/defaults/main.yml"))
)
FALLBACK = re.compile(r"\b([a-z][a-z0-9_]*)\s*\|\s*default\(\s*('[^']*'|\"[^\"]*\"|-?\d+|true|false)\s*[,)]")


def role_defaults() -> dict[str, object]:
    out: dict[str, object] = {}
    for role in ROLE_NAMES:
        out.update(load(role, "defaults/main.yml"))
    return out


def resolve(defaults: dict, name: str):
    """A role default, through defaults that only name another role variable
    (pgbackrest_pg_port: "{{ postgresql_port | default(5432) }}" -> postgresql_port's)."""
    value = defaults[name]
    match = re.fullmatch(r"\{\{\s*([a-z][a-z0-9_]*)\s*\|\s*default\((.*)\)\s*\}\}", str(value))
    if not match:
        return value
    return resolve(defaults, match[1]) if match[1] in defaults else yaml.safe_load(match[2])


def test_playbook_fallbacks_equal_the_role_defaults():
    defaults = role_defaults()
    drifted, seen = [], 0
    for path in FALLBACK_FILES:
        for name, literal in FALLBACK.findall(path.read_text()):
            if name not in defaults:
                continue  # not a role variable (scale, backup_hosts, ...)
            seen += 1
            value, default = yaml.safe_load(literal), resolve(defaults, name)
            if str(value) != str(default):
                drifted.append(
                    f"{path.relative_to(ROLES.parent)}: {name} | default({literal}), role default {default!r}"
                )
    assert seen > 0
    assert not drifted, "\n".join(drifted)
