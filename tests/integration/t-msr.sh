#!/usr/bin/env bash
# t-msr: an MSR nobody implements raises #GP by default; with -w reads
# return 0 and writes are dropped.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/msr.elf" ] || { fail build "no $GUESTS/msr.elf (make guests)"; exit 1; }

MSR=0x12345678
krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/msr.elf" -o boot.cmdline="msr=$MSR" msr-strict
expect_status strict-status 33
expect_out strict-known '^msr apicbase ok value=0x[0-9a-f]*'
expect_out strict-read "^msr read gp \\(msr $MSR\\)$"
expect_out strict-write "^msr write gp \\(msr $MSR\\)$"
expect_out strict-reread "^msr reread gp \\(msr $MSR\\)$"

krun -- -w -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/msr.elf" -o boot.cmdline="msr=$MSR val=0x55aa" msr-lax
expect_status lax-status 33
expect_out lax-read "^msr read ok value=0x0 \\(msr $MSR\\)$"
expect_out lax-write "^msr write ok \\(msr $MSR\\)$"
expect_out lax-reread "^msr reread ok value=0x0 \\(msr $MSR\\)$"
