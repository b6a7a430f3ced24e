#!/usr/bin/env bash
# t-smp: the guest starts every AP (INIT-SIPI-SIPI) and each CPU reports
# its APIC ID and CPUID topology.  Every APIC ID the topology implies must
# appear once, and with an explicit -c topology the CPUID fields (leaf 1,
# leaf 0xB, AMD 0x80000008/0x8000001E when present) must describe it.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/smp.elf" ] || { fail build "no $GUESTS/smp.elf (make guests)"; exit 1; }

bits_for() { local b=0; while [ $((1 << b)) -lt "$1" ]; do b=$((b + 1)); done; echo $b; }

# The value of KEY=N in a cpu line, or "" if absent.
field() { printf '%s\n' "$1" | grep -o " $2=[0-9]*" | cut -d= -f2; }

# check NAME CPUS SOCKETS CORES THREADS TOPO(0/1) [khyve args...]
# SOCKETS/CORES/THREADS describe the layout khyve should use (for plain
# -c N that is N sockets of 1 core of 1 thread, as in bhyve); with TOPO=1
# the -c argument spells it out and the CPUID fields are checked too.
check() {
	local name=$1 cpus=$2 sockets=$3 cores=$4 threads=$5 topo=$6 spec
	shift 6
	spec=$cpus
	[ "$topo" = 1 ] && spec="$cpus,sockets=$sockets,cores=$cores,threads=$threads"
	krun --timeout 300 -- -c "$spec" -m 128M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/smp.elf" -o boot.cmdline="cpus=$cpus" "smp-$name"
	expect_status "$name/status" 33
	expect_out "$name/ok" '^smp ok$'
	local lines n
	lines=$(printf '%s\n' "$OUT" | grep -E '^cpu [0-9]+ apic ')
	n=$(printf '%s\n' "$lines" | grep -c '^cpu ')
	if [ "$n" = "$cpus" ]; then pass "$name/count"; else fail "$name/count" "$n cpu lines, expected $cpus"; fi

	local tb cb i missing="" bad=""
	tb=$(bits_for "$threads") cb=$(bits_for "$cores")
	for ((i = 0; i < cpus; i++)); do
		local t=$((i % threads)) c=$(((i / threads) % cores)) s=$((i / (threads * cores)))
		local apic=$(((s << (cb + tb)) | (c << tb) | t)) line v
		line=$(printf '%s\n' "$lines" | grep -E "^cpu [0-9]+ apic $apic ")
		if [ -z "$line" ]; then
			missing="$missing $apic"
			continue
		fi
		[ "$(field "$line" init)" = "$apic" ] || bad="$bad apic$apic:init"
		v=$(field "$line" x2id)
		[ -z "$v" ] || [ "$v" = "$apic" ] || bad="$bad apic$apic:x2id=$v"
		[ "$topo" = 1 ] || continue
		# leaf 1: addressable IDs per package, HTT when more than one
		v=$(field "$line" lcount)
		{ [ -n "$v" ] && [ "$v" -ge $((cores * threads)) ]; } || bad="$bad apic$apic:lcount=$v"
		if [ $((cores * threads)) -gt 1 ]; then
			[ "$(field "$line" htt)" = 1 ] || bad="$bad apic$apic:htt"
		fi
		# leaf 0xB: SMT level then core level
		if [ -n "$(field "$line" smt_shift)" ]; then
			[ "$(field "$line" smt_shift)" = "$tb" ] || bad="$bad apic$apic:smt_shift"
			[ "$(field "$line" smt_count)" = "$threads" ] || bad="$bad apic$apic:smt_count"
			[ "$(field "$line" core_shift)" = $((tb + cb)) ] || bad="$bad apic$apic:core_shift"
			[ "$(field "$line" core_count)" = $((cores * threads)) ] || bad="$bad apic$apic:core_count"
		else
			bad="$bad apic$apic:no-leaf-0xb"
		fi
		# AMD: NC = logical CPUs per package - 1; extended APIC ID
		v=$(field "$line" amd_nc)
		[ -z "$v" ] || [ "$v" = $((cores * threads - 1)) ] || bad="$bad apic$apic:amd_nc=$v"
		v=$(field "$line" ext_apic)
		[ -z "$v" ] || [ "$v" = "$apic" ] || bad="$bad apic$apic:ext_apic=$v"
		v=$(field "$line" tpc)
		[ -z "$v" ] || [ "$v" = "$threads" ] || bad="$bad apic$apic:tpc=$v"
	done
	if [ -z "$missing" ]; then pass "$name/apic-ids"; else fail "$name/apic-ids" "missing APIC IDs:$missing"; fi
	if [ -z "$bad" ]; then pass "$name/cpuid"; else fail "$name/cpuid" "wrong fields:$bad"; fi
}

check 1cpu 1 1 1 1 0
check 2cpus 2 2 1 1 0
expect_out 2cpus/xapic '^smp: apic mode xapic$'
check 8cpus 8 8 1 1 0
check topo-2x2x2 8 2 2 2 1
check topo-2x3x1 6 2 3 1 1
check x2apic 4 1 4 1 1 -x
expect_out x2apic/mode '^smp: apic mode x2apic$'
expect_no_out x2apic/all-x2apic '^cpu [0-9]+ apic [0-9]+ .* xapic'
