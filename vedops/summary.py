"""The final summary: per stage status/time/counts, then what the reports say. Pure functions
over StageResult values and the JSON reports the playbooks fetch into reports/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StageResult:
    name: str
    status: str  # ok | failed | missing | skipped
    seconds: float = 0.0
    totals: dict = field(default_factory=dict)  # recap summed over hosts (progress.totals)
    log: str | None = None
    failures: list = field(default_factory=list)
    note: str = ""
    hosts: list = field(default_factory=list)  # the hosts in the recap


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def stage_table(results: list[StageResult]) -> str:
    rows = []
    for r in results:
        t = r.totals
        rows.append(
            [
                r.name,
                r.status,
                f"{r.seconds:.0f}s",
                str(t.get("ok", "-")) if t else "-",
                str(t.get("changed", "-")) if t else "-",
                str(t.get("failures", 0) + t.get("dark", 0)) if t else "-",
                r.note,
            ]
        )
    return table(["stage", "status", "time", "ok", "changed", "failed", "note"], rows)


def _mine(path: Path, prefix: str, since: float | None, hosts) -> bool:
    """Written at or after ``since`` for one of ``hosts`` (others belong to another run)."""
    if since is not None and path.stat().st_mtime < since:
        return False
    return hosts is None or path.stem.removeprefix(prefix) in hosts


def _fresh_json(
    paths: list[Path], since: float | None, hosts=None, prefix: str = ""
) -> list[tuple[Path, dict]]:
    """Readable JSON reports of this run (see _mine)."""
    out = []
    for p in sorted(paths):
        if not _mine(p, prefix, since, hosts):
            continue
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            out.append((p, data))
    return out


def bench_targets(report: dict) -> dict:
    """Enforced checks of a bench report: met / missed (names) / not applicable, and the verdict."""
    met, missed, na = [], [], []
    for check in report.get("checks") or []:
        if not check.get("enforced") or check.get("passed") is None:
            na.append(check.get("name"))
        elif check.get("passed"):
            met.append(check.get("name"))
        else:
            missed.append(check.get("name"))
    return {"met": met, "missed": missed, "na": na, "passed": bool(report.get("passed"))}


def _health_checks(report: dict) -> list[dict]:
    checks = report.get("checks")
    if isinstance(checks, dict):  # {"postgresql": [...], "redis": [...]} or {"name": {...}}
        flat = []
        for value in checks.values():
            flat += value if isinstance(value, list) else [value]
        checks = flat
    return [c for c in checks or [] if isinstance(c, dict) and "status" in c]


def health_counts(report: dict) -> dict:
    """{"ok": n, "warn": n, "crit": n} and the names of the non-ok checks."""
    counts = {"ok": 0, "warn": 0, "crit": 0}
    problems = []
    for c in _health_checks(report):
        status = str(c["status"]).lower()
        counts[status] = counts.get(status, 0) + 1
        if status != "ok":
            problems.append(f"{status}: {c.get('name') or c.get('check') or '?'}")
    return {"counts": counts, "problems": problems}


def report_lines(reports_dir: Path, since: float | None = None, hosts=None) -> list[str]:
    """What the JSON reports in ``reports_dir`` (written since ``since``, for ``hosts`` if
    given) say, one block each."""
    lines = []
    for path, rep in _fresh_json(list(reports_dir.glob("bench-*.json")), since, hosts, "bench-"):
        t = bench_targets(rep)
        lines.append(
            f"bench {path.stem.removeprefix('bench-')} (scale {rep.get('scale')}): "
            f"targets met {len(t['met'])}, missed {len(t['missed'])}, n/a {len(t['na'])} -> "
            + ("PASS" if t["passed"] else "FAIL")
        )
        lines += [f"    missed: {name}" for name in t["missed"]]
    for path, rep in _fresh_json(list(reports_dir.glob("health-*.json")), since, hosts, "health-"):
        h = health_counts(rep)
        c = h["counts"]
        lines.append(
            f"health {path.stem.removeprefix('health-')}: " + ", ".join(f"{k} {v}" for k, v in c.items())
        )
        lines += [f"    {p}" for p in h["problems"]]
    for path, rep in _fresh_json(
        list(reports_dir.glob("restore-verify-*.json")), since, hosts, "restore-verify-"
    ):
        durations = rep.get("durations_seconds") or {}
        backup = rep.get("backup") or {}
        lines.append(
            f"restore-verify {path.stem.removeprefix('restore-verify-')}: {rep.get('status', '?')}"
            f" (backup {backup.get('label', '?')}, {len(rep.get('tables') or [])} tables compared"
            + (f", RTO estimate {durations['rto_estimate']}s" if "rto_estimate" in durations else "")
            + ")"
            + (f": {rep['error']}" if rep.get("error") else "")
        )
    html = [
        p for p in sorted(reports_dir.glob("*.html")) if _mine(p, p.stem.split("-", 1)[0] + "-", since, hosts)
    ]
    if html:
        lines.append("HTML reports:")
        lines += [f"    {p.resolve()}" for p in html]
    return lines


def build_summary(results: list[StageResult], reports_dir: Path, since: float | None = None) -> str:
    total = sum(r.seconds for r in results)
    out = ["", "Summary", stage_table(results), f"total {total:.0f}s"]
    failures = [f for r in results for f in r.failures]
    if failures:
        out += ["", "Failures:"] + [f"    {f}" for f in failures]
    hosts = {h for r in results for h in r.hosts} or None
    reports = report_lines(reports_dir, since, hosts)
    if reports:
        out += ["", *reports]
    logs = [r.log for r in results if r.log]
    if logs:
        out += ["", "Full logs:"] + [f"    {log}" for log in logs]
    return "\n".join(out)
