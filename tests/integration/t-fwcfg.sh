#!/usr/bin/env bash
# t-fwcfg: the firmware interfaces at 0x510 from inside the guest.
#
#  - -l fwcfg,qemu: fwcfg.elf reads the signature, ID (DMA bit), FILE_DIR,
#    a -f string item, a -f file item and etc/e820 through the ports and
#    through DMA (they must agree, and e820 must equal the multiboot map),
#    RAM_SIZE and NB_CPUS; a DMA read to non-RAM fails with ERROR.  It
#    runs etc/table-loader itself (ALLOCATE by DMA into its own buffers,
#    ADD_POINTER, ADD_CHECKSUM), then walks its copy RSDP -> XSDT -> each
#    table (checksums, pointers inside the copy), FADT -> DSDT (QEMU0002)
#    and counts the MADT's processors against -c (xAPIC and, with -x,
#    x2APIC entries); the MADT and DSDT equal the BIOS area's; the SMBIOS anchor must match smbios-tables; with
#    bootindex on two -s devices, "bootorder" lists them by index.
#  - default (bhyve's fwctl): the "BHYV" signature and GET hw.ncpu.
#  - bad -f / -l fwcfg use: configuration errors (64).
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] || { skip all "no /dev/kvm"; exit 0; }
[ -f "$GUESTS/fwcfg.elf" ] || { fail build "no $GUESTS/fwcfg.elf (make guests)"; exit 1; }

printf 'file item\n' >"$_tmp/item.txt"
krun --timeout 120 -- -c 3 -m 96M -l com1,stdio -l pc-testdev -l fwcfg,qemu \
    -f 'opt/org.khyve/greeting,string=hello, fw_cfg' \
    -f "name=opt/org.khyve/file,file=$_tmp/item.txt" \
    -o boot.kernel="$GUESTS/fwcfg.elf" fwcfg-qemu
expect_status qemu/status 33
expect_out qemu/signature '^fwcfg signature "QEMU" id 0x3$'
expect_out qemu/ram-cpus '^fwcfg ram 0x006000000 cpus 3$'
expect_out qemu/dir '^fwcfg dir 8 files: etc/acpi/rsdp etc/acpi/tables etc/e820 etc/smbios/smbios-anchor etc/smbios/smbios-tables etc/table-loader opt/org.khyve/file opt/org.khyve/greeting$'
expect_out qemu/loader '^fwcfg loader: 2 allocate, 14 add_pointer, 9 add_checksum$'
expect_out qemu/acpi-tables '^fwcfg acpi rsdp at 0x[0-9a-f]+ xsdt at 0x[0-9a-f]+, 4 tables: FACP APIC MCFG SPCR$'
expect_out qemu/dsdt-fwcfg '^fwcfg acpi dsdt [0-9]+ bytes, fw_cfg device QEMU0002$'
expect_out qemu/madt-cpus '^fwcfg acpi madt cpus 3$'
expect_out qemu/madt-same '^fwcfg acpi APIC equals the BIOS area.s$'
expect_out qemu/dsdt-same '^fwcfg acpi DSDT equals the BIOS area.s$'
expect_out qemu/smbios '^fwcfg smbios anchor 2\.8 tables [0-9]+ bytes, [0-9]+ structures, first type 0$'
expect_out qemu/string '^fwcfg file opt/org.khyve/greeting = "hello, fw_cfg" \(14 bytes, key 0x2.\)$'
expect_out qemu/e820 '^fwcfg e820 0: 0x000000000 0x0000a0000 1$'
expect_out qemu/hostile-dma '^fwcfg dma to non-RAM: control 0x1$'
expect_no_out qemu/no-fail 'FAIL'

krun --timeout 120 -- -c 2 -x -m 64M -l com1,stdio -l pc-testdev -l fwcfg,qemu \
    -s 0,hostbridge -s 3,virtio-rnd,bootindex=5 -s 4,virtio-rnd -s 4:2,virtio-rnd,bootindex=1 \
    -f "name=opt/org.khyve/file,file=$_tmp/item.txt" \
    -o boot.kernel="$GUESTS/fwcfg.elf" -o boot.cmdline="file=opt/org.khyve/file" fwcfg-file
expect_status file/status 33
expect_out file/content '^fwcfg file opt/org.khyve/file = "file item$'
expect_out file/madt-x2apic-cpus '^fwcfg acpi madt cpus 2$'
order=$(printf '%s\n' "$OUT" | sed -n 's/^fwcfg bootorder: //p' | tr '\n' ' ')
if [ "$order" = "/pci@i0cf8/pci@4,2 /pci@i0cf8/pci@3,0 " ]; then
	pass file/bootorder
else
	fail file/bootorder "bootorder is \"$order\""
fi

krun --timeout 120 -- -c 2 -m 64M -l com1,stdio -l pc-testdev \
    -o boot.kernel="$GUESTS/fwcfg.elf" -o boot.cmdline="mode=bhyve" fwctl
expect_status bhyve/status 33
expect_out bhyve/signature '^fwctl signature "BHYV"$'
expect_out bhyve/ncpu '^fwctl hw.ncpu = 2$'

krun --timeout 60 -- -m 64M -l fwcfg,qemu -f "opt/x,file=$_tmp/missing" \
    -o boot.kernel="$GUESTS/fwcfg.elf" fwcfg-bad
expect_status bad-file/status 64
expect_err bad-file/message 'opt/x'
krun --timeout 60 -- -m 64M -f "opt/x,string=y" -o boot.kernel="$GUESTS/fwcfg.elf" fwcfg-bad
expect_status f-without-qemu/status 64
expect_err f-without-qemu/message 'fwcfg,qemu'
# A -f naming a file khyve provides is refused, not silently shadowed.
krun --timeout 60 -- -m 64M -l fwcfg,qemu -f "etc/table-loader,string=x" \
    -o boot.kernel="$GUESTS/fwcfg.elf" fwcfg-bad
expect_status f-reserved/status 64
expect_err f-reserved/message 'etc/table-loader'
