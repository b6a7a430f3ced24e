#!/usr/bin/env bash
# t-proc: what a running khyve looks like from the host: the VM's name in
# ps (bhyve's setproctitle), vCPU threads named "vcpu N" and pinned as -p
# says (repeated -p for one vCPU give it a set of host CPUs), SIGINT
# ending the VM cleanly with bhyve's power-off status, and libslirp
# mapped only when a slirp NIC needs it.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/hello.elf" ] || { fail build "no $GUESTS/hello.elf (make guests)"; exit 1; }
ncpu=$(nproc)

# start NAME ARGS...: run an idle guest in the background (lib.sh's
# bg_start) until it prints "idle"; $PID is khyve's pid.
start() {
	local name=$1; shift
	bg_start "$name" "$@" -m 64M -l com1,stdio \
	    -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline=idle
	bg_wait_out '^idle' 30
}
# vcpu_tid N: the thread id of vCPU N ("vcpu N" in comm).
vcpu_tid() {
	local t
	for t in /proc/"$PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "vcpu $1" ] && { basename "$t"; return; }
	done
}
allowed() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$PID/task/$1/status"; }

if start procvm -c 2 -p 0:0 -p 1:"$((ncpu - 1))" -p 1:0; then
	pass started
	# ps shows the VM name: the command line and the process name.
	if tr '\0' ' ' <"/proc/$PID/cmdline" | grep -q 'procvm'; then
		pass title-cmdline; else fail title-cmdline "$(tr '\0' ' ' <"/proc/$PID/cmdline")"; fi
	case $(cat "/proc/$PID/comm") in
	*procvm*) pass title-comm ;;
	*) fail title-comm "comm is $(cat "/proc/$PID/comm")" ;;
	esac
	t0=$(vcpu_tid 0) t1=$(vcpu_tid 1)
	if [ -n "$t0" ] && [ -n "$t1" ]; then pass vcpu-threads
	else fail vcpu-threads "no threads named 'vcpu 0'/'vcpu 1'"; fi
	[ -n "$t0" ] && { a=$(allowed "$t0"); [ "$a" = 0 ] && pass pin-vcpu0 || fail pin-vcpu0 "vcpu 0 allowed on $a, expected 0"; }
	want1=0; [ "$ncpu" -gt 1 ] && want1="0,$((ncpu - 1))"
	[ "$ncpu" -eq 2 ] && want1="0-1"
	[ -n "$t1" ] && { a=$(allowed "$t1"); [ "$a" = "$want1" ] && pass pin-vcpu1-set || fail pin-vcpu1-set "vcpu 1 allowed on $a, expected $want1"; }
	# The main thread is not pinned: only vCPUs are.
	a=$(allowed "$PID"); [ "$a" = "0-$((ncpu - 1))" ] || [ "$ncpu" = 1 ] && pass main-unpinned || fail main-unpinned "main thread allowed on $a"
	# libslirp (and glib with it) is loaded only for a slirp NIC
	# (src/backend/slirp_dl.c).
	libs=$(grep -Eo 'lib(slirp|glib-2\.0)[^ ]*' "/proc/$PID/maps" | sort -u | tr '\n' ' ')
	[ -z "$libs" ] && pass no-slirp-libs || fail no-slirp-libs "mapped without a slirp NIC: $libs"
	bg_stop INT 10
	expect_status sigint-status 1
else
	STATUS=$?; OUT=$(cat "$_tmp/out"); ERR=$(cat "$_tmp/err")
	fail started "the idle guest did not come up"
	kill -9 "$PID" 2>/dev/null
fi

# With a slirp NIC it is loaded, and the NIC works (t-net, t-virtio-net).
if start slirpvm -s 2,virtio-net,slirp; then
	grep -q 'libslirp\.so' "/proc/$PID/maps" && pass slirp-lib-loaded || fail slirp-lib-loaded "no libslirp in /proc/$PID/maps"
	bg_stop INT 10
	expect_status slirp-status 1
else
	fail slirp-lib-loaded "did not start: $(cat "$_tmp/err")"; kill -9 "$PID" 2>/dev/null
fi

# A cpuset set with -o (bhyve_config's vcpu.N.cpuset) takes a range.
if start rangevm -o vcpu.0.cpuset="0-$((ncpu - 1))"; then
	t0=$(vcpu_tid 0); a=$(allowed "$t0")
	[ "$a" = "0-$((ncpu - 1))" ] || [ "$ncpu" = 1 ] && pass cpuset-range || fail cpuset-range "vcpu 0 allowed on $a"
	bg_stop INT 10
	expect_status cpuset-range-status 1
else
	fail cpuset-range "did not start: $(cat "$_tmp/err")"; kill -9 "$PID" 2>/dev/null
fi

# Guest memory: -S wires it (VmLck covers the 64 MiB), and it is left out
# of core dumps (the mapping's VmFlags has "dd") unless -C.
# guest_flags: the VmFlags of the largest mapping of 64..128 MiB (guest
# RAM; an ASan build's shadow memory is far larger and is "dd" itself).
guest_flags() {
	local a rest size best=0 cur=0 flags=""
	while read -r a rest; do
		if [[ $a =~ ^([0-9a-f]+)-([0-9a-f]+)$ ]]; then
			cur=$(( 0x${BASH_REMATCH[2]} - 0x${BASH_REMATCH[1]} ))
		elif [[ $a == VmFlags: ]] && [ "$cur" -gt "$best" ] && [ "$cur" -le $((128 * 1024 * 1024)) ]; then
			best=$cur flags=$rest
		fi
	done <"/proc/$PID/smaps"
	[ "$best" -ge $((64 * 1024 * 1024)) ] && echo "$flags"
}
if start wired -S; then
	lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$PID/status")
	if grep -q __asan_init "$KHYVE"; then
		skip wired-locked "ASan build (make test SANITIZE=1): ASan's mlock interceptor locks nothing; the normal build checks VmLck"
	elif [ "${lck:-0}" -ge 65536 ]; then pass wired-locked
	else fail wired-locked "VmLck ${lck:-?} kB with -S -m 64M"; fi
	f=$(guest_flags)
	case " $f " in *" dd "*) pass nodump-default ;; *) fail nodump-default "guest mapping flags: '$f'" ;; esac
	bg_stop INT 10
	expect_status wired-status 1
else
	# RLIMIT_MEMLOCK can refuse -S: then khyve must say so and not start.
	STATUS=$?; ERR=$(cat "$_tmp/err")
	fail wired-locked "did not start with -S: $ERR"; kill -9 "$PID" 2>/dev/null
fi
if start dumpable -C; then
	lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$PID/status")
	[ "${lck:-0}" -lt 65536 ] && pass unwired-default || fail unwired-default "VmLck $lck kB without -S"
	f=$(guest_flags)
	case " $f " in *" dd "*) fail dump-with-C "guest mapping flags: '$f'" ;; "  ") fail dump-with-C "no 64 MiB mapping found" ;; *) pass dump-with-C ;; esac
	bg_stop INT 10
else
	fail dump-with-C "did not start: $(cat "$_tmp/err")"; kill -9 "$PID" 2>/dev/null
fi

# A bad cpuset from -o is a usage error found before anything runs.
krun --timeout 30 -- -m 64M -o boot.kernel="$GUESTS/hello.elf" -o vcpu.0.cpuset=0,,1 badset
expect_status bad-cpuset 64
expect_err bad-cpuset-msg 'vcpu.0.cpuset'
