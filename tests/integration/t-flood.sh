#!/usr/bin/env bash
# t-flood: a guest that floods an output path must not grow khyve's memory
# without bound.  vflood.elf writes far more than any buffer on the way
# holds, to an output nobody reads:
#   uart-pipe     COM1 = khyve's stdout, a FIFO this script holds open and
#                 never reads (16550 "rep outsb", 4 KiB per exit);
#   con-noread    virtio-console port 0 with a client that connects,
#                 sends a few bytes (the guest waits for them) and never
#                 reads (the device must stop taking guest output);
#   con-noclient  the same port without a client (output dropped);
#   net-slirp     virtio-net on slirp: a flood of ICMP echo requests that
#                 slirp answers, while the guest never takes back its
#                 receive buffers.
# For each, a control run floods almost nothing; the flood run's peak RSS
# (VmHWM from /proc, sampled until exit) may exceed the control's by at
# most FLOOD_BOUND_KB (default 2048) while the guest pushes FLOOD_KB
# (default 8192) KiB or more (COM1: FLOOD_UART_KB, default 512).  The guest must also finish (a vCPU blocked
# on a full pipe would time out).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vflood.elf" ] || { fail build "no $GUESTS/vflood.elf (make guests)"; exit 1; }
# An ASan build keeps freed memory in quarantine: RSS says nothing there.
ASAN=0; grep -q __asan_init "$KHYVE" 2>/dev/null && ASAN=1
BOUND=${FLOOD_BOUND_KB:-2048} KB=${FLOOD_KB:-8192}
# Each byte of "rep outsb" is one exit to khyve (KVM does not batch string
# output): about 20 KiB/s in the nested test VM, so COM1 floods less.
UKB=${FLOOD_UART_KB:-512}
mkfifo "$_tmp/nap" "$_tmp/pipe"
exec 5<>"$_tmp/nap" 6<>"$_tmp/pipe"
nap() { read -r -t "$1" -u 5 _ || :; }
# FLOOD_ONLY="uart con net" (default all) picks the cases.
# The net-slirp hang seen in full runs (the guest prints "flood net
# start", then nothing until timeout(1) kills khyve: status 124) is issue
# 6, not virtio-net.  In the nested test VM with a busy loop and python
# starting in a loop beside it, 8 of 27 net-slirp runs went wrong (3 such
# hangs, 1 hang after "done", 3 triple faults, 1 #UD at eip 0x1010).  At
# each hang khyve had returned every transmit chain (used idx = avail
# idx, kick eventfds drained, the device thread idle in epoll_wait) while
# the guest had not read the last 32, and the vCPU (read through -G)
# still held delay_us()'s general registers but eip 0xc083220c or
# 0xc059420c, cs 0x10, ss 0x18 (past vflood's 3-entry GDT), paging on and
# cr3 outside guest RAM: state the guest cannot load and khyve never
# writes (it sets registers only at boot and for a debugger), so it comes
# from the nested KVM below us (see KNOWN BROKEN below).
# So the vCPU thread is pinned to one host CPU (FLOOD_PIN=0: not pinned):
# pinned, under the same load, 48 of 48 net-slirp runs passed.  The test
# VM itself still froze now and then (RCU stalls, soft lockups), pinned
# (in 4 of 6 sessions, after 0 to 8 runs) or not (1 of 3 sessions that
# met no guest fault); run-in-vm.sh's watchdog reports that as a VM
# failure.
# The highest CPU this script may use: the last number of its allowed list.
PIN="-p 0:$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',-' '\n\n' | tail -n 1)"
[ "${FLOOD_PIN:-1}" = 0 ] && PIN=""
want() { case " ${FLOOD_ONLY:-uart con net} " in *" $1 "*) return 0 ;; esac; return 1; }

# run OUTFILE CMDLINE khyve-args...: vflood.elf in the background; sets
# STATUS and HWM (kB, the last VmHWM read before khyve exited).
run() {
	local outf=$1 cmd=$2 pid k v
	shift 2
	timeout -k 5 150 "$KHYVE" -c 1 -m 32M -l pc-testdev $PIN "$@" \
	    -o boot.kernel="$GUESTS/vflood.elf" -o boot.cmdline="$cmd" flood \
	    </dev/null >"$outf" 2>"$_tmp/err" &
	pid=$!
	HWM=0
	# $pid is timeout(1); khyve is its child.
	nap 0.3
	local kpid
	read -r kpid _ </proc/$pid/task/$pid/children 2>/dev/null || kpid=""
	while kill -0 "$pid" 2>/dev/null; do
		[ -n "$kpid" ] || read -r kpid _ </proc/$pid/task/$pid/children 2>/dev/null
		if [ -n "$kpid" ]; then
			while read -r k v _; do
				[ "$k" = VmHWM: ] && HWM=$v
			done </proc/$kpid/status 2>/dev/null
		fi
		nap 0.1
	done
	wait "$pid"
	STATUS=$?
	ERR=$(cat "$_tmp/err")
}

# check NAME: compares $HWM0 (control) and $HWM (flood).
check() {
	local grow=$((HWM - HWM0))
	echo "note: $T: $1: peak RSS ${HWM0} kB (control) -> ${HWM} kB (flood): +${grow} kB" >&2
	if [ "$ASAN" = 1 ]; then
		skip "$1/memory-bounded" "ASan build (make test SANITIZE=1): its quarantine and shadow memory grow RSS by design; the normal build checks the bound"
	elif [ "$HWM0" -gt 0 ] && [ "$HWM" -gt 0 ] && [ "$grow" -le "$BOUND" ]; then
		pass "$1/memory-bounded"
	else
		fail "$1/memory-bounded" "peak RSS grew by $grow kB (control $HWM0 kB, flood $HWM kB), bound $BOUND kB"
	fi
}

# ---- COM1 on a pipe nobody reads ----
if want uart; then
run "$_tmp/pipe" "dev=uart kb=4" -l com1,stdio
HWM0=$HWM
run "$_tmp/pipe" "dev=uart kb=$UKB" -l com1,stdio
expect_status uart-pipe/guest-finished 33
check uart-pipe
fi

# ---- virtio-console: a client that never reads; no client ----
if want con; then
PY=$(command -v python3) || { fail python "python3 is needed for the socket client"; exit 1; }
sock=$_tmp/con.sock
mkfifo "$_tmp/ready"
exec 7<>"$_tmp/ready" # read end held open: no open blocks
# The client starts before khyve and says "ready" once python is up: its
# start-up (many seconds of CPU and 9p reads in the nested test VM) must
# not run beside the guest, see KNOWN BROKEN below.
noread_client() {
	"$PY" - "$sock" "$_tmp/ready" <<'PYEOF' &
import socket, sys, time
with open(sys.argv[2], "w") as r:
    r.write("ready\n")
for i in range(1200):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        break
    except OSError:
        s.close()
        time.sleep(0.05)
s.sendall(b"go\n")  # the guest floods once it has these; never read
time.sleep(120)
PYEOF
	CPID=$!
	read -r -t 120 -u 7 _ || :
}
# The guest floods only once the client's first bytes reached it
# (hello=MS), so the client is connected for the whole flood: python takes
# up to half a minute to start in the nested test VM, and the first
# version of this case, which gave it a fixed 5 s, ran without a client
# whenever it was seen to pass.
# KNOWN BROKEN (issue 6, open), so a skip unless FLOOD_NOREAD=1: in the
# nested test VM the vflood guest goes wrong now and then before it
# prints anything when other processes load the VM meanwhile, with or
# without a console client: status 3 (triple fault; the first full run,
# both runs), a hang with no output, garbage from its own PCI scan and
# #GP at eip 0xf0046, or #UD at eip 0x1010 during a PCI config access
# (edx 0xcfc); peak RSS about 2 MiB above the control's.  One status-3
# run (-o debug=1) dumped the CPU's reset state (rip 0xfff0, cs base
# 0xffff0000, cr0 0x10): the vCPU had been reset by an INIT (khyve's own
# reset paths exit instead) and faulted at the empty reset vector.  Reproduced
# with no client at all (2 of 8 runs while python started in a loop
# beside khyve), so it is not the console's back-pressure: the guest's
# state is corrupted under load, by the nested SVM (whose kernel also
# panicked with a corrupted stack in a khyve vCPU thread) or by khyve's
# exit handling; not found.  The net-slirp hangs (above) point at the
# nested SVM, and with the vCPU pinned FLOOD_NOREAD=1 passed 3 of 3 full
# runs under load (the test VM itself froze in a 4th, RCU stalls and
# soft lockups in its kernel): too few runs to lift the skip.
# With the client connected the device stops taking output (stalled
# after 176 KiB) and RSS stays flat in every run that got that far.
if [ -z "${FLOOD_NOREAD:-}" ]; then
	skip con-noread "under load in the test VM the vflood guest is corrupted now and then before it touches the device, with or without a client: triple fault or hang (open, issue 6); FLOOD_NOREAD=1 runs it"
	cases=noclient
else
	cases="noread noclient"
fi
for c in $cases; do
	for k in 4 "$KB"; do
		rm -f "$sock"
		[ $c = noread ] && noread_client
		# -o debug=1: a triple fault (as once seen here) dumps the
		# vCPU's registers to stderr, which a failure shows.
		run "$_tmp/out" "dev=con kb=$k stall=3000 $([ $c = noread ] && echo hello=60000)" -o debug=1 -l com1,stdio -s 5,virtio-console,flood="$sock"
		[ $c = noread ] && { kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; }
		[ "$k" = 4 ] && HWM0=$HWM
	done
	OUT=$(tr -d '\r' <"$_tmp/out")
	expect_status con-$c/guest-finished 33
	if [ $c = noread ]; then
		expect_out con-noread/client-connected "^flood con client said [1-9][0-9]* bytes"
		# The socket buffer takes some, then the device must hold the rest.
		expect_out con-noread/device-stops-taking "^flood con stalled after [0-9]+ KiB"
	else
		expect_out con-noclient/all-dropped "^flood con done $KB KiB"
	fi
	check con-$c
done
fi

# ---- virtio-net on slirp: echo replies to a guest that never reads ----
if want net; then
frames=$((KB * 4 / 5)) # 1.4 KiB frames
run "$_tmp/out" "dev=net frames=16" -l com1,stdio -s 6,virtio-net,slirp
HWM0=$HWM
run "$_tmp/out" "dev=net frames=$frames" -l com1,stdio -s 6,virtio-net,slirp
OUT=$(tr -d '\r' <"$_tmp/out")
expect_status net-slirp/guest-finished 33
expect_out net-slirp/all-sent "^flood net done [0-9]+ KiB"
# libslirp's mbuf pools and the malloc arenas of the device and slirp
# threads settle at a few MiB once traffic flows (+1.4 and +3.6 MiB seen
# in two runs here), so this case gets a wider bound; still well under the
# 8 MiB pushed, so a queue that kept every frame would fail it.
BOUND=${FLOOD_BOUND_KB:-6144}
check net-slirp
fi
exec 5<&- 6<&- 7<&-
