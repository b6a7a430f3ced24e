/*
 * vhostile.elf - a hostile virtio driver.  Each case sets the device up
 * afresh, puts one malformed chain on a queue, and watches what happens:
 *  - "completed": the device returned the chain (with its length and, for
 *    virtio-blk, status byte);
 *  - "needs-reset": the device set DEVICE_NEEDS_RESET (virtio 1.2, 2.1)
 *    and, with MSI-X, raised a configuration interrupt;
 *  - "nothing": neither within "wait=MS" (default 3000).
 * Structurally broken chains (a loop, a next index or head out of range,
 * a chain longer than the queue, a bad indirect table, a device-readable
 * descriptor after a writable one) must give needs-reset on the modern
 * transport; on legacy, which has no such status bit, nothing (or a
 * zero-length completion) is accepted.  Bad buffers (outside RAM,
 * wrapping, too long) may give either needs-reset or an error completion.
 * virtio-blk requests with bad contents (short header, read-only status
 * byte, a sector beyond the capacity, a length not a multiple of 512)
 * must fail (status != OK) or give needs-reset; beyond the capacity must
 * complete with IOERR.  After every case the device is reset and a good
 * request must work again, and in the end the guest is still running:
 * "vhostile ok".
 * Options: "dev=rnd|blk" (default rnd), "transport=", "irq=", "wait=MS".
 */
#include "virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1

static struct pci_dev devs[PCI_MAX_DEVS];
static struct pci_dev *dev;
static struct vdev vd;
static bool blk;
static enum vio_mode mode;
static enum vio_irq irqmode;
static uint32_t wait_ms;
static uint8_t *buf, *hdr, *status;
static uint64_t capacity;
static uint64_t ram_top;

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

enum kind { STRUCT, BUFFER, CONTENT, RANGE };

static int setup(void)
{
	int before = vio_errors;

	if (vio_init(&vd, dev, mode, irqmode, 0x40) != 0 ||
	    vio_negotiate(&vd, 1ull << VIRTIO_RING_F_INDIRECT_DESC) != 0 ||
	    vio_setup_vq(&vd, 0, 64) != 0)
		return -1;
	vio_driver_ok(&vd);
	if (blk)
		capacity = vio_cfg_read(&vd, 0, 8);
	return vio_errors == before ? 0 : -1;
}

static void set_desc(int i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	vd.vq[0].desc[i].addr = addr;
	vd.vq[0].desc[i].len = len;
	vd.vq[0].desc[i].flags = flags;
	vd.vq[0].desc[i].next = next;
}

/* A blk header descriptor at i (-> next), readable. */
static void blk_hdr_desc(int i, uint32_t type, uint64_t sector, int next)
{
	struct blk_hdr *h = (struct blk_hdr *)hdr;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	set_desc(i, (uintptr_t)h, sizeof(*h), VRING_DESC_F_NEXT,
	    (uint16_t)next);
}

/* The last descriptor of a good chain: rnd data or blk status. */
static void tail_desc(int i)
{
	*status = 0xee;
	if (blk)
		set_desc(i, (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
	else
		set_desc(i, (uintptr_t)buf, 16, VRING_DESC_F_WRITE, 0);
}

/* ---- the cases: each writes descriptors and returns the head ---- */

static int c_loop2(void)
{
	set_desc(0, (uintptr_t)buf, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(1, (uintptr_t)buf + 16, 16,
	    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	if (blk)
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
	return 0;
}

static int c_selfloop(void)
{
	set_desc(0, (uintptr_t)buf, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	return 0;
}

static int c_next_range(void)
{
	uint16_t size = vd.vq[0].size;

	if (blk)
		blk_hdr_desc(0, BLK_T_IN, 0, size + 5);
	else
		set_desc(0, (uintptr_t)buf, 16,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, size + 5);
	return 0;
}

static int c_head_range(void)
{
	tail_desc(0);
	return vd.vq[0].size + 3;
}

/* Every descriptor of the queue in one chain, the last back to the first:
 * longer than the queue. */
static int c_too_long(void)
{
	uint16_t size = vd.vq[0].size;

	for (uint16_t i = 0; i < size; i++)
		set_desc(i, (uintptr_t)buf + (i % 64) * 16u, 16,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    (uint16_t)((i + 1) % size));
	if (blk)
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
	return 0;
}

static int c_read_after_write(void)
{
	if (blk) {
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
		set_desc(1, (uintptr_t)buf, 512,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
		set_desc(2, (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 3);
		tail_desc(3);
	} else {
		set_desc(0, (uintptr_t)buf, 16,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
		set_desc(1, (uintptr_t)buf + 16, 16, 0, 0);
	}
	return 0;
}

static struct vring_desc *ind;

/* An indirect table of `n` entries chained in order (n <= 4096). */
static int indirect_n(uint32_t len, uint16_t entries_flags, int n)
{
	for (int i = 0; i < n; i++) {
		ind[i].addr = (uintptr_t)buf + 16u * (uint32_t)(i % 4);
		ind[i].len = 16;
		ind[i].flags = (uint16_t)(VRING_DESC_F_WRITE | entries_flags |
		    (i < n - 1 ? VRING_DESC_F_NEXT : 0));
		ind[i].next = (uint16_t)(i + 1);
	}
	set_desc(0, (uintptr_t)ind, len, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

static int indirect(uint32_t len, uint16_t entries_flags)
{
	return indirect_n(len, entries_flags, 4);
}

/* 4096 chained entries: longer than any queue (khyve: 1024 at most). */
static int c_ind_huge(void) { return indirect_n(16u * 4096, 0, 4096); }
static int c_ind_empty(void) { return indirect(0, 0); }
static int c_ind_odd(void) { return indirect(24, 0); }
static int c_ind_nested(void) { return indirect(64, VRING_DESC_F_INDIRECT); }
static int c_ind_loop(void)
{
	indirect(64, 0);
	ind[3].flags |= VRING_DESC_F_NEXT;
	ind[3].next = 0;
	return 0;
}

static int c_outside_ram(void)
{
	if (blk) {
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
		set_desc(1, ram_top + 0x100000, 512,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
		tail_desc(2);
	} else {
		set_desc(0, ram_top + 0x100000, 16, VRING_DESC_F_WRITE, 0);
	}
	return 0;
}

static int c_wrap(void)
{
	set_desc(0, 0xfffffffffffff000ull, 0x2000,
	    VRING_DESC_F_WRITE | (blk ? VRING_DESC_F_NEXT : 0), 1);
	if (blk) {
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
		set_desc(1, 0xfffffffffffff000ull, 0x2000,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
		tail_desc(2);
	}
	return 0;
}

static int c_past_ram_end(void)
{
	/* Starts in RAM, runs 1 MiB past its end. */
	uint64_t a = ram_top - 4096;

	if (blk) {
		blk_hdr_desc(0, BLK_T_IN, 0, 1);
		set_desc(1, a, 0x100000 + 4096,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
		tail_desc(2);
	} else {
		set_desc(0, a, 0x100000 + 4096, VRING_DESC_F_WRITE, 0);
	}
	return 0;
}

static int c_blk_short_hdr(void)
{
	blk_hdr_desc(0, BLK_T_IN, 0, 1);
	vd.vq[0].desc[0].len = 8;
	set_desc(1, (uintptr_t)buf, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	    2);
	tail_desc(2);
	return 0;
}

static int c_blk_ro_status(void)
{
	blk_hdr_desc(0, BLK_T_IN, 0, 1);
	set_desc(1, (uintptr_t)buf, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	    2);
	set_desc(2, (uintptr_t)status, 1, 0, 0);
	*status = 0xee;
	return 0;
}

static int c_blk_beyond(void)
{
	blk_hdr_desc(0, BLK_T_IN, capacity, 1);
	set_desc(1, (uintptr_t)buf, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	    2);
	tail_desc(2);
	return 0;
}

static int c_blk_huge_sector(void)
{
	blk_hdr_desc(0, BLK_T_OUT, 0xfffffffffffffff0ull, 1);
	set_desc(1, (uintptr_t)buf, 512, VRING_DESC_F_NEXT, 2);
	tail_desc(2);
	return 0;
}

static int c_blk_odd_len(void)
{
	blk_hdr_desc(0, BLK_T_IN, 0, 1);
	set_desc(1, (uintptr_t)buf, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	    2);
	tail_desc(2);
	return 0;
}

static int c_blk_no_status(void)
{
	blk_hdr_desc(0, BLK_T_IN, 0, 0);
	vd.vq[0].desc[0].flags = 0;
	return 0;
}

struct hcase {
	const char *name;
	int (*build)(void);
	enum kind kind;
	bool blk_only, rnd_only, needs_indirect;
};

static const struct hcase cases[] = {
	{ "loop2", c_loop2, STRUCT, false, false, false },
	{ "selfloop", c_selfloop, STRUCT, false, true, false },
	{ "next-out-of-range", c_next_range, STRUCT, false, false, false },
	{ "head-out-of-range", c_head_range, STRUCT, false, false, false },
	{ "chain-longer-than-queue", c_too_long, STRUCT, false, false, false },
	{ "readable-after-writable", c_read_after_write, STRUCT, false, false,
	    false },
	{ "indirect-huge", c_ind_huge, STRUCT, false, true, true },
	{ "indirect-empty", c_ind_empty, STRUCT, false, true, true },
	{ "indirect-misaligned-len", c_ind_odd, STRUCT, false, true, true },
	{ "indirect-nested", c_ind_nested, STRUCT, false, true, true },
	{ "indirect-loop", c_ind_loop, STRUCT, false, true, true },
	{ "outside-ram", c_outside_ram, BUFFER, false, false, false },
	{ "wrapping-address", c_wrap, BUFFER, false, false, false },
	{ "past-ram-end", c_past_ram_end, BUFFER, false, false, false },
	{ "blk-short-header", c_blk_short_hdr, CONTENT, true, false, false },
	{ "blk-readonly-status", c_blk_ro_status, CONTENT, true, false, false },
	{ "blk-no-status", c_blk_no_status, CONTENT, true, false, false },
	{ "blk-odd-length", c_blk_odd_len, CONTENT, true, false, false },
	{ "blk-beyond-capacity", c_blk_beyond, RANGE, true, false, false },
	{ "blk-huge-sector-write", c_blk_huge_sector, RANGE, true, false,
	    false },
};

/* A good request must work. */
static bool good_request(void)
{
	int64_t len;

	if (blk) {
		struct blk_hdr *h = (struct blk_hdr *)hdr;
		struct vbuf b[3] = {
			{ h, sizeof(*h), false },
			{ buf, 512, true },
			{ status, 1, true },
		};

		h->type = BLK_T_IN;
		h->reserved = 0;
		h->sector = 0;
		*status = 0xee;
		len = vio_request(&vd, 0, b, 3, 10000);
		return len >= 1 && *status == 0;
	}
	struct vbuf b = { buf, 16, true };

	len = vio_request(&vd, 0, &b, 1, 10000);
	return len > 0;
}

static void run_case(const struct hcase *c)
{
	uint32_t cfg_before, id = 0, len = 0;
	int head, errs = vio_errors;
	bool completed = false, reset = false, ok;
	const char *what;

	if (setup() != 0) {
		vio_fail("%s: set-up failed", c->name);
		return;
	}
	if (c->needs_indirect &&
	    !(vd.features >> VIRTIO_RING_F_INDIRECT_DESC & 1)) {
		printf("vhostile: %s: skipped (no INDIRECT_DESC)\n", c->name);
		return;
	}
	cfg_before = vio_config_irqs(&vd);
	memset(buf, 0, 4096);
	head = c->build();
	vio_publish(&vd, 0, (uint16_t)head);
	for (uint32_t t = 0; t < wait_ms * 10; t++) {
		struct vq *q = &vd.vq[0];

		if (q->used->idx != q->last_used) {
			id = q->used->ring[q->last_used % q->size].id;
			len = q->used->ring[q->last_used % q->size].len;
			completed = true;
			break;
		}
		if (vio_status(&vd) & VIRTIO_S_NEEDS_RESET) {
			reset = true;
			break;
		}
		delay_us(100);
	}
	what = completed ? "completed" : reset ? "needs-reset" : "nothing";
	printf("vhostile: %s: %s", c->name, what);
	if (completed)
		printf(" id %u len %u%s", id, len, blk ? "" : "");
	if (completed && blk)
		printf(" status %u", *status);
	printf(" (device status 0x%x)\n", vio_status(&vd));

	switch (c->kind) {
	case STRUCT:
		ok = vd.modern ? reset : !completed || len == 0;
		break;
	case BUFFER:
		ok = reset || (completed && (blk ? *status != 0 : len == 0)) ||
		    (!vd.modern && !completed);
		break;
	case CONTENT:
		ok = reset || (completed && *status != 0) ||
		    (!vd.modern && !completed);
		if (c->build == c_blk_ro_status || c->build == c_blk_no_status)
			ok = reset || completed || !vd.modern;
		break;
	default: /* RANGE */
		ok = completed && *status == 1;
		break;
	}
	if (!ok)
		vio_fail("%s: the device answered '%s'%s", c->name, what,
		    c->kind == RANGE ? " (expected IOERR)" : "");
	if (reset && vd.irq == VIO_IRQ_MSIX &&
	    !irq_wait(vd.vector_base, cfg_before + 1, 2000))
		vio_fail("%s: DEVICE_NEEDS_RESET without a configuration "
		    "interrupt", c->name);
	/* Back to work: reset, set up again, a good request. */
	vio_reset(&vd);
	if (setup() != 0 || !good_request())
		vio_fail("%s: the device does not work after a reset",
		    c->name);
	if (vio_errors == errs)
		printf("vhostile: %s: recovered\n", c->name);
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS);
	char which[8] = "rnd";

	cmd_get("dev", which, sizeof(which));
	blk = strcmp(which, "blk") == 0;
	dev = vio_find(devs, n, blk ? VIRTIO_ID_BLOCK : VIRTIO_ID_RNG, 0);
	if (dev == NULL) {
		printf("vhostile FAIL: no virtio-%s function\n", which);
		finish(GX_FAIL);
	}
	mode = vio_mode_arg("transport");
	irqmode = vio_irq_arg("irq", dev);
	wait_ms = (uint32_t)cmd_num("wait", 3000);
	buf = palloc(4096, 4096);
	hdr = palloc(64, 16);
	status = palloc(16, 16);
	ind = palloc(16u * 4096, 4096);
	ram_top = 0;
	for (int i = 0; i < boot.nmmap; i++)
		if (boot.mmap[i].type == 1 &&
		    boot.mmap[i].addr + boot.mmap[i].len > ram_top &&
		    boot.mmap[i].addr < 0x100000000ull)
			ram_top = boot.mmap[i].addr + boot.mmap[i].len;
	printf("vhostile: virtio-%s, RAM ends at 0x%llx\n", which,
	    (unsigned long long)ram_top);
	if (setup() != 0)
		goto out;
	vio_print(&vd, "vhostile");
	if (!good_request()) {
		vio_fail("a good request fails before any hostile one");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if ((cases[i].blk_only && !blk) || (cases[i].rnd_only && blk))
			continue;
		run_case(&cases[i]);
	}
out:
	if (vio_errors || pci_errors) {
		printf("vhostile FAIL\n");
		finish(GX_FAIL);
	}
	printf("vhostile ok\n");
	finish(GX_OK);
}
