#!/usr/bin/env bash
# Run one stage of a make target and print how long it took: stage.sh NAME CMD...
name=$1; shift
start=$(date +%s)
printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$name"
"$@"; rc=$?
printf '==> %s: %s in %ss\n' "$name" "$([[ $rc == 0 ]] && echo ok || echo "FAILED (rc=$rc)")" "$(( $(date +%s) - start ))"
# Times go to the repo's reports/ whatever the caller's cwd (molecule runs from a role dir).
reports="$(cd "$(dirname "$0")/.." && pwd)/reports"
mkdir -p "$reports" && printf '%s\t%s\t%s\n' "${name// /_}" "$rc" "$(( $(date +%s) - start ))" >>"$reports/stage-times.tsv"
exit $rc
