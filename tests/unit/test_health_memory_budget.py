"""Health check ``host_memory_budget``: the postgresql role's memory budget graded against RAM.
No server needed: the check reads only the budget the playbook passes."""

from __future__ import annotations

import re

import pg_tune
import pytest
from ansible.module_utils import vedfin_health as vh
from ansible.module_utils.vedfin_health import host as vh_host

MIB = 1024 * 1024
RESERVED = {"os": 512, "redis": 882, "nocodb": 768, "monitoring": 512}


def check(budget, thresholds=None):
    (out,) = vh.host_checks(["host_memory_budget"], vh.validate_thresholds(thresholds), None, budget)
    return out


def test_registered_in_the_host_section_with_a_runbook_anchor():
    spec = vh.CHECKS["host_memory_budget"]
    assert (spec.section, spec.unit, spec.anchor) == ("host", "bytes", "memory-budget")
    assert vh.DEFAULT_THRESHOLDS["host_memory_budget"] == {"warn": 1, "crit": None, "direction": "above"}
    assert vh_host.PG_TUNE_MIN_MEMORY_MB == pg_tune.MIN_MEMORY_MB


def test_a_budget_that_fits_is_ok():
    out = check(pg_tune.budget(4096, RESERVED))
    assert (out["status"], out["value"]) == ("ok", 0)
    assert (
        out["note"]
        == "os 512 + redis 882 + nocodb 768 + monitoring 512 + PostgreSQL 1422 = 4096 of 4096 MB RAM"
    )
    assert out["details"]["reservations"] == RESERVED and out["details"]["over_mb"] == 0
    assert out["remedy"].endswith("docs/DATABASE_TROUBLESHOOTING.md#memory-budget")


def test_an_explicit_postgresql_tune_memory_mb_beyond_the_share_warns():
    out = check(pg_tune.budget(4096, RESERVED, 3072))
    assert (out["status"], out["value"]) == ("warn", 1650 * MIB)
    assert "PostgreSQL is tuned for 3072 MB (postgresql_tune_memory_mb)" in out["note"]
    assert "leave 1422 of 4096 MB RAM" in out["note"]


def test_reservations_that_leave_less_than_pg_tunes_minimum_warn():
    # What health.yml gets (strict=False) when the reservations grew past RAM after the role ran.
    out = check(pg_tune.budget(2048, RESERVED, strict=False))
    assert (out["status"], out["value"]) == ("warn", (2674 + 256 - 2048) * MIB)
    assert "leave PostgreSQL -626 of 2048 MB RAM, below pg_tune's minimum 256 MB" in out["note"]
    assert "it was tuned for 256 MB" in out["note"]


def test_the_threshold_can_tolerate_an_overlap():
    budget = pg_tune.budget(4096, RESERVED, 1600)  # 178 MB over
    assert check(budget)["status"] == "warn"
    assert check(budget, {"host_memory_budget": {"warn": 256 * MIB}})["status"] == "ok"
    assert check(budget, {"host_memory_budget": {"crit": 100 * MIB}})["status"] == "crit"


def test_without_a_budget_the_check_only_says_so():
    out = check(None)
    assert (out["status"], out["value"]) == ("ok", None)
    assert out["note"] == "no memory budget given (not a PostgreSQL host)"


@pytest.mark.parametrize(
    ("budget", "words"),
    [
        ([1], "memory_budget must be a mapping"),
        ({"ram_mb": 4096, "reservations": {}}, "memory_budget is missing postgresql_mb"),
        ({"ram_mb": "4096", "reservations": {}, "postgresql_mb": 1}, "ram_mb must be integers of MB"),
        ({"ram_mb": 0, "reservations": {}, "postgresql_mb": 1}, "ram_mb must be integers of MB (ram_mb > 0)"),
        (
            {"ram_mb": 4096, "reservations": {"os": -1}, "postgresql_mb": 1},
            "reservations.os must be integers",
        ),
        ({"ram_mb": 4096, "reservations": [512], "postgresql_mb": 1}, "reservations must be integers"),
        ({"ram_mb": 4096, "reservations": {}, "postgresql_mb": True}, "postgresql_mb must be integers"),
    ],
)
def test_bad_budgets_are_rejected_before_contact(budget, words):
    with pytest.raises(vh.HealthError, match=re.escape(words)):
        vh.validate_memory_budget(budget)
    # run_health validates it before it connects to anything (no server is given here).
    with pytest.raises(vh.HealthError, match=re.escape(words)):
        vh.run_health(None, None, include=["host"], memory_budget=budget)


def test_run_health_passes_the_budget_to_the_host_section():
    result = vh.run_health(
        None, None, include=["host_memory_budget"], memory_budget=pg_tune.budget(4096, RESERVED)
    )
    (out,) = result["checks"]
    assert (out["name"], out["status"], out["details"]["postgresql_mb"]) == ("host_memory_budget", "ok", 1422)
    assert vh.validate_memory_budget({}) is None
