#!/bin/sh
# What bench/run needs beyond scripts/deps.sh (the build and tests):
# gnuplot for the charts.  Idempotent, silent when all is there.
set -e
sh "$(dirname "$0")/../scripts/deps.sh"
PKGS="gnuplot-nox qemu-system-x86 python3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "bench deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
