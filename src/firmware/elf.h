/*
 * elf.h - the ELF pieces the PVH and multiboot loaders share: header and
 * program header parsing (ELF32 and ELF64, little-endian x86), loading
 * PT_LOAD segments at their physical addresses, and finding notes.
 *
 * Trust boundary: the image is a hostile file.  elf_parse() checks that
 * the program header table lies in the file; every segment and note is
 * checked against the file size again before use.  Errors go to the
 * loader context's message buffer.
 */
#ifndef KHYVE_FIRMWARE_ELF_H
#define KHYVE_FIRMWARE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/loader_priv.h"

struct elf_image {
	const uint8_t *img;
	size_t len;
	bool is64;
	uint16_t machine; /* EM_386 or EM_X86_64 */
	uint64_t entry;   /* e_entry, a virtual address */
	uint64_t phoff;   /* the table lies in the file (elf_parse checked) */
	uint32_t phnum, phentsize;
	uint64_t shoff; /* section headers: checked only when used */
	uint32_t shnum, shentsize;
};

struct elf_seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Does the buffer start with the ELF magic? */
bool elf_is_elf(const uint8_t *img, size_t len);

/*
 * Parse the ELF header of c->img: 0, -ENOEXEC if it is not an ELF file,
 * -EINVAL (message in c) if it is a malformed or non-x86 executable.
 */
int elf_parse(struct loader_ctx *c, struct elf_image *e);

/* Program header i (< e->phnum), fields unchecked. */
void elf_phdr(const struct elf_image *e, uint32_t i, struct elf_seg *s);

/*
 * Load every PT_LOAD segment at p_paddr (file bytes, then zeros up to
 * p_memsz), each wholly in guest RAM below `limit`.  *end gets the highest
 * loaded address + 1.
 */
int elf_load(struct loader_ctx *c, const struct elf_image *e, uint64_t limit,
    uint64_t *end);

/* e_entry as a physical address: translated through the PT_LOAD that
 * contains it (p_vaddr -> p_paddr), else e_entry unchanged. */
uint64_t elf_entry_paddr(const struct elf_image *e);

/*
 * Find a note by owner name and type, in PT_NOTE segments and then in
 * SHT_NOTE sections.  0 with *desc and *descsz pointing into the image,
 * -ENOENT if absent, -EINVAL (message in c) if a PT_NOTE segment is
 * malformed.  Malformed section headers or note sections are skipped:
 * loaders need not use sections, so they cannot make a kernel fail.
 */
int elf_find_note(struct loader_ctx *c, const struct elf_image *e,
    const char *name, uint32_t type, const uint8_t **desc, uint32_t *descsz);

#endif
