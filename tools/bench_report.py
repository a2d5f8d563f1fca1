#!/usr/bin/env python3
"""Render reports/bench-<host>.json (vedfin_bench) as a self-contained .html beside it.

    tools/bench_report.py reports/bench-vps1.json [...]
    tools/bench_report.py --summary reports/bench-*.json   # also print each summary table

playbooks/bench.yml runs it on the controller after fetching the host's JSON (matplotlib is
in the controller's .venv, not on the database host). Prints one line per file.
Exit 0, or 2 when a result cannot be read or its report cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import module_utils_path

module_utils_path.register()

from ansible.module_utils.vedfin_bench import ReportError, summary_table  # noqa: E402
from ansible.module_utils.vedfin_bench.report import load_result, write_html  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", type=Path, help="bench JSON result(s)")
    ap.add_argument("--summary", action="store_true", help="also print the summary table")
    args = ap.parse_args(argv)
    for path in args.results:
        try:
            result = load_result(path)
            html = write_html(result, path.with_suffix(".html"))
        except (ReportError, OSError) as exc:
            print(f"bench_report: error: {exc}", file=sys.stderr)
            return 2
        verdict = "PASS" if result.get("passed") else "FAIL"
        print(f"{path}: {verdict} (scale {result.get('scale')}, run {result.get('run_id')}) -> {html}")
        if args.summary:
            print(summary_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
