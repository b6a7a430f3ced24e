/*
 * e820.h - the guest's physical memory map, as every boot protocol and
 * firmware table reports it.  Built from the guest_mem layout: RAM below
 * 640 KiB, the legacy VGA/BIOS hole reserved (0xA0000-0x100000), RAM up
 * to the lowmem top, the hole below 4 GiB (PCI, APICs, ROM) reserved as
 * far as devices live there, and high RAM.
 */
#ifndef KHYVE_FIRMWARE_E820_H
#define KHYVE_FIRMWARE_E820_H

#include <stdint.h>

#include "vmm/mem.h"

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Fill `out` (capacity `max`); returns the number of entries. */
int e820_build(const struct guest_mem *m, struct e820_entry *out, int max);

#endif
