"""The bad-input tables (tests/bad_vars/<role>.yml): well formed, and every variable they set is
one the role declares, so a renamed variable cannot turn a case into a silent no-op."""

from __future__ import annotations

import bad_vars_cases
import pytest
import yaml
from ansible_run import ROOT

ROLES = sorted(p.stem for p in bad_vars_cases.TABLES.glob("*.yml"))


def declared(role: str) -> set[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return {name for spec in specs["argument_specs"].values() for name in spec.get("options", {})}


@pytest.mark.parametrize("role", ROLES)
def test_table_is_well_formed_and_sets_declared_variables(role):
    good, cases = bad_vars_cases.load(role)
    assert len(cases) >= 5
    assert all(case.expect and all(case.expect) for case in cases)
    # Only a host-dependent case (real_only) may have no bad variable of its own.
    assert all(case.vars or case.real_only for case in cases), "a case with no vars tests nothing"
    names = set(good) | {name for case in cases for name in case.vars}
    assert names - declared(role) == set()


def test_duplicate_case_names_are_refused(tmp_path):
    table = tmp_path / "t.yml"
    case = {"name": "same", "vars": {"x": 1}, "expect": "x"}
    table.write_text(yaml.safe_dump({"good": {}, "cases": [case, case]}))
    with pytest.raises(ValueError, match=r"repeated: \['same'\]"):
        bad_vars_cases.load("t", table)
