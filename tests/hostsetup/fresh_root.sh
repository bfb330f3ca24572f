#!/usr/bin/env bash
# The README's demo command on a fresh Debian, as a newcomer runs it.
#
#   fresh_root.sh SUITE AS [COMMAND]      e.g. fresh_root.sh bookworm user
#
# Builds a minimal Debian SUITE root (mmdebstrap, variant minbase, plus sudo) from the Debian
# archive, with nothing of the project in it; clones this script's checkout into it (its
# committed HEAD only), and runs COMMAND (default scripts/demo, the README's) there in a
# chroot: AS=root runs it as root, AS=user as an ordinary user whose sudo needs no password.
# Exits with the command's status, after printing what it cost on disk and on the network.
# The root gets the host's DNS settings and local CA certificates (a network whose TLS is
# proxied needs them) and nothing else; it is deleted afterwards (FRESH_ROOT_KEEP=1 keeps it).
# Needs root on the host (chroot, mounts); QEMU runs without KVM. The mirror is
# $FRESH_ROOT_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

suite=${1:?usage: fresh_root.sh SUITE root|user [COMMAND]}
as=${2:?usage: fresh_root.sh SUITE root|user [COMMAND]}
command=${3:-scripts/demo}
checkout=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
mirror=${FRESH_ROOT_MIRROR:-http://deb.debian.org/debian}
case $as in
root) home=/root ;;
user) home=/home/newcomer ;;
*) echo "fresh_root.sh: AS is root or user, not '$as'" >&2; exit 1 ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "fresh_root.sh: run it as root (it builds a Debian root and chroots into it)" >&2
    exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fresh-root.XXXXXX")
root=$work/root
cleanup() {
    if [ "${FRESH_ROOT_KEEP:-}" = 1 ]; then echo "fresh_root.sh: kept $root"; else rm -rf "$work"; fi
}
trap cleanup EXIT

stage() { printf '== fresh root %s as %s: %s (%s)\n' "$suite" "$as" "$1" "$(date -u +%T)"; }
stage "mmdebstrap $suite from $mirror"
mmdebstrap --quiet --variant=minbase --include=sudo "$suite" "$root" "$mirror"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
if [ "$as" = user ]; then
    chroot "$root" useradd --create-home --shell /bin/bash newcomer
    echo 'newcomer ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/newcomer"
    chmod 0440 "$root/etc/sudoers.d/newcomer"
fi
git clone --quiet --no-hardlinks "$checkout" "$root$home/meta-xen-dom0less"
chroot "$root" chown -R "$([ "$as" = user ] && echo newcomer: || echo root:)" \
    "$home/meta-xen-dom0less"
stage "$command in $home/meta-xen-dom0less, commit $(git -C "$checkout" rev-parse --short HEAD)"

# A private mount and PID namespace: /proc, /sys and /dev go, and any process left is
# killed, when the command ends.
run="cd ~/meta-xen-dom0less && $command"
login=(env -i "HOME=$home" "TERM=${TERM:-dumb}" LANG=C.UTF-8
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
    "DOM0LESS_TIMEOUT_SCALE=${DOM0LESS_TIMEOUT_SCALE:-1}" bash -c "$run")
if [ "$as" = user ]; then login=(runuser -u newcomer -- "${login[@]}"); fi
base_kib=$(du -sk "$root" | cut -f1)
started=$(date +%s)
status=0
unshare --mount --pid --fork --propagation private bash -c '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sys "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" "$@"' fresh-root "$root" "${login[@]}" 2>&1 | tee "$work/run.log" || status=$?
stage "$command exited $status after $(($(date +%s) - started)) s"

# What the command cost: the root's growth by place; the network as what apt reported
# fetching plus the .deb files the inputs came from (PyPI's few MB are not counted).
kib() { du -sk "$1" 2>/dev/null | cut -f1 || echo 0; }
grew=$(($(kib "$root") - base_kib))
venv=$(kib "$root$home/meta-xen-dom0less/.venv")
cache=$(kib "$root$home/.cache/xen-dom0less")
echo "disk: $((grew / 1024)) MiB in all: .venv $((venv / 1024)) MiB," \
    "~/.cache/xen-dom0less $((cache / 1024)) MiB, the rest (apt's packages)" \
    "$(((grew - venv - cache) / 1024)) MiB"
apt_mb=$(awk '$1 == "Fetched" {n = $2; u = $3; s += n * (u == "kB" ? 1e3 : u == "MB" ? 1e6 : 1e9)}
    END {printf "%d", s / 1e6}' "$work/run.log")
debs=$(($(kib "$root$home/.cache/xen-dom0less/debs") * 1024 / 1000000))
echo "network: about $((apt_mb + debs)) MB: apt $apt_mb MB, the inputs' .deb files $debs MB"
exit "$status"
