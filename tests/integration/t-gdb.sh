#!/usr/bin/env bash
# t-gdb: the gdb stub (-G), driven by Debian's gdb in batch mode against
# gdbt.elf (tests/guests/gdbt.c), a 32-bit guest with symbols.
#
#   A. -G w, 2 vCPUs: registers on attach, threads, stepi, read and write a
#      variable, detach; the guest prints the value gdb wrote.
#   B. software breakpoint (break): stop at a symbol, int3 hidden from
#      memory reads, step, continue to the end.
#   C. hardware breakpoint (hbreak) and watchpoint (watch).
#   D. -G without w, gdb.arch=i386, PAE paging, a spinning guest: junk,
#      bad checksums, an oversized packet and clients that vanish at
#      various points first, then gdb attaches to the running guest,
#      reads through the page tables, switches threads, is interrupted
#      with Ctrl-C and detaches; last a raw client stops the guest, puts
#      an int3 in (hidden from reads), lets the guest go and drops the
#      connection without a detach: the guest runs on and finishes.
#
# B and C need KVM to trap the guest's int3 and debug registers.  The
# nested test VM (KVM on QEMU 7.2 TCG's SVM) cannot: TCG checks an int3
# only against the INTn intercept, not the #BP exception intercept KVM
# sets for KVM_GUESTDBG_USE_SW_BP, so the guest takes its own #BP; and
# its VMRUN loads DR7 from the VMCB without arming TCG's breakpoints, so
# debug registers never fire.  There the test reports SKIP with what it
# saw (the guest's #BP, or a run straight through), and FAIL if the stub
# itself misbehaved.  Single-step (TF) does work there.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
command -v gdb >/dev/null || { skip all "gdb is not installed (scripts/deps.sh)"; exit 0; }
G=$GUESTS/gdbt.elf
[ -f "$G" ] || { fail build "no $G (make guests)"; exit 1; }
# The nested test VM starts without a loopback interface.
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true

GDBOUT=""
KPID=""
# (No python here: in the nested test VM starting it takes ~20 s.)
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 \
		    2>/dev/null || { echo "$p"; return; }
	done
}
# client PORT CMD...: connect, send what CMD prints, linger, hang up.
client() {
	local port=$1
	shift
	{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	"$@" >&3 2>/dev/null
	sleep 0.3
	exec 3>&-
}
# A raw client on fd 3: pkt PAYLOAD prints a packet; reply reads one
# into REPLY_PKT.
pkt() {
	local d=$1 sum=0 c i
	for ((i = 0; i < ${#d}; i++)); do
		printf -v c '%d' "'${d:i:1}"
		sum=$(((sum + c) & 255))
	done
	printf '$%s#%02x' "$d" "$sum"
}
reply() {
	local r cs
	IFS= read -r -d '#' -t 120 r <&3 || return 1
	IFS= read -r -n 2 -t 10 cs <&3
	REPLY_PKT=${r#*\$}
}
all_bytes() {
	local i all
	all=$(printf '\\%03o' $(seq 0 255))
	for ((i = 0; i < 16; i++)); do printf "$all"; done
}
oversized() { printf '$'; head -c 20000 /dev/zero | tr '\0' m; printf '#00'; }

# kstart ARGS...: khyve in the background; stdout/stderr in $_tmp.
kstart() {
	echo "note: t=$SECONDS kstart" >&2
	"$KHYVE" "$@" >"$_tmp/kout" 2>"$_tmp/kerr" </dev/null &
	KPID=$!
}
# kwait_out REGEX SECONDS: wait for the guest to print REGEX.
kwait_out() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		tr -d '\r' <"$_tmp/kout" | grep -Eq -- "$1" && return 0
		kill -0 "$KPID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
# kwait_listen PORT SECONDS
kwait_listen() {
	local hex end=$((SECONDS + $2))
	hex=$(printf '%04X' "$1")
	while ((SECONDS < end)); do
		grep -q ":$hex 00000000:0000 0A" /proc/net/tcp 2>/dev/null && return 0
		kill -0 "$KPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# kend SECONDS: wait for khyve to exit (kill it after SECONDS); sets
# STATUS, OUT, ERR for lib.sh's expect_* helpers.
kend() {
	echo "note: t=$SECONDS kend start" >&2
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$KPID" 2>/dev/null; then
		kill -TERM "$KPID" 2>/dev/null
		sleep 1
		kill -KILL "$KPID" 2>/dev/null
	fi
	wait "$KPID"
	STATUS=$?
	OUT=$(tr -d '\r' <"$_tmp/kout")
	ERR=$(tr -d '\r' <"$_tmp/kerr")
	echo "note: t=$SECONDS kend end" >&2
}
alive() { kill -0 "$KPID" 2>/dev/null; }
# rungdb ARCH PORT CMDS...: gdb in batch mode on gdbt.elf; ARCH amd64
# needs the architecture set before the 32-bit ELF is loaded.
rungdb() {
	echo "note: t=$SECONDS rungdb start" >&2
	local arch=$1 port=$2 pre=()
	shift 2
	[ "$arch" = amd64 ] && pre=(-ex 'set architecture i386:x86-64')
	local args=()
	for c in "$@"; do args+=(-ex "$c"); done
	: >"$_tmp/gdbout"
	gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
	    "${pre[@]}" -ex "file $G" -ex "target remote 127.0.0.1:$port" \
	    "${args[@]}" >"$_tmp/gdbout" 2>&1 </dev/null &
	# Deadlines in seconds, not loop counts: forks are slow in the
	# nested test VM.
	local gpid=$! end=$((SECONDS + ${GDB_TIMEOUT:-90}))
	# Ctrl-C: SIGINT to gdb once it waits in "continue" (see D).  gdb
	# flushes its output after each command but not the "Continuing."
	# of a continue that waits: the command before it echoes a mark.
	if [ -n "${GDB_SIGINT_AFTER:-}" ]; then
		while ((SECONDS < end)); do
			[[ $(<"$_tmp/gdbout") == *ctrl-c-next* ]] && break
			kill -0 "$gpid" 2>/dev/null || break
			sleep 0.2
		done
		sleep "$GDB_SIGINT_AFTER"
		kill -INT "$gpid" 2>/dev/null
		end=$((SECONDS + ${GDB_TIMEOUT:-90}))
	fi
	while ((SECONDS < end)); do
		kill -0 "$gpid" 2>/dev/null || break
		sleep 0.2
	done
	GDB_HUNG=""
	if kill -0 "$gpid" 2>/dev/null; then
		GDB_HUNG=1
		kill -KILL "$gpid" 2>/dev/null
		echo "note: gdb still running after ${GDB_TIMEOUT:-90} s, killed; its output:" >&2
		tail -n 30 "$_tmp/gdbout" | sed 's/^/    gdb| /' >&2
		echo "    --- khyve stderr:" >&2
		tail -n 30 "$_tmp/kerr" | sed 's/^/    | /' >&2
		fail gdb-finishes "gdb (${*:1:3}...) did not finish in ${GDB_TIMEOUT:-90} s"
	fi
	wait "$gpid"
	GDBOUT=$(cat "$_tmp/gdbout")
	# GDB_VERBOSE=1: the whole gdb transcript, for debugging.
	[ -n "${GDB_VERBOSE:-}" ] && sed 's/^/    gdb| /' "$_tmp/gdbout" >&2
	echo "note: t=$SECONDS rungdb end" >&2
}
gdb_has() { # NAME REGEX
	if printf '%s\n' "$GDBOUT" | grep -Eq -- "$2"; then pass "$1"; else
		fail "$1" "gdb output lacks /$2/"
		printf '%s\n' "$GDBOUT" | tail -n 40 | sed 's/^/    gdb| /' >&2
	fi
}
gdb_lacks() { # NAME REGEX
	if printf '%s\n' "$GDBOUT" | grep -Eq -- "$2"; then
		fail "$1" "gdb output has /$2/"
		printf '%s\n' "$GDBOUT" | tail -n 40 | sed 's/^/    gdb| /' >&2
	else pass "$1"; fi
}
# Is this the nested test VM, a QEMU TCG CPU?  Its KVM cannot trap the
# guest's int3 or debug registers (see the header).
tcg_cpu() { grep -q 'QEMU TCG' /proc/cpuinfo 2>/dev/null; }
sym() { printf '%x' "0x$(nm "$G" | awk -v s="$1" '$3 == s { print $1 }')"; }
gdb_count() { printf '%s\n' "$GDBOUT" | grep -Ec -- "$1"; }
# GDB_PARTS=abcd (default) runs a subset, for debugging.
want() { [[ ${GDB_PARTS:-abcd} == *$1* ]]; }
KARGS=(${GDB_KHYVE_ARGS:-} -m 128M -l com1,stdio -l pc-testdev -o boot.kernel="$G")

# ---- A: registers, threads, stepping, variables, detach ----
if want a; then
P=$(free_port)
kstart -c 2 "${KARGS[@]}" -G "w$P" -o boot.cmdline="cpus=2" gdbt-a
if ! kwait_listen "$P" 30; then
	kend 1
	fail a/listen "khyve does not listen on port $P"
else
	sleep 0.5
	alive && pass a/holds-bsp || fail a/holds-bsp "khyve exited before gdb attached"
	[ -z "$(cat "$_tmp/kout")" ] && pass a/no-output-before-attach ||
	    fail a/no-output-before-attach "the guest ran before gdb attached"
	rungdb amd64 "$P" 'info registers rip eflags cs cr0' 'info threads' \
	    'thread 2' 'p/x $pc' 'thread 1' 'stepi' 'stepi' 'p/x $pc' \
	    'p gdbt_value' 'set var gdbt_value = 1234' 'p gdbt_value' \
	    'p/x $rdi = 0x1234abcd' 'stepi' 'p/x $rdi' 'detach'
	kend 60
	gdb_has a/rip-at-entry '^rip +0x10000c +0x10000c <_start>'
	gdb_has a/cr0 '^cr0 +0x11 +\[ PE ET \]'
	gdb_has a/cs '^cs +0x10 '
	gdb_has a/thread-list '2 +Thread 2 \(vCPU 1\)'
	gdb_has a/thread-switch 'Switching to thread 2 \(Thread 2\)'
	gdb_has a/ap-reset-vector '= 0xfff0$'
	gdb_has a/stepi '= 0x10000e$' # cli; cld: two one-byte steps
	gdb_has a/read-var '= 42$'
	gdb_has a/write-var '= 1234$'
	# edi is free at _start+3 (entry.S loads it later); the value
	# survives a step, so it went to the vCPU, not just gdb's cache.
	if [ "$(gdb_count '= 0x1234abcd$')" = 2 ]; then pass a/write-reg; else
		fail a/write-reg "rdi did not keep 0x1234abcd across a step"
		printf '%s\n' "$GDBOUT" | tail -n 30 | sed 's/^/    gdb| /' >&2
	fi
	gdb_has a/detach 'Inferior 1 \(Remote target\) detached'
	expect_out a/guest-sees-write '^gdbt: start value=1234$'
	expect_out a/guest-finishes '^gdbt: value=1234 counter=3$'
	expect_status a/status 33
fi

fi

# ---- B: software breakpoint (int3 through KVM_GUESTDBG_USE_SW_BP) ----
if want b; then
P=$(free_port)
kstart -c 1 "${KARGS[@]}" -G "w$P" -o boot.cmdline="x" gdbt-b
if kwait_listen "$P" 30; then
	rungdb amd64 "$P" 'x/1xb gdbt_break' 'break gdbt_break' 'continue' \
	    'p/x $pc' 'x/1xb gdbt_break' 'stepi' 'p/x $pc' \
	    'set var gdbt_value = 77' 'delete' 'continue'
fi
kend 60
first=$(printf '%s\n' "$GDBOUT" | grep -m1 '^0x[0-9a-f]* <gdbt_break>:' | awk '{print $3}')
if printf '%s\n' "$GDBOUT" | grep -q '^Breakpoint 1, '; then
	gdb_has b/break-at-symbol "^Breakpoint 1, (0x0*$(sym gdbt_break) in )?gdbt_break"
	gdb_has b/pc "= 0x$(sym gdbt_break)\$"
	n=$(printf '%s\n' "$GDBOUT" | grep -c "^0x[0-9a-f]* <gdbt_break>:.$first\$")
	if [ "$n" = 2 ] && [ "$first" != 0xcc ]; then pass b/int3-hidden; else
		fail b/int3-hidden "code byte read as '$first' before and differently with the breakpoint in"; fi
	pcs=$(printf '%s\n' "$GDBOUT" | sed -n 's/^\$[0-9]* = \(0x[0-9a-f]*\)$/\1/p' | tr '\n' ' ')
	set -- $pcs
	if [ $# -ge 2 ] && [ $(($2)) -gt $(($1)) ]; then pass b/stepi-moves; else
		fail b/stepi-moves "pc before and after stepi: $pcs"; fi
	expect_out b/guest-sees-write '^gdbt: value=77 counter=3$'
	expect_status b/status 33
elif tcg_cpu && grep -q '^EXCEPTION #BP' "$_tmp/kout"; then
	skip b/sw-breakpoint "this KVM (nested on QEMU TCG) does not intercept the guest's int3: the guest took it ($(grep -om1 '^EXCEPTION #BP vector=3 err=[^ ]* eip=0x[0-9a-f]*' "$_tmp/kout"), status $STATUS); insertion and hiding are checked in d/raw-z0 and d/int3-hidden"
	[ -n "$first" ] && [ "$first" != 0xcc ] && pass b/z0-accepted ||
	    fail b/z0-accepted "gdb could not read the code or set the breakpoint"
	# The int3 the guest met is the one gdb asked for, at gdbt_break.
	eip=$(grep -om1 '^EXCEPTION #BP vector=3 err=[^ ]* eip=0x[0-9a-f]*' "$_tmp/kout" | sed 's/.*eip=//')
	if [ -n "$eip" ] && [ $((eip)) = $((0x$(sym gdbt_break) + 1)) ]; then pass b/int3-at-symbol; else
		fail b/int3-at-symbol "#BP at eip '$eip', not after gdbt_break"; fi
else
	fail b/sw-breakpoint "gdb did not stop at gdbt_break"
	printf '%s\n' "$GDBOUT" | tail -n 30 | sed 's/^/    gdb| /' >&2
fi

fi

# ---- C: hardware breakpoint and watchpoint (KVM_GUESTDBG_USE_HW_BP) ----
if want c; then
P=$(free_port)
kstart -c 1 "${KARGS[@]}" -G "w$P" -o boot.cmdline="x" gdbt-c
if kwait_listen "$P" 30; then
	rungdb amd64 "$P" 'hbreak gdbt_hw' 'watch gdbt_counter' 'continue' \
	    'continue' 'delete' 'continue'
fi
kend 60
gdb_has c/inserted 'Hardware assisted breakpoint 1 at 0x'"$(sym gdbt_hw)"
gdb_has c/watch-inserted '^Hardware watchpoint 2: gdbt_counter'
if printf '%s\n' "$GDBOUT" | grep -q '^Breakpoint 1, '; then
	gdb_has c/hw-break-at-symbol 'gdbt_hw'
	gdb_has c/watch-hit 'Old value = 0'
	gdb_has c/watch-new 'New value = 1'
	expect_status c/status 33
elif tcg_cpu && printf '%s\n' "$GDBOUT" | grep -q 'exited with code 041' &&
    printf '%s\n' "$OUT" | grep -q '^gdbt: value=42 counter=3$'; then
	skip c/hw-breakpoint "this KVM (nested on QEMU TCG) does not arm the guest's debug registers: Z1/Z2 were accepted but the guest ran through gdbt_hw and the 3 watched writes to the end; DR7 encoding is covered by the unit tests"
	expect_status c/status 33
else
	fail c/hw-breakpoint "gdb did not stop at gdbt_hw"
	printf '%s\n' "$GDBOUT" | tail -n 30 | sed 's/^/    gdb| /' >&2
fi

fi

# ---- D: a running guest, hostile clients, paging, i386, Ctrl-C ----
if want d; then
P=$(free_port)
kstart -c 2 "${KARGS[@]}" -G "$P" -o gdb.arch=i386 \
    -o boot.cmdline="cpus=2 paging=pae spin" gdbt-d
if ! kwait_out '^gdbt: spinning$' 240; then
	kend 1
	fail d/spinning "the guest did not start spinning"
else
	# Binary junk, bad checksums, a half escape, an oversized packet;
	# a client gone during the stop on attach; half a packet.
	echo "note: t=$SECONDS junk" >&2
	client "$P" all_bytes
	client "$P" printf '$g#00$m0,4#ff}*$*#2a'
	client "$P" oversized
	client "$P" printf '$?#3f'
	client "$P" printf '$qSupported:swbr'
	# Clients that let the guest run (or step) and hang up at once.
	client "$P" printf '+$c#63'
	client "$P" printf '+$s#73'
	client "$P" printf '$Hg2#e1+$vCont;s:2#24'
	sleep 1
	alive && pass d/survives-junk || fail d/survives-junk "khyve exited: $(tail -3 "$_tmp/kerr")"
	GDB_SIGINT_AFTER=2 rungdb i386 "$P" 'info registers eip cr0 cr4' \
	    'info threads' 'p gdbt_go' 'p/x &gdbt_value' \
	    'x/1dw 0x80000000 + (unsigned)&gdbt_value' 'x/1xw 0xc0000000' \
	    'thread 2' 'p $pc' 'thread 1' 'echo ctrl-c-next\n' 'continue' \
	    'info symbol $pc' 'bt 1' 'detach'
	gdb_has d/i386-eip '^eip +0x[0-9a-f]+ +0x[0-9a-f]+ <gdbt_spin'
	gdb_has d/pae-on '^cr4 +0x[0-9a-f]+ +\[ .*PAE.* \]'
	gdb_has d/paging-alias '^0x8010[0-9a-f]{4}:[[:space:]]+42$'
	gdb_has d/unmapped 'Cannot access memory at address 0xc0000000'
	gdb_has d/two-threads '2 +Thread 2 \(vCPU 1\)'
	gdb_has d/interrupt 'received signal SIGINT'
	gdb_has d/stopped-in-spin '^gdbt_spin( \+ [0-9]+)? in section \.text'
	gdb_has d/backtrace '^#0 .*gdbt_spin'
	gdb_has d/detach 'Inferior 1 \(Remote target\) detached'
	sleep 1
	alive && pass d/runs-after-detach || fail d/runs-after-detach "khyve exited"
	# A last client stops the guest, puts a software breakpoint on
	# gdbt_break (which the guest has yet to run), checks that memory
	# reads hide its int3, sets gdbt_go and vanishes without removing
	# the breakpoint: khyve must take the int3 out, or the guest meets
	# it (here: its own #BP handler, status 251).
	if { exec 3<>"/dev/tcp/127.0.0.1/$P"; } 2>/dev/null; then
		pkt '?' >&3
		reply && [ "$REPLY_PKT" = "T05thread:1;" ] && pass d/raw-attach ||
		    fail d/raw-attach "stop reply '$REPLY_PKT'"
		pkt "m$(sym gdbt_break),1" >&3
		reply; before=$REPLY_PKT
		pkt "Z0,$(sym gdbt_break),1" >&3
		reply && [ "$REPLY_PKT" = OK ] && pass d/raw-z0 ||
		    fail d/raw-z0 "reply '$REPLY_PKT'"
		pkt "m$(sym gdbt_break),1" >&3
		reply
		if [[ $before =~ ^[0-9a-f]{2}$ ]] && [ "$before" != cc ] &&
		    [ "$REPLY_PKT" = "$before" ]; then pass d/int3-hidden; else
			fail d/int3-hidden "code byte '$before' before Z0, '$REPLY_PKT' after"; fi
		pkt "M$(sym gdbt_go),4:01000000" >&3
		reply && [ "$REPLY_PKT" = OK ] && pass d/raw-write ||
		    fail d/raw-write "reply '$REPLY_PKT'"
		exec 3>&-
	else
		fail d/raw-attach "cannot connect"
	fi
	kend 120
	expect_out d/vanished-client-resumes '^gdbt: value=42 counter=3$'
	expect_status d/status 33
fi
fi
