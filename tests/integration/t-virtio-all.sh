#!/usr/bin/env bash
# t-virtio-all: virtio-blk, virtio-net (slirp), virtio-rnd and
# virtio-console on one bus at once, each driven by vall.elf with its own
# MSI-X vectors; every device must complete a request and fire its queue
# vector.  Both transports, and a mixed bus (two modern, two legacy).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vall.elf" ] || { fail build "no $GUESTS/vall.elf (make guests)"; exit 1; }

disk=$_tmp/disk.img
{ printf 'khyve vall disk!'; head -c $((1024 * 1024 - 16)) /dev/zero; } >"$disk"

all() { # NAME CMDLINE TRANSPORT-blk TRANSPORT-net TRANSPORT-rnd TRANSPORT-con
	local name=$1 cmd=$2
	krun --timeout 120 -- -c 1 -m 64M -l com1,stdio -l pc-testdev \
	    -s 0,hostbridge -s 3,virtio-blk,"$disk",transport="$3" \
	    -s 4,virtio-net,slirp,transport="$4" -s 5,virtio-rnd,transport="$5" \
	    -s 6,virtio-console,vallport="$_tmp/con.sock",transport="$6" \
	    -o boot.kernel="$GUESTS/vall.elf" -o boot.cmdline="$cmd" "vall-$name"
	expect_status "$name/status" 33
	expect_out "$name/ok" '^vall ok$'
	expect_out "$name/blk" '^vall: blk 00:03\.0 .* irqs [1-9]'
	expect_out "$name/blk-data" '^vall: blk sector 0: khyve vall disk!$'
	expect_out "$name/net" '^vall: net 00:04\.0 .* irqs [1-9]'
	expect_out "$name/rnd" '^vall: rnd 00:05\.0 .* irqs [1-9]'
	expect_out "$name/console" '^vall: console 00:06\.0 .* irqs [1-9]'
}

all legacy "transport=legacy" transitional transitional transitional transitional
expect_out legacy/is-legacy '^vall: rnd .* legacy msix'
all modern "transport=modern" modern modern modern modern
expect_out modern/is-modern '^vall: console .* modern msix'
all mixed "transport=auto" modern legacy modern legacy
expect_out mixed/blk-modern '^vall: blk .* modern msix'
expect_out mixed/net-legacy '^vall: net .* legacy msix'
