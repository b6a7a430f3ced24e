/*
 * main.c - the 64-bit body of the test bzImage.  Prints "bzImage ok",
 * which entry the loader used, the setup header fields a loader fills
 * in, the command line (cmd_line_ptr), the E820 map from boot_params and
 * the initrd (its address, size and first line), then exits via
 * pc-testdev (or as exit= in the command line says).
 */
#include "guest.h"

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228

struct e820 {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

extern char startup_32[];
extern uint8_t bz_pgt[];

static char cmdbuf[2048];

static uint32_t rd32(const uint8_t *bp, unsigned off)
{
	uint32_t v;

	memcpy(&v, bp + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *bp, unsigned off)
{
	uint16_t v;

	memcpy(&v, bp + off, 2);
	return v;
}

/* The 64-bit entry runs on the loader's page tables, which need only map
 * the kernel, boot_params and the command line; switch to our own
 * identity map of 4 GiB (the 32-bit path builds the same in head.S). */
void bz_paging_setup(void);
void bz_paging_setup(void)
{
	/* the second set of 6 pages in bz_pgt (head.S uses the first) */
	uint64_t *pml4 =
	    (uint64_t *)((((uintptr_t)bz_pgt + 4095) & ~4095ul) + 6 * 4096);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;

	/* every entry written once (no memset: guest code may be slow) */
	for (int i = 0; i < 512; i++) {
		pml4[i] = i == 0 ? (uintptr_t)pdpt | 3 : 0;
		pdpt[i] = i < 4 ? (uintptr_t)(pd + 512 * i) | 3 : 0;
	}
	for (uint64_t i = 0; i < 2048; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB */
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
}

void bz_main(const uint8_t *bp, unsigned entry);
void bz_main(const uint8_t *bp, unsigned entry)
{
	uint64_t cmd, rd, rdsize;
	unsigned n;

	serial_init();
	cmd = rd32(bp, HDR_CMD_LINE_PTR) |
	    (uint64_t)rd32(bp, BP_EXT_CMD_LINE_PTR) << 32;
	if (cmd != 0 && cmd < 0x100000000ull) {
		strlcpy(cmdbuf, (const char *)(uintptr_t)cmd, sizeof(cmdbuf));
		cmdline = cmdbuf;
	}
	printf("bzImage ok\n");
	printf("entry: %u-bit\n", entry);
	printf("loaded at %p, boot_params at %p\n", (void *)startup_32,
	    (const void *)bp);
	printf("header: version 0x%x type_of_loader 0x%x loadflags 0x%x "
	       "code32_start 0x%x\n",
	    rd16(bp, HDR_VERSION), bp[HDR_TYPE_OF_LOADER], bp[HDR_LOADFLAGS],
	    rd32(bp, HDR_CODE32_START));
	printf("cmdline: %s\n", cmdline != NULL ? cmdline : "(none)");

	n = bp[BP_E820_ENTRIES];
	printf("e820 entries: %u\n", n);
	for (unsigned i = 0; i < n && i < BP_E820_MAX; i++) {
		struct e820 e;

		memcpy(&e, bp + BP_E820_TABLE + 20 * i, sizeof(e));
		printf("  e820 %u: 0x%09llx-0x%09llx type %u\n", i,
		    (unsigned long long)e.addr,
		    (unsigned long long)(e.addr + e.size - 1), e.type);
	}

	rd = rd32(bp, HDR_RAMDISK_IMAGE) |
	    (uint64_t)rd32(bp, BP_EXT_RAMDISK_IMAGE) << 32;
	rdsize = rd32(bp, HDR_RAMDISK_SIZE) |
	    (uint64_t)rd32(bp, BP_EXT_RAMDISK_SIZE) << 32;
	if (rd != 0 && rdsize != 0 && rd + rdsize <= 0x100000000ull) {
		const char *c = (const char *)(uintptr_t)rd;
		size_t k = 0;

		printf("initrd: addr 0x%llx size %llu data '",
		    (unsigned long long)rd, (unsigned long long)rdsize);
		while (k < 64 && k < rdsize && c[k] != '\n' && c[k] != 0)
			k++;
		print_text(c, k);
		printf("'\n");
	} else {
		printf("initrd: none (addr 0x%llx size %llu)\n",
		    (unsigned long long)rd, (unsigned long long)rdsize);
	}
	finish(GX_OK);
}
