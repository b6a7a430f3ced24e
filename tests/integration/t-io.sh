#!/usr/bin/env bash
# t-io: a port nothing emulates reads as all ones and swallows writes;
# with -e (strict I/O) the first access ends the VM with status 4 and a
# message naming the port.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/io.elf" ] || { fail build "no $GUESTS/io.elf (make guests)"; exit 1; }

krun -- -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/io.elf" -o boot.cmdline="port=0x5555" io-lax
expect_status lax-status 33
expect_out lax-inb '^io: inb 0x5555 = 0xff$'
expect_out lax-inw '^io: inw 0x5555 = 0xffff$'
expect_out lax-inl '^io: inl 0x5555 = 0xffffffff$'
expect_out lax-writes '^io: writes to 0x5555 done$'

krun -- -e -c 1 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/io.elf" -o boot.cmdline="port=0x5555" io-strict
expect_status strict-status 4
expect_out strict-started '^io: reading port 0x5555$'
expect_no_out strict-stopped '^io: inb'
expect_err strict-message '(0x)?5555'
