/*
 * test_loader_elf.c - PVH and multiboot direct boot (firmware/pvh.c,
 * multiboot.c, elf.c) with synthetic ELF32/ELF64 and a.out-kludge images,
 * loaded into guard-page-fenced fake RAM (loader_fixture.h).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/boot_layout.h"
#include "firmware/e820.h"
#include "firmware/loader.h"
#include "loader_fixture.h"
#include "test.h"

/* ---- synthetic ELF ----
 * Layout: headers at 0, program headers at 64, multiboot header at
 * MB_OFF, notes at NOTE_OFF, section headers at SH_OFF, segment i's
 * bytes at DATA_OFF + i * 0x1000.  The file ends with the last segment's
 * bytes, so every truncation cuts something the loader needs. */
#define MAXSEG 80
#define MB_OFF 0x1800
#define NOTE_OFF 0x1900
#define SH_OFF 0x1a00
#define DATA_OFF 0x2000

struct eseg {
	uint32_t type; /* 0 = PT_LOAD */
	uint64_t paddr, vaddr, filesz, memsz;
};

struct eopt {
	int is64;
	uint16_t machine, type; /* 0 = the class's x86 machine, ET_EXEC */
	uint64_t entry;
	struct eseg seg[MAXSEG];
	int nseg;
	int note;               /* 0 none, 1 PT_NOTE, 2 SHT_NOTE only */
	uint64_t note_entry;
	uint32_t note_descsz;   /* 4 or 8 */
	uint32_t note_namesz;   /* 0 = 4 ("Xen\0") */
	int mb;                 /* multiboot header at MB_OFF */
	uint32_t mb_flags;
};

static struct eopt elf_default(int is64, int note, int mb)
{
	struct eopt o = {
		.is64 = is64, .entry = 0x100000, .nseg = 2, .note = note,
		.note_entry = 0x100010, .note_descsz = is64 ? 8 : 4, .mb = mb,
		.mb_flags = 0x3,
	};

	o.seg[0] = (struct eseg){ 0, 0x100000, 0x100000, 0x800, 0x1000 };
	o.seg[1] = (struct eseg){ 0, 0x101000, 0x101000, 0x100, 0x3000 };
	return o;
}

static size_t put_note(uint8_t *p, uint32_t namesz, const char *name,
    uint32_t type, const void *desc, uint32_t descsz)
{
	size_t off = 12;

	fx_w32(p, namesz);
	fx_w32(p + 4, descsz);
	fx_w32(p + 8, type);
	memcpy(p + off, name, strlen(name) + 1);
	/* a hostile namesz only goes into the header, not the layout */
	off += namesz <= 64 ? (namesz + 3) & ~3u : 4;
	memcpy(p + off, desc, descsz);
	return off + ((descsz + 3) & ~3u);
}

static uint8_t *make_elf(const struct eopt *o, size_t *len)
{
	size_t notes_len = 0, phsz = o->is64 ? 56 : 32;
	int nph = o->nseg + (o->note == 1);
	uint8_t *b;

	*len = DATA_OFF;
	for (int i = 0; i < o->nseg; i++)
		if (DATA_OFF + i * 0x1000 + o->seg[i].filesz > *len)
			*len = DATA_OFF + i * 0x1000 + o->seg[i].filesz;
	b = calloc(1, *len < SH_OFF + 0x100 ? SH_OFF + 0x100 : *len);
	if (b == NULL)
		return NULL;
	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = o->is64 ? ELFCLASS64 : ELFCLASS32;
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
	fx_w16(b + 16, o->type ? o->type : ET_EXEC);
	fx_w16(b + 18, o->machine ? o->machine : o->is64 ? EM_X86_64 : EM_386);
	fx_w32(b + 20, EV_CURRENT);
	if (o->note) {
		uint8_t d[8];
		uint32_t gnu = 0x12345678;

		fx_w64(d, o->note_entry);
		notes_len = put_note(b + NOTE_OFF, 4, "GNU", 3, &gnu, 4);
		notes_len += put_note(b + NOTE_OFF + notes_len,
		    o->note_namesz ? o->note_namesz : 4, "Xen", 18, d,
		    o->note_descsz);
	}
	for (int i = 0; i < nph; i++) {
		uint8_t *p = b + 64 + i * phsz;
		struct eseg s = i < o->nseg ? o->seg[i] :
		    (struct eseg){ PT_NOTE, 0, 0, notes_len, notes_len };
		uint64_t off = i < o->nseg ? DATA_OFF + i * 0x1000u : NOTE_OFF;

		if (o->is64) {
			Elf64_Phdr h = { s.type ? s.type : PT_LOAD, PF_R | PF_X,
				off, s.vaddr, s.paddr, s.filesz, s.memsz, 4 };

			memcpy(p, &h, sizeof(h));
		} else {
			Elf32_Phdr h = { s.type ? s.type : PT_LOAD,
				(uint32_t)off, (uint32_t)s.vaddr,
				(uint32_t)s.paddr, (uint32_t)s.filesz,
				(uint32_t)s.memsz, PF_R | PF_X, 4 };

			memcpy(p, &h, sizeof(h));
		}
		if (i < o->nseg)
			for (uint64_t k = 0; k < s.filesz; k++)
				b[off + k] = fx_pat(k + 0x1000u * i);
	}
	if (o->is64) {
		fx_w64(b + 24, o->entry);
		fx_w64(b + 32, 64);
		fx_w16(b + 52, 64);
		fx_w16(b + 54, (uint16_t)phsz);
		fx_w16(b + 56, (uint16_t)nph);
		fx_w16(b + 58, 64);
	} else {
		fx_w32(b + 24, (uint32_t)o->entry);
		fx_w32(b + 28, 64);
		fx_w16(b + 40, 52);
		fx_w16(b + 42, (uint16_t)phsz);
		fx_w16(b + 44, (uint16_t)nph);
		fx_w16(b + 46, 40);
	}
	if (o->note == 2) { /* section 1 is the note area */
		if (o->is64) {
			Elf64_Shdr sh = { .sh_type = SHT_NOTE,
				.sh_offset = NOTE_OFF, .sh_size = notes_len,
				.sh_addralign = 4 };

			memcpy(b + SH_OFF + 64, &sh, sizeof(sh));
			fx_w64(b + 40, SH_OFF);
			fx_w16(b + 60, 2);
		} else {
			Elf32_Shdr sh = { .sh_type = SHT_NOTE,
				.sh_offset = NOTE_OFF,
				.sh_size = (uint32_t)notes_len,
				.sh_addralign = 4 };

			memcpy(b + SH_OFF + 40, &sh, sizeof(sh));
			fx_w32(b + 32, SH_OFF);
			fx_w16(b + 48, 2);
		}
	}
	if (o->mb) {
		fx_w32(b + MB_OFF, 0x1BADB002);
		fx_w32(b + MB_OFF + 4, o->mb_flags);
		fx_w32(b + MB_OFF + 8, -(0x1BADB002u + o->mb_flags));
	}
	return b;
}

static int elf_load_opts(struct fx_mem *t, const struct eopt *o,
    const uint8_t *rd, size_t rdlen, const char *cmd, struct boot_state *bs,
    char *err)
{
	size_t len;
	uint8_t *b = make_elf(o, &len);
	int rc;

	if (b == NULL)
		return -ENOMEM;
	rc = fx_load(t, b, len, rd, rdlen, cmd, bs, err, 256);
	free(b);
	return rc;
}

/* ---- synthetic multiboot a.out-kludge image ---- */

struct aopt {
	uint32_t hoff, flags, header_addr, load_addr, load_end, bss_end, entry;
	size_t len;
};

static struct aopt aout_default(void)
{
	return (struct aopt){
		.hoff = 0x40, .flags = 0x00010003, .header_addr = 0x100040,
		.load_addr = 0x100000, .load_end = 0x103000,
		.bss_end = 0x105000, .entry = 0x100080, .len = 0x3000,
	};
}

static uint8_t *make_aout(const struct aopt *o)
{
	uint8_t *b = malloc(o->len);

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < o->len; i++)
		b[i] = fx_pat(i);
	if (o->hoff + 32 <= o->len) {
		fx_w32(b + o->hoff, 0x1BADB002);
		fx_w32(b + o->hoff + 4, o->flags);
		fx_w32(b + o->hoff + 8, -(0x1BADB002u + o->flags));
		fx_w32(b + o->hoff + 12, o->header_addr);
		fx_w32(b + o->hoff + 16, o->load_addr);
		fx_w32(b + o->hoff + 20, o->load_end);
		fx_w32(b + o->hoff + 24, o->bss_end);
		fx_w32(b + o->hoff + 28, o->entry);
	}
	return b;
}

static int aout_load(struct fx_mem *t, const struct aopt *o,
    struct boot_state *bs, char *err)
{
	uint8_t *b = make_aout(o);
	int rc;

	if (b == NULL)
		return -ENOMEM;
	rc = fx_load(t, b, o->len, NULL, 0, "", bs, err, 256);
	free(b);
	return rc;
}

static uint8_t *make_initrd(size_t n)
{
	uint8_t *p = malloc(n);

	if (p != NULL)
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(0x5A ^ (i >> 3));
	return p;
}

/* ---- PVH ---- */

static void check_pvh(int *failed, const struct fx_mem *t,
    const struct boot_state *bs, const uint8_t *rd, size_t rdlen,
    const char *cmd)
{
	struct e820_entry e[16];
	uint64_t si = bs->rbx, mod, mm;
	int n = e820_build(&t->m, e, 16);

	CHECK_STR(bs->format, "pvh");
	CHECK_EQ(bs->mode, BOOT_MODE_PROT32);
	CHECK_EQ(bs->rip, 0x100010); /* the note's entry, not e_entry */
	CHECK_EQ(si, BOOT_INFO_ADDR);
	CHECK_EQ(bs->cs_sel, 0x10);
	CHECK_EQ(bs->ds_sel, 0x18);
	CHECK_EQ(bs->gdt_base, BOOT_GDT_ADDR);
	CHECK_EQ(FX_G64(t, BOOT_GDT_ADDR + bs->cs_sel), 0x00cf9b000000ffffULL);
	CHECK_EQ(FX_G64(t, BOOT_GDT_ADDR + bs->ds_sel), 0x00cf93000000ffffULL);
	CHECK_EQ(FX_G32(t, si), 0x336ec578);
	CHECK_EQ(FX_G32(t, si + 4), 1);
	CHECK_EQ(FX_G32(t, si + 8), 0);
	CHECK_EQ(FX_G32(t, si + 12), rd != NULL ? 1 : 0);
	CHECK_STR(fx_str(t, FX_G64(t, si + 24)), cmd);
	CHECK_EQ(FX_G64(t, si + 32), 0); /* rsdp */
	mm = FX_G64(t, si + 40);
	CHECK_EQ(FX_G32(t, si + 48), n);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(FX_G64(t, mm + 24 * i), e[i].addr);
		CHECK_EQ(FX_G64(t, mm + 24 * i + 8), e[i].size);
		CHECK_EQ(FX_G32(t, mm + 24 * i + 16), e[i].type);
		CHECK_EQ(FX_G32(t, mm + 24 * i + 20), 0);
	}
	if (rd != NULL) {
		mod = FX_G64(t, si + 16);
		CHECK_EQ(FX_G64(t, mod + 8), rdlen);
		CHECK_EQ(FX_G64(t, mod + 16), 0); /* no module cmdline */
		CHECK_EQ(FX_G64(t, mod) % 4096, 0);
		CHECK(fx_holds(t, FX_G64(t, mod), rd, rdlen));
	}
	/* segments: file bytes, then zeroed bss */
	CHECK_EQ(FX_G8(t, 0x100000 + 5), fx_pat(5));
	CHECK_EQ(FX_G8(t, 0x100000 + 0x7ff), fx_pat(0x7ff));
	CHECK_EQ(FX_G8(t, 0x100000 + 0x800), 0);
	CHECK_EQ(FX_G8(t, 0x101000 + 0xff), fx_pat(0x10ff));
	CHECK_EQ(FX_G64(t, 0x101000 + 0x100), 0);
	CHECK_EQ(FX_G64(t, 0x101000 + 0x2ff8), 0);
}

TEST(loader_pvh_elf64_and_elf32)
{
	struct fx_mem t;
	struct boot_state bs;
	size_t rdlen = 10000;
	uint8_t *rd = make_initrd(rdlen);
	char err[256];

	if (rd == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	for (int is64 = 0; is64 <= 1; is64++)
		for (int note = 1; note <= 2; note++) {
			struct eopt o = elf_default(is64, note, 0);

			/* poison the bss: the loader must zero it */
			memset(gmem_ptr(&t.m, 0x100000, 0x4000), 0xAA, 0x4000);
			CHECK_EQ(elf_load_opts(&t, &o, rd, rdlen, "pvh cmd", &bs,
			    err), 0);
			check_pvh(failed, &t, &bs, rd, rdlen, "pvh cmd");
			CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, NULL, &bs, err),
			    0);
			check_pvh(failed, &t, &bs, NULL, 0, "");
		}
	/* A 4-byte entry note in an ELF64 is fine too. */
	struct eopt o = elf_default(1, 1, 0);
	o.note_descsz = 4;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 0x100010);
	/* PVH wins over multiboot in the same ELF. */
	o = elf_default(0, 1, 1);
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_STR(bs.format, "pvh");
	fx_fini(&t);
	free(rd);
}

TEST(loader_pvh_initrd_avoids_kernel)
{
	struct fx_mem t;
	struct eopt o = elf_default(0, 1, 0);
	struct boot_state bs;
	size_t rdlen = 2 * MiB;
	uint8_t *rd = make_initrd(rdlen);
	uint64_t addr;
	char err[256];

	if (rd == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	/* a segment right at the top of RAM */
	o.seg[1] = (struct eseg){ 0, 63 * MiB, 63 * MiB, 0x100, MiB };
	CHECK_EQ(elf_load_opts(&t, &o, rd, rdlen, "", &bs, err), 0);
	addr = FX_G64(&t, FX_G64(&t, BOOT_INFO_ADDR + 16));
	CHECK_EQ(addr, 61 * MiB);
	CHECK(fx_holds(&t, addr, rd, rdlen));
	CHECK_EQ(FX_G8(&t, 63 * MiB), fx_pat(0x1000));
	fx_fini(&t);
	free(rd);
}

/* The initrd never lands on the firmware tables in the legacy hole: with
 * RAM up to 2 MiB taken by the kernel, it goes below 0xA0000. */
TEST(loader_initrd_avoids_legacy_hole)
{
	struct fx_mem t;
	struct eopt o = elf_default(0, 1, 0);
	struct boot_state bs;
	size_t rdlen = 0x40000;
	uint8_t *rd = make_initrd(rdlen);
	uint64_t addr;
	char err[256];

	if (rd == NULL || fx_init(&t, 2 * MiB, 0) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	o.seg[1] = (struct eseg){ 0, 0x101000, 0x101000, 0x100, 0xff000 };
	CHECK_EQ(elf_load_opts(&t, &o, rd, rdlen, "", &bs, err), 0);
	addr = FX_G64(&t, FX_G64(&t, BOOT_INFO_ADDR + 16));
	CHECK_EQ(addr, 0xA0000 - rdlen);
	CHECK(fx_holds(&t, addr, rd, rdlen));
	free(rd);
	/* Too big to fit below the hole: refused, not placed over it. */
	rdlen = 0x80000;
	rd = make_initrd(rdlen);
	CHECK(rd != NULL);
	if (rd != NULL)
		CHECK_EQ(elf_load_opts(&t, &o, rd, rdlen, "", &bs, err),
		    -ERANGE);
	fx_fini(&t);
	free(rd);
}

TEST(loader_pvh_hostile)
{
	struct fx_mem t;
	struct eopt o;
	struct boot_state bs;
	size_t len;
	uint8_t *b;
	char err[256];

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
#define EXPECT(rcv, ...)                                                      \
	do {                                                                  \
		o = elf_default(1, 1, 0);                                     \
		__VA_ARGS__;                                                  \
		CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), rcv);  \
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);           \
	} while (0)
	EXPECT(-EINVAL, o.seg[0].filesz = 0x2000);      /* filesz > memsz */
	EXPECT(-ERANGE, o.seg[1].paddr = 0x2000);       /* our boot data */
	EXPECT(-ERANGE, o.seg[1].paddr = 0);
	EXPECT(-ERANGE, o.seg[1].paddr = 0x2f000);      /* ends at 0x32000 */
	EXPECT(-ERANGE, o.seg[1].paddr = 64 * MiB - 0x1000); /* past RAM */
	EXPECT(-ERANGE, o.seg[1].paddr = 5 * GiB);
	EXPECT(-EINVAL, o.seg[1].paddr = 0xfffffffffffff000ULL); /* wraps */
	EXPECT(-EINVAL, o.seg[1].memsz = UINT64_MAX);
	EXPECT(-ERANGE, o.note_entry = 0x8000000);      /* outside RAM */
	EXPECT(-EINVAL, o.note_entry = 0x100000000ULL); /* above 4 GiB */
	EXPECT(-EINVAL, o.note_descsz = 2);
	EXPECT(-EINVAL, o.note_namesz = 0x7fffffff);    /* note too long */
	EXPECT(-EINVAL, o.machine = EM_ARM);
	EXPECT(-EINVAL, o.type = ET_DYN);
	EXPECT(-EINVAL, o.seg[0].type = PT_GNU_STACK; o.seg[1].type = PT_GNU_STACK);
	/* with more segments than the loader tracks */
	EXPECT(-EINVAL, o.nseg = 70;
	    for (int i = 0; i < 70; i++) o.seg[i] = (struct eseg){
		0, 0x100000 + i * 0x1000ULL, 0, 0, 0x10 });
	/* a failed load leaves RAM before the bad segment untouched */
	memset(gmem_ptr(&t.m, 0x100000, 16), 0, 16);
	EXPECT(-ERANGE, o.seg[0].paddr = 64 * MiB - 0x10);
	CHECK_EQ(FX_G64(&t, 64 * MiB - 0x10), 0);
#undef EXPECT

	/* header fields pointing out of the file */
	o = elf_default(1, 1, 0);
	b = make_elf(&o, &len);
	if (b != NULL) {
		uint8_t *c = malloc(len);

		memcpy(c, b, len);
		fx_w64(c + 32, len - 8); /* e_phoff */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		fx_w16(c + 56, 0xfffe); /* e_phnum */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		fx_w16(c + 54, 32); /* e_phentsize */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		fx_w64(c + 64 + 8, 0xffffffffffffff00ULL); /* p_offset */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		fx_w64(c + 64 + 8, len - 0x10); /* p_offset + p_filesz > len */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		fx_w64(c + 64 + 2 * 56 + 8, len); /* PT_NOTE p_offset */
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		memcpy(c, b, len);
		c[EI_DATA] = ELFDATA2MSB;
		CHECK_EQ(fx_load(&t, c, len, NULL, 0, "", &bs, err, 256),
		    -EINVAL);
		free(c);
		free(b);
	}
	fx_fini(&t);
}

/* Section headers are only a fallback for the note: bad ones are ignored. */
TEST(loader_elf_bad_sections_ignored)
{
	struct fx_mem t;
	struct boot_state bs;
	struct eopt o = elf_default(0, 2, 1); /* SHT_NOTE only + multiboot */
	size_t len;
	uint8_t *b = make_elf(&o, &len);
	char err[256];

	if (b == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(b);
		return;
	}
	CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, 256), 0);
	CHECK_STR(bs.format, "pvh");
	fx_w32(b + SH_OFF + 40 + 16, (uint32_t)len); /* note past EOF */
	CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, 256), 0);
	CHECK_STR(bs.format, "multiboot");
	fx_w32(b + SH_OFF + 40 + 16, NOTE_OFF);
	fx_w32(b + SH_OFF + 40 + 20, 0xffffff00u); /* size past EOF */
	CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, 256), 0);
	CHECK_STR(bs.format, "multiboot");
	fx_w32(b + 32, 0xfffffff0u); /* e_shoff past EOF */
	CHECK_EQ(fx_load(&t, b, len, NULL, 0, "", &bs, err, 256), 0);
	CHECK_STR(bs.format, "multiboot");
	fx_fini(&t);
	free(b);
}

TEST(loader_elf_truncated)
{
	struct fx_mem t;
	struct boot_state bs;
	char err[256];
	int bad = 0;

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	for (int k = 0; k < 3; k++) {
		struct eopt o = elf_default(k != 1, k == 2 ? 0 : 1, k == 2);
		size_t len;
		uint8_t *b = make_elf(&o, &len);

		for (size_t n = 0; b != NULL && n < len; n++) {
			uint8_t *c = malloc(n ? n : 1);
			int rc;

			if (c == NULL)
				break;
			memcpy(c, b, n);
			rc = fx_load(&t, c, n, NULL, 0, "", &bs, err, 256);
			if ((rc == 0 || (rc != -EINVAL && rc != -ENOEXEC)) &&
			    bad++ < 5)
				printf("  image %d cut at %zu: %d\n", k, n, rc);
			free(c);
		}
		free(b);
	}
	CHECK_EQ(bad, 0);
	fx_fini(&t);
}

/* ---- multiboot ---- */

static void check_mbi(int *failed, const struct fx_mem *t,
    const struct boot_state *bs, const uint8_t *rd, size_t rdlen,
    const char *cmd)
{
	struct e820_entry e[16];
	uint64_t mbi = bs->rbx, mm, mod;
	int n = e820_build(&t->m, e, 16);

	CHECK_STR(bs->format, "multiboot");
	CHECK_EQ(bs->mode, BOOT_MODE_PROT32);
	CHECK_EQ(bs->rax, 0x2BADB002);
	CHECK_EQ(mbi, BOOT_INFO_ADDR);
	CHECK_EQ(bs->cs_sel, 0x10);
	CHECK_EQ(FX_G64(t, BOOT_GDT_ADDR + bs->cs_sel), 0x00cf9b000000ffffULL);
	CHECK_EQ(FX_G32(t, mbi), 0x24d); /* MEM CMDLINE MODS MMAP LOADER */
	CHECK_EQ(FX_G32(t, mbi + 4), 640);
	CHECK_EQ(FX_G32(t, mbi + 8), (t->m.lowmem - MiB) / 1024);
	CHECK_STR(fx_str(t, FX_G32(t, mbi + 16)), cmd);
	CHECK_EQ(FX_G32(t, mbi + 20), rd != NULL ? 1 : 0);
	CHECK_STR(fx_str(t, FX_G32(t, mbi + 64)), "khyve");
	mm = FX_G32(t, mbi + 48);
	CHECK_EQ(FX_G32(t, mbi + 44), 24 * n);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(FX_G32(t, mm + 24 * i), 20);
		CHECK_EQ(FX_G64(t, mm + 24 * i + 4), e[i].addr);
		CHECK_EQ(FX_G64(t, mm + 24 * i + 12), e[i].size);
		CHECK_EQ(FX_G32(t, mm + 24 * i + 20), e[i].type);
	}
	if (rd != NULL) {
		mod = FX_G32(t, mbi + 24);
		CHECK_EQ(FX_G32(t, mod) % 4096, 0);
		CHECK_EQ(FX_G32(t, mod + 4) - FX_G32(t, mod), rdlen);
		CHECK_STR(fx_str(t, FX_G32(t, mod + 8)), "initrd");
		CHECK(fx_holds(t, FX_G32(t, mod), rd, rdlen));
		CHECK(FX_G32(t, mod) >= 0x104000); /* above the kernel */
	}
}

TEST(loader_multiboot_elf)
{
	struct fx_mem t;
	struct boot_state bs;
	size_t rdlen = 5000;
	uint8_t *rd = make_initrd(rdlen);
	struct eopt o;
	char err[256];

	if (rd == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(rd);
		return;
	}
	for (int is64 = 0; is64 <= 1; is64++) {
		o = elf_default(is64, 0, 1);
		o.entry = 0x100020;
		CHECK_EQ(elf_load_opts(&t, &o, rd, rdlen, "mb cmd", &bs, err), 0);
		check_mbi(failed, &t, &bs, rd, rdlen, "mb cmd");
		CHECK_EQ(bs.rip, 0x100020);
		CHECK_EQ(FX_G8(&t, 0x101000 + 0x10), fx_pat(0x1010));
		CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
		check_mbi(failed, &t, &bs, NULL, 0, "");
	}
	/* e_entry virtual: translated through its segment to physical */
	o = elf_default(1, 0, 1);
	o.seg[0].vaddr = 0xffffffff80100000ULL;
	o.entry = 0xffffffff80100040ULL;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(bs.rip, 0x100040);
	/* bit 2 (video mode) is accepted and ignored */
	o = elf_default(0, 0, 1);
	o.mb_flags = 0x7;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	/* other required bits fail */
	o.mb_flags = 0x8 | 0x3;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), -EINVAL);
	CHECK(strstr(err, "0x8") != NULL);
	o.mb_flags = 0x8000;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), -EINVAL);
	/* optional bits (16-31, not 16 itself) are fine */
	o.mb_flags = 0x80000003;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	/* ELF64 with a segment above 4 GiB: unreachable with paging off */
	fx_fini(&t);
	if (fx_init(&t, 64 * MiB, 64 * MiB) == 0) {
		o = elf_default(1, 0, 1);
		o.seg[1].paddr = 4 * GiB;
		CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), -ERANGE);
		CHECK(strstr(err, "4 GiB") != NULL);
		o = elf_default(1, 0, 1);
		o.entry = 4 * GiB + 0x10;
		CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), -EINVAL);
		o = elf_default(1, 0, 1);
		o.entry = 0x8000000;
		CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), -ERANGE);
		fx_fini(&t);
	}
	free(rd);
}

TEST(loader_multiboot_aout)
{
	struct fx_mem t;
	struct boot_state bs;
	struct aopt o = aout_default();
	uint8_t *b = make_aout(&o);
	char err[256];

	if (b == NULL || fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		free(b);
		return;
	}
	memset(gmem_ptr(&t.m, 0x100000, 0x6000), 0xAA, 0x6000);
	CHECK_EQ(aout_load(&t, &o, &bs, err), 0);
	check_mbi(failed, &t, &bs, NULL, 0, "");
	CHECK_EQ(bs.rip, 0x100080);
	CHECK(fx_holds(&t, 0x100000, b, o.len));
	CHECK_EQ(FX_G64(&t, 0x103000), 0);      /* bss zeroed ... */
	CHECK_EQ(FX_G64(&t, 0x104ff8), 0);
	CHECK_EQ(FX_G8(&t, 0x105000), 0xAA);    /* ... and no further */

	/* load_end 0: the whole file from the load offset; no bss */
	o.load_end = 0;
	o.bss_end = 0;
	CHECK_EQ(aout_load(&t, &o, &bs, err), 0);
	/* the header 0x20 bytes into the text: skip the file's first 0x20 */
	o = aout_default();
	o.header_addr = 0x100020;
	o.load_end = 0x102000;
	o.bss_end = 0;
	CHECK_EQ(aout_load(&t, &o, &bs, err), 0);
	free(b);
	b = make_aout(&o);
	CHECK(b != NULL && fx_holds(&t, 0x100000, b + 0x20, 0x2000));
	free(b);

#define EXPECT(rcv, ...)                                                      \
	do {                                                                  \
		o = aout_default();                                           \
		__VA_ARGS__;                                                  \
		CHECK_EQ(aout_load(&t, &o, &bs, err), rcv);                   \
	} while (0)
	EXPECT(-EINVAL, o.load_addr = 0x100044);          /* > header_addr */
	EXPECT(-EINVAL, o.header_addr = 0x100100);        /* before the file */
	EXPECT(-EINVAL, o.load_end = 0xfff00);            /* < load_addr */
	EXPECT(-EINVAL, o.load_end = 0x103001);           /* past EOF */
	EXPECT(-EINVAL, o.bss_end = 0x102fff);            /* < load_end */
	EXPECT(-ERANGE, o.load_addr = 0x1000; o.header_addr = 0x1040;
	    o.load_end = 0x4000; o.bss_end = 0);          /* boot data */
	EXPECT(-ERANGE, o.bss_end = 0x8000000);           /* past RAM */
	EXPECT(-ERANGE, o.load_addr = 0xf0000; o.header_addr = 0xf0040;
	    o.load_end = 0xf3000; o.bss_end = 0; o.entry = 0xf0080);
	                                                  /* firmware tables */
	EXPECT(-ERANGE, o.load_addr = 0xfffff000; o.header_addr = 0xfffff040;
	    o.load_end = 0; o.bss_end = 0);               /* wraps 4 GiB */
	EXPECT(-ERANGE, o.entry = 0x4000000);             /* outside RAM */
	EXPECT(-EINVAL, o.flags = 0x00010013);            /* bit 4 */
	EXPECT(-EINVAL, o.hoff = 8192 - 16; o.len = 8192 + 64;
	    o.header_addr = o.load_addr + o.hoff; o.load_end = 0;
	    o.bss_end = 0);                              /* fields past 8K */
	EXPECT(-ENOEXEC, o.hoff = 8192; o.len = 8192 + 64;
	    o.header_addr = o.load_addr + o.hoff; o.load_end = 0;
	    o.bss_end = 0);                              /* beyond 8 KiB */
	EXPECT(-ENOEXEC, o.hoff = 0x42);                 /* misaligned */
	EXPECT(-EINVAL, o.flags = 0x3);    /* no address fields, not ELF */
#undef EXPECT
	fx_fini(&t);
}

/* Random corruption of valid images: every result is a clean error or a
 * success, never a stray access (guard pages, and ASan when enabled). */
TEST(loader_fuzz_smoke)
{
	struct fx_mem t;
	struct boot_state bs;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char err[256];
	int odd = 0;

	if (fx_init(&t, 32 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	for (int k = 0; k < 4; k++) {
		struct eopt eo = elf_default(k & 1, k < 2, k >= 2);
		size_t len;
		uint8_t *b = make_elf(&eo, &len);

		for (int iter = 0; b != NULL && iter < 1500; iter++) {
			uint8_t *c = malloc(len);
			int rc;

			if (c == NULL)
				break;
			memcpy(c, b, len);
			for (int f = 0; f < 1 + iter % 4; f++) {
				seed = seed * 6364136223846793005ULL + 1;
				/* mostly the headers, sometimes anywhere */
				size_t at = (seed >> 33) % (iter & 1 ? 0x200 : len);

				c[at < 0x200 ? at : NOTE_OFF + at % 0x40] ^=
				    (uint8_t)(seed >> 20) | 1;
			}
			rc = fx_load(&t, c, len, NULL, 0, "", &bs, err, 256);
			if (rc != 0 && rc != -EINVAL && rc != -ERANGE &&
			    rc != -ENOEXEC)
				odd++;
			free(c);
		}
		free(b);
	}
	CHECK_EQ(odd, 0);
	fx_fini(&t);
}

/* An RSDP in the BIOS area (as fwtables_build() leaves it) is handed to a
 * PVH kernel; a bad checksum or a misaligned one is not an RSDP. */
TEST(loader_pvh_rsdp)
{
	struct fx_mem t;
	struct boot_state bs;
	struct eopt o = elf_default(0, 1, 0);
	char err[256];
	uint8_t *r, sum = 0;

	if (fx_init(&t, 64 * MiB, 0) != 0) {
		CHECK(0);
		return;
	}
	r = gmem_ptr(&t.m, 0xF2400, 36);
	memcpy(r, "RSD PTR ", 8);
	r[15] = 2;
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + r[i]);
	r[8] = (uint8_t)-sum;
	/* A decoy before it: signature, wrong checksum. */
	memcpy(gmem_ptr(&t.m, 0xE0010, 8), "RSD PTR ", 8);
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(FX_G64(&t, BOOT_INFO_ADDR + 32), 0xF2400);
	r[8]++;
	CHECK_EQ(elf_load_opts(&t, &o, NULL, 0, "", &bs, err), 0);
	CHECK_EQ(FX_G64(&t, BOOT_INFO_ADDR + 32), 0);
	fx_fini(&t);
}
