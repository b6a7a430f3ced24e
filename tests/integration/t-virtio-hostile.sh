#!/usr/bin/env bash
# t-virtio-hostile: vhostile.elf puts malformed chains on virtio-rnd and
# virtio-blk queues (loops, indices out of range, a chain longer than the
# queue, bad indirect tables, buffers outside RAM or wrapping, bad
# virtio-blk requests) through both transports.  khyve must survive each
# (the guest runs on and exits 33), flag broken rings with
# DEVICE_NEEDS_RESET on the modern transport, fail bad requests, work
# again after a reset, and never write the disk for a rejected request.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vhostile.elf" ] || { fail build "no $GUESTS/vhostile.elf (make guests)"; exit 1; }

img=$_tmp/disk.img
orig=$_tmp/orig.img
for i in $(seq 32); do printf 'khyve sect 0000\n'; done >"$img"
truncate -s 1M "$img"
cp "$img" "$orig"

hostile() { # NAME CMDLINE khyve-args...
	local name=$1 cmd=$2
	shift 2
	krun --timeout 240 -- -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/vhostile.elf" -o boot.cmdline="$cmd" "vhostile-$name"
	expect_status "$name/status" 33
	expect_no_out "$name/no-fail" 'FAIL'
	expect_out "$name/ok" '^vhostile ok$'
	expect_no_err "$name/no-sanitizer" 'AddressSanitizer|runtime error|Assertion'
}
expect_no_err() {
	if printf '%s\n' "$ERR" | grep -Eq -- "$2"; then fail "$1" "stderr has /$2/"; else pass "$1"; fi
}

for tr in modern legacy; do
	w=3000
	[ "$tr" = legacy ] && w=1500 # no NEEDS_RESET there: each case waits
	hostile "rnd-$tr" "dev=rnd transport=$tr wait=$w" -s 5,virtio-rnd,transport=$tr
	expect_out "rnd-$tr/loop" '^vhostile: loop2: recovered$'
	expect_out "rnd-$tr/too-long" '^vhostile: chain-longer-than-queue: recovered$'
	expect_out "rnd-$tr/outside-ram" '^vhostile: outside-ram: recovered$'
	if [ "$tr" = modern ]; then
		expect_out "rnd-$tr/needs-reset" '^vhostile: loop2: needs-reset '
	fi
	hostile "blk-$tr" "dev=blk transport=$tr wait=$w" -s 4,virtio-blk,"$img",transport=$tr
	expect_out "blk-$tr/beyond" '^vhostile: blk-beyond-capacity: completed .* status 1 '
	expect_out "blk-$tr/short-header" '^vhostile: blk-short-header: recovered$'
	if cmp -s "$img" "$orig"; then pass "blk-$tr/disk-intact"; else fail "blk-$tr/disk-intact" "a rejected request changed the disk"; fi
done
