#!/usr/bin/env bash
# t-pci: the PCI bus as a guest sees it.  pcibus.elf enumerates bus 0 through
# configuration mechanism #1, compares every function with ECAM, sizes the
# BARs, checks khyve's address windows and moves an I/O and an MSI-X BAR;
# its "pci BB:DD.F ..." lines must match the -s slots given, one to one.
# Also: -s help, bad -s forms and unknown emulations (exit 64).
. "$(dirname "$0")/lib.sh"

expect_any() {
	if printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "no output matches /$2/"; fi
}

# ---- option parsing (no guest needed) ----
krun -- -s help
expect_status help/status 0
for emu in hostbridge virtio-blk virtio-net virtio-rnd virtio-console; do
	expect_out "help/$emu" "^$emu( |\$)"
done

n=0
for bad in "32,hostbridge" "0:8,hostbridge" "256:0:0,hostbridge" "x,hostbridge" \
    "0" "0," "1:2:3:4,hostbridge" "0,host/bridge" "3,virtio-rnd,"; do
	n=$((n + 1))
	krun -- -c 1 -m 64M -s "$bad" -o boot.kernel="$GUESTS/pcibus.elf" vm
	expect_status "bad-slot-$n/status" 64
	expect_err "bad-slot-$n/message" "-s $bad"
done
krun -- -c 1 -m 64M -s 3,hostbridge -s 0:3:0,virtio-rnd -o boot.kernel="$GUESTS/pcibus.elf" vm
expect_status occupied/status 64
expect_err occupied/message 'occupied'

[ -c /dev/kvm ] || { skip vm "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/pcibus.elf" ] || { fail build "no $GUESTS/pcibus.elf (make guests)"; exit 1; }

pcirun() { # NAME CMDLINE khyve-args...
	local name=$1 cmd=$2
	shift 2
	krun --timeout 120 -- -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/pcibus.elf" -o boot.cmdline="pcibus $cmd" "pci-$name"
}

# bdfs_match NAME "00:00.0 00:03.0 ...": the functions pcibus.elf listed are
# exactly these.
bdfs_match() {
	local got want
	got=$(printf '%s\n' "$OUT" | sed -n 's/^pci \([0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]\.[0-7]\) .*/\1/p' | sort | tr '\n' ' ')
	want=$(printf '%s\n' $2 | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then pass "$1"; else fail "$1" "functions '$got', expected '$want'"; fi
}

# line BDF: pcibus.elf's line for that function.
line() { printf '%s\n' "$OUT" | grep -E "^pci $1 "; }
expect_line() { # NAME BDF REGEX
	if line "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "pci $2 line lacks /$3/"; fi
}
expect_no_line() { # NAME BDF REGEX
	if [ -n "$(line "$2")" ] && ! line "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "pci $2 line missing or has /$3/"; fi
}

# An empty bus (no -s): nothing answers, ECAM included.
pcirun empty ""
expect_status empty/status 33
expect_out empty/count '^pci: 0 functions$'
expect_out empty/ok '^pci ok$'

# The host bridge alone: bhyve's IDs (0x1275:0x1275), class 06/00/00.
pcirun hostbridge "" -s 0,hostbridge
expect_status hostbridge/status 33
bdfs_match hostbridge/functions "00:00.0"
expect_line hostbridge/ids 00:00.0 '^pci 00:00\.0 1275:1275 .* class 060000 hdr 00 '
expect_out hostbridge/ok '^pci ok$'

# Bridges only: bhyve's two host bridges and the LPC bridge (PIIX3 IDs,
# class 06/01) at slot 31, slot 2 multi-function (functions 0 and 3).
pcirun bridges "" -s 0,hostbridge -s 2:0,amd_hostbridge -s 2:3,hostbridge -s 31,lpc
expect_status bridges/status 33
bdfs_match bridges/functions "00:00.0 00:02.0 00:02.3 00:1f.0"
expect_line bridges/amd 00:02.0 '^pci 00:02\.0 1022:7432 .* class 060000 hdr 80 '
expect_line bridges/function3 00:02.3 '^pci 00:02\.3 1275:1275 '
expect_line bridges/lpc 00:1f.0 '^pci 00:1f\.0 8086:7000 .* class 0601'
expect_out bridges/ok '^pci ok$'

krun -- -c 1 -m 64M -l com1,stdio -s 0,hostbridge -s 4,no-such-device \
    -o boot.kernel="$GUESTS/pcibus.elf" pci-unknown
expect_status unknown-emulation/status 64
expect_err unknown-emulation/message 'no-such-device'

# Several devices, multi-function slot 5, a device at slot 31, every
# virtio transport.  Virtio IDs: legacy/transitional 0x1000 + type - 1,
# modern 0x1040 + type (rng is type 4); modern: 64-bit BAR 4, legacy: I/O
# BAR 0; MSI-X (cap 0x11) and, for modern, vendor capabilities (0x09).
pcirun several "" -s 0,hostbridge -s 3,virtio-rnd -s 4,virtio-rnd,transport=modern \
    -s 5:0,virtio-rnd,transport=legacy -s 5:1,virtio-rnd -s 31,virtio-rnd
expect_status several/status 33
bdfs_match several/functions "00:00.0 00:03.0 00:04.0 00:05.0 00:05.1 00:1f.0"
expect_line several/transitional-ids 00:03.0 '^pci 00:03\.0 1af4:1005 sub 1af4:0004 rev 00 '
expect_line several/transitional-io 00:03.0 ' bar0=io:0x[0-9a-f]+/0x'
expect_line several/transitional-mem64 00:03.0 ' bar4=mem64p?:0x[0-9a-f]+/0x'
expect_line several/transitional-caps 00:03.0 ' caps=.*09@'
expect_line several/modern-ids 00:04.0 '^pci 00:04\.0 1af4:1044 .* rev 0[1-9a-f] '
expect_line several/modern-mem64 00:04.0 ' bar4=mem64p?:0x[0-9a-f]+/0x'
expect_no_line several/modern-no-io 00:04.0 '=io:'
expect_line several/modern-vendor-caps 00:04.0 ' caps=.*09@'
expect_line several/modern-msix 00:04.0 ' caps=.*11@'
expect_line several/legacy-ids 00:05.0 '^pci 00:05\.0 1af4:1005 sub 1af4:0004 '
expect_line several/legacy-io 00:05.0 ' bar0=io:0x[0-9a-f]+/0x'
expect_no_line several/legacy-no-vendor-caps 00:05.0 '[=,]09@'
expect_line several/multifunction 00:05.0 ' hdr 80 '
expect_line several/slot31 00:1f.0 '^pci 00:1f\.0 1af4:1005 '
expect_out several/move-io '^pci: move io .* -> '
expect_out several/move-mem '^pci: move mem .* -> '
expect_no_out several/no-fail 'pci FAIL'
expect_out several/ok '^pci ok$'
