/*
 * bzimage.c - Linux bzImage direct boot (Documentation/arch/x86/boot.rst).
 *
 * Boot protocol 2.06 or later is required: 2.06 added cmdline_size (so the
 * command line can be checked instead of silently truncated) and is the
 * oldest protocol whose 32-bit entry rules khyve relies on.  zImages
 * (LOADED_HIGH clear) are refused.
 *
 * Entry, chosen per image:
 *   - XLF_KERNEL_64 (protocol >= 2.12): the 64-bit entry at load address
 *     + 0x200, in long mode on identity page tables for 0-4 GiB (which
 *     cover the kernel, zero page and command line, all below 4 GiB);
 *   - otherwise the 32-bit entry at the load address, flat protected mode
 *     with paging off.
 * Both: GDT with __BOOT_CS = 0x10 and __BOOT_DS = 0x18, rsi/esi = zero
 * page, other registers zero, interrupts off.
 *
 * Load address: relocatable kernels (2.05+ relocatable_kernel) go to
 * pref_address (2.10+), else the first kernel_alignment (then
 * min_alignment) boundary at or above 1 MiB that fits, with init_size
 * bytes of room; non-relocatable kernels go to 1 MiB.  The initrd goes
 * page aligned as high as possible below min(initrd_addr_max + 1, lowmem
 * top), above the kernel; if it does not fit there and the kernel says
 * XLF_CAN_BE_LOADED_ABOVE_4G, into high RAM (ext_ramdisk_image).
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "firmware/boot_layout.h"
#include "firmware/loader_priv.h"

/* Zero page (struct boot_params) and setup header offsets. */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_HDR_END 0x290 /* edd_mbr_sig_buffer follows the header area */
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 4096

#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_VID_MODE 0x1fa
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_MIN_ALIGNMENT 0x235
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002

#define BZ_MIN_VERSION 0x0206
#define BZ_HIGH_LOAD 0x100000ULL
#define BZ_ENTRY64_OFF 0x200

bool bzimage_probe(const uint8_t *img, size_t len)
{
	return img != NULL && len >= HDR_MAGIC + 4 &&
	    memcmp(img + HDR_MAGIC, "HdrS", 4) == 0;
}

/* The header bytes a protocol version must provide. */
static size_t hdr_needed(uint16_t version)
{
	if (version >= 0x020a)
		return HDR_INIT_SIZE + 4;
	return HDR_CMDLINE_SIZE + 4;
}

/* Does [addr, addr + need) fit in low RAM (and below 4 GiB)? */
static bool fits(const struct loader_ctx *c, uint64_t addr, uint64_t need)
{
	uint64_t top = MIN(c->mem->lowmem, LOADER_4G);

	return addr >= BOOT_LOW_RESERVED && addr <= top && need <= top - addr;
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int choose_load_addr(struct loader_ctx *c, const uint8_t *zp,
    uint16_t version, uint64_t need, uint64_t *addr)
{
	uint64_t cand[3];
	int n = 0;

	if (version >= 0x0205 && zp[HDR_RELOCATABLE] != 0) {
		uint64_t align = loader_rd32(zp + HDR_KERNEL_ALIGNMENT);
		uint64_t pref = version >= 0x020a ?
		    loader_rd64(zp + HDR_PREF_ADDRESS) : 0;

		if (!is_pow2(align) || align > (1ULL << 30))
			return loader_fail(c, -EINVAL, "bzImage: kernel_alignment "
			    "0x%llx is not a power of two up to 1 GiB",
			    (unsigned long long)align);
		if (pref != 0 && (pref & (align - 1)) == 0)
			cand[n++] = pref;
		cand[n++] = ALIGN_UP(BZ_HIGH_LOAD, align);
		/* min_alignment (2.10+, log2) may allow a lower start. */
		if (version >= 0x020a && zp[HDR_MIN_ALIGNMENT] >= 12 &&
		    zp[HDR_MIN_ALIGNMENT] < 30)
			cand[n++] = ALIGN_UP(BZ_HIGH_LOAD,
			    1ULL << zp[HDR_MIN_ALIGNMENT]);
	} else {
		cand[n++] = BZ_HIGH_LOAD;
	}
	for (int i = 0; i < n; i++)
		if (fits(c, cand[i], need)) {
			*addr = cand[i];
			return 0;
		}
	return loader_fail(c, -ERANGE, "bzImage: the kernel needs 0x%llx bytes "
	    "at 0x%llx, beyond guest RAM below 0x%llx",
	    (unsigned long long)need, (unsigned long long)cand[0],
	    (unsigned long long)MIN(c->mem->lowmem, LOADER_4G));
}

static int put_initrd(struct loader_ctx *c, uint8_t *zp, uint16_t version)
{
	uint64_t max = loader_rd32(zp + HDR_INITRD_ADDR_MAX);
	uint64_t low_top = MIN(c->mem->lowmem, LOADER_4G), rd;
	/* xloadflags exists from 2.12; before, 0x236 is padding. */
	uint16_t xlf = version >= 0x020c ? loader_rd16(zp + HDR_XLOADFLAGS) : 0;
	int rc;

	if (c->initrd == NULL)
		return 0;
	/* initrd_addr_max is the highest byte the initrd may occupy; 0
	 * means the pre-2.03 default. */
	if (max == 0)
		max = 0x37ffffff;
	rc = loader_place_initrd(c, BOOT_LOW_RESERVED, MIN(low_top, max + 1),
	    &rd);
	if (rc == -ERANGE && (xlf & XLF_CAN_BE_LOADED_ABOVE_4G) &&
	    c->mem->highmem != 0)
		rc = loader_place_initrd(c, LOADER_4G,
		    LOADER_4G + c->mem->highmem, &rd);
	if (rc != 0)
		return rc;
	loader_wr32(zp + HDR_RAMDISK_IMAGE, (uint32_t)rd);
	loader_wr32(zp + HDR_RAMDISK_SIZE, (uint32_t)c->initrd_len);
	loader_wr32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(rd >> 32));
	loader_wr32(zp + BP_EXT_RAMDISK_SIZE,
	    (uint32_t)((uint64_t)c->initrd_len >> 32));
	return 0;
}

static int put_e820(struct loader_ctx *c, uint8_t *zp)
{
	struct e820_entry tab[LOADER_E820_MAX];
	int n = loader_e820(c, tab, MIN(LOADER_E820_MAX, BP_E820_MAX));

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		uint8_t *p = zp + BP_E820_TABLE + 20 * i;

		loader_wr64(p, tab[i].addr);
		loader_wr64(p + 8, tab[i].size);
		loader_wr32(p + 16, tab[i].type);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

int bzimage_load(struct loader_ctx *c)
{
	const uint8_t *img = c->img;
	uint8_t zp[BP_SIZE];
	uint64_t setup_size, pm_size, syssize, init_size, need, addr = 0;
	size_t hdr_end;
	uint16_t version, xlf;
	bool long64;
	int rc;

	/* The setup header runs from 0x1f1 to the target of the short jump
	 * at 0x200 (0xEB, rel8), which skips exactly the header. */
	if (c->len < HDR_VERSION + 2 || img[HDR_JUMP] != 0xeb)
		return loader_fail(c, -EINVAL, "bzImage: truncated or "
		    "malformed setup header");
	hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
	version = loader_rd16(img + HDR_VERSION);
	if (version < BZ_MIN_VERSION)
		return loader_fail(c, -EINVAL, "bzImage: boot protocol %u.%02u "
		    "is too old: khyve needs 2.06 or later (cmdline_size, "
		    "32-bit entry)", version >> 8, version & 0xff);
	if (hdr_end < hdr_needed(version))
		return loader_fail(c, -EINVAL, "bzImage: setup header ends at "
		    "0x%zx, too short for protocol %u.%02u", hdr_end,
		    version >> 8, version & 0xff);
	/* Past 0x290 the zero page holds other data: copy no further. */
	hdr_end = MIN(hdr_end, (size_t)BP_HDR_END);
	if (c->len < hdr_end)
		return loader_fail(c, -EINVAL, "bzImage: truncated setup "
		    "header");
	memset(zp, 0, sizeof(zp));
	memcpy(zp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);

	if (!(zp[HDR_LOADFLAGS] & LOADED_HIGH))
		return loader_fail(c, -EINVAL, "bzImage: zImage kernels (not "
		    "LOADED_HIGH) are not supported");
	setup_size = ((uint64_t)(zp[HDR_SETUP_SECTS] ? zp[HDR_SETUP_SECTS] : 4)
	    + 1) * 512;
	if (setup_size >= c->len)
		return loader_fail(c, -EINVAL, "bzImage: truncated: %llu setup "
		    "bytes and no protected-mode kernel",
		    (unsigned long long)setup_size);
	pm_size = c->len - setup_size;
	syssize = (uint64_t)loader_rd32(zp + HDR_SYSSIZE) * 16;
	if (syssize > ALIGN_UP(pm_size, 16))
		return loader_fail(c, -EINVAL, "bzImage: truncated: syssize "
		    "says %llu bytes, the file has %llu",
		    (unsigned long long)syssize, (unsigned long long)pm_size);
	init_size = version >= 0x020a ? loader_rd32(zp + HDR_INIT_SIZE) : 0;
	need = MAX(pm_size, init_size);
	if ((rc = choose_load_addr(c, zp, version, need, &addr)) != 0)
		return rc;
	/* Claim all init_size bytes (so the initrd stays clear of the
	 * decompressor) but copy only the file: RAM starts out zeroed. */
	if ((rc = loader_claim(c, addr, need, LOADER_4G, "bzImage kernel")) != 0)
		return rc;
	if (gmem_write(c->mem, addr, img + setup_size, pm_size) != 0)
		return loader_fail(c, -ERANGE, "bzImage: kernel outside RAM");

	if ((rc = loader_put_cmdline(c, loader_rd32(zp + HDR_CMDLINE_SIZE))) != 0)
		return rc;
	if ((rc = put_initrd(c, zp, version)) != 0 || (rc = put_e820(c, zp)) != 0)
		return rc;
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined boot loader */
	zp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	loader_wr16(zp + HDR_HEAP_END_PTR, 0xfe00);
	loader_wr16(zp + HDR_VID_MODE, 0xffff); /* "normal" */
	loader_wr32(zp + HDR_CODE32_START, (uint32_t)addr);
	loader_wr32(zp + HDR_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	loader_wr32(zp + BP_EXT_CMD_LINE_PTR, 0);
	/* boot_params.acpi_rsdp_addr (Linux 5.0+): no need to scan. */
	loader_wr64(zp + BP_ACPI_RSDP_ADDR, loader_rsdp(c));
	if (gmem_write(c->mem, BOOT_INFO_ADDR, zp, sizeof(zp)) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the zero page");

	xlf = loader_rd16(zp + HDR_XLOADFLAGS);
	long64 = version >= 0x020c && (xlf & XLF_KERNEL_64);
	rc = loader_set_entry(c, long64 ? BOOT_MODE_LONG64 : BOOT_MODE_PROT32,
	    long64 ? addr + BZ_ENTRY64_OFF : addr);
	if (rc != 0)
		return rc;
	c->out->rsi = BOOT_INFO_ADDR;
	c->out->format = "bzImage";
	return 0;
}
