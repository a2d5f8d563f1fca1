#!/usr/bin/env python3
"""Print why a `make test` log failed, in a few lines, for the end of a CI log.

CI keeps only the tail of the output, where molecule says a scenario failed but not which
task. This reads the whole log and, for each stage that failed (tools/stage.sh's
"==> NAME: FAILED" line), prints its failing Ansible tasks (name, msg/stdout/stderr) and
pytest's FAILED/ERROR lines with the "E" lines that say why. Errors Ansible ignored
("...ignoring") and stages that passed are left out. Usage: failure_summary.py LOG [MAX_LINES]
"""

import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BOX = re.compile(r"^\s*│ ?")  # molecule's frame around the ansible output
TASK = re.compile(r"^TASK \[(.*)\]")
ANSIBLE_FAIL = re.compile(r"^(fatal|failed): \[[^\]]*\]")
KEY = re.compile(r"^\s+[A-Za-z_]+:( |$)")
DETAIL = re.compile(r"^\s+(msg|stdout|stderr|attempts|evaluated_to|assertion): ?(.*)")
PYTEST_FAIL = re.compile(r"^(FAILED|ERROR) \S+\.py")  # pytest's short summary
PYTEST_WHY = re.compile(r"^E {2,}\S")  # pytest's explanation of a failed assert/exception
# pytest -v (molecule's testinfra verifier): "path.py::test[...] FAILED [ 94%]", which
# molecule's frame may wrap onto a second line.
PYTEST_VERBOSE_FAIL = re.compile(r"\b(FAILED|ERROR) \[\s*\d+%\]$")
STAGE_END = re.compile(r"^==> (.*): (ok|FAILED.*) in \d+s$")
WIDTH = 900


def _clean(raw):
    return BOX.sub("", ANSI.sub("", raw.rstrip("\n")))


def summarise(lines):
    """Failure lines of the failed stages, in log order."""
    out, stage, task, fail, prev, in_detail = [], [], "", None, "", False

    def close_fail(ignored):
        nonlocal fail
        if fail is not None and not ignored:
            stage.append(" ".join(fail)[:WIDTH])
        fail = None

    for raw in lines:
        line = _clean(raw)
        if fail is not None:
            if m := DETAIL.match(line):
                fail.append(f"{m.group(1)}: {m.group(2).strip()}")
                in_detail = True
                continue
            if line.startswith((" ", "\t")) and line.strip():
                if KEY.match(line):
                    in_detail = False  # another key of the failed result: not shown
                elif in_detail:
                    fail[-1] += " " + line.strip()  # a long msg wrapped by the callback
                continue
            close_fail(ignored=line.startswith("...ignoring"))
        if m := TASK.match(line):
            task = m.group(1)
        elif m := ANSIBLE_FAIL.match(line):
            # The result follows "=>" on the same line (JSON) or below it (YAML callback).
            rest = line[m.end() :].split("=>", 1)[-1].strip()
            fail, in_detail = [f"task [{task}] {m.group(0)} {rest}".rstrip()], False
        elif PYTEST_WHY.match(line) or PYTEST_FAIL.match(line):
            stage.append(line[:WIDTH])
        elif PYTEST_VERBOSE_FAIL.search(line):
            test = line.strip() if ".py::" in line else prev.strip() + line.strip()
            stage.append(test[:WIDTH])
        elif m := STAGE_END.match(line):
            if m.group(2).startswith("FAILED"):
                out.extend(stage)
                out.append(line)
            stage = []
        prev = line
    close_fail(ignored=False)
    return out + stage


def main(argv):
    path = argv[1]
    limit = int(argv[2]) if len(argv) > 2 else 20
    with open(path, encoding="utf-8", errors="replace") as f:
        found = summarise(f)
    print(f"==> Why it failed (the last {limit} of {len(found)} line(s) found in {path}):")
    for line in found[-limit:] or ["(no failing task or test found in the log)"]:
        print("    " + line)


if __name__ == "__main__":
    main(sys.argv)
