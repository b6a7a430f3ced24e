#!/usr/bin/env bash
# t-virtio-rnd: vrnd.elf reads entropy from virtio-rnd through each
# transport (a transitional device both ways) with MSI-X, and once by
# polling; every 64-byte read must be varied and differ from the last.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/vrnd.elf" ] || { fail build "no $GUESTS/vrnd.elf (make guests)"; exit 1; }

vrnd() { # NAME CMDLINE khyve-args...
	local name=$1 cmd=$2
	shift 2
	krun --timeout 120 -- -c 1 -m 64M -l com1,stdio -l pc-testdev "$@" \
	    -o boot.kernel="$GUESTS/vrnd.elf" -o boot.cmdline="$cmd" "vrnd-$name"
}

for c in "legacy legacy legacy 1005" "modern modern modern 1044" \
    "trans-modern transitional modern 1005" "trans-legacy transitional legacy 1005"; do
	set -- $c
	name=$1 dev=$2 drv=$3 id=$4
	vrnd "$name" "transport=$drv n=3" -s 5,virtio-rnd,transport="$dev"
	expect_status "$name/status" 33
	expect_out "$name/device" "^vrnd: 00:05\\.0 1af4:$id transport $drv irq msix "
	expect_out "$name/reads" '^vrnd: read 2: [0-9]+ bytes:'
	expect_out "$name/interrupts" '^vrnd: interrupts queue [1-9]'
	expect_out "$name/ok" '^vrnd ok$'
done

vrnd poll "irq=none n=2" -s 5,virtio-rnd
expect_status poll/status 33
expect_out poll/ok '^vrnd ok$'

krun -- -c 1 -m 64M -l com1,stdio -s 5,virtio-rnd,transport=sideways \
    -o boot.kernel="$GUESTS/vrnd.elf" vm
expect_status bad-transport/status 64
expect_err bad-transport/message 'sideways'
