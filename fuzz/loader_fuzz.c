/*
 * loader_fuzz.c - the kernel loaders (src/firmware/loader.c, bzimage.c,
 * elf.c, pvh.c, multiboot.c) on a hostile kernel file: the input is the
 * image (bzImage, PVH ELF32/64, multiboot ELF or a.out kludge; format
 * detection included), loaded with loader_load_buf() into fake guest RAM
 * fenced by guard pages (loader_fixture.h).  Results must be one of the
 * documented errors, or a boot state whose GDT lies in RAM.
 *
 * Input: one byte choosing the RAM layout (2, 16 or 64 MiB, with or
 * without RAM above 4 GiB), the initrd size and the command line, then
 * the kernel image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "loader_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t lows[4] = { 2 * MiB, 16 * MiB, 64 * MiB,
					  64 * MiB };
	static const size_t rdlens[4] = { 0, 1, 4096, 3 * MiB };
	static uint8_t initrd[3 * MiB];
	static char cmdline[8192];
	struct boot_state bs;
	struct fx_mem t;
	char err[256];
	uint8_t c;
	int rc;

	if (size < 1)
		return 0;
	c = data[0];
	if (fx_init(&t, lows[c & 3], (c & 4) ? 64 * MiB : 0) != 0)
		abort();
	/* A command line of 0, 100 or (too many) 5000 bytes. */
	memset(cmdline, 'c', sizeof(cmdline));
	cmdline[((c >> 5) & 3) == 0 ? 0 : ((c >> 5) & 1) ? 100 : 5000] = '\0';
	initrd[0] = 0x1f; /* stable contents: a gzip-looking byte */
	rc = loader_load_buf(&t.m, data + 1, size - 1,
	    (c & 0x18) ? initrd : NULL, rdlens[(c >> 3) & 3], cmdline,
	    1 + (c >> 7) * 15, &bs, err, sizeof(err));
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "loader: %d %s %s\n", rc,
		    rc == 0 ? bs.format : "", rc == 0 ? "" : err);
	if (rc != 0 && rc != -ENOEXEC && rc != -EINVAL && rc != -ERANGE)
		abort();
	if (rc == 0 && (bs.format == NULL ||
	    gmem_ptr(&t.m, bs.gdt_base, (uint64_t)bs.gdt_limit + 1) == NULL))
		abort();
	fx_fini(&t);
	return 0;
}
