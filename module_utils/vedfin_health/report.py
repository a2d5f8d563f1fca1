"""Render a health result (``run_health``) as a Markdown summary and a static HTML dashboard.

Plain Python; matplotlib (Agg, through ``vedfin_charts``) draws the charts, embedded as PNG
data URIs, so the HTML file needs no server and no network. Used on the controller by
tools/health_report.py; the module (library/vedfin_health.py) does not import it, so its
payload carries no rendering code.

Public API: ``format_value(check)``, ``render_markdown(result)``, ``render_html(result)``,
``write_reports(result, json_path) -> {"md": path, "html": path}``, ``load_result(path)``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ansible.module_utils.vedfin_charts import png, pyplot, read_result
from ansible.module_utils.vedfin_health.registry import SCHEMA_VERSION, HealthError
from ansible.module_utils.vedfin_health.status import STATUSES

COLORS = {"ok": "#2ca02c", "warn": "#ff9f0e", "crit": "#d62728"}
ICONS = {"ok": "OK", "warn": "WARN", "crit": "CRIT"}


def _bytes(n) -> str:
    n = float(n)
    if abs(n) < 1024:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1024
        if abs(n) < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} TB"


def format_value(check: dict) -> str:
    """The value with its unit, for people: 0.953 ratio -> '95.3 %', bytes -> '1.2 GB'."""
    value, unit = check.get("value"), check.get("unit")
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "bytes":
        return _bytes(value)
    if unit == "bytes/h":
        return _bytes(value) + "/h"
    if unit == "s":
        return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s"
    if unit in ("ms", "h"):
        return f"{value:.1f} {unit}"
    return str(value)


def _limit(check: dict) -> str:
    t = check.get("threshold")
    if not t:
        return "-"
    sign = ">=" if t["direction"] == "above" else "<="
    parts = []
    for level in ("warn", "crit"):
        if t.get(level) is not None:
            parts.append(f"{level} {sign} {format_value({'value': t[level], 'unit': check.get('unit')})}")
    return ", ".join(parts) or "-"


def _check_schema(result) -> None:
    if not isinstance(result, dict) or result.get("schema_version") != SCHEMA_VERSION:
        got = result.get("schema_version") if isinstance(result, dict) else type(result).__name__
        raise HealthError(f"unsupported health result schema_version {got!r}; expected {SCHEMA_VERSION}")


def load_result(path) -> dict:
    result = read_result(path, "health", HealthError)
    _check_schema(result)
    return result


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: dict) -> str:
    _check_schema(result)
    s = result["summary"]
    counts = ", ".join(f"{s['counts'][k]} {k}" for k in STATUSES)
    lines = [
        f"# Health of {result.get('host') or 'host'}: {ICONS[s['status']]}",
        "",
        f"Generated {result.get('generated_at')} in {result.get('duration_s')} s: {counts}.",
        "",
    ]
    bad = [c for c in result["checks"] if c["status"] != "ok"]
    if bad:
        lines += ["## Needs attention", ""]
        for c in sorted(bad, key=lambda c: -STATUSES.index(c["status"])):
            note = f" ({_md(c['note'])})" if c.get("note") else ""
            lines.append(
                f"- **{ICONS[c['status']]}** `{c['name']}` {format_value(c)}{note}. {_md(c['remedy'])}"
            )
        lines.append("")
    lines += ["## All checks", "", "| status | check | value | threshold | note |", "|---|---|---|---|---|"]
    for c in result["checks"]:
        lines.append(
            f"| {ICONS[c['status']]} | {_md(c['title'])} (`{c['name']}`) | {_md(format_value(c))} "
            f"| {_md(_limit(c))} | {_md(c.get('note') or '')} |"
        )
    return "\n".join(lines) + "\n"


# -- charts ----------------------------------------------------------------------------------
def _graded(result: dict) -> list[dict]:
    """Checks with a numeric value and a threshold: drawn as value / nearest limit."""
    out = []
    for c in result["checks"]:
        t, v = c.get("threshold"), c.get("value")
        if not t or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        limit = t.get("warn") if t.get("warn") is not None else t.get("crit")
        if limit:
            out.append(c | {"_limit": limit})
    return out


def chart_thresholds(result: dict) -> str | None:
    """One bar per graded check: how far the value is toward its first limit (1.0 = at the limit)."""
    rows = _graded(result)
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1))
    names, fills, colors = [], [], []
    for c in rows:
        ratio = c["value"] / c["_limit"]
        if c["threshold"]["direction"] == "below":
            # Lower is worse: show the shortfall, 1.0 at the warn limit.
            ratio = (
                (1 - c["value"]) / (1 - c["_limit"])
                if c["_limit"] < 1
                else c["_limit"] / max(c["value"], 1e-9)
            )
        names.append(c["name"])
        fills.append(min(ratio, 2.0))
        colors.append(COLORS[c["status"]])
    ax.barh(names, fills, color=colors)
    ax.axvline(1.0, color="#555", linestyle="--", linewidth=1)
    ax.set_xlim(0, 2.0)
    ax.invert_yaxis()
    ax.set_xlabel("value relative to its first limit (warn, else crit): 1 = at the limit; capped at 2")
    return png(fig)


def chart_status(result: dict) -> str | None:
    sections: dict[str, dict[str, int]] = {}
    for c in result["checks"]:
        sections.setdefault(c["section"], {s: 0 for s in STATUSES})[c["status"]] += 1
    if not sections:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 2.5))
    names = list(sections)
    left = [0] * len(names)
    for status in STATUSES:
        vals = [sections[n][status] for n in names]
        ax.barh(names, vals, left=left, color=COLORS[status], label=status)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("checks")
    ax.legend(loc="lower right", fontsize=8)
    return png(fig)


def _detail_of(result: dict, name: str, key: str):
    """``details[key]`` of check ``name`` when the result has it (with dict details), else None."""
    check = next((c for c in result["checks"] if c["name"] == name), None)
    details = check.get("details") if check else None
    return details.get(key) if isinstance(details, dict) else None


def chart_sizes(result: dict) -> str | None:
    tables = _detail_of(result, "pg_sizes", "tables")
    if not tables:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(tables) + 1))
    ax.barh([t["name"] for t in tables], [t["size_bytes"] / 1024**2 for t in tables], color="#1f77b4")
    ax.invert_yaxis()
    ax.set_xlabel("MB (heap + indexes + TOAST)")
    return png(fig)


def chart_statements(result: dict) -> str | None:
    rows = _detail_of(result, "pg_slow_statements", "by_total")
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1))
    labels = [f"{r['queryid'][-8:]} {r['query'][:40]}" for r in rows]
    ax.barh(labels, [r["total_ms"] for r in rows], color="#9467bd")
    ax.invert_yaxis()
    ax.set_xlabel("total execution time (ms)")
    return png(fig)


# -- HTML ------------------------------------------------------------------------------------
def _e(value) -> str:
    return html.escape("-" if value is None else str(value))


CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}.ok td:first-child{background:#dff0d8}
.warn td:first-child{background:#fcf0d0}.crit td:first-child{background:#f8d7da}
.badge{padding:.2em .6em;border-radius:.3em;color:#fff}.note{color:#666}img{max-width:100%}
"""


def _details(c: dict) -> str:
    d = c.get("details")
    if not d:
        return ""
    text = json.dumps(d, indent=1, default=str)
    if len(text) > 4000:
        text = text[:4000] + "\n..."
    return f"<details><summary>details</summary><pre>{_e(text)}</pre></details>"


def render_html(result: dict) -> str:
    _check_schema(result)
    s = result["summary"]
    rows = []
    for c in result["checks"]:
        remedy = c["remedy"]
        rows.append(
            f"<tr class='{c['status']}'><td>{ICONS[c['status']]}</td><td>{_e(c['title'])}<br>"
            f"<code>{_e(c['name'])}</code></td><td>{_e(format_value(c))}</td><td>{_e(_limit(c))}</td>"
            f"<td>{_e(c.get('note') or '')}{_details(c)}</td><td>{_e(remedy)}</td></tr>"
        )

    def img(uri, alt):
        return f'<img src="{uri}" alt="{_e(alt)}">' if uri else f"<p class='note'>{_e(alt)}: no data.</p>"

    counts = " ".join(
        f"<span class='badge' style='background:{COLORS[k]}'>{s['counts'][k]} {k}</span>" for k in STATUSES
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Health of {_e(result.get("host"))}</title>
<style>{CSS}</style></head><body>
<h1>Health of {_e(result.get("host") or "host")}:
<span class="badge" style="background:{COLORS[s["status"]]}">{ICONS[s["status"]]}</span></h1>
<p>Generated {_e(result.get("generated_at"))} in {_e(result.get("duration_s"))} s. {counts}</p>
<h2>Status per section</h2>{img(chart_status(result), "status per section")}
<h2>Checks against their warn limit</h2>{img(chart_thresholds(result), "checks against thresholds")}
<h2>Checks</h2>
<table><thead><tr><th>status</th><th>check</th><th>value</th><th>threshold</th><th>note</th>
<th>remedy</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>Largest tables</h2>{img(chart_sizes(result), "largest tables")}
<h2>Top statements by total time</h2>{img(chart_statements(result), "top statements")}
</body></html>
"""


def write_reports(result: dict, json_path) -> dict:
    """Write <stem>.md and <stem>.html beside ``json_path``; returns their paths."""
    base = Path(json_path)
    md, page = base.with_suffix(".md"), base.with_suffix(".html")
    md.write_text(render_markdown(result), encoding="utf-8")
    page.write_text(render_html(result), encoding="utf-8")
    return {"md": str(md), "html": str(page)}
