#!/usr/bin/env bash
# ssh ProxyCommand for molecule's test hosts (molecule/vars_plugins/test_host_ssh.py):
#   test_host_sshd.sh CONTAINER PUBKEY_FILE
# Runs sshd in inetd mode (-i) inside the container through one `podman exec`, so SSH needs
# no network path, no published port and no key written into the container. The container's
# host keys are made at boot by its ssh.service; made here too in case the first connection
# wins that race (ssh-keygen -A writes each key atomically). Root may log in by key only.
set -euo pipefail
container=$1
pubkey=$(<"$2")
exec podman exec -i "$container" /bin/sh -c '
mkdir -p -m 0755 /run/sshd
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -A
exec /usr/sbin/sshd -i -o "AuthorizedKeysCommand=/bin/echo $1" -o AuthorizedKeysCommandUser=nobody \
  -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no' sh "$pubkey"
