"""PostgreSQL setting values in a comparable form, and the drift from a recommendation.

The one parser of PostgreSQL units here: ``_quantity`` reads both a ``pg_settings.unit``
('8kB', 'kB', 'ms', 's', 'min') and a value with a unit suffix ('128MB', '5min').
"""

from __future__ import annotations

import re

# Memory to kB, time to ms.
_MEM = {"B": 1 / 1024, "kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}
_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)?\s*([a-zA-Z]*)\s*$")
_BOOL = {
    "on": "on",
    "off": "off",
    "true": "on",
    "false": "off",
    "yes": "on",
    "no": "off",
    "1": "on",
    "0": "off",
}


def _quantity(text: str) -> tuple[float | None, str] | None:
    """'128MB' -> (128.0, 'MB'), '8kB' -> (8.0, 'kB'), 'min' -> (None, 'min'), '300' ->
    (300.0, ''); None when ``text`` is not a number and/or a unit."""
    m = _QUANTITY.match(text)
    if not m:
        return None
    return (float(m.group(1)) if m.group(1) is not None else None), m.group(2)


def _scale(suffix: str) -> tuple[str | None, float]:
    """(kind, factor to kB or ms) of a unit suffix; (None, 1.0) for anything else."""
    if suffix in _MEM:
        return "mem", _MEM[suffix]
    if suffix in _TIME:
        return "time", _TIME[suffix]
    return None, 1.0


def normalize_setting(value, unit: str | None = None, vartype: str = "string"):
    """A setting value in a comparable form: memory in kB, time in ms, bool on/off, numbers
    as float, other strings lower-cased. ``unit`` is pg_settings.unit (the unit of a bare
    number), e.g. shared_buffers '16384' with unit '8kB' -> 131072.0 == '128MB'."""
    text = str(value).strip()
    if vartype == "bool":
        return _BOOL.get(text.lower(), text.lower())
    kind, factor = None, 1.0
    base = _quantity(unit) if unit else None
    if base:
        kind, factor = _scale(base[1])
        if kind is not None and base[0] is not None:
            factor *= base[0]
    q = _quantity(text)
    if q and q[0] is not None and vartype in ("integer", "real"):
        number, suffix = q
        if not suffix:
            return number * factor
        suffix_kind, suffix_factor = _scale(suffix)
        if kind is not None and suffix_kind == kind:
            return number * suffix_factor
    return text.lower().strip("'")


def settings_drift(rows: list[dict], recommended: dict) -> tuple[list[dict], list[str]]:
    """(differences, unknown names) between pg_settings rows and a recommendation dict."""
    by_name = {r["name"]: r for r in rows}
    diffs, unknown = [], []
    for name in sorted(recommended):
        row = by_name.get(name)
        if row is None:
            unknown.append(name)
            continue
        want = normalize_setting(recommended[name], row["unit"], row["vartype"])
        have = normalize_setting(row["setting"], row["unit"], row["vartype"])
        same = (
            abs(want - have) < 1e-9 * max(1.0, abs(want))
            if isinstance(want, float) and isinstance(have, float)
            else want == have
        )
        if not same:
            unit = row["unit"] or ""
            diffs.append(
                {
                    "name": name,
                    "current": f"{row['setting']}{' ' + unit if unit else ''}",
                    "recommended": str(recommended[name]),
                    "source": row["source"],
                }
            )
    return diffs, unknown
