#!/bin/sh
# Install what khyve's build and tests need on Debian 12, plus any package
# named as an argument (bench/deps.sh adds its own that way).  Idempotent,
# and silent when everything is already there.
set -e
PKGS="gcc make binutils libc6-dev linux-libc-dev pkg-config libslirp-dev libseccomp-dev qemu-system-x86 busybox-static linux-image-amd64 cpio kmod python3 acpica-tools gdb clang libclang-rt-14-dev"
PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
