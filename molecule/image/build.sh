#!/usr/bin/env bash
# Build the Debian 12 systemd test-host image from Debian packages (no image registry needed)
# and import it into podman. Reuses the image when it is already present (FORCE=1 rebuilds).
set -euo pipefail

image=${VED_IMAGE:-localhost/ved-debian12-systemd:latest}
mirror=${VED_DEBIAN_MIRROR:-}
security_mirror=${VED_DEBIAN_SECURITY_MIRROR:-}

if [[ ${FORCE:-0} != 1 ]] && podman image exists "$image"; then
  echo "build-image: $image present, reusing it (FORCE=1 to rebuild)"
  exit 0
fi

# Use the mirror this machine's apt already uses (active lines only: deb822 "URIs:" or
# one-line "deb URL"), so the build works wherever apt works.
apt_uris() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -nE 's/^URIs:[[:space:]]*//p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' \
    | tr ' ' '\n'
}
[[ -n $mirror ]] || mirror=$(apt_uris | grep -E '/debian/?$' | head -n1 || true)
[[ -n $security_mirror ]] || security_mirror=$(apt_uris | grep -E '/debian-security/?$' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}
mirror=${mirror%/}; security_mirror=${security_mirror%/}

rootfs=$(mktemp -d /var/tmp/ved-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
start=$SECONDS
echo "build-image: debootstrap bookworm from $mirror into $rootfs"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,python3,python3-apt,sudo,iproute2,procps,dbus,ca-certificates,openssh-server,locales,gnupg \
  bookworm "$rootfs" "$mirror" >/var/tmp/ved-debootstrap.log 2>&1 \
  || { tail -n 30 /var/tmp/ved-debootstrap.log >&2; exit 1; }

cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
SOURCES
# Empty machine-id: systemd generates one per container at boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# Units that cannot work (or only add noise) inside a container.
for unit in getty@tty1.service systemd-udevd.service systemd-udev-trigger.service \
            systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
# sshd host keys are generated per host at first boot, never baked into the image.
rm -f "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
cat >"$rootfs/etc/systemd/system/ssh.service.d/10-hostkeys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
# No package lists are shipped: date the lists dir to the epoch so apt's cache_valid_time
# logic (Ansible's apt module) sees a stale cache and updates on first use.
touch -d @0 "$rootfs/var/lib/apt/lists"

echo "build-image: importing into podman as $image"
tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change 'ENV container=podman' \
  - "$image" >/dev/null
echo "build-image: done in $((SECONDS - start)) s, $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}')"
