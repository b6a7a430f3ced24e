#!/usr/bin/env bash
# t-pci-core: the PCI core seen from a guest (configuration mechanism #1, ECAM,
# hostbridge/amd_hostbridge/lpc IDs, capabilities, multi-function bit,
# PIRQ registers, port 0xcf9), configuration errors, and the KVM half of
# the interrupt plumbing (unit test irq_kvm_routing, run here because
# this VM has /dev/kvm).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/pci.elf" ] || { fail build "no $GUESTS/pci.elf (make guests)"; exit 1; }

krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev -s 0,hostbridge \
    -s 4:0,amd_hostbridge -s 4:3,hostbridge -s 31,lpc \
    -o boot.kernel="$GUESTS/pci.elf" pci
expect_status status 33
expect_out ok '^pci ok$'
expect_out hostbridge '^pci 00\.0 1275:1275 class 060000 hdr 00 caps 10@40$'
expect_out amd-mf '^pci 04\.0 1022:7432 class 060000 hdr 80 caps 10@40$'
expect_out func3 '^pci 04\.3 1275:1275 class 060000 hdr 80 '
expect_out lpc '^pci 1f\.0 8086:7000 class 060100 hdr 00 caps$'
expect_out pirq '^pci lpc 1f\.0 pirq 80808080 80808080$'
expect_out count '^pci: 4 functions$'

krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/pci.elf" pci-empty
expect_status empty-status 33
expect_out empty-count '^pci: 0 functions$'

krun -- -c 1 -m 64M -l com1,stdio -s 0,hostbridge \
    -o boot.kernel="$GUESTS/pci.elf" -o boot.cmdline=cf9 pci-cf9
expect_status cf9-reset 0

krun -- -c 1 -m 64M -s 3,no-such-device -o boot.kernel="$GUESTS/pci.elf" x
expect_status unknown-status 64
expect_err unknown-message 'pci slot 0:3:0: unknown device "no-such-device"'
krun -- -c 1 -m 64M -s 1:0:0,hostbridge -o boot.kernel="$GUESTS/pci.elf" x
expect_status bus1-status 64
expect_err bus1-message 'only bus 0'
krun -- -c 1 -m 64M -s 30,lpc -s 31,lpc -o boot.kernel="$GUESTS/pci.elf" x
expect_status two-lpc-status 64
expect_err two-lpc-message 'only one LPC'

# The KVM half of vmm/irq.c and the PCI core's KVM paths.
ut="$(dirname "$KHYVE")/unit-tests"
if [ -x "$ut" ]; then
	OUT=$("$ut" irq_kvm_routing 2>&1); STATUS=$?; ERR=""
	expect_status kvm-routing-status 0
	expect_out kvm-routing '^PASS unit/irq_kvm_routing$'
	expect_no_out kvm-routing-ran 'no /dev/kvm'
else
	fail kvm-routing "no $ut"
fi
