"""The check registry: one entry per check, written beside the check's function.

Each section module (postgresql, security, redis, backup, host) takes the decorator of its
section and puts it on one function per check::

    check = section("postgresql")

    @check(
        "pg_connections",
        "Connections vs max_connections",
        unit="ratio",
        anchor="connection-exhaustion",
        remedy="Find idle or leaking clients, pool connections",
        above=(0.7, 0.9),
    )
    def pg_connections(ctx) -> Outcome: ...

That fills ``CHECKS`` (name -> ``Check``: section, title, unit, runbook anchor, remedy, default
threshold, function) and, for graded checks, ``DEFAULT_THRESHOLDS`` (name -> ``{"warn",
"crit", "direction"}``; ``above=(warn, crit)``: higher is worse, ``below=(warn, crit)``: lower
is worse, ``None`` for a level that never applies). The order of ``CHECKS`` is the order of
the report: by section (``SECTIONS``), then as defined in the section's module.

A check function takes its section's context (connection, shared query results; see the
section module) and returns an ``Outcome`` (status, value, note, details); a status of
``None`` means "grade the value against the threshold" (``status.evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ansible.module_utils.vedfin_pg import VedfinError

SCHEMA_VERSION = 1
RUNBOOK = "docs/DATABASE_TROUBLESHOOTING.md"
SECTIONS = ("postgresql", "security", "redis", "backup", "host")
# Rows kept in a check's details (largest tables, top statements, slowlog entries, sessions).
TOP = 10


class HealthError(VedfinError):
    """Bad input to the health checks (unknown check, bad threshold or security option, missing
    SQL), an unreadable backup status file, or a health result file that cannot be rendered."""


class Check(NamedTuple):
    """A registered check; ``CHECKS[name][0]`` is its section, ``[3]`` its runbook anchor."""

    section: str
    title: str
    unit: str
    anchor: str
    remedy: str
    threshold: dict | None
    fn: Callable[[Any], Outcome]


class Outcome(NamedTuple):
    """What a check function returns; ``status=None``: graded from ``value`` and the threshold."""

    status: str | None = None
    value: Any = None
    note: str = ""
    details: Any = None


CHECKS: dict[str, Check] = {}
DEFAULT_THRESHOLDS: dict[str, dict] = {}


def section(name: str):
    """The ``@check(name, title, *, anchor, remedy, unit="", above=None, below=None)``
    decorator that registers the checks of section ``name``."""
    if name not in SECTIONS:
        raise ValueError(f"unknown health section {name!r}")

    def check(check_name, title, *, anchor, remedy, unit="", above=None, below=None):
        if above is not None and below is not None:
            raise ValueError(f"{check_name}: a threshold is either above or below, not both")

        def register(fn):
            if check_name in CHECKS:
                raise ValueError(f"health check {check_name!r} registered twice")
            threshold = None
            if above is not None or below is not None:
                warn, crit = above if above is not None else below
                direction = "above" if above is not None else "below"
                threshold = {"warn": warn, "crit": crit, "direction": direction}
            CHECKS[check_name] = Check(name, title, unit, anchor, remedy, threshold, fn)
            # Report order, whatever order the modules are imported in: by section, then as
            # defined in the section's module (a stable sort).
            ordered = sorted(CHECKS.items(), key=lambda item: SECTIONS.index(item[1].section))
            CHECKS.clear()
            CHECKS.update(ordered)
            DEFAULT_THRESHOLDS.clear()
            DEFAULT_THRESHOLDS.update((n, c.threshold) for n, c in CHECKS.items() if c.threshold)
            return fn

        return register

    return check


def select_checks(include=None, exclude=None) -> list[str]:
    """Check names to run, in registry order: ``include`` lists sections or check names
    (default: all), ``exclude`` check names or sections to leave out. Unknown names are a
    HealthError."""
    allowed = set(SECTIONS) | set(CHECKS)

    def expand(names, what):
        if names is None:
            return set()
        if isinstance(names, str) or not isinstance(names, (list, tuple, set)):
            raise HealthError(f"{what} must be a list of section or check names, got {names!r}")
        unknown = sorted(str(n) for n in names if n not in allowed)
        if unknown:
            raise HealthError(
                f"{what}: unknown check(s) {', '.join(unknown)}; allowed sections: {', '.join(SECTIONS)}; "
                f"checks: {', '.join(CHECKS)}"
            )
        out = set()
        for n in names:
            out |= {c for c, spec in CHECKS.items() if spec.section == n} if n in SECTIONS else {n}
        return out

    wanted = expand(include, "include") if include else set(CHECKS)
    wanted -= expand(exclude, "exclude")
    if not wanted:
        raise HealthError("include/exclude leave no check to run")
    return [c for c in CHECKS if c in wanted]
