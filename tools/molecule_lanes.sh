#!/usr/bin/env bash
# Run molecule scenarios side by side: molecule_lanes.sh JOBS ROLE...
# Every scenario of every named role runs (tools/molecule_scenario.sh), JOBS at a time; each
# one's console lines are held until it ends and then printed whole, so lanes never interleave.
# All scenarios run even when one fails; the exit status is non-zero if any failed.
# Scenarios have fixed, distinct host names (ved-<role>-<scenario>), so two lanes never share a
# host; the only shared things are the test-host image (read-only) and the npm cache volume.
set -uo pipefail
jobs=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/reports/molecule"

run_one() {
  local root=$1 role=${2%/*} scen=${2#*/}
  local console=$root/reports/molecule/$role-$scen.console
  "$root/tools/stage.sh" "molecule $role/$scen" "$root/tools/molecule_scenario.sh" "$role" "$scen" >"$console" 2>&1
  local rc=$?
  cat "$console"
  # 0 or 1 only: xargs stops launching the remaining scenarios when a command exits 255.
  return $(( rc == 0 ? 0 : 1 ))
}
export -f run_one

scenarios=()
for role in "$@"; do
  for dir in "$root/roles/$role"/molecule/*/; do
    [[ -f $dir/molecule.yml ]] && scenarios+=("$role/$(basename "$dir")")
  done
done
echo "molecule: ${#scenarios[@]} scenarios, $jobs at a time"
# xargs exits 123 when any command failed; every scenario still runs.
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$0" "$1"' "$root" {}
