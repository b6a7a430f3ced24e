#!/usr/bin/env bash
# t-boot-formats: direct boot of a Linux bzImage (boot protocol 2.15,
# 64-bit entry) and of a PVH ELF (Xen PHYS32_ENTRY note), each with a
# command line and an initrd; multiboot with an initrd (module 0).  The
# test kernels print what the loader handed them.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
for g in bzImage pvh.elf hello.elf; do
	[ -f "$GUESTS/$g" ] || { fail build "no $GUESTS/$g (make guests)"; exit 1; }
done

token=$RANDOM$RANDOM
initrd=$_tmp/initrd.img
{ printf 'khyve-initrd-%s\n' "$token"; head -c 5000 /dev/zero | tr '\0' 'x'; echo; } >"$initrd"
size=$(stat -c %s "$initrd")
cmd="console=ttyS0 token=$token"
# shellcheck disable=SC2054 # commas are khyve option syntax
common=(-c 1 -m 128M -l com1,stdio -l pc-testdev -o boot.initrd="$initrd" -o boot.cmdline="$cmd")

krun -- "${common[@]}" -o boot.kernel="$GUESTS/bzImage" bz
expect_status bzimage/status 33
expect_out bzimage/ok '^bzImage ok$'
expect_out bzimage/entry '^entry: (32|64)-bit$'
expect_out bzimage/cmdline "^cmdline: $cmd\$"
expect_out bzimage/e820 '^e820 entries: [1-9][0-9]*$'
expect_out bzimage/initrd "^initrd: addr 0x[0-9a-f]+ size $size data 'khyve-initrd-$token'\$"

krun -- -c 1 -m 128M -l com1,stdio -l pc-testdev -o boot.kernel="$GUESTS/bzImage" bz-bare
expect_status bzimage-bare/status 33
expect_out bzimage-bare/no-initrd '^initrd: none'

krun -- "${common[@]}" -o boot.kernel="$GUESTS/pvh.elf" pvh
expect_status pvh/status 33
expect_out pvh/ok '^pvh ok$'
expect_out pvh/magic '^pvh: start_info at 0x[0-9a-f]+ magic 0x336ec578 version [1-9]'
expect_out pvh/cmdline "^cmdline: $cmd\$"
expect_out pvh/memmap '^memmap entries: [1-9][0-9]*$'
expect_out pvh/rsdp ' rsdp 0xf2400$'
expect_out pvh/initrd "^  module 0: addr 0x[0-9a-f]+ size $size cmdline '.*' data 'khyve-initrd-$token'\$"

krun -- "${common[@]}" -o boot.kernel="$GUESTS/hello.elf" -o boot.cmdline="$cmd info" mb
expect_status multiboot/status 33
expect_out multiboot/cmdline "^cmdline: (.* )?$cmd info\$"
expect_out multiboot/initrd "^  module 0: addr 0x[0-9a-f]+ size $size cmdline '.*' data 'khyve-initrd-$token'\$"
