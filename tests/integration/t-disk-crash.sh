#!/usr/bin/env bash
# t-disk-crash: disks lose nothing that was acknowledged.  vdisk.elf
# writes numbered blocks (block N holds N, the run's generation and a
# checksum) in batches of 1..8 requests and prints which writes and
# flushes completed OK; khyve is killed with SIGKILL at a random moment
# while it writes, then tests/tools/blkcheck checks every acknowledged
# block.  DISK_CRASH_REPS repetitions (default 50) cycle through three
# cache modes:
#   default      a block counts once a later FLUSH was acknowledged;
#   sync, direct (O_SYNC) a block counts once its write was acknowledged
#                (the guest sends no flush at all).
# Two checks per acknowledged block: (1) the image holds it intact after the
# kill; (2) from the faultio.so log of khyve's own calls, it would also
# survive a power loss: its write returned on an O_SYNC descriptor, or an
# fdatasync begun after the write returned succeeded before the guest was
# told.  (A SIGKILL does not lose the host's page cache, so (1) alone
# cannot see a missing fdatasync; (2) is the power-loss model.)
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vdisk.elf" ] || { fail build "no $GUESTS/vdisk.elf (make guests)"; exit 1; }
TOOLS=${TOOLS:-$(cd "$GUESTS/.." && pwd)/tools}
[ -x "$TOOLS/blkcheck" ] && [ -f "$TOOLS/faultio.so" ] ||
	{ fail build "no $TOOLS/blkcheck or faultio.so (make tools)"; exit 1; }
# An ASan build (make SANITIZE=1) refuses a preloaded library before its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
REPS=${DISK_CRASH_REPS:-50}
img=$_tmp/disk.img iolog=$_tmp/io.log

declare -A reps=() killed=() acked=() bad=()
for mode in default sync direct; do reps[$mode]=0 killed[$mode]=0 acked[$mode]=0 bad[$mode]=0; done
# Every process started costs a lot in the nested test VM, so the loop
# uses shell builtins only: "read -t" on a FIFO nobody writes sleeps, a
# read loop follows the guest's output.  One image serves every run: the
# generation number in each block tells a stale block from a fresh one.
truncate -s 16M "$img"
mkfifo "$_tmp/nap"
exec 5<>"$_tmp/nap"
nap() { read -r -t "$1" -u 5 _ || :; }
t0=$SECONDS
for ((i = 0; i < REPS; i++)); do
	case $((i % 3)) in
	0) mode=default opt="" flush=1 chk="" ;;
	1) mode=sync opt=",sync" flush=0 chk=-s ;;
	2) mode=direct opt=",direct" flush=0 chk=-s ;;
	esac
	: >"$iolog"
	: >"$_tmp/out"
	gen=$((RANDOM * 32768 + RANDOM + 1))
	# -o sandbox=off: with the sandbox on (the shim adds only write(2)
	# calls, so it would work) the nested test VM froze in
	# this script or t-disk-errors in 7 of 8 attempts in two runs; not
	# understood, so not kept until it is (see README, the test VM).
	FAULTIO_PATH=$img FAULTIO_LOG=$iolog LD_PRELOAD=$TOOLS/faultio.so \
	    "$KHYVE" -o sandbox=off -c 1 -m 32M -l com1,stdio -l pc-testdev \
	    -s 4,virtio-blk,"$img$opt" -o boot.kernel="$GUESTS/vdisk.elf" \
	    -o boot.cmdline="gen=$gen flush=$flush" crash-$i \
	    </dev/null >"$_tmp/out" 2>"$_tmp/err" &
	pid=$!
	# Wait for the first acknowledged batch (at most 20 s), then a random
	# 0-0.6 s more: the kill lands anywhere in the stream of requests.
	exec 4<"$_tmp/out"
	for ((w = 0; w < 400; w++)); do
		line=""
		while read -r -u 4 line; do [[ $line == [wf]\ * ]] && break 2; done
		kill -0 "$pid" 2>/dev/null || break
		nap 0.05
	done
	exec 4<&-
	nap "0.$((RANDOM % 6))$((RANDOM % 10))"
	kill -KILL "$pid" 2>/dev/null
	# A process stuck in the kernel would hang "wait": give it 20 s.
	for ((w = 0; w < 200; w++)); do
		[ -e /proc/$pid/status ] || break
		read -r _ _ state _ </proc/$pid/stat 2>/dev/null
		[ "$state" = Z ] && break
		nap 0.1
	done
	if [ "$w" = 200 ]; then
		fail "$mode/rep$i/killed" "khyve still alive 20 s after SIGKILL: $(cat /proc/$pid/wchan 2>/dev/null) $(cat /proc/$pid/stack 2>/dev/null | head -5 | tr '\n' ' ')"
		bad[$mode]=$((bad[$mode] + 1))
		break
	fi
	wait "$pid" 2>/dev/null
	STATUS=$?
	reps[$mode]=$((reps[$mode] + 1))
	[ "$STATUS" = 137 ] && killed[$mode]=$((killed[$mode] + 1))
	"$TOOLS/blkcheck" $chk -g "$gen" -l "$iolog" "$img" "$_tmp/out" >"$_tmp/res" 2>&1
	cst=$?
	while read -r l; do res=$l; done <"$_tmp/res" # the summary is last
	[[ $res =~ acked\ ([0-9]+) ]] && acked[$mode]=$((acked[$mode] + BASH_REMATCH[1]))
	[ -n "${DISK_CRASH_DEBUG:-}" ] && echo "debug: rep $i $mode at $SECONDS s: status $STATUS: $res" >&2
	if [ "$cst" != 0 ]; then
		OUT=$(tr -d '\r' <"$_tmp/out") ERR=$(cat "$_tmp/err")
		fail "$mode/rep$i" "$(tr '\n' ';' <"$_tmp/res")"
		bad[$mode]=$((bad[$mode] + 1))
	fi
done
exec 5<&-
echo "note: $T: $REPS kills in $((SECONDS - t0)) s" >&2
for mode in default sync direct; do
	[ "${reps[$mode]}" -gt 0 ] || continue
	echo "note: $T: $mode: ${reps[$mode]} runs, ${killed[$mode]} killed mid-run, ${acked[$mode]} acknowledged blocks checked, ${bad[$mode]} bad" >&2
	if [ "${bad[$mode]}" = 0 ]; then pass "$mode/acknowledged-blocks-intact-and-synced"
	else fail "$mode/acknowledged-blocks-intact-and-synced" "${bad[$mode]} of ${reps[$mode]} runs lost data"; fi
	# The test means nothing unless the kills hit running guests that had
	# blocks acknowledged.
	if [ "${acked[$mode]}" -gt 0 ] && [ $((killed[$mode] * 2)) -ge "${reps[$mode]}" ]; then
		pass "$mode/kills-hit-running-guests"
	else
		fail "$mode/kills-hit-running-guests" "${killed[$mode]} of ${reps[$mode]} runs killed, ${acked[$mode]} blocks acknowledged"
	fi
done
