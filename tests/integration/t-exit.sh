#!/usr/bin/env bash
# t-exit: every way a guest ends the VM maps to bhyve's exit status:
# reset 0 (i8042 0xfe), power-off 1 (ACPI PM1a_CNT 0x404), halt 2
# (cli; hlt), triple fault 3, pc-testdev (v << 1) | 1.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/hello.elf" ] || { fail build "no $GUESTS/hello.elf (make guests)"; exit 1; }

run() { # NAME EXIT-SPEC EXPECTED-STATUS [CPUS]
	krun --timeout 60 -- -c "${4:-1}" -m 64M -l com1,stdio -l pc-testdev \
	    -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline="exit=$2" "exit-$1"
	expect_status "$1" "$3"
	expect_out "$1-ran" '^hello from khyve$'
	expect_no_out "$1-stopped" 'did not stop the VM'
}

run reset reset 0
run poweroff poweroff 1
run halt halt 2
run triple triple 3
run testdev-0x10 testdev:0x10 33
run testdev-0x7f testdev:0x7f 255
run poweroff-2cpus poweroff 1 2
