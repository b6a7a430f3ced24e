#!/usr/bin/env bash
# t-disk-errors: a backing file whose writes, reads or flushes fail makes
# the guest see VIRTIO_BLK_S_IOERR, never OK; and after one failed
# fdatasync every later flush (and write) fails too, even though the host
# file system would report success again (Linux reports a write-back error
# once per open file, so forgetting it would lose data silently).
# The errors come from tests/tools/faultio.so (LD_PRELOAD: pwritev, pwrite,
# preadv, pread, fdatasync fail with EIO or ENOSPC on the image, after N
# good calls, for M calls), and from a real full file system: a 256 KiB
# tmpfs holding a sparse 4 MiB image (needs root to mount; skipped
# otherwise).  vdisk.elf (mode=ops) prints "op OP status S" for each request.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vdisk.elf" ] || { fail build "no $GUESTS/vdisk.elf (make guests)"; exit 1; }
TOOLS=${TOOLS:-$(cd "$GUESTS/.." && pwd)/tools}
[ -x "$TOOLS/blkcheck" ] && [ -f "$TOOLS/faultio.so" ] ||
	{ fail build "no $TOOLS/blkcheck or faultio.so (make tools)"; exit 1; }
# An ASan build (make SANITIZE=1) refuses a preloaded library before its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
img=$_tmp/disk.img

# ops NAME OPS DISKOPTS [VAR=VALUE...]: a fresh 1 MiB image, vdisk.elf
# running OPS, faultio.so with the given FAULTIO_* settings.
ops() {
	local name=$1 list=$2 dopt=$3
	shift 3
	rm -f "$img"
	truncate -s 1M "$img"
	unset FAULTIO_OPS FAULTIO_ERRNO FAULTIO_AFTER FAULTIO_COUNT
	export FAULTIO_PATH="$img" LD_PRELOAD="$TOOLS/faultio.so" "$@"
	# -o sandbox=off: the shim adds no system call to an I/O but the
	# log's write, so the sandbox could stay on; but with it on the nested
	# test VM froze in this script or t-disk-crash in 7 of 8 attempts over
	# two full runs (not understood), so it stays off for now.
	krun --timeout 60 -- -o sandbox=off -c 1 -m 32M -l com1,stdio -l pc-testdev -s 4,virtio-blk,"$img$dopt" \
	    -o boot.kernel="$GUESTS/vdisk.elf" -o boot.cmdline="mode=ops gen=7 ops=$list" "err-$name"
	unset LD_PRELOAD FAULTIO_PATH
	expect_status "$name/status" 33
}
# st NAME OP S: the guest printed "op OP status S".
st() { expect_out "$1/$2" "^op $2 status $3( |\$)"; }

# Writes failing with EIO / ENOSPC (the second write only): IOERR for it,
# OK for the others, and the data of the good ones is on disk.
for e in EIO ENOSPC; do
	n=write-$e
	ops "$n" w0,w1,w2,f,r0,r1,r2 "" FAULTIO_OPS=write FAULTIO_ERRNO=$e FAULTIO_AFTER=1 FAULTIO_COUNT=1
	st "$n" w0 0; st "$n" w1 1; st "$n" w2 0; st "$n" f 0
	expect_out "$n/r0-intact" '^op r0 status 0 intact 1$'
	expect_out "$n/r1-not-written" '^op r1 status 0 intact 0$'
	expect_out "$n/r2-intact" '^op r2 status 0 intact 1$'
done

# The same with sync (O_SYNC): the failing write itself reports it.
ops write-sync w0,w1,r1 ",sync" FAULTIO_OPS=write FAULTIO_ERRNO=EIO FAULTIO_COUNT=1
st write-sync w0 1; st write-sync w1 0
expect_out write-sync/r1-intact '^op r1 status 0 intact 1$'

# Reads failing: IOERR, never data.
ops read-eio w0,r0,r0 "" FAULTIO_OPS=read FAULTIO_ERRNO=EIO FAULTIO_COUNT=1
st read-eio w0 0; st read-eio r0 1
expect_out read-eio/r0-again '^op r0 status 0 intact 1$'

# One fdatasync fails (EIO, ENOSPC); the shim lets every later one succeed.
# khyve must fail that flush and every later flush and write: the pages
# whose write-back failed may be gone, and Linux will not say so again.
for e in EIO ENOSPC; do
	n=flush-$e
	ops "$n" w0,f,w1,f,w2,f,r0 "" FAULTIO_OPS=sync FAULTIO_ERRNO=$e FAULTIO_COUNT=1
	st "$n" w0 0
	if [ "$(printf '%s\n' "$OUT" | grep -c '^op f status 1$')" = 3 ]; then
		pass "$n/every-flush-fails"
	else
		fail "$n/every-flush-fails" "flush statuses: $(printf '%s\n' "$OUT" | grep '^op f ' | tr '\n' ';')"
	fi
	st "$n" w1 1; st "$n" w2 1
	expect_out "$n/reads-work" '^op r0 status 0 intact 1$'
	expect_err "$n/message" 'flushing .* failed'
done
# Control: the same requests without a fault all succeed.
ops no-fault w0,f,w1,f,r0 "" FAULTIO_OPS=
st no-fault f 0; st no-fault w1 0
expect_no_out no-fault/no-ioerr 'status 1'

# A real full file system: a 256 KiB tmpfs, a 4 MiB sparse image, 100
# blocks of 4 KiB: the first fit, the rest must come back IOERR, and
# every block acknowledged must be on disk.
mnt=$_tmp/small
mkdir -p "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=256k khyve-enospc "$mnt" 2>/dev/null; then
	skip enospc-tmpfs "cannot mount a tmpfs here (needs root)"
else
	truncate -s 4M "$mnt/disk.img"
	krun --timeout 120 -- -c 1 -m 32M -l com1,stdio -l pc-testdev \
	    -s 4,virtio-blk,"$mnt/disk.img" -o boot.kernel="$GUESTS/vdisk.elf" \
	    -o boot.cmdline="mode=ops gen=9 ops=w0-99,f" err-enospc
	expect_status enospc-tmpfs/status 33
	okn=$(printf '%s\n' "$OUT" | grep -c '^op w[0-9]* status 0$')
	errn=$(printf '%s\n' "$OUT" | grep -c '^op w[0-9]* status 1$')
	if [ "$okn" -gt 0 ] && [ "$errn" -gt 0 ] && [ $((okn + errn)) = 100 ]; then
		pass enospc-tmpfs/statuses
	else
		fail enospc-tmpfs/statuses "$okn writes OK, $errn IOERR, of 100"
	fi
	printf '%s\n' "$OUT" | sed -n 's/^op w\([0-9]*\) status 0$/w \1 \1/p' >"$_tmp/acks"
	if res=$("$TOOLS/blkcheck" -s -g 9 "$mnt/disk.img" "$_tmp/acks"); then
		pass enospc-tmpfs/acknowledged-intact
	else
		fail enospc-tmpfs/acknowledged-intact "$res"
	fi
	echo "note: $T: full tmpfs: $okn writes OK, $errn IOERR" >&2
	umount "$mnt"
fi
