"""The identity of a seed: presets, limits and the validation of the caller's parameters.

The identity of a seed is ``(preset, seed, users, courses, behavior_logs, days, anchor_date,
generator version)``; the same identity gives byte-identical table contents.
``normalize_params`` validates and canonicalises it; the ledger stores it (``identity``).
"""

from __future__ import annotations

import datetime as _dt

from ansible.module_utils.vedfin_pg import VedfinError

GENERATOR_VERSION = 2  # 2: the app's real schema (issue 16) and its NULLs

PRESETS = {
    "demo": {"users": 200, "courses": 25, "behavior_logs": 6000, "days": 30},
    "staging": {"users": 10_000, "courses": 100, "behavior_logs": 1_000_000, "days": 180},
    "large": {"users": 100_000, "courses": 500, "behavior_logs": 10_000_000, "days": 365},
}

# Upper bounds: anything above is a typo, not a plan.
LIMITS = {"users": 10**8, "courses": 10**5, "behavior_logs": 10**9, "days": 3650}
COUNT_KEYS = ("users", "courses", "behavior_logs", "days")


class SeedError(VedfinError):
    """A refusal or failure of the seeder; the message names the cause."""


def today() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date()


def as_int(name, value):
    """``value`` as an int (ints, integral floats, digit strings); SeedError naming ``name``."""
    if isinstance(value, bool):
        raise SeedError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise SeedError(f"{name} must be an integer, got {value!r}")


def normalize_params(
    preset="demo",
    seed=1,
    users=None,
    courses=None,
    behavior_logs=None,
    days=None,
    anchor_date=None,
):
    """Validate and canonicalise the identity of a seed.  Raises SeedError naming the input.

    Returns a dict with every key filled except possibly ``anchor_date`` (None = decide
    later: the recorded anchor of a matching seed, else today).
    """
    if preset is None:
        preset = "custom"
    if preset != "custom" and preset not in PRESETS:
        raise SeedError(
            "unknown preset {!r}: choose one of {} (or 'custom' with explicit counts)".format(
                preset, ", ".join(sorted(PRESETS))
            )
        )
    base = dict(PRESETS.get(preset, {}))
    given = {"users": users, "courses": courses, "behavior_logs": behavior_logs, "days": days}
    out = {"preset": preset}
    seed = as_int("seed", seed)
    if not 0 <= seed < 2**63:
        raise SeedError(f"seed must be between 0 and 2**63-1, got {seed}")
    out["seed"] = seed
    for key in COUNT_KEYS:
        value = given[key] if given[key] is not None else base.get(key)
        if value is None:
            raise SeedError(f"preset 'custom' needs an explicit {key}")
        value = as_int(key, value)
        if value < 1:
            raise SeedError(f"{key} must be at least 1, got {value}")
        if value > LIMITS[key]:
            raise SeedError(f"{key}={value} is absurd (limit {LIMITS[key]})")
        out[key] = value
    if anchor_date is not None and anchor_date != "":
        if isinstance(anchor_date, _dt.datetime):
            anchor_date = anchor_date.date()
        if not isinstance(anchor_date, _dt.date):
            try:
                anchor_date = _dt.date.fromisoformat(str(anchor_date).strip())
            except ValueError:
                raise SeedError(f"anchor_date must be an ISO date YYYY-MM-DD, got {anchor_date!r}") from None
        if (
            not _dt.date(2000, 1, 1) + _dt.timedelta(days=out["days"] + 400)
            <= anchor_date
            <= _dt.date(2200, 1, 1)
        ):
            raise SeedError(f"anchor_date {anchor_date} is out of range")
        out["anchor_date"] = anchor_date.isoformat()
    else:
        out["anchor_date"] = None
    out["generator"] = GENERATOR_VERSION
    return out


def identity(params):
    """The keys of ``params`` that identify a seed (what the ledger compares)."""
    return {k: params[k] for k in ("preset", "seed", *COUNT_KEYS, "anchor_date", "generator")}


def without_anchor(params):
    return {k: v for k, v in identity(params).items() if k != "anchor_date"}


def describe(p):
    """One line naming a seed's parameters (for refusals)."""
    return "preset={} seed={} users={} courses={} behavior_logs={} days={} anchor_date={}".format(
        p.get("preset"),
        p.get("seed"),
        p.get("users"),
        p.get("courses"),
        p.get("behavior_logs"),
        p.get("days"),
        p.get("anchor_date"),
    )
