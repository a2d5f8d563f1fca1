"""Status and thresholds: how a check gets ok/warn/crit, and the check and summary dicts.

``grade(value, threshold)``: with direction ``above`` a value at or above ``warn``/``crit`` is
bad (connections, bloat), with ``below`` a value at or below is bad (hit ratios); a level set
to ``None`` never applies. Checks without a threshold are informational (status ok unless
the check sets one). ``validate_thresholds`` merges overrides into the registry's defaults;
``evaluate`` runs a section's registered check functions and turns each ``Outcome`` into the
check dict (``make_check``); ``summarize`` gives the overall status.
"""

from __future__ import annotations

from ansible.module_utils.vedfin_health.registry import CHECKS, DEFAULT_THRESHOLDS, RUNBOOK, HealthError

STATUSES = ("ok", "warn", "crit")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_thresholds(overrides) -> dict:
    """Defaults merged with ``{check: {"warn": x, "crit": y}}``; raises HealthError naming the
    check and the allowed names/values."""
    merged = {name: dict(t) for name, t in DEFAULT_THRESHOLDS.items()}
    if overrides in (None, {}):
        return merged
    if not isinstance(overrides, dict):
        raise HealthError(f"thresholds must be a mapping of check name -> {{warn, crit}}, got {overrides!r}")
    for name, spec in overrides.items():
        if name not in DEFAULT_THRESHOLDS:
            raise HealthError(
                f"thresholds: unknown or threshold-less check {name!r}; "
                f"allowed: {', '.join(sorted(DEFAULT_THRESHOLDS))}"
            )
        if not isinstance(spec, dict) or not spec or set(spec) - {"warn", "crit"}:
            raise HealthError(f"thresholds.{name} must be a mapping with keys warn and/or crit, got {spec!r}")
        for key, value in spec.items():
            if value is not None and not _number(value):
                raise HealthError(f"thresholds.{name}.{key} must be a number or null, got {value!r}")
        t = merged[name]
        t.update(spec)
        warn, crit = t["warn"], t["crit"]
        if warn is not None and crit is not None:
            wrong = warn > crit if t["direction"] == "above" else warn < crit
            if wrong:
                order = "<=" if t["direction"] == "above" else ">="
                raise HealthError(
                    f"thresholds.{name}: warn must be {order} crit (higher values are "
                    f"{'worse' if t['direction'] == 'above' else 'better'}), got warn={warn} crit={crit}"
                )
    return merged


def grade(value, threshold: dict | None) -> str:
    """ok/warn/crit of a numeric value against ``{"warn", "crit", "direction"}``."""
    if threshold is None or value is None:
        return "ok"
    above = threshold["direction"] == "above"
    for status in ("crit", "warn"):
        limit = threshold.get(status)
        if limit is not None and (value >= limit if above else value <= limit):
            return status
    return "ok"


def worst(statuses) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


def summarize(checks: list[dict]) -> dict:
    """Overall status (the worst), counts per status and the names of the crit and warn checks."""
    counts = {s: 0 for s in STATUSES}
    for c in checks:
        counts[c["status"]] += 1
    return {
        "status": worst(c["status"] for c in checks),
        "counts": counts,
        "crit": [c["name"] for c in checks if c["status"] == "crit"],
        "warn": [c["name"] for c in checks if c["status"] == "warn"],
    }


def make_check(name, value, thresholds, *, status=None, note="", details=None) -> dict:
    """The result dict of check ``name`` (registry metadata, the threshold in force from
    ``thresholds``, ``status`` or else the graded value, the remedy with its runbook link)."""
    spec = CHECKS[name]
    threshold = thresholds.get(name)
    return {
        "name": name,
        "section": spec.section,
        "title": spec.title,
        "value": value,
        "unit": spec.unit,
        "threshold": threshold,
        "status": status or grade(value, threshold),
        "remedy": f"{spec.remedy}: {RUNBOOK}#{spec.anchor}",
        "note": note,
        "details": details if details is not None else [],
    }


def unreachable(section: str, exc: Exception) -> dict:
    """The one crit ``<section>_connection`` check of a server that cannot be reached."""
    return {
        "name": f"{section}_connection",
        "section": section,
        "title": f"{section} reachable",
        "value": False,
        "unit": "",
        "threshold": None,
        "status": "crit",
        "remedy": f"Check the service, address and credentials: {RUNBOOK}#service-unreachable",
        "note": oneline(exc),
        "details": [],
    }


def evaluate(section: str, ctx, names, thresholds, on_error=None) -> list[dict]:
    """Run the registered checks of ``section`` that are in ``names``, in registry order, on
    ``ctx``. With ``on_error`` (exception -> note), a check that raises is ``warn`` with that
    note and the others still run; without it the exception propagates."""
    out = []
    for name, spec in CHECKS.items():
        if spec.section != section or name not in names:
            continue
        try:
            status, value, note, details = spec.fn(ctx)
        except Exception as exc:  # noqa: BLE001 - one failing check must not hide the others
            if on_error is None:
                raise
            status, value, note, details = "warn", None, on_error(exc), None
        out.append(make_check(name, value, thresholds, status=status, note=note, details=details))
    return out


def oneline(exc) -> str:
    """An error message on one line (psycopg and redis-py messages span several)."""
    return " ".join(str(exc).split())


def ratio(hit: float, miss: float) -> float | None:
    """hit / (hit + miss), rounded; None without any traffic."""
    return round(hit / (hit + miss), 4) if hit + miss else None
