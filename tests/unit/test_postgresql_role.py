"""Static checks of the postgresql role: its variable API and its parameter list stay in sync.

No server needed: these read the role's YAML and call the pg_tune filter.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pg_tune
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "postgresql"


def load(rel: str):
    return yaml.safe_load((ROLE / rel).read_text())


@pytest.fixture(scope="module")
def role_vars():
    return load("vars/main.yml")


@pytest.fixture(scope="module")
def known(role_vars):
    return {name.lower() for name in role_vars["__postgresql_known_settings"]}


def test_known_settings_carry_a_context(role_vars):
    contexts = set(role_vars["__postgresql_known_settings"].values())
    assert contexts <= {"postmaster", "sighup", "superuser", "superuser-backend", "backend", "user"}
    assert len(role_vars["__postgresql_known_settings"]) > 300


def test_role_owned_settings_are_postgresql_parameters(role_vars, known):
    assert set(role_vars["__postgresql_role_owned"]) <= known


@pytest.mark.parametrize(
    ("workload", "storage"), list(itertools.product(pg_tune.WORKLOADS, pg_tune.STORAGES))
)
def test_every_tuned_name_passes_the_name_check(known, workload, storage):
    """validate.yml checks override names against the list; pg_tune's names must be on it too."""
    for memory, cpus in ((1024, 1), (4096, 2), (65536, 16), (262144, 64)):
        profile = {
            "total_memory_mb": memory,
            "cpus": cpus,
            "max_connections": 100,
            "storage": storage,
            "workload": workload,
            "pg_version": 15,
        }
        assert set(pg_tune.compute(profile)) <= known


def test_every_default_has_an_argument_spec():
    defaults = load("defaults/main.yml")
    specs = load("meta/argument_specs.yml")["argument_specs"]
    assert set(defaults) == set(specs["main"]["options"])
    assert specs["tune"]["options"] == specs["main"]["options"]


def test_defaults_match_argument_spec_defaults():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, value in defaults.items():
        if options[name].get("required"):
            continue
        assert options[name].get("default") == value, name


def test_every_default_is_commented():
    """Each variable sits in a paragraph (no blank line in between) that has a comment."""
    lines = (ROLE / "defaults" / "main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("postgresql_"):
            paragraph = list(itertools.takewhile(lambda text: text.strip(), reversed(lines[:i])))
            assert any(text.startswith("#") for text in paragraph), f"no comment for {line.split(':')[0]}"


def test_passwords_are_no_log():
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if "password" in name:
            assert spec.get("no_log") is True, name


def test_bad_vars_scenario_has_at_least_ten_cases():
    plays = load("molecule/bad_vars/converge.yml")
    cases = plays[0]["vars"]["__cases"]
    assert len(cases) >= 10
    assert all(case["expect"] for case in cases)


def test_replication_is_off_by_default_and_its_settings_are_role_owned(role_vars):
    """Single-host behaviour stays unchanged; the standby settings come from role variables only."""
    defaults = load("defaults/main.yml")
    assert defaults["postgresql_replication_enabled"] is False
    assert defaults["postgresql_replica_reclone"] is False
    for name in ("max_slot_wal_keep_size", "hot_standby_feedback", "max_standby_streaming_delay"):
        assert role_vars["__postgresql_role_owned"][name] == f"postgresql_{name}"


def test_bad_vars_scenario_covers_replication():
    plays = load("molecule/bad_vars/converge.yml")
    names = [case["name"] for case in plays[0]["vars"]["__cases"]]
    assert sum("replication" in name or "standby" in name for name in names) >= 3
