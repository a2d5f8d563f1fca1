#!/bin/bash
# Runs inside the fresh test host (args: user, public key): the cloud-init part of a VPS.
set -eu
user=$1
pubkey=$2
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo "$user"
# The base role's sshd AllowGroups (base_sshd_allow_groups' default): keep the user in it.
getent group sshusers >/dev/null || groupadd --system sshusers
usermod -aG sshusers "$user"
install -d -m 700 -o "$user" -g "$user" "/home/$user/.ssh"
grep -qxF "$pubkey" "/home/$user/.ssh/authorized_keys" 2>/dev/null \
  || echo "$pubkey" >>"/home/$user/.ssh/authorized_keys"
chown "$user:$user" "/home/$user/.ssh/authorized_keys"
chmod 600 "/home/$user/.ssh/authorized_keys"
[ -f "/etc/sudoers.d/90-$user" ] || { echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" >"/etc/sudoers.d/90-$user"; chmod 440 "/etc/sudoers.d/90-$user"; }
# Key auth only, as on a hardened VPS.
printf 'PasswordAuthentication no\nPermitRootLogin no\n' >/etc/ssh/sshd_config.d/10-ved.conf
systemctl enable --now ssh >/dev/null 2>&1
systemctl reload ssh >/dev/null 2>&1 || true
