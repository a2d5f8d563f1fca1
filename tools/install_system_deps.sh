#!/usr/bin/env bash
# System packages the controller needs (Debian/Ubuntu, as root or with sudo): podman + runc for
# the test hosts, debootstrap for their image, PostgreSQL 15 and Redis for the pytest fixtures,
# promtool for the alert rule tests.
set -euo pipefail
pkgs=(podman runc debootstrap uidmap slirp4netns openssh-client ca-certificates
      postgresql-15 postgresql-contrib redis-server python3-venv make git)
sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_system_deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
$sudo bash "$(dirname "$0")/../molecule/image/setup-podman.sh"

# promtool (the alert rules' tests) from Debian's prometheus package, unpacked into .local/bin:
# installing the package would also start a Prometheus server on this machine.
promtool=$(cd "$(dirname "$0")/.." && pwd)/.local/bin/promtool
if [[ ! -x $promtool ]]; then
  tmp=$(mktemp -d)
  chmod 0755 "$tmp"  # apt-get download runs as _apt
  (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null) \
    || { $sudo apt-get update -qq && (cd "$tmp" && apt-get download -qq prometheus); }
  mkdir -p "$(dirname "$promtool")"
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -xO ./usr/bin/promtool >"$promtool.part"
  chmod 0755 "$promtool.part" && mv "$promtool.part" "$promtool"
  rm -rf "$tmp"
  echo "install_system_deps: $("$promtool" --version 2>&1 | head -n1) in .local/bin"
fi
