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

bash "$(dirname "$0")/install_promtool.sh"
