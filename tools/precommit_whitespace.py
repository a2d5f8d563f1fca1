"""Pre-commit checks without fetching hook repos.

--eof: the file ends with exactly one newline; --trailing: no trailing whitespace.
Prints offending files and exits 1; fixes nothing.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    mode, files = argv[0], argv[1:]
    bad = []
    for name in files:
        try:
            with open(name, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if mode == "--eof" and data and (not data.endswith(b"\n") or data.endswith(b"\n\n")):
            bad.append(name)
        if mode == "--trailing" and any(
            line.rstrip(b"\r\n").endswith((b" ", b"\t")) for line in data.splitlines()
        ):
            bad.append(name)
    for name in bad:
        print(f"{mode[2:]}: {name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
