"""Every role's variable API, checked the same way: defaults/main.yml is where a default
lives, meta/argument_specs.yml documents it (type, choices, description) and must agree.

No host needed: these read the roles' YAML.
"""

from __future__ import annotations

import itertools
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
