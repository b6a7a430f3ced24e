#!/usr/bin/env bash
# t-acpi: the firmware tables, from outside and from inside the guest.
#
#  - For several machines (1 and 8 vCPUs, a 2x2x2 topology, with and
#    without -x, with PCI devices, with -l fwcfg,qemu) khyve dumps its ACPI
#    tables (-o acpi.dump=DIR); every one disassembles with `iasl -d` without an
#    error or warning, and the disassembly recompiles with 0 errors,
#    0 warnings, 0 remarks.  The RSDP, which iasl cannot read from a file,
#    has its two checksums checked here; acpiexec evaluates \_S5.
#  - In the same runs tables.elf walks RSDP -> XSDT -> MADT, the MP table
#    and SMBIOS; the MADT's processors and their APIC IDs must be what
#    -c implies, in xAPIC or x2APIC form as -x says; the UUID and a -B
#    string read back.
#  - tables.elf powers off through \_S5 (status 1) and resets through the
#    FADT reset register (status 0); -Y leaves the MP table out; a bad
#    SMBIOS string set with -o is a configuration error (64).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/tables.elf" ] || { fail build "no $GUESTS/tables.elf (make guests)"; exit 1; }

UUID=6ba7b810-9dad-11d1-80b4-00c04fd430c8
bits_for() { local b=0; while [ $((1 << b)) -lt "$1" ]; do b=$((b + 1)); done; echo $b; }

# Sum of a file's first N bytes (all when N is empty), modulo 256.
bytesum() {
	if [ -n "${2:-}" ]; then head -c "$2" "$1"; else cat "$1"; fi |
	    od -An -tu1 -v | tr -s ' ' '\n' | awk 'NF { s += $1 } END { print s % 256 }'
}

# iasl NAME DIR: disassemble and recompile every table in DIR.
check_iasl() {
	local name=$1 dir=$2 f base bad="" out n=0
	if ! command -v iasl >/dev/null; then
		fail "$name/iasl" "iasl not installed (Debian package acpica-tools)"
		return
	fi
	for f in "$dir"/*.dat; do
		base=$(basename "$f" .dat)
		[ "$base" = rsdp ] && continue
		n=$((n + 1))
		if ! out=$(cd "$dir" && iasl -d "$base.dat" 2>&1) ||
		    printf '%s\n' "$out" | grep -qiE 'warning|error|incorrect|invalid|not contain|too long'; then
			bad="$bad $base:disassembly"
			printf '%s\n' "$out" | sed "s/^/    $base: /" >&2
			continue
		fi
		if grep -qiE 'incorrect|invalid|warning|error' "$dir/$base.dsl"; then
			bad="$bad $base:dsl"
			grep -iE 'incorrect|invalid|warning|error' "$dir/$base.dsl" | sed "s/^/    $base: /" >&2
		fi
		out=$(cd "$dir" && iasl -p "re-$base" "$base.dsl" 2>&1)
		if ! printf '%s\n' "$out" | grep -q 'Compilation successful. 0 Errors, 0 Warnings, 0 Remarks'; then
			bad="$bad $base:recompile"
			printf '%s\n' "$out" | tail -n 8 | sed "s/^/    $base: /" >&2
		fi
	done
	[ "$n" -ge 7 ] || bad="$bad only-$n-tables"
	if [ -z "$bad" ]; then pass "$name/iasl"; else fail "$name/iasl" "problems:$bad"; fi

	if [ -f "$dir/rsdp.dat" ] && [ "$(stat -c %s "$dir/rsdp.dat")" = 36 ] &&
	    [ "$(bytesum "$dir/rsdp.dat" 20)" = 0 ] && [ "$(bytesum "$dir/rsdp.dat")" = 0 ]; then
		pass "$name/rsdp"
	else
		fail "$name/rsdp" "missing, wrong size or bad checksum"
	fi
	if command -v acpiexec >/dev/null; then
		out=$(cd "$dir" && acpiexec -b 'evaluate \_S5' dsdt.dat facp.dat 2>&1)
		if printf '%s\n' "$out" | grep -A2 'Evaluation of \\_S5' | grep -q '\[Integer\] = 0000000000000005'; then
			pass "$name/acpiexec-s5"
		else
			fail "$name/acpiexec-s5" "\\_S5 does not evaluate to {5, ...}"
		fi
	fi
}

# run NAME SOCKETS CORES THREADS X2(0/1) [khyve args...]
run() {
	local name=$1 s=$2 c=$3 t=$4 x2=$5 cpus dir
	shift 5
	cpus=$((s * c * t))
	dir="$_tmp/$name"
	mkdir -p "$dir"
	local xopt=()
	[ "$x2" = 1 ] && xopt=(-x)
	krun --timeout 120 -- -c "$cpus,sockets=$s,cores=$c,threads=$t" "${xopt[@]}" -m 128M \
	    -l com1,stdio -l pc-testdev -U "$UUID" -B "1,manufacturer=Acme Labs,serial=SN-$name" \
	    -o acpi.dump="$dir" "$@" \
	    -o boot.kernel="$GUESTS/tables.elf" -o boot.cmdline="cpus=$cpus" "acpi-$name"
	expect_status "$name/status" 33
	expect_out "$name/ok" '^tables ok$'
	expect_out "$name/mp" "^tables: mp at 0xf0000 cpus $cpus "
	expect_out "$name/uuid" "^tables: smbios uuid $UUID\$"
	expect_out "$name/b-strings" "^tables: smbios manufacturer \"Acme Labs\" serial \"SN-$name\"\$"
	expect_out "$name/reset-reg" '^tables: fadt pm1a_cnt 0x404 smi_cmd 0xb2 enable 0xa0 reset 0xcf9 value 0x6 '

	# Every APIC ID -c implies, in vCPU order with UID = index, in the
	# form -x asks for.
	local tb cb i ids=""
	tb=$(bits_for "$t") cb=$(bits_for "$c")
	for ((i = 0; i < cpus; i++)); do
		ids="$ids $((((i / (t * c)) << (cb + tb)) | (((i / t) % c) << tb) | (i % t)))/$i"
	done
	expect_out "$name/madt-ids" "^tables: madt ids$ids\$"
	if [ "$x2" = 1 ]; then
		expect_out "$name/madt-form" "^tables: madt cpus $cpus xapic 0 x2apic $cpus ioapic 1\$"
	else
		expect_out "$name/madt-form" "^tables: madt cpus $cpus xapic $cpus x2apic 0 ioapic 1\$"
	fi
	check_iasl "$name" "$dir"
}

run 1cpu 1 1 1 0
run 8cpus 8 1 1 0
run 8cpus-x2apic 8 1 1 1
run topo-2x2x2-x2apic 2 2 2 1
# PCI: the host bridge, the LPC bridge and what else the build offers.
pci=(-s 0,hostbridge -s 31,lpc)
if "$KHYVE" -s help 2>/dev/null | grep -q virtio-rnd; then pci+=(-s 3,virtio-rnd); fi
if "$KHYVE" -s help 2>/dev/null | grep -q virtio-blk; then
	truncate -s 1M "$_tmp/disk.img"
	pci+=(-s 4,virtio-blk,"$_tmp/disk.img")
fi
if "$KHYVE" -s help 2>/dev/null | grep -q virtio-net; then pci+=(-s 5,virtio-net,slirp); fi
run pci-2cpus 2 1 1 0 "${pci[@]}"
# With INTx in use, _PRT lists them (APIC and PIC model packages).
if [ "${#pci[@]}" -gt 4 ]; then
	if grep -q 'Method (_PRT' "$_tmp/pci-2cpus/dsdt.dsl" 2>/dev/null &&
	    grep -A8 'Name (PRTA' "$_tmp/pci-2cpus/dsdt.dsl" | grep -qE '0x000[345]FFFF'; then
		pass pci-2cpus/prt
	else
		fail pci-2cpus/prt "no _PRT entries for the virtio slots in the DSDT"
	fi
fi

# With QEMU's fw_cfg the DSDT describes it (QEMU0002); iasl must stay
# clean for that device too.  Without it there is none.
run fwcfg-qemu 2 1 1 0 -l fwcfg,qemu
fwcf=$(grep -A14 'Device (FWCF)' "$_tmp/fwcfg-qemu/dsdt.dsl" 2>/dev/null)
if printf '%s\n' "$fwcf" | grep -q '_HID, "QEMU0002"' &&
    printf '%s\n' "$fwcf" | grep -q '0x0510, *// Range Minimum' &&
    printf '%s\n' "$fwcf" | grep -q '0x0C, *// Length'; then
	pass fwcfg-qemu/dsdt-device
else
	fail fwcfg-qemu/dsdt-device "no QEMU0002 device at 0x510 in the DSDT"
fi
if grep -q 'QEMU0002' "$_tmp/1cpu/dsdt.dsl" 2>/dev/null; then
	fail 1cpu/no-fwcfg-device "QEMU0002 in the DSDT without -l fwcfg,qemu"
else
	pass 1cpu/no-fwcfg-device
fi

# Leaving through the tables; -Y leaves the MP table out (ACPI and
# SMBIOS stay).
krun --timeout 120 -- -c 2 -m 64M -Y -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/tables.elf" -o boot.cmdline="cpus=2 action=s5" acpi-s5
expect_status s5/status 1
expect_out s5/slp-typ '^tables: sci_en 1; powering off with SLP_TYP 5$'
expect_out s5/no-mptable '^tables: mp none$'
expect_out s5/smbios '^tables: smbios 3\.0 at 0xf1000'
krun --timeout 120 -- -c 2 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/tables.elf" -o boot.cmdline="cpus=2 action=reset" acpi-reset
expect_status reset/status 0
expect_out reset/port '^tables: resetting through port 0xcf9 value 0x6$'

# A bad SMBIOS string set with -o (which -B would have refused).
krun --timeout 60 -- -m 64M -o 'system.serial_number=a	b' \
    -o boot.kernel="$GUESTS/tables.elf" acpi-bad
expect_status bad-string/status 64
expect_err bad-string/names-key 'system\.serial_number'
