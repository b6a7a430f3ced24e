/*
 * fwcfg_fuzz.c - QEMU's fw_cfg (src/dev/fwcfg_qemu.c and the device glue
 * src/dev/fwcfg_dev.c): selector and data port accesses of every size,
 * and DMA transfers whose FWCfgDmaAccess descriptors the input places in
 * a small fake guest RAM fenced by guard pages (lowmem, and with some
 * inputs a second region at 4 GiB).
 *
 * Two worlds, chosen by the first byte:
 *  - device: the platform device "fwcfg" with lpc.fwcfg=qemu on a fake VM
 *    (RAM_SIZE, CPU counts, etc/e820, a kernel, initrd and command line
 *    from memfds, user files from -f strings), accessed through the port
 *    bus like isa.h;
 *  - model: fwcfg_create() with items and files of the input's sizes and
 *    contents, accessed through fwcfg_io(), next to a reference model of
 *    the selector and offset: every data port byte and every byte a DMA
 *    read lands in guest RAM is checked against the item's contents.
 * In both, a descriptor that lies in RAM must get its control word back
 * as 0 or ERROR (big-endian), whatever the guest put there.
 *
 * Operations (first byte % 5): 0 selector write (mostly a key that
 * exists), 1 data read of any size, 2 any port access at 0x510..0x51d,
 * 3 a DMA transfer (control mostly SELECT with READ/SKIP/WRITE, rarely
 * any 32 bits; length mostly small, rarely reaching past RAM or wrapping;
 * destination mostly in RAM, rarely flush against its end or anywhere;
 * descriptor mostly in RAM, rarely straddling its end or outside it),
 * 4 a DMA address write of the high half only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus/iobus.h"
#include "config.h"
#include "dev/fwcfg.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "fuzz.h"
#include "isa.h"
#include "loader_fixture.h"
#include "vmm/vm.h"

#define LOW_RAM (256u << 10)
#define HIGH_RAM (64u << 10)
#define NMODEL 6

/* The reference model's view of one item (model world only). */
struct mitem {
	uint16_t key;
	uint32_t len;
	const uint8_t *data; /* NULL: contents not modelled (FILE_DIR) */
};

struct world {
	bool device;
	struct fx_mem fx;
	/* device */
	struct vm vm;
	struct mevent_loop *loop;
	int memfd[2];
	/* model */
	struct fwcfg *fw;
	struct mitem items[NMODEL + 8];
	int nitems;
	uint8_t contents[NMODEL][512];
	int nfiles_added;
	uint16_t sel;
	uint32_t off;
	bool sel_known; /* false after a raw access the model does not follow */
	uint32_t dma_hi; /* the DMA address's high half, as last written */
};

static const struct mitem *mfind(const struct world *w, uint16_t key)
{
	for (int i = 0; i < w->nitems; i++)
		if (w->items[i].key == key)
			return &w->items[i];
	return NULL;
}

/* One access at 0x510 + off; false if it was not delivered.  The model
 * world delivers what the port bus would (fwcfg_io's contract). */
static bool port(struct world *w, bool write, uint64_t off, int size,
    uint64_t *v)
{
	if (w->device)
		return iobus_access(&w->vm.pio, NULL, FWCFG_PORT + off, size,
		    write, v) == 0;
	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    off + (uint64_t)size > FWCFG_QEMU_PORTS)
		return false;
	fwcfg_io(w->fw, write, off, size, v);
	return true;
}

static bool in_ram(const struct world *w, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&w->fx.m, gpa, len) != NULL;
}

/* A key: mostly one that exists, rarely any 16 bits. */
static uint16_t pick_key(struct fz *f)
{
	static const uint16_t keys[16] = {
		FWCFG_SIGNATURE, FWCFG_ID, FWCFG_RAM_SIZE, FWCFG_NB_CPUS,
		FWCFG_MAX_CPUS, FWCFG_KERNEL_SIZE, FWCFG_KERNEL_DATA,
		FWCFG_INITRD_SIZE, FWCFG_INITRD_DATA, FWCFG_CMDLINE_SIZE,
		FWCFG_CMDLINE_DATA, FWCFG_FILE_DIR, FWCFG_FILE_FIRST,
		FWCFG_FILE_FIRST + 1, FWCFG_FILE_FIRST + 2, FWCFG_FILE_FIRST + 3,
	};
	uint8_t c = fz_u8(f);

	return (c & 0xf0) == 0xf0 ? fz_u16(f) : keys[c & 0xf];
}

/* A guest address for `len` bytes: mostly inside a region, rarely flush
 * against its end (or past it) or anywhere. */
static uint64_t pick_addr(struct world *w, struct fz *f, uint64_t len)
{
	uint8_t c = fz_u8(f);
	const struct gmem_region *r = &w->fx.m.r[(c & 0x40) &&
	    w->fx.m.nregions > 1 ? 1 : 0];
	uint64_t room = r->size > len ? r->size - len : 0;

	switch (c & 7) {
	case 6: /* flush with the end, or a little past it */
		return r->gpa + room + (fz_u8(f) & 3 ? 0 : fz_u8(f) % 32);
	case 7:
		return (c & 0x80) ? fz_u64(f) : fz_u32(f);
	default:
		return r->gpa + (room ? fz_u32(f) % (room + 1) : 0);
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* A descriptor in RAM ran: its control word must be 0 or ERROR, whatever
 * the guest put there.  Returns its last byte. */
static uint8_t check_ctl(struct world *w, uint64_t desc)
{
	uint8_t back[4];

	if (gmem_read(&w->fx.m, desc, back, sizeof(back)) != 0)
		abort();
	if (back[0] || back[1] || back[2] || (back[3] & ~FWCFG_DMA_ERROR))
		abort();
	return back[3];
}

static void op_dma(struct world *w, struct fz *f)
{
	static const uint32_t ctls[8] = {
		FWCFG_DMA_SELECT | FWCFG_DMA_READ, FWCFG_DMA_READ,
		FWCFG_DMA_SELECT | FWCFG_DMA_SKIP, FWCFG_DMA_SKIP,
		FWCFG_DMA_SELECT, FWCFG_DMA_SELECT | FWCFG_DMA_WRITE,
		FWCFG_DMA_SELECT | FWCFG_DMA_READ | FWCFG_DMA_SKIP,
		FWCFG_DMA_READ | FWCFG_DMA_ERROR,
	};
	uint8_t c = fz_u8(f), d[16], back[4];
	uint32_t ctl, len;
	uint64_t addr, desc, eff, v;
	bool desc_ok, dst_ok, overlap, skip_hi;
	const struct mitem *it = NULL;
	uint32_t n = 0;

	ctl = ctls[c & 7] | (uint32_t)pick_key(f) << 16;
	if ((c & 0x38) == 0x38)
		ctl = fz_u32(f); /* any bits at all */
	switch (fz_u8(f) & 15) {
	case 15:
		len = fz_u32(f);
		break;
	case 14:
		len = 0xffffffffu - (fz_u8(f) & 15);
		break;
	case 13:
		len = 0;
		break;
	default:
		len = fz_u16(f) % 4097;
		break;
	}
	addr = pick_addr(w, f, len);
	desc = pick_addr(w, f, sizeof(d));
	put_be32(d, ctl);
	put_be32(d + 4, len);
	put_be64(d + 8, addr);
	desc_ok = in_ram(w, desc, sizeof(d));
	if (desc_ok && gmem_write(&w->fx.m, desc, d, sizeof(d)) != 0)
		abort();
	dst_ok = len == 0 || in_ram(w, addr, len);
	overlap = addr < desc + sizeof(d) && desc < addr + len;

	/* Rarely the high half of the address is left as it was (zero after
	 * a run, or what op 4 wrote): then something else may run. */
	skip_hi = (c & 0xc0) == 0xc0;
	eff = skip_hi ? (uint64_t)w->dma_hi << 32 | (uint32_t)desc : desc;

	/* The model, before the device moves: what a READ must deliver. */
	if (!w->device && desc_ok && eff == desc) {
		if (ctl & FWCFG_DMA_SELECT) {
			w->sel = (uint16_t)(ctl >> 16);
			w->off = 0;
			w->sel_known = true;
		}
		it = mfind(w, w->sel);
		if (it != NULL && w->off < it->len)
			n = it->len - w->off < len ? it->len - w->off : len;
	}

	/* outl 0x514 (high half), outl 0x518 (low half, runs it): the
	 * guest writes the big-endian address as bytes. */
	if (!skip_hi) {
		v = __builtin_bswap32((uint32_t)(desc >> 32));
		port(w, true, 4, 4, &v);
	}
	v = __builtin_bswap32((uint32_t)desc);
	port(w, true, 8, 4, &v);
	w->dma_hi = 0;

	if (eff != desc) {
		/* Whatever lies at `eff` ran: check only its control word. */
		if (in_ram(w, eff, sizeof(d))) {
			w->sel_known = false;
			check_ctl(w, eff);
		}
		return;
	}
	if (!desc_ok)
		return; /* nothing may have happened (the model agrees) */
	back[3] = check_ctl(w, desc);
	if (w->device || !w->sel_known)
		return;
	if (ctl & FWCFG_DMA_WRITE) {
		if (back[3] != FWCFG_DMA_ERROR)
			abort(); /* nothing is writable */
	} else if (ctl & FWCFG_DMA_READ) {
		if ((back[3] == FWCFG_DMA_ERROR) == dst_ok)
			abort(); /* ERROR exactly when the buffer is not RAM */
		if (dst_ok && len != 0) {
			const uint8_t *p = gmem_ptr(&w->fx.m, addr, len);

			if (!overlap && it != NULL && it->data != NULL &&
			    memcmp(p, it->data + w->off, n) != 0)
				abort();
			for (uint32_t i = n; !overlap && i < len; i++)
				if (p[i] != 0)
					abort(); /* past the end reads 0 */
			w->off += n;
		}
	} else if (ctl & FWCFG_DMA_SKIP) {
		w->off += n;
	}
}

static void op_data(struct world *w, struct fz *f)
{
	int size = fz_size(f);
	uint64_t v = fz_u64(f);

	if (!port(w, false, 1, size, &v) || w->device || !w->sel_known)
		return;
	/* Each byte is the item's next, or 0 past its end. */
	const struct mitem *it = mfind(w, w->sel);

	for (int i = 0; i < size && i < 8; i++) {
		uint8_t b = 0;

		if (it != NULL && w->off < it->len) {
			b = it->data != NULL ? it->data[w->off] :
			    (uint8_t)(v >> (8 * i));
			w->off++;
		}
		if ((uint8_t)(v >> (8 * i)) != b)
			abort();
	}
}

static void run_ops(struct world *w, struct fz *f)
{
	while (fz_more(f)) {
		uint8_t c = fz_u8(f);
		uint64_t v;
		int size;

		switch (c % 5) {
		case 0:
			v = pick_key(f);
			port(w, true, 0, 2, &v);
			w->sel = (uint16_t)v;
			w->off = 0;
			w->sel_known = true; /* the model follows again */
			break;
		case 1:
			op_data(w, f);
			break;
		case 2: {
			uint64_t off = fz_u8(f) % 14;

			size = fz_size(f);
			v = fz_u32(f);
			if (!port(w, (c & 0x80) != 0, off, size, &v))
				break;
			/* A selector write or data read the model did not
			 * follow, or a DMA run at a guest-made address. */
			if ((c & 0x80) ? (off == 0 && size == 2) ||
			    (off == 8 && size == 4) : off == 1)
				w->sel_known = false;
			if ((c & 0x80) && off == 4 && size == 4)
				w->dma_hi = __builtin_bswap32((uint32_t)v);
			if ((c & 0x80) && off == 8 && size == 4)
				w->dma_hi = 0;
			break;
		}
		case 3:
			op_dma(w, f);
			break;
		default:
			v = fz_u32(f);
			port(w, true, 4, 4, &v);
			w->dma_hi = __builtin_bswap32((uint32_t)v);
			break;
		}
	}
}

/* An in-memory file of `len` input bytes: "/proc/self/fd/N". */
static int memfile(struct fz *f, uint32_t len, char *path, size_t plen)
{
	uint8_t buf[4096];
	int fd = memfd_create("fwcfg-fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	len = len > sizeof(buf) ? sizeof(buf) : len;
	fz_bytes(f, buf, len);
	if (write(fd, buf, len) != (ssize_t)len)
		abort();
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	return fd;
}

static const struct platform_dev *find_dev(void)
{
	const struct platform_dev *d = isa_find("fwcfg");

	if (d == NULL)
		abort();
	return d;
}

static void device_world(struct world *w, struct fz *f, uint8_t shape)
{
	const struct platform_dev *d = find_dev();
	char path[64], key[64], str[96];
	int nfiles = (shape >> 2) & 3;

	w->loop = mevent_loop_create();
	if (w->loop == NULL)
		abort();
	config_init();
	config_set(NULL, "lpc.fwcfg", "qemu");
	w->memfd[0] = w->memfd[1] = -1;
	if (shape & 0x10) {
		w->memfd[0] = memfile(f, fz_u16(f) % 2048, path, sizeof(path));
		config_set(NULL, "boot.kernel", path);
		fz_bytes(f, str, 32);
		str[31] = '\0';
		config_set(NULL, "boot.cmdline", str);
	}
	if (shape & 0x20) {
		w->memfd[1] = memfile(f, fz_u16(f) % 2048, path, sizeof(path));
		config_set(NULL, "boot.initrd", path);
	}
	for (int i = 0; i < nfiles; i++) {
		snprintf(key, sizeof(key), "fwcfg.user.%d.name", i);
		snprintf(str, sizeof(str), "opt/fuzz/%d", i);
		config_set(NULL, key, str);
		snprintf(key, sizeof(key), "fwcfg.user.%d.string", i);
		fz_bytes(f, str, 64);
		str[fz_u8(f) % 64] = '\0';
		config_set(NULL, key, str);
	}
	memset(&w->vm, 0, sizeof(w->vm));
	w->vm.fd = w->vm.kvm_fd = w->vm.exit_fd = -1;
	w->vm.mem = w->fx.m;
	w->vm.ncpus = 1 + fz_u8(f) % 16;
	/* qemu mode builds the ACPI/SMBIOS files, which need a topology. */
	w->vm.topo = (struct vm_topology){ .cpus = w->vm.ncpus, .sockets = 1,
		.cores = w->vm.ncpus, .threads = 1 };
	w->vm.ev = w->loop;
	iobus_init(&w->vm.pio, "port");
	iobus_init(&w->vm.mmio, "mmio");
	if (d->init(d, &w->vm) != 0)
		abort(); /* the inputs above are all valid */
	run_ops(w, f);
	d->fini(d, &w->vm);
	if (w->vm.pio.n != 0)
		abort(); /* fini left its claim behind */
	iobus_fini(&w->vm.pio);
	iobus_fini(&w->vm.mmio);
	config_fini();
	mevent_loop_destroy(w->loop);
	for (int i = 0; i < 2; i++)
		if (w->memfd[i] >= 0)
			close(w->memfd[i]);
}

static void model_world(struct world *w, struct fz *f, uint8_t shape)
{
	static const uint8_t id[4] = { FWCFG_ID_TRAD | FWCFG_ID_DMA };
	int nfiles = (shape >> 2) & 3, nitems = (shape >> 4) & 3;
	char name[FWCFG_NAME_MAX];

	w->fw = fwcfg_create(&w->fx.m);
	if (w->fw == NULL)
		abort();
	w->items[w->nitems++] = (struct mitem){ FWCFG_SIGNATURE, 4,
		(const uint8_t *)"QEMU" };
	w->items[w->nitems++] = (struct mitem){ FWCFG_ID, 4, id };
	/* Numbered items at keys the input picks (files' keys refused). */
	for (int i = 0; i < nitems; i++) {
		uint16_t k = pick_key(f);
		uint32_t len = fz_u16(f) % (sizeof(w->contents[0]) + 1);
		uint8_t *c = w->contents[i];

		fz_bytes(f, c, len);
		if (fwcfg_add_item(w->fw, k, c, len) == 0)
			w->items[w->nitems++] = (struct mitem){ k, len, c };
	}
	for (int i = 0; i < nfiles; i++) {
		uint32_t len = fz_u16(f) % (sizeof(w->contents[0]) + 1);
		uint8_t *c = w->contents[NMODEL / 2 + i];

		fz_bytes(f, c, len);
		snprintf(name, sizeof(name), "opt/%c", 'a' + (fz_u8(f) & 3));
		if (fwcfg_add_file(w->fw, name, c, len) == 0)
			w->items[w->nitems++] = (struct mitem){
				(uint16_t)(FWCFG_FILE_FIRST + w->nfiles_added++),
				len, c };
	}
	w->items[w->nitems++] = (struct mitem){ FWCFG_FILE_DIR,
		4 + 64 * (uint32_t)w->nfiles_added, NULL };
	run_ops(w, f);
	fwcfg_destroy(w->fw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = calloc(1, sizeof(*w));
	struct fz f;
	uint8_t shape;

	if (w == NULL)
		abort();
	fz_init(&f, data, size);
	shape = fz_u8(&f);
	if (fx_init(&w->fx, LOW_RAM, (shape & 2) ? HIGH_RAM : 0) != 0)
		abort();
	w->sel_known = true;
	w->device = (shape & 1) != 0;
	if (w->device)
		device_world(w, &f, shape);
	else
		model_world(w, &f, shape);
	fx_fini(&w->fx);
	free(w);
	return 0;
}
