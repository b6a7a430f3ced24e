/*
 * elf.c - ELF32/ELF64 parsing, PT_LOAD loading and note lookup for the
 * PVH and multiboot loaders.
 *
 * Headers are copied out of the (possibly unaligned, hostile) image with
 * memcpy into <elf.h> structures; khyve runs on little-endian x86-64 and
 * accepts only little-endian images, so no byte swapping is needed.
 * Every offset/size pair is checked with `size <= len - off` after
 * `off <= len`, which cannot overflow.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "firmware/elf.h"

/* Is [off, off + size) inside a buffer of `len` bytes? */
static bool in_file(uint64_t off, uint64_t size, uint64_t len)
{
	return off <= len && size <= len - off;
}

bool elf_is_elf(const uint8_t *img, size_t len)
{
	return img != NULL && len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

int elf_parse(struct loader_ctx *c, struct elf_image *e)
{
	const uint8_t *img = c->img;
	size_t len = c->len;
	Elf32_Ehdr h32;
	Elf64_Ehdr h64;
	uint16_t type;

	memset(e, 0, sizeof(*e));
	if (!elf_is_elf(img, len))
		return -ENOEXEC;
	if (len < EI_NIDENT)
		return loader_fail(c, -EINVAL, "ELF: truncated header");
	if (img[EI_DATA] != ELFDATA2LSB || img[EI_VERSION] != EV_CURRENT)
		return loader_fail(c, -EINVAL, "ELF: not a little-endian "
		    "version 1 ELF file");
	e->img = img;
	e->len = len;
	if (img[EI_CLASS] == ELFCLASS64) {
		if (len < sizeof(h64))
			return loader_fail(c, -EINVAL, "ELF64: truncated header");
		memcpy(&h64, img, sizeof(h64));
		e->is64 = true;
		type = h64.e_type;
		e->machine = h64.e_machine;
		e->entry = h64.e_entry;
		e->phoff = h64.e_phoff;
		e->phnum = h64.e_phnum;
		e->phentsize = h64.e_phentsize;
		e->shoff = h64.e_shoff;
		e->shnum = h64.e_shnum;
		e->shentsize = h64.e_shentsize;
		if (e->machine != EM_X86_64)
			return loader_fail(c, -EINVAL, "ELF64: machine %u is "
			    "not x86-64", e->machine);
		if (e->phentsize != sizeof(Elf64_Phdr))
			return loader_fail(c, -EINVAL, "ELF64: program header "
			    "size %u", e->phentsize);
	} else if (img[EI_CLASS] == ELFCLASS32) {
		if (len < sizeof(h32))
			return loader_fail(c, -EINVAL, "ELF32: truncated header");
		memcpy(&h32, img, sizeof(h32));
		type = h32.e_type;
		e->machine = h32.e_machine;
		e->entry = h32.e_entry;
		e->phoff = h32.e_phoff;
		e->phnum = h32.e_phnum;
		e->phentsize = h32.e_phentsize;
		e->shoff = h32.e_shoff;
		e->shnum = h32.e_shnum;
		e->shentsize = h32.e_shentsize;
		if (e->machine != EM_386)
			return loader_fail(c, -EINVAL, "ELF32: machine %u is "
			    "not i386", e->machine);
		if (e->phentsize != sizeof(Elf32_Phdr))
			return loader_fail(c, -EINVAL, "ELF32: program header "
			    "size %u", e->phentsize);
	} else {
		return loader_fail(c, -EINVAL, "ELF: unknown class %u",
		    img[EI_CLASS]);
	}
	if (type != ET_EXEC)
		return loader_fail(c, -EINVAL, "ELF: type %u is not an "
		    "executable (ET_EXEC)", type);
	/* PN_XNUM would move the count into section 0: no kernel needs it. */
	if (e->phnum == 0 || e->phnum == PN_XNUM)
		return loader_fail(c, -EINVAL, "ELF: %u program headers",
		    e->phnum);
	if (!in_file(e->phoff, (uint64_t)e->phnum * e->phentsize, len))
		return loader_fail(c, -EINVAL, "ELF: program headers at 0x%llx "
		    "lie outside the file", (unsigned long long)e->phoff);
	return 0;
}

void elf_phdr(const struct elf_image *e, uint32_t i, struct elf_seg *s)
{
	const uint8_t *p = e->img + e->phoff + (uint64_t)i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr h;

		memcpy(&h, p, sizeof(h));
		*s = (struct elf_seg){ h.p_type, h.p_offset, h.p_vaddr,
			h.p_paddr, h.p_filesz, h.p_memsz, h.p_align };
	} else {
		Elf32_Phdr h;

		memcpy(&h, p, sizeof(h));
		*s = (struct elf_seg){ h.p_type, h.p_offset, h.p_vaddr,
			h.p_paddr, h.p_filesz, h.p_memsz, h.p_align };
	}
}

int elf_load(struct loader_ctx *c, const struct elf_image *e, uint64_t limit,
    uint64_t *end)
{
	struct elf_seg s;
	char what[32];
	int nload = 0, rc;

	*end = 0;
	for (uint32_t i = 0; i < e->phnum; i++) {
		elf_phdr(e, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		snprintf(what, sizeof(what), "ELF segment %u", i);
		if (!in_file(s.offset, s.filesz, e->len))
			return loader_fail(c, -EINVAL, "%s: file bytes 0x%llx+"
			    "0x%llx lie past the end of the file", what,
			    (unsigned long long)s.offset,
			    (unsigned long long)s.filesz);
		rc = loader_copy(c, s.paddr, e->img + s.offset, s.filesz,
		    s.memsz, limit, what);
		if (rc != 0)
			return rc;
		/* loader_copy() proved paddr + memsz does not wrap. */
		*end = MAX(*end, s.paddr + s.memsz);
		nload++;
	}
	if (nload == 0)
		return loader_fail(c, -EINVAL, "ELF: nothing to load (no "
		    "PT_LOAD segment)");
	return 0;
}

uint64_t elf_entry_paddr(const struct elf_image *e)
{
	struct elf_seg s;

	for (uint32_t i = 0; i < e->phnum; i++) {
		elf_phdr(e, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		if (e->entry >= s.vaddr && e->entry - s.vaddr < s.memsz)
			return s.paddr + (e->entry - s.vaddr);
	}
	return e->entry;
}

static bool name_is(const uint8_t *p, uint32_t namesz, const char *name)
{
	size_t n = strlen(name);

	/* The gABI counts the NUL in namesz; tolerate producers that omit it. */
	if (namesz == n + 1)
		return memcmp(p, name, n) == 0 && p[n] == '\0';
	return namesz == n && memcmp(p, name, n) == 0;
}

/*
 * Walk the notes in img[off, off + size) (already checked to lie in the
 * file).  With c == NULL a malformed area yields -EINVAL without a message.  Entries are a 12-byte header, the name and the descriptor, each
 * padded to `align` (4, or 8 for 8-aligned ELF64 note areas).
 */
static int walk_notes(struct loader_ctx *c, const uint8_t *area, uint64_t size,
    uint64_t align, const char *name, uint32_t type, const uint8_t **desc,
    uint32_t *descsz)
{
	uint64_t off = 0;

	while (size - off >= 12) {
		uint32_t nsz = loader_rd32(area + off);
		uint32_t dsz = loader_rd32(area + off + 4);
		uint32_t ntype = loader_rd32(area + off + 8);
		uint64_t name_off = off + 12, desc_off;

		if (nsz > size - name_off)
			goto bad;
		desc_off = name_off + ALIGN_UP((uint64_t)nsz, align);
		if (desc_off > size || dsz > size - desc_off)
			goto bad;
		if (ntype == type && name_is(area + name_off, nsz, name)) {
			*desc = area + desc_off;
			*descsz = dsz;
			return 0;
		}
		/* Padding after the last descriptor may be missing. */
		off = MIN(size, desc_off + ALIGN_UP((uint64_t)dsz, align));
	}
	return -ENOENT;
bad:
	if (c == NULL)
		return -EINVAL;
	return loader_fail(c, -EINVAL, "ELF: malformed note at offset 0x%llx",
	    (unsigned long long)(area - c->img + off));
}

static uint64_t note_align(uint64_t a)
{
	return a == 8 ? 8 : 4;
}

int elf_find_note(struct loader_ctx *c, const struct elf_image *e,
    const char *name, uint32_t type, const uint8_t **desc, uint32_t *descsz)
{
	struct elf_seg s;
	uint64_t shsize;
	int rc;

	for (uint32_t i = 0; i < e->phnum; i++) {
		elf_phdr(e, i, &s);
		if (s.type != PT_NOTE)
			continue;
		if (!in_file(s.offset, s.filesz, e->len))
			return loader_fail(c, -EINVAL, "ELF: note segment %u "
			    "lies outside the file", i);
		rc = walk_notes(c, e->img + s.offset, s.filesz,
		    note_align(s.align), name, type, desc, descsz);
		if (rc != -ENOENT)
			return rc;
	}
	/*
	 * Fall back to SHT_NOTE sections (images linked without PT_NOTE).
	 * Section headers are optional to a loader, so a table or note area
	 * that is malformed or outside the file is skipped, never read: it
	 * must not stop a kernel that loads fine from its program headers.
	 */
	shsize = e->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	if (e->shoff == 0 || e->shnum == 0 || e->shentsize != shsize ||
	    e->shnum >= SHN_LORESERVE ||
	    !in_file(e->shoff, (uint64_t)e->shnum * shsize, e->len))
		return -ENOENT;
	for (uint32_t i = 0; i < e->shnum; i++) {
		const uint8_t *p = e->img + e->shoff + (uint64_t)i * shsize;
		uint64_t off, size, align;
		uint32_t sh_type;

		if (e->is64) {
			Elf64_Shdr h;

			memcpy(&h, p, sizeof(h));
			sh_type = h.sh_type;
			off = h.sh_offset;
			size = h.sh_size;
			align = h.sh_addralign;
		} else {
			Elf32_Shdr h;

			memcpy(&h, p, sizeof(h));
			sh_type = h.sh_type;
			off = h.sh_offset;
			size = h.sh_size;
			align = h.sh_addralign;
		}
		if (sh_type != SHT_NOTE || !in_file(off, size, e->len))
			continue;
		rc = walk_notes(NULL, e->img + off, size, note_align(align),
		    name, type, desc, descsz);
		if (rc == 0)
			return 0;
	}
	return -ENOENT;
}
