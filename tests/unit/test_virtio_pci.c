/*
 * test_virtio_pci.c - the virtio PCI transport (src/virtio/virtio_pci*.c)
 * with a fake device (ops that count their calls) on a fake VM (no KVM fd,
 * guarded fake guest RAM), driven through the transport's PCI entry
 * points as the PCI core would call them for guest accesses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "config.h"
#include "loader_fixture.h"
#include "test.h"
#include "virtio/virtio.h"
#include "virtio/virtio_pci_priv.h"
#include "vmm/vm.h"

/* ---- the fake device ---- */

#define FD_NQ 2
#define FD_QSIZE 64
#define FD_CFGSIZE 8
#define FD_FEAT_A 5 /* a device feature bit */

struct fdev {
	struct virtio_dev vd;
	atomic_int notified[FD_NQ];
	atomic_int resets, set_features, driver_oks, cfgops;
	atomic_int bad_cfg;        /* an op saw an out-of-range access */
	atomic_int unlocked_notify; /* notify ran without vd->lock */
	atomic_int on_test_thread;  /* notify ran on the test's thread */
	atomic_bool break_queue;    /* notify marks the queue broken */
	pthread_t test_thread;
	uint64_t features;
	uint8_t cfg[FD_CFGSIZE];
};

static struct fdev *fd_of(void *sc)
{
	return sc;
}

static void fd_set_features(void *sc, uint64_t f)
{
	fd_of(sc)->set_features++;
	fd_of(sc)->features = f;
}

static void fd_reset(void *sc)
{
	fd_of(sc)->resets++;
}

static void fd_notify(void *sc, struct vqueue *vq)
{
	struct fdev *d = fd_of(sc);

	/* The lock is held: trylock by another owner must fail. */
	if (pthread_mutex_trylock(&d->vd.lock) == 0) {
		d->unlocked_notify++;
		pthread_mutex_unlock(&d->vd.lock);
	}
	if (pthread_equal(pthread_self(), d->test_thread))
		d->on_test_thread++;
	if (vq->index < FD_NQ)
		d->notified[vq->index]++;
	if (atomic_load(&d->break_queue))
		vq->broken = true;
}

static void fd_cfgread(void *sc, uint32_t off, int size, uint32_t *val)
{
	struct fdev *d = fd_of(sc);

	d->cfgops++;
	if (off + (uint32_t)size > FD_CFGSIZE || size < 1 || size > 4) {
		d->bad_cfg++;
		return;
	}
	*val = 0;
	memcpy(val, d->cfg + off, (size_t)size);
}

static void fd_cfgwrite(void *sc, uint32_t off, int size, uint32_t val)
{
	struct fdev *d = fd_of(sc);

	d->cfgops++;
	if (off + (uint32_t)size > FD_CFGSIZE || size < 1 || size > 4) {
		d->bad_cfg++;
		return;
	}
	memcpy(d->cfg + off, &val, (size_t)size);
}

static void fd_driver_ok(void *sc)
{
	fd_of(sc)->driver_oks++;
}

static const struct virtio_ops fd_ops = {
	.name = "vtest",
	.device_type = VIRTIO_ID_BLOCK,
	.pci_class = 0x010000,
	.nqueues = FD_NQ,
	.qsize = FD_QSIZE,
	.cfgsize = FD_CFGSIZE,
	.features = 1ULL << FD_FEAT_A | 1ULL << VIRTIO_RING_F_EVENT_IDX,
	.set_features = fd_set_features,
	.reset = fd_reset,
	.notify = fd_notify,
	.cfgread = fd_cfgread,
	.cfgwrite = fd_cfgwrite,
	.driver_ok = fd_driver_ok,
};

/* ---- the test emulation and the fake VM ---- */

static struct fdev *last_dev; /* what vt_init built last */

static int vt_init(struct pci_devinst *pi, struct config_node *cfg)
{
	struct fdev *d = calloc(1, sizeof(*d));
	int rc;

	if (d == NULL)
		return -ENOMEM;
	d->test_thread = pthread_self();
	rc = virtio_dev_init(&d->vd, &fd_ops, d, pi, cfg);
	if (rc != 0) {
		free(d);
		return rc;
	}
	last_dev = d;
	return 0;
}

static void vt_fini(struct pci_devinst *pi)
{
	struct virtio_dev *vd = pi->pi_arg;
	struct fdev *d = vd->sc;

	virtio_dev_fini(vd);
	free(d);
}

static const struct pci_devemu vt_emu = {
	.pe_emu = "virtio-pci-test",
	.pe_help = "(unit tests only)",
	.pe_init = vt_init,
	.pe_fini = vt_fini,
	.pe_cfgread = virtio_pci_cfgread,
	.pe_cfgwrite = virtio_pci_cfgwrite,
	.pe_barread = virtio_pci_barread,
	.pe_barwrite = virtio_pci_barwrite,
	.pe_baraddr = virtio_pci_baraddr,
};
PCI_EMUL_SET(vt_emu);

#define SLOT 4

struct fx {
	struct fx_mem ram;
	struct vm vm;
	struct pci_devinst *pi;
	struct fdev *dev;
	int rc;
};

#define RAM_SIZE (1 * MiB)

/*
 * A VM without KVM (fd -1) whose PCI bus holds the test device in slot 4,
 * built by the real core.  `transport` NULL = key absent.  rc is
 * pci_emul_init's result; on failure dev and pi are NULL.
 */
static struct fx *fx_new(const char *transport, bool msix)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct config_node *cfg;

	if (f == NULL || fx_init(&f->ram, RAM_SIZE, 0) != 0)
		abort();
	f->vm.fd = f->vm.kvm_fd = f->vm.exit_fd = -1;
	f->vm.mem = f->ram.m;
	iobus_init(&f->vm.pio, "port");
	iobus_init(&f->vm.mmio, "mmio");
	config_init();
	if (!msix)
		config_set(NULL, "virtio_msix", "false");
	cfg = config_create(NULL, "pci.0.4.0");
	config_set(cfg, "device", "virtio-pci-test");
	if (transport != NULL)
		config_set(cfg, "transport", transport);
	last_dev = NULL;
	f->rc = pci_emul_init(&f->vm);
	if (f->rc == 0 && last_dev != NULL) {
		f->dev = last_dev;
		f->pi = last_dev->vd.pi;
	}
	return f;
}

static void fx_free(struct fx *f)
{
	pci_emul_fini(&f->vm);
	iobus_fini(&f->vm.pio);
	iobus_fini(&f->vm.mmio);
	fx_fini(&f->ram);
	config_fini();
	free(f);
}

/* Guest accesses: configuration mechanism #1, port and MMIO buses. */
static uint64_t bus_rd(struct iobus *bus, uint64_t addr, int size)
{
	uint64_t v = ~0ULL;

	if (iobus_access(bus, NULL, addr, size, false, &v) != 0)
		return 0xdead0000dead0000ULL; /* unclaimed */
	return size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

static void bus_wr(struct iobus *bus, uint64_t addr, int size, uint64_t v)
{
	iobus_access(bus, NULL, addr, size, true, &v);
}

static uint32_t cfg_rd(struct fx *f, int off, int size)
{
	bus_wr(&f->vm.pio, 0xcf8, 4, 0x80000000u | SLOT << 11 | (off & 0xfc));
	return (uint32_t)bus_rd(&f->vm.pio, 0xcfc + (off & 3), size);
}

static void cfg_wr(struct fx *f, int off, int size, uint32_t v)
{
	bus_wr(&f->vm.pio, 0xcf8, 4, 0x80000000u | SLOT << 11 | (off & 0xfc));
	bus_wr(&f->vm.pio, 0xcfc + (off & 3), size, v);
}

/* Legacy registers (I/O BAR 0) and modern ones (memory BAR 4). */
static uint64_t lr(struct fx *f, uint64_t off, int size)
{
	return bus_rd(&f->vm.pio, f->pi->pi_bar[0].addr + off, size);
}

static void lw(struct fx *f, uint64_t off, int size, uint64_t v)
{
	bus_wr(&f->vm.pio, f->pi->pi_bar[0].addr + off, size, v);
}

static uint64_t mr(struct fx *f, uint64_t off, int size)
{
	return bus_rd(&f->vm.mmio, f->pi->pi_bar[4].addr + off, size);
}

static void mw(struct fx *f, uint64_t off, int size, uint64_t v)
{
	bus_wr(&f->vm.mmio, f->pi->pi_bar[4].addr + off, size, v);
}

/* Common configuration fields. */
#define CC_DFSEL 0x00
#define CC_DF 0x04
#define CC_GFSEL 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_QSEL 0x16
#define CC_QSIZE 0x18
#define CC_QMSIX 0x1a
#define CC_QENABLE 0x1c
#define CC_QNOFF 0x1e
#define CC_QDESC 0x20
#define CC_QAVAIL 0x28
#define CC_QUSED 0x30
#define ISR_OFF 0x1000
#define DEVCFG_OFF 0x2000
#define NOTIFY_OFF 0x3000

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK

/* Negotiate `features` through the modern interface; the status read back. */
static uint8_t modern_negotiate(struct fx *f, uint64_t features)
{
	mw(f, CC_STATUS, 1, S_ACK);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV);
	mw(f, CC_GFSEL, 4, 0);
	mw(f, CC_GF, 4, (uint32_t)features);
	mw(f, CC_GFSEL, 4, 1);
	mw(f, CC_GF, 4, features >> 32);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK);
	return (uint8_t)mr(f, CC_STATUS, 1);
}

/* Set up queue q at gpa `base` (desc), base + 0x1000 (avail), + 0x2000. */
static void modern_queue(struct fx *f, int q, uint64_t base)
{
	mw(f, CC_QSEL, 2, (uint64_t)q);
	mw(f, CC_QDESC, 8, base);
	mw(f, CC_QAVAIL, 4, (uint32_t)(base + 0x1000));
	mw(f, CC_QAVAIL + 4, 4, (base + 0x1000) >> 32);
	mw(f, CC_QUSED, 8, base + 0x2000);
	mw(f, CC_QENABLE, 2, 1);
}

/*
 * Play the guest and the device once on enabled queue q: post a
 * one-descriptor chain (descriptor 0, buffer at `buf`), take it, return
 * it and let the transport decide about the interrupt.
 */
static void complete_one(struct fx *f, int q, uint64_t buf)
{
	struct virtio_dev *vd = &f->dev->vd;
	struct vqueue *vq = &vd->vq[q];
	uint8_t *desc = gmem_ptr(&f->vm.mem, vq->desc_gpa, 16);
	uint8_t *avail = gmem_ptr(&f->vm.mem, vq->avail_gpa,
	    4 + 2 * (uint64_t)vq->size);
	struct vq_seg seg;
	uint16_t idx, head = 0;

	if (desc == NULL || avail == NULL)
		abort();
	fx_w64(desc, buf + 0x40000);
	fx_w32(desc + 8, 16);
	fx_w16(desc + 12, VRING_DESC_F_WRITE);
	fx_w16(desc + 14, 0);
	memcpy(&idx, avail + 2, 2);
	fx_w16(avail + 4 + 2 * (idx % vq->size), 0);
	fx_w16(avail + 2, (uint16_t)(idx + 1));
	virtio_lock(vd);
	if (vq_getchain(vq, &seg, 1, &head) == 1)
		vq_relchain(vq, head, 16);
	virtio_vq_done(vd, vq);
	virtio_unlock(vd);
}

static const uint64_t VERSION_1 = 1ULL << VIRTIO_F_VERSION_1;

/* Wait until *counter reaches `want` (2 s at most). */
static bool wait_count(atomic_int *counter, int want)
{
	for (int i = 0; i < 2000; i++) {
		if (atomic_load(counter) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

/* Configuration space as the guest reads it. */
static uint32_t g8(struct fx *f, int off)
{
	return cfg_rd(f, off, 1);
}

static uint32_t g16(struct fx *f, int off)
{
	return cfg_rd(f, off, 2);
}

static uint32_t g32(struct fx *f, int off)
{
	return cfg_rd(f, off, 4);
}

/* Walk the capability list for `id` (and vendor cfg_type `type`); 0 if none. */
static int walk_caps(struct fx *f, uint8_t id, int type)
{
	int n = 0;

	if (!(g16(f, 0x06) & 0x10))
		return 0;
	for (int c = (int)g8(f, 0x34); c != 0 && n < 48;
	     c = (int)g8(f, c + 1), n++)
		if (g8(f, c) == id && (type < 0 || (int)g8(f, c + 3) == type))
			return c;
	return 0;
}

static int find_vcap(struct fx *f, uint8_t type)
{
	return walk_caps(f, 0x09, type);
}

static int find_cap(struct fx *f, uint8_t id)
{
	return walk_caps(f, id, -1);
}

/* Turn MSI-X on or off through its capability, as a driver does. */
static void msix_enable(struct fx *f, bool on)
{
	int c = find_cap(f, 0x11);

	if (c != 0)
		cfg_wr(f, c + 2, 2, on ? 0x8000 : 0);
}

/* Program MSI-X table entry i (BAR 1, 16 bytes each) and unmask it. */
static void msix_entry(struct fx *f, int i, uint64_t addr, uint32_t data)
{
	uint64_t e = f->pi->pi_bar[1].addr + 16 * (uint64_t)i;

	bus_wr(&f->vm.mmio, e, 4, (uint32_t)addr);
	bus_wr(&f->vm.mmio, e + 4, 4, addr >> 32);
	bus_wr(&f->vm.mmio, e + 8, 4, data);
	bus_wr(&f->vm.mmio, e + 12, 4, 0);
}

/* ---- tests ---- */

TEST(virtio_pci_legacy_ids)
{
	/* A table, not 0x1000 + type - 1: the rng (type 4) is 0x1005. */
	CHECK_EQ(virtio_pci_legacy_id(VIRTIO_ID_NET), 0x1000);
	CHECK_EQ(virtio_pci_legacy_id(VIRTIO_ID_BLOCK), 0x1001);
	CHECK_EQ(virtio_pci_legacy_id(VIRTIO_ID_CONSOLE), 0x1003);
	CHECK_EQ(virtio_pci_legacy_id(VIRTIO_ID_RNG), 0x1005);
	CHECK_EQ(virtio_pci_legacy_id(19), 0); /* vsock: modern only */
}

TEST(virtio_pci_transport_key)
{
	static const struct {
		const char *value;
		int rc;
		enum virtio_transport t;
		uint16_t devid;
	} cases[] = {
		{ NULL, 0, VIRTIO_TRANSITIONAL, 0x1001 },
		{ "transitional", 0, VIRTIO_TRANSITIONAL, 0x1001 },
		{ "legacy", 0, VIRTIO_LEGACY, 0x1001 },
		{ "modern", 0, VIRTIO_MODERN, 0x1042 },
		{ "bad", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct capture_buf { int saved; FILE *tmp; } cap;
		char msg[256] = "";
		struct fx *f;
		size_t n;

		fflush(stderr);
		cap.tmp = tmpfile();
		cap.saved = dup(2);
		dup2(fileno(cap.tmp), 2);
		f = fx_new(cases[i].value, true);
		fflush(stderr);
		dup2(cap.saved, 2);
		close(cap.saved);
		rewind(cap.tmp);
		n = fread(msg, 1, sizeof(msg) - 1, cap.tmp);
		msg[n] = '\0';
		fclose(cap.tmp);

		CHECK_EQ(f->rc, cases[i].rc);
		if (cases[i].rc == 0 && f->dev != NULL) {
			CHECK_EQ(f->dev->vd.transport, cases[i].t);
			CHECK(f->pi != NULL && f->pi->pi_arg == &f->dev->vd);
			CHECK_EQ(g16(f, 0x02), cases[i].devid);
			CHECK_STR(msg, "");
		} else {
			/* One line naming the bad value. */
			CHECK(strstr(msg, "transport=") != NULL);
			CHECK(strstr(msg, cases[i].value) != NULL);
			CHECK(f->dev == NULL);
		}
		fx_free(f);
	}
}

TEST(virtio_pci_legacy_ids_and_negotiation)
{
	struct fx *f = fx_new("legacy", true);
	struct vqueue *vq = &f->dev->vd.vq[0];
	uint32_t pfn = 0x10; /* 64 KiB */

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(g16(f, 0x00), 0x1af4);
	CHECK_EQ(g16(f, 0x02), 0x1001);
	CHECK_EQ(g8(f, 0x08), 0);      /* revision */
	CHECK_EQ(g8(f, 0x0b), 0x01);   /* class */
	CHECK_EQ(g16(f, 0x2c), 0x1af4);
	CHECK_EQ(g16(f, 0x2e), VIRTIO_ID_BLOCK);
	CHECK_EQ(f->pi->pi_bar[0].type, PCIBAR_IO);
	CHECK(f->pi->pi_bar[0].size >= 24 + FD_CFGSIZE);
	CHECK_EQ(f->pi->pi_bar[4].type, PCIBAR_NONE);
	CHECK_EQ(find_vcap(f, 1), 0);
	CHECK_EQ(f->pi->pi_lintr.pin != 0, 1);

	/* Features: only bits 0..31, VERSION_1 never offered to legacy. */
	CHECK_EQ(lr(f, 0, 4), (uint32_t)fd_ops.features);
	CHECK_EQ(f->dev->vd.device_features & VERSION_1, 0);
	lw(f, 18, 1, S_ACK | S_DRV);
	lw(f, 4, 4, 1U << FD_FEAT_A | 1U << 7); /* bit 7 not offered */
	CHECK_EQ(f->dev->set_features, 1);
	CHECK_EQ(f->dev->features, 1ULL << FD_FEAT_A);
	CHECK_EQ(lr(f, 4, 4), 1U << FD_FEAT_A);
	CHECK(!f->dev->vd.modern);

	/* Queue 0 through PFN: legacy layout with 4096 alignment. */
	lw(f, 14, 2, 0);
	CHECK_EQ(lr(f, 12, 2), FD_QSIZE);
	lw(f, 8, 4, pfn);
	CHECK(vq->enabled);
	CHECK_EQ(vq->size, FD_QSIZE);
	CHECK_EQ(vq->desc_gpa, 0x10000);
	CHECK_EQ(vq->avail_gpa, 0x10000 + 16 * FD_QSIZE);
	CHECK_EQ(vq->used_gpa, 0x11000); /* 0x10400 + 6 + 128 -> 0x11000 */
	CHECK(!vq->event_idx); /* not negotiated */
	CHECK_EQ(lr(f, 8, 4), pfn);

	/* A queue that does not exist: QNUM 0, PFN ignored. */
	lw(f, 14, 2, 7);
	CHECK_EQ(lr(f, 12, 2), 0);
	lw(f, 8, 4, 0x20);
	CHECK_EQ(lr(f, 8, 4), 0);
	lw(f, 14, 2, 0xffff);
	CHECK_EQ(lr(f, 12, 2), 0);

	/* Queue 1 outside guest RAM: refused, stays disabled. */
	lw(f, 14, 2, 1);
	lw(f, 8, 4, RAM_SIZE / 4096);
	CHECK(!f->dev->vd.vq[1].enabled);
	CHECK_EQ(lr(f, 8, 4), 0);
	lw(f, 8, 4, 0xffffffff);
	CHECK(!f->dev->vd.vq[1].enabled);

	/* PFN 0 deletes queue 0. */
	lw(f, 14, 2, 0);
	lw(f, 8, 4, 0);
	CHECK(!vq->enabled);
	CHECK_EQ(lr(f, 8, 4), 0);

	/* Wrong widths are ignored: no status change, no ISR clear. */
	lw(f, 18, 2, 0);
	CHECK_EQ(lr(f, 18, 1), S_ACK | S_DRV);
	CHECK_EQ(lr(f, 18, 4), 0);
	CHECK_EQ(f->dev->resets, 0);
	fx_free(f);
}

TEST(virtio_pci_legacy_msix_layout)
{
	struct fx *f = fx_new("legacy", true);

	CHECK_EQ(f->rc, 0);
	memcpy(f->dev->cfg, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	/* MSI-X off: device config at 20. */
	CHECK_EQ(lr(f, 20, 4), 0x44332211);
	CHECK_EQ(lr(f, 24, 1), 0x55);
	/* MSI-X on: vectors at 20/22, config at 24. */
	msix_enable(f, true);
	CHECK(pci_msix_enabled(f->pi));
	CHECK_EQ(lr(f, 24, 4), 0x44332211);
	CHECK_EQ(lr(f, 20, 2), VIRTIO_MSI_NO_VECTOR);
	lw(f, 20, 2, 2); /* nqueues + 1 = 3 vectors: 0..2 */
	CHECK_EQ(lr(f, 20, 2), 2);
	lw(f, 20, 2, 3); /* out of range */
	CHECK_EQ(lr(f, 20, 2), VIRTIO_MSI_NO_VECTOR);
	lw(f, 14, 2, 1);
	lw(f, 22, 2, 1);
	CHECK_EQ(lr(f, 22, 2), 1);
	CHECK_EQ(f->dev->vd.vq[1].msix_vector, 1);
	lw(f, 22, 2, 0x8000);
	CHECK_EQ(lr(f, 22, 2), VIRTIO_MSI_NO_VECTOR);
	lw(f, 14, 2, 9);
	lw(f, 22, 2, 0);
	CHECK_EQ(lr(f, 22, 2), VIRTIO_MSI_NO_VECTOR);
	/* And back when the driver turns MSI-X off. */
	msix_enable(f, false);
	CHECK_EQ(lr(f, 20, 4), 0x44332211);
	fx_free(f);
}

TEST(virtio_pci_modern_capabilities)
{
	struct fx *f = fx_new("modern", true);
	struct pci_devinst *pi = f->pi;
	int c;

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(g16(f, 0x02), 0x1040 + VIRTIO_ID_BLOCK);
	CHECK(g8(f, 0x08) >= 1);
	CHECK_EQ(pi->pi_bar[0].type, PCIBAR_NONE);
	CHECK_EQ(pi->pi_bar[4].type, PCIBAR_MEM64);
	CHECK(pi->pi_bar[4].size >= 0x4000);

	c = find_vcap(f, 1); /* common */
	CHECK(c != 0);
	if (c != 0) {
		CHECK_EQ(g8(f, c + 2), 16);
		CHECK_EQ(g8(f, c + 4), 4);
		CHECK_EQ(g32(f, c + 8), 0);
		CHECK(g32(f, c + 12) >= 0x38);
	}
	c = find_vcap(f, 2); /* notify */
	CHECK(c != 0);
	if (c != 0) {
		CHECK_EQ(g8(f, c + 2), 20);
		CHECK_EQ(g8(f, c + 4), 4);
		CHECK_EQ(g32(f, c + 8), NOTIFY_OFF);
		CHECK_EQ(g32(f, c + 12), FD_NQ * 4);
		CHECK_EQ(g32(f, c + 16), 4);
	}
	c = find_vcap(f, 3); /* ISR */
	CHECK(c != 0);
	if (c != 0) {
		CHECK_EQ(g8(f, c + 4), 4);
		CHECK_EQ(g32(f, c + 8), ISR_OFF);
		CHECK(g32(f, c + 12) >= 1);
	}
	c = find_vcap(f, 4); /* device */
	CHECK(c != 0);
	if (c != 0) {
		CHECK_EQ(g32(f, c + 8), DEVCFG_OFF);
		CHECK_EQ(g32(f, c + 12), FD_CFGSIZE);
	}
	c = find_vcap(f, 5); /* PCI configuration access */
	CHECK(c != 0);
	if (c != 0)
		CHECK_EQ(g8(f, c + 2), 20);
	/* Every region lies inside the BAR. */
	for (uint8_t t = 1; t <= 4; t++) {
		c = find_vcap(f, t);
		if (c != 0)
			CHECK(g32(f, c + 8) +
			    (uint64_t)g32(f, c + 12) <=
			    pi->pi_bar[4].size);
	}
	CHECK(find_cap(f, 0x11) != 0); /* MSI-X */
	CHECK_EQ(pi->pi_msix.table_count, FD_NQ + 1);
	CHECK(find_cap(f, 0x05) != 0); /* MSI */
	CHECK_EQ(mr(f, CC_NUMQ, 2), FD_NQ);
	fx_free(f);

	/* Transitional: legacy IDs with both register sets. */
	f = fx_new(NULL, true);
	CHECK_EQ(f->rc, 0);
	CHECK_EQ(g16(f, 0x02), 0x1001);
	CHECK_EQ(g8(f, 0x08), 0);
	CHECK_EQ(f->pi->pi_bar[0].type, PCIBAR_IO);
	CHECK_EQ(f->pi->pi_bar[4].type, PCIBAR_MEM64);
	CHECK(find_vcap(f, 1) != 0);
	fx_free(f);
}

TEST(virtio_pci_msi_only_with_W)
{
	struct fx *f = fx_new(NULL, false);

	CHECK_EQ(f->rc, 0);
	CHECK(!f->dev->vd.use_msix);
	CHECK_EQ(find_cap(f, 0x11), 0);
	CHECK(find_cap(f, 0x05) != 0);
	/* No MSI-X table: every vector reads back NO_VECTOR. */
	mw(f, CC_MSIX, 2, 0);
	CHECK_EQ(mr(f, CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	mw(f, CC_QMSIX, 2, 0);
	CHECK_EQ(mr(f, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	fx_free(f);
}

TEST(virtio_pci_modern_features)
{
	struct fx *f = fx_new("modern", true);
	uint64_t want = 1ULL << FD_FEAT_A | VERSION_1;

	CHECK_EQ(f->rc, 0);
	mw(f, CC_DFSEL, 4, 0);
	CHECK_EQ(mr(f, CC_DF, 4), (uint32_t)fd_ops.features);
	mw(f, CC_DFSEL, 4, 1);
	CHECK_EQ(mr(f, CC_DF, 4), 1); /* VERSION_1 is bit 32 */
	mw(f, CC_DFSEL, 4, 2);
	CHECK_EQ(mr(f, CC_DF, 4), 0);
	CHECK_EQ(mr(f, CC_DFSEL, 4), 2);

	/* A feature the device does not offer: FEATURES_OK stays clear. */
	CHECK_EQ(modern_negotiate(f, want | 1ULL << 40), S_ACK | S_DRV);
	CHECK_EQ(f->dev->set_features, 0);
	/* Without VERSION_1 neither. */
	CHECK_EQ(modern_negotiate(f, 1ULL << FD_FEAT_A), S_ACK | S_DRV);
	/* DRIVER_OK without FEATURES_OK is refused too. */
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_DOK);
	CHECK_EQ(mr(f, CC_STATUS, 1), S_ACK | S_DRV);
	CHECK_EQ(f->dev->driver_oks, 0);
	/* A select past the two halves is ignored. */
	mw(f, CC_GFSEL, 4, 5);
	mw(f, CC_GF, 4, 0xffffffff);
	CHECK_EQ(f->dev->vd.driver_features, 1ULL << FD_FEAT_A);

	CHECK_EQ(modern_negotiate(f, want), S_ACK | S_DRV | S_FOK);
	CHECK_EQ(f->dev->set_features, 1);
	CHECK_EQ(f->dev->features, want);
	CHECK(f->dev->vd.modern);
	mw(f, CC_GFSEL, 4, 0);
	CHECK_EQ(mr(f, CC_GF, 4), 1U << FD_FEAT_A);
	/* Settled: later driver feature writes change nothing. */
	mw(f, CC_GF, 4, 1U << VIRTIO_RING_F_EVENT_IDX);
	CHECK_EQ(f->dev->vd.driver_features, want);
	CHECK_EQ(f->dev->vd.negotiated, want);
	/* Status bits are sticky and NEEDS_RESET is not the driver's. */
	mw(f, CC_STATUS, 1, S_ACK | VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(mr(f, CC_STATUS, 1), S_ACK | S_DRV | S_FOK);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK_EQ(mr(f, CC_STATUS, 1), S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK_EQ(f->dev->driver_oks, 1);
	fx_free(f);

	/* Transitional devices offer VERSION_1 too and also require it here. */
	f = fx_new("transitional", true);
	CHECK(f->dev->vd.device_features & VERSION_1);
	CHECK_EQ(modern_negotiate(f, 1ULL << FD_FEAT_A), S_ACK | S_DRV);
	CHECK_EQ(modern_negotiate(f, 1ULL << FD_FEAT_A | VERSION_1),
	    S_ACK | S_DRV | S_FOK);
	fx_free(f);
}

TEST(virtio_pci_modern_queue_setup)
{
	struct fx *f = fx_new("modern", true);
	struct vqueue *vq = &f->dev->vd.vq[1];

	CHECK_EQ(f->rc, 0);
	mw(f, CC_QSEL, 2, 1);
	CHECK_EQ(mr(f, CC_QSEL, 2), 1);
	CHECK_EQ(mr(f, CC_QSIZE, 2), FD_QSIZE);
	CHECK_EQ(mr(f, CC_QNOFF, 2), 1);
	CHECK_EQ(mr(f, CC_QENABLE, 2), 0);
	/* The driver may shrink the queue, not grow it or zero it. */
	mw(f, CC_QSIZE, 2, 16);
	CHECK_EQ(mr(f, CC_QSIZE, 2), 16);
	mw(f, CC_QSIZE, 2, FD_QSIZE * 2);
	mw(f, CC_QSIZE, 2, 0);
	CHECK_EQ(mr(f, CC_QSIZE, 2), 16);
	/* Addresses, whole or in halves, read back as written. */
	mw(f, CC_QDESC, 4, 0x4000);
	mw(f, CC_QDESC + 4, 4, 0x1);
	CHECK_EQ(mr(f, CC_QDESC, 8), 0x100004000ULL);
	CHECK_EQ(mr(f, CC_QDESC + 4, 4), 1);
	mw(f, CC_QDESC, 2, 0x1234); /* wrong width: ignored */
	CHECK_EQ(mr(f, CC_QDESC, 8), 0x100004000ULL);
	mw(f, CC_QDESC, 8, 0x4000);
	mw(f, CC_QAVAIL, 8, 0x5000);
	mw(f, CC_QUSED, 8, 0x6000);
	/* Enabling before FEATURES_OK is refused. */
	mw(f, CC_QENABLE, 2, 1);
	CHECK(!vq->enabled);
	CHECK_EQ(modern_negotiate(f, 1ULL << VIRTIO_RING_F_EVENT_IDX |
	    VERSION_1), S_ACK | S_DRV | S_FOK);
	mw(f, CC_QSEL, 2, 1);
	mw(f, CC_QENABLE, 2, 1);
	CHECK(vq->enabled);
	CHECK_EQ(mr(f, CC_QENABLE, 2), 1);
	CHECK_EQ(vq->size, 16);
	CHECK(vq->event_idx);
	CHECK_EQ(vq->desc_gpa, 0x4000);
	CHECK_EQ(vq->avail_gpa, 0x5000);
	CHECK_EQ(vq->used_gpa, 0x6000);
	/* A live queue's size and addresses do not change; 0 does not disable. */
	mw(f, CC_QSIZE, 2, 8);
	mw(f, CC_QDESC, 8, 0x8000);
	mw(f, CC_QENABLE, 2, 0);
	CHECK(vq->enabled);
	CHECK_EQ(vq->size, 16);
	CHECK_EQ(vq->desc_gpa, 0x4000);
	/* Vectors: nqueues + 1 = 3 table entries. */
	mw(f, CC_QMSIX, 2, 2);
	CHECK_EQ(mr(f, CC_QMSIX, 2), 2);
	mw(f, CC_QMSIX, 2, 3);
	CHECK_EQ(mr(f, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	mw(f, CC_MSIX, 2, 0);
	CHECK_EQ(mr(f, CC_MSIX, 2), 0);

	/* Queue 0: rings outside RAM are refused. */
	mw(f, CC_QSEL, 2, 0);
	mw(f, CC_QDESC, 8, RAM_SIZE - 16);
	mw(f, CC_QAVAIL, 8, 0x5000);
	mw(f, CC_QUSED, 8, 0x6000);
	mw(f, CC_QENABLE, 2, 1);
	CHECK(!f->dev->vd.vq[0].enabled);
	mw(f, CC_QDESC, 8, ~0ULL - 15);
	mw(f, CC_QENABLE, 2, 1);
	CHECK(!f->dev->vd.vq[0].enabled);

	/* An absent queue: size 0, no vector, writes go nowhere. */
	mw(f, CC_QSEL, 2, FD_NQ);
	CHECK_EQ(mr(f, CC_QSIZE, 2), 0);
	CHECK_EQ(mr(f, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	mw(f, CC_QDESC, 8, 0x4000);
	mw(f, CC_QENABLE, 2, 1);
	CHECK_EQ(mr(f, CC_QDESC, 8), 0);
	CHECK_EQ(mr(f, CC_QENABLE, 2), 0);
	/* Reads past the structure are 0; writes there are ignored. */
	CHECK_EQ(mr(f, 0x38, 4), 0);
	CHECK_EQ(mr(f, 0xffc, 4), 0);
	mw(f, 0x100, 4, 1);
	fx_free(f);
}

TEST(virtio_pci_reset)
{
	struct fx *f = fx_new(NULL, true);
	struct virtio_dev *vd = &f->dev->vd;
	unsigned gen = vd->generation;

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(modern_negotiate(f, 1ULL << FD_FEAT_A | VERSION_1),
	    S_ACK | S_DRV | S_FOK);
	modern_queue(f, 0, 0x10000);
	mw(f, CC_QSEL, 2, 0);
	mw(f, CC_QMSIX, 2, 1);
	mw(f, CC_QSEL, 2, 1);
	mw(f, CC_QSIZE, 2, 8);
	mw(f, CC_MSIX, 2, 0);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK(vd->vq[0].enabled);
	complete_one(f, 0, 0x10000); /* INTx: ISR bit 0 */
	CHECK_EQ(vd->isr, 1);

	mw(f, CC_STATUS, 1, 0);
	CHECK_EQ(f->dev->resets, 1);
	CHECK_EQ(mr(f, CC_STATUS, 1), 0);
	CHECK(!vd->vq[0].enabled);
	CHECK_EQ(vd->vq[0].desc_gpa, 0);
	CHECK_EQ(vd->isr, 0);
	CHECK_EQ(vd->negotiated, 0);
	CHECK(!vd->modern);
	CHECK_EQ(vd->generation, gen + 1);
	CHECK_EQ(mr(f, CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(mr(f, CC_QSEL, 2), 0);
	CHECK_EQ(mr(f, CC_QMSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(mr(f, CC_QDESC, 8), 0);
	mw(f, CC_QSEL, 2, 1);
	CHECK_EQ(mr(f, CC_QSIZE, 2), FD_QSIZE);
	mw(f, CC_GFSEL, 4, 0);
	CHECK_EQ(mr(f, CC_GF, 4), 0);

	/* The legacy status register resets the same device. */
	lw(f, 18, 1, S_ACK);
	lw(f, 18, 1, 0);
	CHECK_EQ(f->dev->resets, 2);
	CHECK_EQ(vd->generation, gen + 2);
	fx_free(f);
}

TEST(virtio_pci_isr_and_config_interrupts)
{
	struct fx *f = fx_new(NULL, true);
	struct virtio_dev *vd = &f->dev->vd;
	uint8_t gen;

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(modern_negotiate(f, VERSION_1), S_ACK | S_DRV | S_FOK);
	modern_queue(f, 0, 0x10000);
	gen = (uint8_t)mr(f, CC_CFGGEN, 1);

	/* Before DRIVER_OK a config change bumps the generation only. */
	virtio_lock(vd);
	virtio_config_changed(vd);
	virtio_unlock(vd);
	CHECK_EQ(mr(f, CC_CFGGEN, 1), (uint8_t)(gen + 1));
	CHECK_EQ(vd->isr, 0);

	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);
	complete_one(f, 0, 0x10000);
	virtio_lock(vd);
	virtio_config_changed(vd);
	virtio_unlock(vd);
	CHECK_EQ(f->pi->pi_lintr.asserted, 1);
	/* Only the ISR byte itself reads-clears. */
	CHECK_EQ(mr(f, ISR_OFF + 1, 1), 0);
	CHECK_EQ(vd->isr, 3);
	CHECK_EQ(mr(f, ISR_OFF, 1), 3);
	CHECK_EQ(mr(f, ISR_OFF, 1), 0);
	CHECK_EQ(f->pi->pi_lintr.asserted, 0);
	mw(f, ISR_OFF, 1, 3); /* read-only */
	CHECK_EQ(vd->isr, 0);

	/* The legacy ISR register is the same state. */
	complete_one(f, 0, 0x10000);
	CHECK_EQ(lr(f, 19, 1), 1);
	CHECK_EQ(lr(f, 19, 1), 0);
	CHECK_EQ(f->pi->pi_lintr.asserted, 0);

	/* Nothing returned since the last interrupt: none now. */
	virtio_lock(vd);
	virtio_vq_done(vd, &vd->vq[0]);
	virtio_unlock(vd);
	CHECK_EQ(vd->isr, 0);
	/* A disabled queue interrupts nobody. */
	virtio_lock(vd);
	virtio_vq_done(vd, &vd->vq[1]);
	virtio_unlock(vd);
	CHECK_EQ(vd->isr, 0);
	fx_free(f);
}

TEST(virtio_pci_device_config_bounds)
{
	struct fx *f = fx_new(NULL, true);

	CHECK_EQ(f->rc, 0);
	memcpy(f->dev->cfg, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	/* In range: the device's bytes, little-endian. */
	CHECK_EQ(mr(f, DEVCFG_OFF, 4), 0x44332211);
	CHECK_EQ(mr(f, DEVCFG_OFF + 6, 2), 0x8877);
	CHECK_EQ(mr(f, DEVCFG_OFF, 8), 0x8877665544332211ULL);
	CHECK_EQ(lr(f, 20 + 7, 1), 0x88);
	mw(f, DEVCFG_OFF + 1, 1, 0xaa);
	CHECK_EQ(f->dev->cfg[1], 0xaa);
	lw(f, 20 + 2, 2, 0xbbcc);
	CHECK_EQ(f->dev->cfg[2], 0xcc);
	CHECK_EQ(f->dev->cfg[3], 0xbb);

	/* Out of range: 0 / ignored and the device never sees them. */
	f->dev->cfgops = 0;
	CHECK_EQ(mr(f, DEVCFG_OFF + 8, 1), 0);
	CHECK_EQ(mr(f, DEVCFG_OFF + 7, 2), 0);
	CHECK_EQ(mr(f, DEVCFG_OFF + 6, 4), 0);
	CHECK_EQ(mr(f, DEVCFG_OFF + 0xffc, 4), 0);
	CHECK_EQ(mr(f, DEVCFG_OFF + 4, 8) >> 32, 0); /* only the low half */
	CHECK_EQ(virtio_pci_barread(f->pi, 4, DEVCFG_OFF, 3), 0);
	CHECK_EQ(lr(f, 20 + 8, 1), 0);
	CHECK_EQ(lr(f, 20 + 6, 4), 0);
	CHECK_EQ(virtio_pci_barread(f->pi, 0, ~0ULL - 1, 2), 0);
	mw(f, DEVCFG_OFF + 7, 2, 0xffff);
	mw(f, DEVCFG_OFF + 8, 4, 0xffffffff);
	lw(f, 20 + 5, 4, 0xffffffff);
	CHECK_EQ(f->dev->cfg[7], 0x88);
	CHECK_EQ(f->dev->cfgops, 1); /* the one good 4-byte half above */
	CHECK_EQ(f->dev->bad_cfg, 0);
	fx_free(f);
}

TEST(virtio_pci_notify_on_iothread)
{
	struct fx *f = fx_new(NULL, true);
	struct fdev *d = f->dev;

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(modern_negotiate(f, VERSION_1), S_ACK | S_DRV | S_FOK);
	modern_queue(f, 0, 0x10000);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);

	/* Modern doorbell of queue 0 (any value). */
	mw(f, NOTIFY_OFF, 2, 0);
	CHECK(wait_count(&d->notified[0], 1));
	/* Legacy QUEUE_NOTIFY with the queue index. */
	lw(f, 16, 2, 0);
	CHECK(wait_count(&d->notified[0], 2));
	/* Queue 1 is not enabled; queue 9 and misaligned doorbells absent. */
	mw(f, NOTIFY_OFF + 4, 2, 1);
	lw(f, 16, 2, 9);
	mw(f, NOTIFY_OFF + 2, 2, 0);
	mw(f, NOTIFY_OFF + 4 * FD_NQ, 2, 0);
	lw(f, 16, 2, 0);
	CHECK(wait_count(&d->notified[0], 3));
	usleep(20000);
	CHECK_EQ(d->notified[0], 3);
	CHECK_EQ(d->notified[1], 0);
	CHECK_EQ(d->on_test_thread, 0);
	CHECK_EQ(d->unlocked_notify, 0);
	fx_free(f);
}

TEST(virtio_pci_broken_queue_needs_reset)
{
	struct fx *f = fx_new(NULL, true);
	struct fdev *d = f->dev;
	uint8_t st = 0;

	CHECK_EQ(f->rc, 0);
	CHECK_EQ(modern_negotiate(f, VERSION_1), S_ACK | S_DRV | S_FOK);
	modern_queue(f, 0, 0x10000);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);
	atomic_store(&d->break_queue, true);
	mw(f, NOTIFY_OFF, 2, 0);
	CHECK(wait_count(&d->notified[0], 1));
	for (int i = 0; i < 2000; i++) {
		st = (uint8_t)mr(f, CC_STATUS, 1);
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
			break;
		usleep(1000);
	}
	CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* With INTx the config change shows in the ISR. */
	CHECK_EQ(mr(f, ISR_OFF, 1), 2);
	/* A broken queue is left alone until reset. */
	mw(f, NOTIFY_OFF, 2, 0);
	usleep(20000);
	CHECK_EQ(d->notified[0], 1);
	mw(f, CC_STATUS, 1, 0);
	CHECK_EQ(mr(f, CC_STATUS, 1), 0);
	fx_free(f);
}

TEST(virtio_pci_pcicfg_window)
{
	struct fx *f = fx_new(NULL, true);
	struct pci_devinst *pi = f->pi;
	int c = find_vcap(f, 5), cc = find_vcap(f, 1);
	uint32_t v = 0;

	CHECK_EQ(f->rc, 0);
	CHECK(c != 0 && cc != 0);
	if (c == 0 || cc == 0) {
		fx_free(f);
		return;
	}
	/* Point the window at device_status (BAR 4, 1 byte) and write. */
	cfg_wr(f, c + 4, 1, 4);
	cfg_wr(f, c + 8, 4, CC_STATUS);
	cfg_wr(f, c + 12, 4, 1);
	cfg_wr(f, c + 16, 4, S_ACK);
	CHECK_EQ(mr(f, CC_STATUS, 1), S_ACK);
	v = cfg_rd(f, c + 16, 1);
	CHECK_EQ(v, S_ACK);
	/* num_queues, 2 bytes. */
	cfg_wr(f, c + 8, 4, CC_NUMQ);
	cfg_wr(f, c + 12, 4, 2);
	v = cfg_rd(f, c + 16, 4);
	CHECK_EQ(v, FD_NQ);
	/* Bad length, misaligned, outside the BAR, other BARs: nothing. */
	cfg_wr(f, c + 12, 4, 3);
	v = cfg_rd(f, c + 16, 4);
	CHECK_EQ(v, 0);
	cfg_wr(f, c + 8, 4, CC_NUMQ + 1);
	cfg_wr(f, c + 12, 4, 2);
	v = cfg_rd(f, c + 16, 4);
	CHECK_EQ(v, 0);
	cfg_wr(f, c + 8, 4, 0xfffffffc);
	cfg_wr(f, c + 12, 4, 4);
	v = cfg_rd(f, c + 16, 4);
	CHECK_EQ(v, 0);
	cfg_wr(f, c + 4, 1, 1); /* the MSI-X BAR */
	cfg_wr(f, c + 8, 4, 0);
	cfg_wr(f, c + 16, 4, 0xffffffff);
	v = cfg_rd(f, c + 16, 4);
	CHECK_EQ(v, 0);
	/* The header bytes read as written (stored; the core reads them). */
	CHECK_EQ(g8(f, c + 4), 1);
	CHECK_EQ(g32(f, c + 8), 0);
	CHECK_EQ(g32(f, c + 12), 4);
	CHECK_EQ(virtio_pci_cfgread(pi, c + 8, 4, &v), -ENOTSUP);
	/* Other vendor capabilities are read-only. */
	cfg_wr(f, cc + 8, 4, 0x1234);
	CHECK_EQ(g32(f, cc + 8), 0);
	cfg_wr(f, c + 3, 1, 0); /* cfg_type */
	CHECK_EQ(g8(f, c + 3), 5);
	/* Outside our capabilities: the core's. */
	CHECK_EQ(virtio_pci_cfgwrite(pi, 0x04, 2, 0), -ENOTSUP);
	CHECK_EQ(virtio_pci_cfgread(pi, 0x00, 4, &v), -ENOTSUP);
	fx_free(f);
}

TEST(virtio_pci_msix_delivery)
{
	struct fx *f = fx_new(NULL, true);
	struct virtio_dev *vd;
	struct pci_devinst *pi;

	CHECK_EQ(f->rc, 0);
	if (f->dev == NULL) {
		fx_free(f);
		return;
	}
	vd = &f->dev->vd;
	pi = f->pi;
	CHECK_EQ(modern_negotiate(f, VERSION_1), S_ACK | S_DRV | S_FOK);
	msix_enable(f, true);
	msix_entry(f, 0, 0xfee00000, 0x40); /* config */
	msix_entry(f, 2, 0xfee01000, 0x42); /* queue 0 */
	mw(f, CC_MSIX, 2, 0);
	mw(f, CC_QSEL, 2, 0);
	mw(f, CC_QMSIX, 2, 2);
	CHECK_EQ(mr(f, CC_QMSIX, 2), 2);
	modern_queue(f, 0, 0x10000);
	mw(f, CC_STATUS, 1, S_ACK | S_DRV | S_FOK | S_DOK);

	complete_one(f, 0, 0x10000);
	CHECK_EQ(pi->pi_msgs.count, 1);
	CHECK_EQ(pi->pi_msgs.addr, 0xfee01000);
	CHECK_EQ(pi->pi_msgs.data, 0x42);
	CHECK_EQ(vd->isr, 0); /* no ISR with MSI-X */
	CHECK_EQ(pi->pi_lintr.asserted, 0);
	virtio_lock(vd);
	virtio_config_changed(vd);
	virtio_unlock(vd);
	CHECK_EQ(pi->pi_msgs.count, 2);
	CHECK_EQ(pi->pi_msgs.data, 0x40);
	/* NO_VECTOR: the queue interrupts nobody. */
	mw(f, CC_QMSIX, 2, VIRTIO_MSI_NO_VECTOR);
	complete_one(f, 0, 0x10000);
	CHECK_EQ(pi->pi_msgs.count, 2);
	CHECK_EQ(vd->isr, 0);
	/* MSI-X off again: back to the ISR and INTx. */
	msix_enable(f, false);
	complete_one(f, 0, 0x10000);
	CHECK_EQ(pi->pi_msgs.count, 2);
	CHECK_EQ(vd->isr, 1);
	CHECK_EQ(pi->pi_lintr.asserted, 1);
	fx_free(f);
}

TEST(virtio_pci_msi_delivery_with_W)
{
	struct fx *f = fx_new("legacy", false);
	struct pci_devinst *pi;
	int c;

	CHECK_EQ(f->rc, 0);
	if (f->dev == NULL) {
		fx_free(f);
		return;
	}
	pi = f->pi;
	c = find_cap(f, 0x05);
	CHECK(c != 0);
	/* A legacy driver: features, queue 0 at PFN 0x10, DRIVER_OK. */
	lw(f, 18, 1, S_ACK | S_DRV);
	lw(f, 4, 4, 0);
	lw(f, 14, 2, 0);
	lw(f, 8, 4, 0x10);
	lw(f, 18, 1, S_ACK | S_DRV | S_DOK);
	CHECK_EQ(f->dev->driver_oks, 1);
	/* MSI on: address, data, enable. */
	cfg_wr(f, c + 4, 4, 0xfee00000);
	cfg_wr(f, c + 8, 4, 0);
	cfg_wr(f, c + 12, 2, 0x4051);
	cfg_wr(f, c + 2, 2, 1);
	CHECK(pci_msi_enabled(pi));
	complete_one(f, 0, 0x10000);
	CHECK_EQ(pi->pi_msgs.count, 1);
	CHECK_EQ(pi->pi_msgs.data, 0x4051);
	CHECK_EQ(pi->pi_lintr.asserted, 0);
	/* Legacy MSI drivers still find the cause in the ISR. */
	CHECK_EQ(lr(f, 19, 1), 1);
	fx_free(f);
}

TEST(virtio_pci_bar_move_tracks_doorbells)
{
	struct fx *f = fx_new(NULL, true);
	struct virtio_dev *vd;
	uint32_t io;

	CHECK_EQ(f->rc, 0);
	if (f->dev == NULL) {
		fx_free(f);
		return;
	}
	vd = &f->dev->vd;
	/* Mapped at start-up: the transport knows where its doorbells are. */
	CHECK(vd->legacy_mapped);
	CHECK_EQ(vd->legacy_addr, f->pi->pi_bar[0].addr);
	CHECK(vd->modern_mapped);
	CHECK_EQ(vd->modern_addr, f->pi->pi_bar[4].addr);
	/* The guest moves BAR 0; kicks still arrive at the new place. */
	io = f->pi->pi_bar[0].addr == 0x8000 ? 0x9000 : 0x8000;
	cfg_wr(f, 0x10, 4, io);
	CHECK_EQ(f->pi->pi_bar[0].addr, io);
	CHECK(vd->legacy_mapped);
	CHECK_EQ(vd->legacy_addr, io);
	/* Decode off: unmapped. */
	cfg_wr(f, 0x04, 2, g16(f, 0x04) & ~1u);
	CHECK(!vd->legacy_mapped);
	cfg_wr(f, 0x04, 2, g16(f, 0x04) | 1u);
	CHECK(vd->legacy_mapped);

	CHECK_EQ(modern_negotiate(f, VERSION_1), S_ACK | S_DRV | S_FOK);
	modern_queue(f, 0, 0x10000);
	/* No KVM here: binding failed quietly, the exit path kicks. */
	CHECK_EQ(vd->kick_where[0], 0);
	lw(f, 16, 2, 0);
	CHECK(wait_count(&f->dev->notified[0], 1));
	fx_free(f);
}
