/*
 * test_virtio_net_pci.c - virtio-net end to end without KVM: the real PCI
 * core builds the device from "-s 4,virtio-net,slirp,mac=..." on a fake
 * VM (no KVM fd, guarded fake RAM), the test plays a modern guest driver
 * through configuration cycles and the memory BAR (negotiation, queues,
 * doorbells), and the device's own I/O thread does the work: an ARP
 * request for the slirp gateway goes out on the TX queue and the reply
 * must land in a receive buffer behind a 12-byte header.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/pci_emul.h"
#include "config.h"
#include "loader_fixture.h"
#include "options.h"
#include "pci_fixture.h"
#include "test.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net.h"
#include "vmm/vm.h"

#define SLOT 4
#define RAM (4 * MiB)
#define QS 64

/* Modern common configuration and the other windows of BAR 4. */
#define CC_GFSEL 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_QSEL 0x16
#define CC_QSIZE 0x18
#define CC_QENABLE 0x1c
#define CC_QNOFF 0x1e
#define CC_QDESC 0x20
#define CC_QAVAIL 0x28
#define CC_QUSED 0x30
#define DEVCFG_OFF 0x2000
#define NOTIFY_OFF 0x3000

struct vn {
	struct fx_mem ram;
	struct vm vm;
	uint64_t bar4;     /* the modern register BAR, as the core placed it */
	uint64_t q[2];     /* ring base per queue: desc, +0x1000, +0x2000 */
	uint16_t avail[2]; /* the driver's avail->idx */
};

/* Slot SLOT's configuration space through 0xCF8/0xCFC (pci_fixture). */
static uint32_t dcfg_rd(struct vn *t, int off, int size)
{
	return cfg_rd(&t->vm, SLOT, off, size);
}

static void dcfg_wr(struct vn *t, int off, int size, uint32_t v)
{
	cfg_wr(&t->vm, SLOT, off, size, v);
}

static uint64_t mr(struct vn *t, uint64_t off, int size)
{
	return mm_rd(&t->vm, t->bar4 + off, size);
}

static void mw(struct vn *t, uint64_t off, int size, uint64_t v)
{
	mm_wr(&t->vm, t->bar4 + off, size, v);
}

static uint8_t *host(struct vn *t, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&t->vm.mem, gpa, len);
}

/* Publish a one-descriptor chain on queue q (descriptor = slot). */
static void post(struct vn *t, int q, uint64_t buf, uint32_t len, bool wr)
{
	uint16_t d = t->avail[q] % QS;
	uint8_t *desc = host(t, t->q[q] + 16ULL * d, 16);

	fx_w64(desc, buf);
	fx_w32(desc + 8, len);
	fx_w16(desc + 12, wr ? VRING_DESC_F_WRITE : 0);
	fx_w16(desc + 14, 0);
	fx_w16(host(t, t->q[q] + 0x1000 + 4 + 2ULL * d, 2), d);
	t->avail[q]++;
	__atomic_store_n((uint16_t *)host(t, t->q[q] + 0x1000 + 2, 2),
	    t->avail[q], __ATOMIC_RELEASE);
}

static void kick(struct vn *t, int q)
{
	uint16_t noff;

	mw(t, CC_QSEL, 2, (uint64_t)q);
	noff = (uint16_t)mr(t, CC_QNOFF, 2);
	mw(t, NOTIFY_OFF + 4ULL * noff, 2, (uint64_t)q);
}

static uint16_t used_idx(struct vn *t, int q)
{
	return __atomic_load_n((uint16_t *)host(t, t->q[q] + 0x2000 + 2, 2),
	    __ATOMIC_ACQUIRE);
}

TEST(virtio_net_pci_slirp_arp_end_to_end)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_MAC) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_STATUS) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	struct timespec ts = { 0, 2000000 };
	struct vn *t = calloc(1, sizeof(*t));
	uint64_t rxbuf = 0x100000, txbuf = 0x200000;
	uint8_t *f;
	bool got = false;

	CHECK(t != NULL && fx_init(&t->ram, RAM, 0) == 0);
	if (t == NULL)
		return;
	t->vm.fd = t->vm.kvm_fd = t->vm.exit_fd = -1;
	t->vm.mem = t->ram.m;
	iobus_init(&t->vm.pio, "port");
	iobus_init(&t->vm.mmio, "mmio");
	config_init();
	config_set(NULL, "name", "vnetvm");
	CHECK_EQ(options_parse_pci_slot("4,virtio-net,slirp,mac=52:54:00:12:"
	    "34:56"), 0);
	CHECK_EQ(pci_emul_init(&t->vm), 0);
	/* IDs: virtio vendor, transitional network device. */
	CHECK_EQ(dcfg_rd(t, 0x00, 2), 0x1af4);
	CHECK_EQ(dcfg_rd(t, 0x02, 2), 0x1000);
	CHECK_EQ(dcfg_rd(t, 0x2e, 2), VIRTIO_ID_NET);
	/* Decoding on; BAR 4 (64-bit memory) as the core assigned it. */
	dcfg_wr(t, 0x04, 2, 0x7);
	t->bar4 = (uint64_t)dcfg_rd(t, 0x20, 4) & ~0xfULL;
	t->bar4 |= (uint64_t)dcfg_rd(t, 0x24, 4) << 32;
	CHECK(t->bar4 != 0);

	mw(t, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mw(t, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER);
	mw(t, CC_GFSEL, 4, 0);
	mw(t, CC_GF, 4, (uint32_t)features);
	mw(t, CC_GFSEL, 4, 1);
	mw(t, CC_GF, 4, features >> 32);
	mw(t, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	CHECK(mr(t, CC_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (int q = 0; q < 2; q++) {
		t->q[q] = 0x10000ULL + 0x10000ULL * (uint64_t)q;
		mw(t, CC_QSEL, 2, (uint64_t)q);
		mw(t, CC_QSIZE, 2, QS);
		mw(t, CC_QDESC, 8, t->q[q]);
		mw(t, CC_QAVAIL, 8, t->q[q] + 0x1000);
		mw(t, CC_QUSED, 8, t->q[q] + 0x2000);
		mw(t, CC_QENABLE, 2, 1);
	}
	mw(t, CC_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	    VIRTIO_CONFIG_S_DRIVER_OK);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(mr(t, DEVCFG_OFF + (uint64_t)i, 1), mac[i]);
	CHECK_EQ(mr(t, DEVCFG_OFF + VTNET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);

	for (int i = 0; i < 4; i++)
		post(t, VTNET_RXQ, rxbuf + 2048ULL * (uint64_t)i, 2048, true);
	kick(t, VTNET_RXQ);

	/* TX: header + ARP who-has 10.0.2.2 tell 10.0.2.15. */
	f = host(t, txbuf, 12 + 42);
	memset(f, 0, 12 + 42);
	memset(f + 12, 0xff, 6);
	memcpy(f + 18, mac, 6);
	memcpy(f + 24, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f + 34, mac, 6);
	memcpy(f + 40, "\x0a\x00\x02\x0f", 4);
	memcpy(f + 50, "\x0a\x00\x02\x02", 4);
	post(t, VTNET_TXQ, txbuf, 12 + 42, false);
	kick(t, VTNET_TXQ);

	for (int waited = 0; !got && waited < 5000; waited += 2) {
		uint16_t n = used_idx(t, VTNET_RXQ);

		for (uint16_t i = 0; i < n && !got; i++) {
			uint8_t *e = host(t, t->q[0] + 0x2000 + 4 + 8ULL * i, 8);
			uint32_t id, len;
			uint8_t *r;

			memcpy(&id, e, 4);
			memcpy(&len, e + 4, 4);
			r = host(t, rxbuf + 2048ULL * id, 2048);
			if (len < 12 + 42 || r[24] != 0x08 || r[25] != 0x06)
				continue; /* e.g. an IPv6 router advertisement */
			got = true;
			CHECK_EQ(r[10] | r[11] << 8, 1); /* num_buffers */
			CHECK(memcmp(r + 12, mac, 6) == 0);
			CHECK_EQ(r[12 + 21], 2); /* ARP reply */
			CHECK(memcmp(r + 12 + 28, "\x0a\x00\x02\x02", 4) == 0);
		}
		if (!got)
			nanosleep(&ts, NULL);
	}
	CHECK(got);
	CHECK_EQ(used_idx(t, VTNET_TXQ), 1);

	/* Reset through the status register, then tear down. */
	mw(t, CC_STATUS, 1, 0);
	CHECK_EQ(mr(t, CC_STATUS, 1), 0);
	pci_emul_fini(&t->vm);
	iobus_fini(&t->vm.pio);
	iobus_fini(&t->vm.mmio);
	fx_fini(&t->ram);
	config_fini();
	free(t);
}
