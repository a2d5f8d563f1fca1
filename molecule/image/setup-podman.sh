#!/usr/bin/env bash
# Configure podman on this machine so it can run systemd test hosts.
# Detects two quirks of sandboxed CI machines and adapts only when present,
# so the same script is a no-op on a normal cgroup-v2 host (e.g. a GitHub runner):
#   - no CAP_SYS_RESOURCE for root: podman's default ulimits fail with
#     "setrlimit RLIMIT_NOFILE: Operation not permitted" -> cap them at the hard limits;
#   - cgroups v1/hybrid: crun refuses ("cgroups in hybrid mode not supported") -> use runc.
set -euo pipefail

conf_dir=/etc/containers/containers.conf.d
conf_file="$conf_dir/50-ved-db-ops.conf"
mkdir -p "$conf_dir"

ulimits=""
capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
# CAP_SYS_RESOURCE is capability bit 24.
if (( (16#$capeff >> 24 & 1) == 0 )); then
  nofile=$(ulimit -Hn)
  [[ $nofile == unlimited ]] && nofile=1048576
  # runc fails to apply an nproc limit equal to the host's hard limit here
  # ("error setting rlimit type 6"); a test host needs far fewer processes anyway.
  nproc=4096
  # systemd in the test host wants a generous nofile; stay within the hard limits.
  ulimits="default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]"
  echo "setup-podman: no CAP_SYS_RESOURCE, capping container ulimits at nofile=$nofile nproc=$nproc"
fi

runtime=""
if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
  command -v runc >/dev/null || { echo "setup-podman: cgroups v1/hybrid needs runc (apt-get install runc)" >&2; exit 1; }
  runtime='runtime = "runc"'
  echo "setup-podman: cgroups v1/hybrid detected, using runc"
fi

tmp=$(mktemp)
{
  echo "# Written by ved-db-ops molecule/image/setup-podman.sh; safe to delete."
  echo "[containers]"
  [[ -n $ulimits ]] && echo "$ulimits"
  echo "[engine]"
  [[ -n $runtime ]] && echo "$runtime"
} >"$tmp"
if ! cmp -s "$tmp" "$conf_file" 2>/dev/null; then
  install -m 0644 "$tmp" "$conf_file"
  echo "setup-podman: wrote $conf_file"
fi
rm -f "$tmp"
