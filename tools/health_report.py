#!/usr/bin/env python3
"""Render reports/health-<host>.json (vedfin_health) as .md and .html beside it.

    tools/health_report.py reports/health-vps1.json [...]
    tools/health_report.py --gate reports/health-*.json   # also exit 1 when a check is crit

Prints one summary line per file. Exit 0, 1 (--gate and a crit check), 2 (unreadable input).
"""

from __future__ import annotations

import argparse
import sys

import module_utils_path

module_utils_path.register()

from ansible.module_utils.vedfin_charts import ReportError  # noqa: E402
from ansible.module_utils.vedfin_health import HealthError  # noqa: E402
from ansible.module_utils.vedfin_health.report import load_result, write_reports  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="health JSON result(s)")
    ap.add_argument("--gate", action="store_true", help="exit 1 when any check is crit")
    args = ap.parse_args(argv)
    crit = []
    for path in args.results:
        try:
            result = load_result(path)
            out = write_reports(result, path)
        except (HealthError, ReportError, OSError) as exc:
            print(f"health_report: error: {exc}", file=sys.stderr)
            return 2
        s = result["summary"]
        print(f"{result.get('host') or path}: {s['status']} ({s['counts']}) -> {out['md']}, {out['html']}")
        crit += [f"{result.get('host')}:{name}" for name in s["crit"]]
    if args.gate and crit:
        print(f"health_report: crit checks: {', '.join(crit)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
