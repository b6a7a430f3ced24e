/*
 * boot_layout.h - fixed guest-physical addresses of what the direct-boot
 * loader writes besides the kernel itself.  All of it lies in conventional
 * memory (below 640 KiB), in [BOOT_AREA_START, BOOT_AREA_END):
 *
 *   0x0000-0x0fff   untouched: real-mode IVT, BIOS data area (0x400-0x4ff)
 *                   and 0x500-0x6ff, which some guests still treat as such
 *   0x1000          GDT: null, null, 0x10 code (__BOOT_CS), 0x18 data
 *                   (__BOOT_DS), the selectors Linux's boot protocol names;
 *                   PVH and multiboot use the same table
 *   0x2000-0x2fff   boot information: Linux zero page (struct boot_params,
 *                   4 KiB), PVH hvm_start_info or multiboot info
 *   0x3000-0x30ff   module list (PVH hvm_modlist_entry / multiboot mods)
 *   0x3100-0x3fff   strings: boot loader name, module command lines
 *   0x4000-0x4fff   memory map copy (PVH memmap / multiboot mmap)
 *   0x5000-0x5fff   a boot stack (rsp = 0x6000); no protocol promises one
 *   0x6000-0xffff   left free: guests put AP trampolines there (0x8000)
 *   0x10000-0x15fff page tables for the 64-bit Linux entry: PML4, PDPT and
 *                   four page directories of 2 MiB pages mapping 0-4 GiB
 *   0x16000-0x1ffff free
 *   0x20000-0x2ffff kernel command line (up to 64 KiB with its NUL)
 *
 * Above conventional memory, outside the loader's area:
 *
 *   0xA0000-0xEFFFF the legacy VGA window and option ROM space: nothing
 *   0xF0000-0xFFFFF the BIOS area: MP table, SMBIOS and ACPI tables,
 *                   written by firmware/fwtables.c before the kernel is
 *                   loaded (bhyve's addresses; see fwtables.h)
 *
 * Both are reserved in the e820 map.
 *
 * Trust boundary: kernel segments and the initrd come from user files.
 * The loader refuses any of them that overlaps [0, BOOT_AREA_END) or the
 * legacy hole [BOOT_LEGACY_START, BOOT_LEGACY_END), so a hostile image
 * can never overwrite (or be overwritten by) these tables.
 */
#ifndef KHYVE_FIRMWARE_BOOT_LAYOUT_H
#define KHYVE_FIRMWARE_BOOT_LAYOUT_H

#define BOOT_AREA_START 0x1000ULL
#define BOOT_GDT_ADDR 0x1000ULL
#define BOOT_GDT_ENTRIES 4
#define BOOT_CS_SEL 0x10
#define BOOT_DS_SEL 0x18
#define BOOT_INFO_ADDR 0x2000ULL
#define BOOT_INFO_SIZE 0x1000ULL
#define BOOT_MODS_ADDR 0x3000ULL
#define BOOT_MODS_SIZE 0x100ULL
#define BOOT_STR_ADDR 0x3100ULL
#define BOOT_STR_SIZE 0xf00ULL
#define BOOT_MMAP_ADDR 0x4000ULL
#define BOOT_MMAP_SIZE 0x1000ULL
#define BOOT_STACK_TOP 0x6000ULL
#define BOOT_PML4_ADDR 0x10000ULL
#define BOOT_PDPT_ADDR 0x11000ULL
#define BOOT_PD_ADDR 0x12000ULL /* 4 pages */
#define BOOT_CMDLINE_ADDR 0x20000ULL
#define BOOT_CMDLINE_MAX 0x10000ULL /* bytes, including the NUL */
#define BOOT_AREA_END 0x30000ULL

/* The legacy hole; the firmware tables live at its top. */
#define BOOT_LEGACY_START 0xA0000ULL
#define BOOT_FWTAB_START 0xF0000ULL
#define BOOT_LEGACY_END 0x100000ULL

/* Where kernels and initrds may start: everything below is ours. */
#define BOOT_LOW_RESERVED BOOT_AREA_END

#endif
