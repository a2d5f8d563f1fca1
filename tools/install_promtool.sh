#!/usr/bin/env bash
# promtool (the alert rules' tests, tests/unit/test_alert_rules.py) from the distribution's
# prometheus package, unpacked into .local/bin: installing the package would also start a
# Prometheus server on this machine. Run by `make deps` (tools/install_system_deps.sh).
set -euo pipefail
sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
promtool=$(cd "$(dirname "$0")/.." && pwd)/.local/bin/promtool
[[ -x $promtool ]] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"  # apt-get download runs as _apt
(cd "$tmp" && apt-get download -qq prometheus 2>/dev/null) \
  || { $sudo apt-get update -qq && (cd "$tmp" && apt-get download -qq prometheus); }
mkdir -p "$(dirname "$promtool")"
dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -xO ./usr/bin/promtool >"$promtool.part"
chmod 0755 "$promtool.part" && mv "$promtool.part" "$promtool"
echo "install_promtool: $("$promtool" --version 2>&1 | head -n1) in .local/bin"
