#!/usr/bin/env bash
# t-bootrom: -l bootrom,ROMFILE[,VARFILE] with our own 64 KiB ROM
# (tests/guests/bootrom/rom.S): the BSP starts at the reset vector in real
# mode and prints on COM1; the ROM reads the variable file's first bytes,
# writes 0x5a at offset 16 (which must reach the file on disk), and a
# write to the ROM itself is dropped.  Then the errors: boot ROM with a
# direct kernel, a ROM that is not a page multiple, a missing ROM (64).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/bootrom.bin" ] || { fail build "no $GUESTS/bootrom.bin (make guests)"; exit 1; }

VARS=$_tmp/vars.bin
{ printf 'VARS'; head -c 4092 /dev/zero; } >"$VARS"
krun --timeout 120 -- -m 64M -l com1,stdio -l pc-testdev \
    -l "bootrom,$GUESTS/bootrom.bin,$VARS" bootrom
expect_status rom/status 33
expect_out rom/reset-vector '^bootrom: reset vector ok$'
expect_out rom/vars '^bootrom: vars VARS$'
expect_out rom/rom-readonly '^bootrom: rom write dropped$'
byte=$(od -An -tx1 -j16 -N1 "$VARS" | tr -d ' ')
if [ "$byte" = 5a ]; then pass rom/varfile-written
else fail rom/varfile-written "VARFILE offset 16 is '$byte', expected 5a"; fi
if [ "$(head -c 4 "$VARS")" = VARS ]; then pass rom/varfile-intact
else fail rom/varfile-intact "the first bytes changed"; fi

# Without a variable file the ROM still runs (its variable reads and
# writes then go nowhere, so only the real-mode part is checked).
krun --timeout 120 -- -m 64M -l com1,stdio -l pc-testdev \
    -l "bootrom,$GUESTS/bootrom.bin" bootrom-novars
expect_out novars/reset-vector '^bootrom: reset vector ok$'

krun --timeout 60 -- -m 64M -l "bootrom,$GUESTS/bootrom.bin" \
    -o boot.kernel="$GUESTS/hello.elf" bootrom-kernel
expect_status with-kernel/status 64
expect_err with-kernel/message 'exclude each other'

head -c 1000 /dev/zero >"$_tmp/odd.rom"
krun --timeout 60 -- -m 64M -l "bootrom,$_tmp/odd.rom" bootrom-odd
expect_status odd-size/status 64
expect_err odd-size/message 'multiple of 4 KiB'

krun --timeout 60 -- -m 64M -l "bootrom,$_tmp/missing.rom" bootrom-missing
expect_status missing/status 64
