/*
 * loader.c - direct kernel boot: read the kernel and initrd files (bounded
 * by LOADER_MAX_FILE), detect the format and hand over to bzimage.c,
 * pvh.c or multiboot.c; plus the helpers they share (placing pieces in
 * guest RAM, the command line, the GDT and page tables).
 *
 * Trust boundary: file contents are hostile.  Every guest address written
 * here is checked by gmem_ptr()/gmem_write() and, for kernel pieces, kept
 * out of the loader's own area (boot_layout.h) so that the tables built
 * later cannot be clobbered by, or clobber, the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "firmware/boot_layout.h"
#include "firmware/loader_priv.h"

int loader_fail(struct loader_ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

int loader_claim(struct loader_ctx *c, uint64_t gpa, uint64_t size,
    uint64_t limit, const char *what)
{
	uint64_t end;

	if (size == 0)
		return 0;
	if (size > UINT64_MAX - gpa)
		return loader_fail(c, -EINVAL, "%s: address 0x%llx + size 0x%llx"
		    " wraps around", what, (unsigned long long)gpa,
		    (unsigned long long)size);
	end = gpa + size;
	if (end > limit || gmem_ptr(c->mem, gpa, size) == NULL)
		return loader_fail(c, -ERANGE, "%s at 0x%llx-0x%llx is outside "
		    "guest RAM%s", what, (unsigned long long)gpa,
		    (unsigned long long)(end - 1),
		    end > limit && limit == LOADER_4G ? " below 4 GiB" : "");
	if (overlaps(gpa, end, 0, BOOT_LOW_RESERVED))
		return loader_fail(c, -ERANGE, "%s at 0x%llx-0x%llx overlaps "
		    "the loader's boot data below 0x%llx", what,
		    (unsigned long long)gpa, (unsigned long long)(end - 1),
		    BOOT_LOW_RESERVED);
	if (overlaps(gpa, end, BOOT_LEGACY_START, BOOT_LEGACY_END))
		return loader_fail(c, -ERANGE, "%s at 0x%llx-0x%llx overlaps "
		    "the legacy hole 0x%llx-0x%llx (firmware tables)", what,
		    (unsigned long long)gpa, (unsigned long long)(end - 1),
		    BOOT_LEGACY_START, BOOT_LEGACY_END - 1);
	if (c->nused >= LOADER_MAX_RANGES)
		return loader_fail(c, -EINVAL, "too many pieces to load (more "
		    "than %d)", LOADER_MAX_RANGES);
	c->used[c->nused].start = gpa;
	c->used[c->nused].end = end;
	c->nused++;
	return 0;
}

int loader_copy(struct loader_ctx *c, uint64_t gpa, const uint8_t *src,
    uint64_t filesz, uint64_t memsz, uint64_t limit, const char *what)
{
	uint8_t *p;
	int rc;

	if (filesz > memsz)
		return loader_fail(c, -EINVAL, "%s: file size 0x%llx exceeds "
		    "memory size 0x%llx", what, (unsigned long long)filesz,
		    (unsigned long long)memsz);
	if (memsz == 0)
		return 0;
	if ((rc = loader_claim(c, gpa, memsz, limit, what)) != 0)
		return rc;
	/* loader_claim() checked exactly this range. */
	p = gmem_ptr(c->mem, gpa, memsz);
	if (p == NULL)
		return loader_fail(c, -ERANGE, "%s: not in guest RAM", what);
	if (filesz != 0)
		memcpy(p, src, filesz);
	memset(p + filesz, 0, memsz - filesz);
	return 0;
}

int loader_place_initrd(struct loader_ctx *c, uint64_t lo, uint64_t top,
    uint64_t *gpa)
{
	uint64_t len = c->initrd_len, cand;
	uint8_t *p;

	*gpa = 0;
	if (c->initrd == NULL || len == 0)
		return 0;
	lo = MAX(lo, BOOT_LOW_RESERVED);
	if (top <= lo || len > top - lo)
		goto nofit;
	cand = (top - len) & ~(LOADER_PAGE - 1);
	/*
	 * Move below each kernel range we hit.  Every move puts the initrd
	 * wholly below the range it collided with and cand only decreases,
	 * so no range is hit twice: nused + 1 rounds suffice (stepping below
	 * the legacy hole happens at most once and costs no round).
	 */
	for (int round = 0; round <= c->nused; round++) {
		const struct loader_range *hit = NULL;

		if (cand < lo)
			goto nofit;
		/* Never over the firmware tables: below the legacy hole. */
		if (overlaps(cand, cand + len, BOOT_LEGACY_START,
		    BOOT_LEGACY_END)) {
			if (BOOT_LEGACY_START < len)
				goto nofit;
			cand = (BOOT_LEGACY_START - len) & ~(LOADER_PAGE - 1);
			if (cand < lo)
				goto nofit;
		}
		for (int i = 0; i < c->nused; i++)
			if (overlaps(cand, cand + len, c->used[i].start,
			    c->used[i].end)) {
				hit = &c->used[i];
				break;
			}
		if (hit == NULL) {
			p = gmem_ptr(c->mem, cand, len);
			if (p == NULL)
				goto nofit;
			memcpy(p, c->initrd, len);
			*gpa = cand;
			return 0;
		}
		if (hit->start < len)
			goto nofit;
		cand = (hit->start - len) & ~(LOADER_PAGE - 1);
	}
nofit:
	return loader_fail(c, -ERANGE, "initrd (%llu bytes) does not fit in "
	    "guest RAM between 0x%llx and 0x%llx next to the kernel",
	    (unsigned long long)len, (unsigned long long)lo,
	    (unsigned long long)top);
}

int loader_put_cmdline(struct loader_ctx *c, uint64_t max_len)
{
	size_t n = strnlen(c->cmdline, BOOT_CMDLINE_MAX);

	if (n >= BOOT_CMDLINE_MAX)
		return loader_fail(c, -EINVAL, "command line is longer than "
		    "%llu bytes", BOOT_CMDLINE_MAX - 1);
	if (n > max_len)
		return loader_fail(c, -EINVAL, "command line is %zu bytes, the "
		    "kernel accepts at most %llu", n,
		    (unsigned long long)max_len);
	if (gmem_write(c->mem, BOOT_CMDLINE_ADDR, c->cmdline, n + 1) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the command "
		    "line");
	return 0;
}

/* Identity map of 0-4 GiB: PML4[0] -> PDPT[0..3] -> 4 PDs of 2 MiB pages. */
static int put_pagetables(struct loader_ctx *c)
{
	uint64_t size = BOOT_PD_ADDR + 4 * LOADER_PAGE - BOOT_PML4_ADDR;
	uint8_t *p = gmem_ptr(c->mem, BOOT_PML4_ADDR, size);
	uint8_t *pdpt, *pd;

	if (p == NULL)
		return loader_fail(c, -ERANGE, "no guest RAM for page tables");
	memset(p, 0, size);
	pdpt = p + (BOOT_PDPT_ADDR - BOOT_PML4_ADDR);
	pd = p + (BOOT_PD_ADDR - BOOT_PML4_ADDR);
	loader_wr64(p, BOOT_PDPT_ADDR | 0x3); /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		loader_wr64(pdpt + 8 * i, (BOOT_PD_ADDR + i * LOADER_PAGE) | 0x3);
	for (uint64_t i = 0; i < 4 * 512; i++)
		loader_wr64(pd + 8 * i, (i << 21) | 0x83); /* + PS (2 MiB) */
	return 0;
}

int loader_set_entry(struct loader_ctx *c, enum boot_mode mode, uint64_t rip)
{
	/* base 0, limit 4 GiB, G=1; code execute/read, data read/write,
	 * both already "accessed" as the VMM's hidden state says. */
	uint64_t gdt[BOOT_GDT_ENTRIES] = {
		0,
		0,
		mode == BOOT_MODE_LONG64 ? 0x00af9b000000ffffULL /* L=1 */
					 : 0x00cf9b000000ffffULL, /* D=1 */
		0x00cf93000000ffffULL,
	};
	uint8_t raw[sizeof(gdt)];
	struct boot_state *o = c->out;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(gdt); i++)
		loader_wr64(raw + 8 * i, gdt[i]);
	if (gmem_write(c->mem, BOOT_GDT_ADDR, raw, sizeof(raw)) != 0)
		return loader_fail(c, -ERANGE, "no guest RAM for the GDT");
	if (mode == BOOT_MODE_LONG64) {
		if ((rc = put_pagetables(c)) != 0)
			return rc;
		o->cr3 = BOOT_PML4_ADDR;
	}
	o->mode = mode;
	o->rip = rip;
	o->rsp = BOOT_STACK_TOP;
	o->gdt_base = BOOT_GDT_ADDR;
	o->gdt_limit = sizeof(raw) - 1;
	o->cs_sel = BOOT_CS_SEL;
	o->ds_sel = BOOT_DS_SEL;
	return 0;
}

uint64_t loader_rsdp(struct loader_ctx *c)
{
	const uint8_t *bios = gmem_ptr(c->mem, 0xE0000, 0x20000);

	if (bios == NULL)
		return 0;
	for (size_t off = 0; off + 20 <= 0x20000; off += 16) {
		uint8_t sum = 0;

		if (memcmp(bios + off, "RSD PTR ", 8) != 0)
			continue;
		for (int i = 0; i < 20; i++)
			sum = (uint8_t)(sum + bios[off + (size_t)i]);
		if (sum == 0)
			return 0xE0000 + off;
	}
	return 0;
}

int loader_e820(struct loader_ctx *c, struct e820_entry *tab, int max)
{
	int n = e820_build(c->mem, tab, max);

	if (n <= 0 || n > max)
		return loader_fail(c, -EINVAL, "cannot build the memory map");
	return n;
}

int loader_load_buf(const struct guest_mem *mem, const uint8_t *kernel,
    size_t kernel_len, const uint8_t *initrd, size_t initrd_len,
    const char *cmdline, int ncpus, struct boot_state *out, char *err,
    size_t errlen)
{
	struct loader_ctx *c;
	uint32_t pvh_entry;
	size_t mb_off;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (mem == NULL || out == NULL || (kernel == NULL && kernel_len != 0))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* The range list makes the context large: keep it off the stack. */
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->mem = mem;
	c->img = kernel;
	c->len = kernel_len;
	c->initrd = initrd_len != 0 ? initrd : NULL;
	c->initrd_len = c->initrd != NULL ? initrd_len : 0;
	c->cmdline = cmdline != NULL ? cmdline : "";
	c->ncpus = ncpus;
	c->out = out;
	c->err = err;
	c->errlen = errlen;

	if (kernel_len > LOADER_MAX_FILE || c->initrd_len > LOADER_MAX_FILE) {
		rc = loader_fail(c, -EINVAL, "file larger than %llu MiB",
		    LOADER_MAX_FILE >> 20);
		goto out;
	}
	if (gmem_ptr(mem, 0, BOOT_AREA_END) == NULL) {
		rc = loader_fail(c, -ERANGE, "guest RAM too small for direct "
		    "boot (need more than %llu KiB)", BOOT_AREA_END >> 10);
		goto out;
	}
	if (bzimage_probe(kernel, kernel_len)) {
		rc = bzimage_load(c);
		goto out;
	}
	rc = pvh_probe(c, &pvh_entry);
	if (rc == 0) {
		rc = pvh_load(c, pvh_entry);
		goto out;
	}
	if (rc != -ENOENT)
		goto out;
	if (multiboot_probe(kernel, kernel_len, &mb_off) == 0) {
		rc = multiboot_load(c, mb_off);
		goto out;
	}
	rc = loader_fail(c, -ENOEXEC, "not a bzImage, PVH ELF or multiboot "
	    "kernel");
out:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	free(c);
	return rc;
}

/*
 * Read a whole regular file of at most LOADER_MAX_FILE bytes.  The size is
 * taken from fstat() and the read must yield exactly that many bytes, so a
 * file that changes underneath us is an error, not a short image.
 */
static int read_file(const char *path, uint8_t **buf, size_t *len,
    char *why, size_t whylen)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	char extra;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(why, whylen, "%s", strerror(-rc));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(why, whylen, "not a regular file");
		goto fail;
	}
	if (st.st_size <= 0) {
		rc = -EINVAL;
		snprintf(why, whylen, "file is empty");
		goto fail;
	}
	if ((unsigned long long)st.st_size > LOADER_MAX_FILE) {
		rc = -EINVAL;
		snprintf(why, whylen, "file is larger than %llu MiB",
		    LOADER_MAX_FILE >> 20);
		goto fail;
	}
	p = malloc((size_t)st.st_size);
	if (p == NULL) {
		rc = -ENOMEM;
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(why, whylen, "%s", strerror(-rc));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size || read(fd, &extra, 1) != 0) {
		rc = -EIO;
		snprintf(why, whylen, "file changed while being read");
		goto fail;
	}
	close(fd);
	*buf = p;
	*len = got;
	return 0;

fail:
	free(p);
	close(fd);
	return rc;
}

int loader_load(const struct guest_mem *mem, const struct loader_args *args,
    struct boot_state *out, char *err, size_t errlen)
{
	uint8_t *kbuf = NULL, *ibuf = NULL;
	size_t klen = 0, ilen = 0;
	char why[200] = "";
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (args == NULL || args->kernel == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no kernel to load");
		return -EINVAL;
	}
	rc = read_file(args->kernel, &kbuf, &klen, why, sizeof(why));
	if (rc != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "kernel %s: %s", args->kernel, why);
		goto out;
	}
	if (args->initrd != NULL) {
		rc = read_file(args->initrd, &ibuf, &ilen, why, sizeof(why));
		if (rc != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "initrd %s: %s",
				    args->initrd, why);
			goto out;
		}
	}
	rc = loader_load_buf(mem, kbuf, klen, ibuf, ilen, args->cmdline,
	    args->ncpus, out, why, sizeof(why));
	if (rc != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "kernel %s: %s", args->kernel,
		    why[0] ? why : strerror(-rc));
out:
	free(ibuf);
	free(kbuf);
	return rc;
}
