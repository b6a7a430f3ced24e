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

#include "config.h"
#include "options.h"
#include "test.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net.h"
#include "vpci_fixture.h"

#define RAM (4 * MiB)
#define QS 64

struct vn {
	struct vpci p;
	uint64_t q[2];     /* ring base per queue: desc, +0x1000, +0x2000 */
	uint16_t avail[2]; /* the driver's avail->idx */
};

static uint8_t *host(struct vn *t, uint64_t gpa, uint64_t len)
{
	return vpci_host(&t->p, gpa, len);
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
	bool got = false, ok = t != NULL && vpci_init(&t->p, RAM) == 0;

	CHECK(ok);
	if (!ok) {
		free(t);
		return;
	}
	config_set(NULL, "name", "vnetvm");
	CHECK_EQ(options_parse_pci_slot("4,virtio-net,slirp,mac=52:54:00:12:"
	    "34:56"), 0);
	CHECK_EQ(vpci_start(&t->p), 0);
	/* IDs: virtio vendor, transitional network device. */
	CHECK_EQ(vpci_cfg_rd(&t->p, 0x00, 2), 0x1af4);
	CHECK_EQ(vpci_cfg_rd(&t->p, 0x02, 2), 0x1000);
	CHECK_EQ(vpci_cfg_rd(&t->p, 0x2e, 2), VIRTIO_ID_NET);
	/* Decoding on; BAR 4 (64-bit memory) as the core assigned it. */
	vpci_map_bar4(&t->p, 0x7);
	CHECK(t->p.bar4 != 0);

	CHECK(vpci_negotiate(&t->p, features) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (int q = 0; q < 2; q++) {
		t->q[q] = 0x10000ULL + 0x10000ULL * (uint64_t)q;
		vpci_queue(&t->p, q, QS, t->q[q], t->q[q] + 0x1000,
		    t->q[q] + 0x2000);
	}
	vpci_driver_ok(&t->p);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(vpci_rd(&t->p, DEVCFG_OFF + (uint64_t)i, 1), mac[i]);
	CHECK_EQ(vpci_rd(&t->p, DEVCFG_OFF + VTNET_CFG_STATUS, 2),
	    VIRTIO_NET_S_LINK_UP);

	for (int i = 0; i < 4; i++)
		post(t, VTNET_RXQ, rxbuf + 2048ULL * (uint64_t)i, 2048, true);
	vpci_kick(&t->p, VTNET_RXQ);

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
	vpci_kick(&t->p, VTNET_TXQ);

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
	vpci_wr(&t->p, CC_STATUS, 1, 0);
	CHECK_EQ(vpci_rd(&t->p, CC_STATUS, 1), 0);
	vpci_fini(&t->p);
	free(t);
}
