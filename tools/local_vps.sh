#!/usr/bin/env bash
# The disposable local "VPS" that `make demo` provisions: a systemd test host (podman container
# from the locally built image) reached the way a real VPS is — sshd with key auth, a sudo
# user, SSH published on 127.0.0.1 only. Usage: local_vps.sh up|down|status [name]
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-status}
name=${2:-${VED_VPS_NAME:-vps1}}
image=${VED_IMAGE:-localhost/ved-debian12-systemd:latest}
ssh_port=${VED_VPS_SSH_PORT:-2222}
state_dir=.local
key=$state_dir/ssh/id_ed25519
# Host keys of the local VPSes, pinned: inventories/local uses it with StrictHostKeyChecking=yes.
known_hosts=$state_dir/ssh/known_hosts
user=ops
label=ved-db-ops.role=local-vps

ssh_ok() {
  ssh -i "$key" -p "$ssh_port" -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$known_hosts" -o ConnectTimeout=3 -o LogLevel=ERROR \
    "$user@127.0.0.1" sudo -n true 2>/dev/null
}

# Pin the container's own host keys (read inside it, not over the network) for
# [127.0.0.1]:port, replacing older entries for that port: a recreated VPS has new keys.
pin_host_keys() {
  local entry="[127.0.0.1]:$ssh_port" keys tmp
  keys=$(podman exec "$name" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' | awk -v e="$entry" 'NF >= 2 {print e, $1, $2}')
  [[ -n $keys ]] || { echo "local_vps: $name has no SSH host keys" >&2; return 1; }
  tmp=$(mktemp "$known_hosts.XXXXXX")
  { [[ -f $known_hosts ]] && awk -v e="$entry" '$1 != e' "$known_hosts"; printf '%s\n' "$keys"; } >"$tmp"
  chmod 600 "$tmp" && mv -f "$tmp" "$known_hosts"
}

case $action in
  up)
    mkdir -p "$state_dir/ssh" && chmod 700 "$state_dir" "$state_dir/ssh"
    [[ -f $key ]] || ssh-keygen -q -t ed25519 -N '' -C "ved-db-ops@local" -f "$key"
    if ! podman container exists "$name"; then
      # NET_ADMIN: the host's own network namespace gets a real nftables firewall.
      # npm cache shared with the molecule scenarios; the controller's CA bundle for npm/https.
      ca_mount=()
      [[ -f ${VED_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt} ]] && \
        ca_mount=(-v "${VED_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}:/etc/ved-host-ca.crt:ro")
      podman run -d --name "$name" --hostname "$name" --label "$label" \
        --systemd=always --cap-add NET_ADMIN \
        -v "${VED_NPM_CACHE:-ved-npm-cache}:/var/cache/ved-npm" "${ca_mount[@]}" \
        --tmpfs /tmp:rw,exec --tmpfs /run --tmpfs /run/lock \
        -p "127.0.0.1:${ssh_port}:22" \
        "$image" /sbin/init >/dev/null
      echo "local_vps: created $name"
    elif [[ $(podman inspect -f '{{.State.Running}}' "$name") != true ]]; then
      podman start "$name" >/dev/null
      echo "local_vps: started $name"
    fi
    # Wait for systemd to finish booting (useradd and sshd need it) before bootstrapping.
    for _ in $(seq 1 60); do
      state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
      [[ $state == running || $state == degraded ]] && break
      sleep 1
    done
    # What a VPS provider's cloud-init does: a sudo user with our key. Idempotent.
    podman exec -i "$name" bash -s "$user" "$(cat "$key.pub")" <tools/local_vps_bootstrap.sh >/dev/null
    # The ssh unit generates the host keys when it starts (ssh-keygen -A): wait for them.
    for _ in $(seq 1 30); do
      podman exec "$name" sh -c 'ls /etc/ssh/ssh_host_*_key.pub' >/dev/null 2>&1 && break
      sleep 1
    done
    pin_host_keys
    for _ in $(seq 1 60); do ssh_ok && break; sleep 1; done
    ssh_ok || { echo "local_vps: $name does not answer SSH on 127.0.0.1:$ssh_port" >&2; exit 1; }
    echo "local_vps: $name ready: ssh -i $key -o UserKnownHostsFile=$known_hosts -p $ssh_port $user@127.0.0.1"
    ;;
  down)
    # Only containers this script created (by name and label) are removed.
    if podman container exists "$name" && \
       [[ $(podman inspect -f '{{index .Config.Labels "ved-db-ops.role"}}' "$name") == local-vps ]]; then
      podman rm -f -t 5 "$name" >/dev/null && echo "local_vps: removed $name"
    fi
    ;;
  status)
    podman ps -a --filter "label=$label" --format '{{.Names}} {{.Status}} {{.Ports}}'
    ;;
  *)
    echo "usage: $0 up|down|status [name]" >&2; exit 2 ;;
esac
