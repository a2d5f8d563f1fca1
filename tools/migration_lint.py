#!/usr/bin/env python3
"""Safety lint for SQL migrations: ``python tools/migration_lint.py sql/migrations [files...]``.

Each argument is a directory (all its ``*.sql`` files, sorted) or a file.  Prints one line per
finding, ``file:line: rule: reason``, and exits 1 when there is any finding, 0 when clean,
2 on usage errors.  The rules, the allow comment (``-- safety: allow <rule> because
<reason>``) and the lock_timeout policy are documented in module_utils/vedfin_migration_lint.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import module_utils_path

module_utils_path.register()

from ansible.module_utils.vedfin_migration_lint import RULES, lint_paths  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="migration directories and/or .sql files")
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="the files are run by hand, not by the runner: require SET lock_timeout in every file",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also list allowed findings")
    parser.add_argument("--rules", action="store_true", help="list the rules and exit")
    args = parser.parse_args(argv)
    if args.rules:
        for name, text in RULES.items():
            print(f"{name:<26} {text}")
        return 0
    if not args.paths:
        parser.print_usage(sys.stderr)
        return 2
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print("migration_lint: no such file or directory: {}".format(", ".join(missing)), file=sys.stderr)
        return 2
    results = lint_paths(args.paths, standalone=args.standalone)
    findings = [f for r in results for f in r.findings]
    for f in findings:
        print(f.format())
    if args.verbose:
        for r in results:
            for f in r.allowed:
                print("allowed: " + f.format())
    if args.verbose or findings:
        print(
            f"{len(results)} file(s), {len(findings)} finding(s), "
            f"{sum(len(r.allowed) for r in results)} allowed",
            file=sys.stderr,
        )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
