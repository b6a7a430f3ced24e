/*
 * test_loader.c - direct kernel boot: format detection, file reading and
 * the Linux bzImage path (firmware/loader.c, firmware/bzimage.c).  PVH and
 * multiboot are in test_loader_elf.c.  Images are synthetic, built here;
 * guest RAM is fenced by guard pages (loader_fixture.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/boot_layout.h"
#include "firmware/e820.h"
#include "firmware/loader.h"
#include "loader_fixture.h"
#include "test.h"

/* ---- synthetic bzImage ---- */

struct bzopt {
	uint16_t version, xlf;
	uint8_t setup_sects, loadflags, reloc, min_align, jump;
	uint32_t align, init_size, cmdline_size, initrd_max;
	uint64_t pref;
	size_t pm_size;
};

static struct bzopt bz_default(void)
{
	return (struct bzopt){
		.version = 0x020f, .xlf = 0x1, .setup_sects = 2,
		.loadflags = 0x01, .reloc = 1, .min_align = 21, .jump = 0x6a,
		.align = 2 * MiB, .init_size = 4 * MiB, .cmdline_size = 2047,
		.initrd_max = 0x7fffffff, .pref = 16 * MiB, .pm_size = 8192,
	};
}

static size_t bz_setup_size(const struct bzopt *o)
{
	return ((o->setup_sects ? o->setup_sects : 4) + 1) * 512u;
}

static uint8_t *make_bz(const struct bzopt *o, size_t *len)
{
	size_t setup = bz_setup_size(o);
	uint8_t *b;

	*len = setup + o->pm_size;
	b = calloc(1, *len);
	if (b == NULL)
		return NULL;
	b[0x1f1] = o->setup_sects;
	fx_w32(b + 0x1f4, (uint32_t)((o->pm_size + 15) / 16));
	fx_w16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = o->jump;
	memcpy(b + 0x202, "HdrS", 4);
	fx_w16(b + 0x206, o->version);
	b[0x211] = o->loadflags;
	fx_w32(b + 0x214, 0x100000);
	fx_w32(b + 0x22c, o->initrd_max);
	fx_w32(b + 0x230, o->align);
	b[0x234] = o->reloc;
	b[0x235] = o->min_align;
	fx_w16(b + 0x236, o->xlf);
	fx_w32(b + 0x238, o->cmdline_size);
	fx_w64(b + 0x258, o->pref);
	fx_w32(b + 0x260, o->init_size);
	for (size_t i = 0; i < o->pm_size; i++)
		b[setup + i] = fx_pat(i);
	return b;
}

static uint8_t *make_initrd(size_t n)
{
	uint8_t *p = malloc(n);

	if (p != NULL)
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(0xA5 ^ i);
	return p;
}

/* Load a bzImage built from `o` into `t`; returns the loader's result. */
static int bz_load(struct fx_mem *t, const struct bzopt *o, const uint8_t *rd,
    size_t rdlen, const char *cmd, struct boot_state *bs, char *err)
{
	size_t len;
	uint8_t *b = make_bz(o, &len);
	int rc;

	if (b == NULL)
		return -ENOMEM;
	rc = fx_load(t, b, len, rd, rdlen, cmd, bs, err, 256);
	free(b);
	return rc;
}

TEST(loader_bzimage_64bit)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	struct e820_entry e[16];
	const char *cmd = "console=ttyS0 root=/dev/vda";
	size_t len, rdlen = 5000;
	uint8_t *b = make_bz(&o, &len), *rd = make_initrd(rdlen);
	uint64_t zp = BOOT_INFO_ADDR, addr, rdaddr;
	char err[256];
	int n;

	CHECK(b != NULL && rd != NULL);
	if (b == NULL || rd == NULL || fx_init(&t, 64 * MiB, 0) != 0)
		goto out;
	CHECK_EQ(fx_load(&t, b, len, rd, rdlen, cmd, &bs, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(bs.format, "bzImage");
	CHECK_EQ(bs.mode, BOOT_MODE_LONG64);
	CHECK_EQ(bs.rip, 16 * MiB + 0x200); /* pref_address + 64-bit entry */
	CHECK_EQ(bs.rsi, zp);
	CHECK_EQ(bs.cs_sel, 0x10);
	CHECK_EQ(bs.ds_sel, 0x18);
	CHECK_EQ(bs.gdt_base, BOOT_GDT_ADDR);
	CHECK_EQ(bs.gdt_limit, 31);
	CHECK_EQ(bs.cr3, BOOT_PML4_ADDR);
	CHECK_EQ(bs.rax | bs.rbx | bs.rcx | bs.rdx | bs.rdi, 0);
	/* GDT: 0x10 64-bit code (L set, D clear), 0x18 flat data */
	CHECK_EQ(FX_G64(&t, BOOT_GDT_ADDR + 0x10), 0x00af9b000000ffffULL);
	CHECK_EQ(FX_G64(&t, BOOT_GDT_ADDR + 0x18), 0x00cf93000000ffffULL);
	/* identity map of 4 GiB in 2 MiB pages */
	CHECK_EQ(FX_G64(&t, BOOT_PML4_ADDR), BOOT_PDPT_ADDR | 3);
	CHECK_EQ(FX_G64(&t, BOOT_PML4_ADDR + 8), 0);
	CHECK_EQ(FX_G64(&t, BOOT_PDPT_ADDR + 24), (BOOT_PD_ADDR + 3 * 4096) | 3);
	CHECK_EQ(FX_G64(&t, BOOT_PDPT_ADDR + 32), 0);
	CHECK_EQ(FX_G64(&t, BOOT_PD_ADDR + 8), (2 * MiB) | 0x83);
	CHECK_EQ(FX_G64(&t, BOOT_PD_ADDR + 2047 * 8), (2047ULL << 21) | 0x83);
	/* the protected-mode kernel, byte for byte */
	CHECK(fx_holds(&t, 16 * MiB, b + bz_setup_size(&o), o.pm_size));
	/* zero page: header copied, loader fields filled in */
	CHECK_EQ(FX_G16(&t, zp + 0x206), 0x020f);
	CHECK_EQ(FX_G32(&t, zp + 0x202), 0x53726448); /* "HdrS" */
	CHECK_EQ(FX_G64(&t, zp + 0x258), 16 * MiB);   /* pref_address */
	CHECK_EQ(FX_G8(&t, zp + 0x210), 0xff);         /* type_of_loader */
	CHECK_EQ(FX_G8(&t, zp + 0x211), 0x81); /* LOADED_HIGH|CAN_USE_HEAP */
	CHECK_EQ(FX_G16(&t, zp + 0x224), 0xfe00);
	CHECK_EQ(FX_G32(&t, zp + 0x214), 16 * MiB); /* code32_start */
	CHECK_EQ(FX_G32(&t, zp + 0x228), BOOT_CMDLINE_ADDR);
	CHECK_STR(fx_str(&t, BOOT_CMDLINE_ADDR), cmd);
	CHECK_EQ(FX_G8(&t, zp + 0x26c), 0); /* nothing past the header */
	CHECK_EQ(FX_G32(&t, zp + 0x0c8), 0); /* ext_cmd_line_ptr */
	/* initrd: page aligned, as high as possible, above the kernel */
	addr = 16 * MiB;
	rdaddr = FX_G32(&t, zp + 0x218);
	CHECK_EQ(FX_G32(&t, zp + 0x21c), rdlen);
	CHECK_EQ(FX_G32(&t, zp + 0x0c0), 0);
	CHECK_EQ(FX_G32(&t, zp + 0x0c4), 0);
	CHECK_EQ(rdaddr % 4096, 0);
	CHECK_EQ(rdaddr, (64 * MiB - rdlen) & ~4095ULL);
	CHECK(rdaddr >= addr + o.init_size);
	CHECK(fx_holds(&t, rdaddr, rd, rdlen));
	/* E820 table as e820_build() makes it */
	n = e820_build(&t.m, e, 16);
	CHECK_EQ(FX_G8(&t, zp + 0x1e8), n);
	CHECK(fx_holds(&t, zp + 0x2d0, e, (size_t)n * 20));
	CHECK_EQ(FX_G32(&t, zp + 0x2d0 + 16), E820_RAM);
out:
	fx_fini(&t);
	free(b);
	free(rd);
}

/* boot_params.acpi_rsdp_addr (0x070) carries the RSDP in the BIOS area. */
TEST(loader_bzimage_rsdp)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	char err[256];
	uint8_t *r, sum = 0;

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(FX_G64(&t, BOOT_INFO_ADDR + 0x70), 0); /* no ACPI */
	r = gmem_ptr(&t.m, 0xF2400, 36);
	memcpy(r, "RSD PTR ", 8);
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + r[i]);
	r[8] = (uint8_t)-sum;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(FX_G64(&t, BOOT_INFO_ADDR + 0x70), 0xF2400);
	fx_fini(&t);
}

TEST(loader_bzimage_32bit_entry)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	char err[256];

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	/* No XLF_KERNEL_64: 32-bit entry at the load address. */
	o.xlf = 0;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, NULL, &bs, err), 0);
	CHECK_EQ(bs.mode, BOOT_MODE_PROT32);
	CHECK_EQ(bs.rip, 16 * MiB);
	CHECK_EQ(bs.rsi, BOOT_INFO_ADDR);
	CHECK_EQ(bs.cs_sel, 0x10);
	CHECK_EQ(bs.ds_sel, 0x18);
	CHECK_EQ(bs.cr3, 0);
	CHECK_EQ(FX_G64(&t, BOOT_GDT_ADDR + 0x10), 0x00cf9b000000ffffULL);
	CHECK_EQ(FX_G32(&t, BOOT_INFO_ADDR + 0x218), 0); /* no initrd */
	CHECK_EQ(FX_G32(&t, BOOT_INFO_ADDR + 0x21c), 0);
	CHECK_STR(fx_str(&t, BOOT_CMDLINE_ADDR), ""); /* NULL = "" */

	/* xloadflags exist only from 2.12: ignored in a 2.11 header. */
	o = bz_default();
	o.version = 0x020b;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.mode, BOOT_MODE_PROT32);

	/* Protocol 2.06, not relocatable: loaded at 1 MiB. */
	o = bz_default();
	o.version = 0x0206;
	o.reloc = 0;
	o.jump = 0x3a; /* header ends after cmdline_size (0x23c) */
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "x", &bs, err), 0);
	CHECK_EQ(bs.mode, BOOT_MODE_PROT32);
	CHECK_EQ(bs.rip, 0x100000);
	CHECK(fx_holds(&t, 0x100000, (const uint8_t[]){ fx_pat(0), fx_pat(1) },
	    2));

	/* setup_sects 0 means 4. */
	o = bz_default();
	o.setup_sects = 0;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 16 * MiB + 0x200);
	CHECK_EQ(FX_G8(&t, 16 * MiB + 100), fx_pat(100));
	fx_fini(&t);
}

TEST(loader_bzimage_placement)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	size_t rdlen = 3 * MiB;
	uint8_t *rd = make_initrd(rdlen);
	uint64_t rdaddr;
	char err[256];

	if (rd == NULL || fx_init(&t, 16 * MiB, 0) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	/* pref_address 16 MiB does not fit in 16 MiB: next 2 MiB boundary. */
	CHECK_EQ(bz_load(&t, &o, rd, rdlen, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 2 * MiB + 0x200);
	rdaddr = FX_G32(&t, BOOT_INFO_ADDR + 0x218);
	CHECK_EQ(rdaddr, (16 * MiB - rdlen) & ~4095ULL);
	CHECK(rdaddr >= 2 * MiB + o.init_size);

	/* kernel_alignment 16 MiB: only min_alignment (2 MiB) fits. */
	o.align = 16 * MiB;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 2 * MiB + 0x200);

	/* init_size larger than RAM */
	o = bz_default();
	o.init_size = 0xF0000000u;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -ERANGE);
	CHECK(strstr(err, "bzImage") != NULL);
	CHECK_EQ(bs.rip, 0); /* state cleared on failure */

	/* The initrd cannot overlap the kernel: with 12 MiB of init_size
	 * at 2 MiB there is no room for 3 MiB anywhere. */
	o.init_size = 12 * MiB;
	CHECK_EQ(bz_load(&t, &o, rd, rdlen, "", &bs, err), -ERANGE);
	CHECK(strstr(err, "initrd") != NULL);
	fx_fini(&t);

	/* initrd_addr_max bounds the initrd's last byte. */
	if (fx_init(&t, 64 * MiB, 0) == 0) {
		o = bz_default();
		o.initrd_max = 32 * MiB - 1;
		CHECK_EQ(bz_load(&t, &o, rd, rdlen, "", &bs, err), 0);
		rdaddr = FX_G32(&t, BOOT_INFO_ADDR + 0x218);
		CHECK_EQ(rdaddr, (32 * MiB - rdlen) & ~4095ULL);
		CHECK(rdaddr + rdlen <= 32 * MiB);
		CHECK(fx_holds(&t, rdaddr, rd, rdlen));
		fx_fini(&t);
	}
	free(rd);
}

TEST(loader_bzimage_initrd_above_4g)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	size_t rdlen = 20 * MiB;
	uint8_t *rd = make_initrd(rdlen);
	uint64_t lo, hi, addr;
	char err[256];

	if (rd == NULL || fx_init(&t, 32 * MiB, 64 * MiB) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	/* Below 4 GiB only [192K, 16M) is free of the kernel: too small. */
	o.init_size = 8 * MiB;
	CHECK_EQ(bz_load(&t, &o, rd, rdlen, "", &bs, err), -ERANGE);
	o.xlf |= 0x2; /* XLF_CAN_BE_LOADED_ABOVE_4G */
	CHECK_EQ(bz_load(&t, &o, rd, rdlen, "", &bs, err), 0);
	lo = FX_G32(&t, BOOT_INFO_ADDR + 0x218);
	hi = FX_G32(&t, BOOT_INFO_ADDR + 0x0c0);
	addr = hi << 32 | lo;
	CHECK_EQ(hi, 1);
	CHECK_EQ(addr, (4 * GiB + 64 * MiB - rdlen) & ~4095ULL);
	CHECK_EQ(FX_G32(&t, BOOT_INFO_ADDR + 0x21c), rdlen);
	CHECK(fx_holds(&t, addr, rd, rdlen));
	fx_fini(&t);
	free(rd);
}

TEST(loader_bzimage_cmdline_limit)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	char err[256];

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	o.cmdline_size = 16; /* excludes the NUL */
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "0123456789abcdef", &bs, err), 0);
	CHECK_STR(fx_str(&t, BOOT_CMDLINE_ADDR), "0123456789abcdef");
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "0123456789abcdefg", &bs, err),
	    -EINVAL);
	CHECK(strstr(err, "command line") != NULL);
	fx_fini(&t);
}

TEST(loader_bzimage_rejects)
{
	struct fx_mem t;
	struct bzopt o;
	struct boot_state bs;
	size_t len;
	uint8_t *b;
	char err[256];

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	o = bz_default();
	o.version = 0x0205;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -EINVAL);
	CHECK(strstr(err, "2.06") != NULL);

	o = bz_default();
	o.loadflags = 0; /* zImage */
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -EINVAL);

	o = bz_default();
	o.jump = 0x30; /* header ends before init_size in a 2.15 header */
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -EINVAL);

	o = bz_default();
	o.align = 3 * MiB; /* not a power of two */
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -EINVAL);
	o.align = 0;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -EINVAL);

	/* syssize claims more than the file holds */
	o = bz_default();
	b = make_bz(&o, &len);
	if (b != NULL) {
		fx_w32(b + 0x1f4, 0x10000000);
		CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, sizeof(err)),
		    -EINVAL);
		CHECK(strstr(err, "syssize") != NULL);
		/* not a short jump at 0x200 */
		fx_w32(b + 0x1f4, (uint32_t)(o.pm_size / 16));
		b[0x200] = 0xe9;
		CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, sizeof(err)),
		    -EINVAL);
		free(b);
	}
	/* A pref_address far outside RAM is not used: the kernel goes to
	 * the first aligned address above 1 MiB instead. */
	o = bz_default();
	o.pref = 0xFFFFFFFFFFE00000ULL;
	CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 2 * MiB + 0x200);
	fx_fini(&t);
}

/* Every truncation of the image fails cleanly (guard pages catch any
 * stray access).  Only the last 15 bytes are invisible: syssize counts
 * 16-byte paragraphs. */
TEST(loader_bzimage_truncated)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	size_t len, setup = bz_setup_size(&o);
	uint8_t *b = make_bz(&o, &len);
	char err[256];
	int bad = 0;

	if (b == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(b);
		return;
	}
	for (size_t n = 0; n + 15 < len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan-checked */
		int rc, want = n < 0x206 ? -ENOEXEC : -EINVAL;

		if (copy == NULL)
			break;
		memcpy(copy, b, n);
		rc = fx_load(&t, copy, n, NULL, 0, "", &bs, err, sizeof(err));
		if (rc != want && bad++ < 5)
			printf("  truncated at %zu (setup %zu): %d\n", n, setup,
			    rc);
		free(copy);
	}
	CHECK_EQ(bad, 0);
	fx_fini(&t);
	free(b);
}

/* ---- format detection and the generic checks ---- */

TEST(loader_unknown_format)
{
	struct fx_mem t;
	struct boot_state bs;
	uint8_t junk[300];
	char err[256];

	if (fx_init(&t, 16 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	memset(junk, 'x', sizeof(junk));
	CHECK_EQ(fx_load(&t, junk, sizeof(junk), NULL, 0, "", &bs, err,
	    sizeof(err)), -ENOEXEC);
	CHECK_STR(err, "not a bzImage, PVH ELF or multiboot kernel");
	CHECK_EQ(fx_load(&t, junk, 0, NULL, 0, "", &bs, err, sizeof(err)),
	    -ENOEXEC);
	CHECK_EQ(fx_load(&t, NULL, 0, NULL, 0, "", &bs, err, sizeof(err)),
	    -ENOEXEC);
	CHECK_EQ(loader_load_buf(&t.m, NULL, 5, NULL, 0, "", 1, &bs, err,
	    sizeof(err)), -EINVAL);
	/* a tiny error buffer is never overrun */
	CHECK_EQ(fx_load(&t, junk, sizeof(junk), NULL, 0, "", &bs, err, 4),
	    -ENOEXEC);
	CHECK_STR(err, "not");
	CHECK_EQ(fx_load(&t, junk, sizeof(junk), NULL, 0, "", &bs, NULL, 0),
	    -ENOEXEC);
	fx_fini(&t);

	/* RAM too small for the loader's own tables */
	if (fx_init(&t, 128 * 1024, 0) == 0) {
		struct bzopt o = bz_default();

		CHECK_EQ(bz_load(&t, &o, NULL, 0, "", &bs, err), -ERANGE);
		fx_fini(&t);
	}
}

static int write_tmp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (len != 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

TEST(loader_load_files)
{
	struct fx_mem t;
	struct bzopt o = bz_default();
	struct boot_state bs;
	struct loader_args a = { .cmdline = "from a file", .ncpus = 1 };
	char kpath[] = "/tmp/khyve-test-kernel-XXXXXX";
	char rpath[] = "/tmp/khyve-test-initrd-XXXXXX";
	char epath[] = "/tmp/khyve-test-empty-XXXXXX";
	size_t len;
	uint8_t *b = make_bz(&o, &len);
	char err[256];

	if (b == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(b);
		return;
	}
	a.kernel = "/nonexistent/khyve/kernel";
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/khyve/kernel") != NULL);
	a.kernel = "/dev/null";
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "/dev/null") != NULL);
	a.kernel = "/tmp";
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -EINVAL);
	a.kernel = NULL;
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -EINVAL);
	CHECK_EQ(loader_load(&t.m, NULL, &bs, err, sizeof(err)), -EINVAL);

	if (write_tmp(epath, NULL, 0) == 0) {
		a.kernel = epath;
		CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "empty") != NULL);
		unlink(epath);
	}
	CHECK_EQ(write_tmp(kpath, b, len), 0);
	CHECK_EQ(write_tmp(rpath, "INITRD", 6), 0);
	a.kernel = kpath;
	a.initrd = "/nonexistent/initrd";
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "initrd /nonexistent/initrd") != NULL);
	a.initrd = rpath;
	CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), 0);
	CHECK_STR(bs.format, "bzImage");
	CHECK_STR(fx_str(&t, BOOT_CMDLINE_ADDR), "from a file");
	CHECK_EQ(FX_G32(&t, BOOT_INFO_ADDR + 0x21c), 6);
	CHECK(fx_holds(&t, FX_G32(&t, BOOT_INFO_ADDR + 0x218), "INITRD", 6));
	/* errors from the image name the kernel file */
	a.cmdline = NULL;
	o.version = 0x0200;
	free(b);
	b = make_bz(&o, &len);
	unlink(kpath);
	if (b != NULL && write_tmp(kpath, b, len) == 0) {
		CHECK_EQ(loader_load(&t.m, &a, &bs, err, sizeof(err)), -EINVAL);
		CHECK(strncmp(err, "kernel ", 7) == 0 && strstr(err, kpath));
		CHECK(strchr(err, '\n') == NULL);
		unlink(kpath);
	}
	unlink(rpath);
	fx_fini(&t);
	free(b);
}
