#!/usr/bin/env bash
# Run one molecule scenario: molecule_scenario.sh ROLE SCENARIO
# Ansible runs at -vvv (what a user debugging a run would see) into
# reports/molecule/ROLE-SCENARIO.log, so the console stays short. The log is scanned for the
# scenario's own secret values and for tokens (tools/secret_scan.py): a secret printed at -vvv
# fails the scenario. On failure the failing tasks/tests are printed (unless the log shows a
# secret). COLUMNS is wide so molecule's frame and pytest do not wrap a failure's message.
set -uo pipefail
role=$1 scen=$2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/reports/molecule"
log=$root/reports/molecule/$role-$scen.log
echo "molecule $role/$scen: log at ${log#"$root"/}"
(cd "$root/roles/$role" && MOLECULE_ROLE=$role COLUMNS=250 ANSIBLE_VERBOSITY=3 ANSIBLE_NOCOLOR=1 \
  "$root/.venv/bin/molecule" test -s "$scen") >"$log" 2>&1
rc=$?
# Scan first: a log that shows a secret is not echoed to the console (CI keeps that output).
clean=true
# The role's bad-input table holds values too (the bad_vars scenarios run it).
sources=("$root/roles/$role/molecule/$scen")
[[ -f $root/tests/bad_vars/$role.yml ]] && sources+=("$root/tests/bad_vars/$role.yml")
"$root/.venv/bin/python" "$root/tools/secret_scan.py" "$log" "${sources[@]}" || clean=false
if (( rc != 0 )); then
  if $clean; then
    echo "molecule $role/$scen failed (rc=$rc); failing tasks and tests:"
    "$root/.venv/bin/python" "$root/tools/failure_summary.py" "$log" 40 || true
    echo "--- last 60 lines of $log"
    tail -n 60 "$log"
  else
    echo "molecule $role/$scen failed (rc=$rc); its log shows a secret, so it is not echoed here: read $log"
  fi
fi
$clean || (( rc != 0 )) || rc=1
exit "$rc"
