/*
 * pvh.elf - a PVH test kernel: an ELF whose Xen note
 * (XEN_ELFNOTE_PHYS32_ENTRY) gives the 32-bit entry; the loader passes
 * ebx = hvm_start_info.  Prints "pvh ok", the start_info fields, the
 * command line, the memory map and modules (the initrd is module 0),
 * then exits via pc-testdev (or as exit= says).
 */
#include "guest.h"

void guest_main(void)
{
	if (boot.kind != BOOT_PVH) {
		printf("pvh FAIL: ebx=0x%x does not point at hvm_start_info "
		       "(magic 0x%x, eax=0x%x)\n", boot.info,
		    boot.info ? *(const uint32_t *)(uintptr_t)boot.info : 0,
		    boot.magic);
		finish(GX_FAIL);
	}
	printf("pvh ok\n");
	printf("pvh: start_info at 0x%x magic 0x%x version %u flags 0x%x "
	       "rsdp 0x%llx\n", boot.info, boot.pvh_magic, boot.pvh_version,
	    boot.pvh_flags, (unsigned long long)boot.pvh_rsdp);
	printf("cmdline: %s\n", cmdline);
	printf("memmap entries: %d\n", boot.nmmap_total);
	boot_print();
	finish(GX_OK);
}
