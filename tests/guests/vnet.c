/*
 * vnet.elf - virtio-net (virtio 1.2, 5.1) against a user-mode network
 * (khyve's slirp back end: gateway 10.0.2.2, guest 10.0.2.15).
 *
 * Prints the MAC from the configuration space ("vnet: mac ..."; with
 * "mac=xx:..:xx" it must match), posts receive buffers (header and frame
 * in separate descriptors, as legacy drivers without ANY_LAYOUT must),
 * sends an ARP request for 10.0.2.2 and waits for the reply, then an
 * ICMP echo request to 10.0.2.2 and waits for the echo reply.  The
 * virtio-net header is 10 bytes (legacy, no MRG_RXBUF) or 12 (VERSION_1).
 * Options: "transport=", "irq=", "wait=MS" per reply (default 20000).
 * Ends "vnet ok" (GX_OK) or "vnet FAIL" (GX_FAIL).
 */
#include "virtio.h"

#define NET_F_MAC 5
#define NET_F_STATUS 16

#define RXQ 0
#define TXQ 1
#define NRX 8
#define FRAME 1536

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;
static uint8_t mac[6], gw_mac[6];
static uint32_t hdrlen;
static uint8_t *rx_hdr[NRX], *rx_frame[NRX];
static int rx_by_head[256];
static uint8_t *tx_hdr, *tx_frame;
static const uint8_t my_ip[4] = { 10, 0, 2, 15 }, gw_ip[4] = { 10, 0, 2, 2 };

static void post_rx(int i)
{
	struct vbuf b[2] = {
		{ rx_hdr[i], hdrlen, true },
		{ rx_frame[i], FRAME, true },
	};
	int h = vio_add(&vd, RXQ, b, 2);

	if (h >= 0 && h < 256)
		rx_by_head[h] = i;
}

static void send_frame(uint32_t len)
{
	struct vbuf b[2] = {
		{ tx_hdr, hdrlen, false },
		{ tx_frame, len < 60 ? 60 : len, false },
	};

	memset(tx_hdr, 0, hdrlen);
	if (vio_request(&vd, TXQ, b, 2, 10000) < 0)
		vio_fail("transmit not completed");
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Wait for a frame `match` accepts; frames it rejects are counted. */
static bool wait_frame(bool (*match)(const uint8_t *f, uint32_t len),
    uint32_t timeout_ms)
{
	for (uint32_t t = 0; t < timeout_ms * 10; t++) {
		uint32_t id, len;

		if (!vio_poll(&vd, RXQ, &id, &len)) {
			delay_us(100);
			continue;
		}
		if (id >= 256 || len < hdrlen || len > hdrlen + FRAME) {
			vio_fail("rx: used id %u len %u", id, len);
			return false;
		}
		int i = rx_by_head[id];
		bool ok = match(rx_frame[i], len - hdrlen);

		printf("vnet: rx %u bytes type 0x%04x from "
		       "%02x:%02x:%02x:%02x:%02x:%02x%s\n", len - hdrlen,
		    be16(rx_frame[i] + 12), rx_frame[i][6], rx_frame[i][7],
		    rx_frame[i][8], rx_frame[i][9], rx_frame[i][10],
		    rx_frame[i][11], ok ? " (the reply)" : "");
		post_rx(i);
		vio_kick(&vd, RXQ);
		if (ok)
			return true;
	}
	return false;
}

static bool is_arp_reply(const uint8_t *f, uint32_t len)
{
	const uint8_t *a = f + 14;

	if (len < 42 || be16(f + 12) != 0x0806 || be16(a + 6) != 2 ||
	    memcmp(a + 14, gw_ip, 4) != 0 || memcmp(a + 24, my_ip, 4) != 0)
		return false;
	memcpy(gw_mac, a + 8, 6);
	return true;
}

static bool is_echo_reply(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *icmp;
	uint32_t ihl;

	if (len < 14 + 20 + 8 || be16(f + 12) != 0x0800 || ip[9] != 1)
		return false;
	ihl = (ip[0] & 0xf) * 4u;
	icmp = ip + ihl;
	if (len < 14 + ihl + 8 + 16 || memcmp(ip + 12, gw_ip, 4) != 0 ||
	    icmp[0] != 0 || be16(icmp + 4) != 0x4b48 || be16(icmp + 6) != 1)
		return false;
	if (memcmp(icmp + 8, "khyve vnet ping!", 16) != 0) {
		vio_fail("echo reply payload differs");
		return false;
	}
	return true;
}

static void send_arp(void)
{
	uint8_t *f = tx_frame, *a = f + 14;

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0806);
	put16(a, 1);          /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);      /* request */
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, my_ip, 4);
	memcpy(a + 24, gw_ip, 4);
	send_frame(42);
}

static void send_ping(void)
{
	uint8_t *f = tx_frame, *ip = f + 14, *icmp = ip + 20;
	uint32_t icmp_len = 8 + 16;

	memset(f, 0, 14 + 20 + icmp_len);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + icmp_len));
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, gw_ip, 4);
	put16(ip + 10, csum(ip, 20));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0x4b48);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "khyve vnet ping!", 16);
	put16(icmp + 2, csum(icmp, icmp_len));
	send_frame(14 + 20 + icmp_len);
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS);
	struct pci_dev *d = vio_find(devs, n, VIRTIO_ID_NET, 0);
	uint32_t wait_ms = (uint32_t)cmd_num("wait", 20000);
	char want[32], got[32];

	if (d == NULL) {
		printf("vnet FAIL: no virtio-net function\n");
		finish(GX_FAIL);
	}
	if (vio_init(&vd, d, vio_mode_arg("transport"), vio_irq_arg("irq", d),
		0x40) != 0 ||
	    vio_negotiate(&vd, 1u << NET_F_MAC | 1u << NET_F_STATUS) != 0 ||
	    vio_setup_vq(&vd, RXQ, 64) != 0 || vio_setup_vq(&vd, TXQ, 64) != 0)
		goto out;
	hdrlen = vd.modern ? 12 : 10;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)vio_cfg_read(&vd, (uint32_t)i, 1);
	vio_driver_ok(&vd);
	vio_print(&vd, "vnet");
	snprintf(got, sizeof(got), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
	    mac[1], mac[2], mac[3], mac[4], mac[5]);
	printf("vnet: mac %s (F_MAC %d) status 0x%x header %u\n", got,
	    (int)(vd.features >> NET_F_MAC & 1),
	    (vd.features >> NET_F_STATUS & 1) ?
		(unsigned)vio_cfg_read(&vd, 6, 2) : 0, hdrlen);
	if (!(vd.features >> NET_F_MAC & 1))
		vio_fail("VIRTIO_NET_F_MAC not offered");
	if (cmd_get("mac", want, sizeof(want)) && strcmp(want, got) != 0)
		vio_fail("mac %s, expected %s", got, want);
	if ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] |
				mac[5]) == 0)
		vio_fail("mac %s is multicast or zero", got);

	tx_hdr = palloc(16, 16);
	tx_frame = palloc(FRAME, 16);
	for (int i = 0; i < NRX; i++) {
		rx_hdr[i] = palloc(16, 16);
		rx_frame[i] = palloc(FRAME, 16);
		post_rx(i);
	}
	vio_kick(&vd, RXQ);

	send_arp();
	printf("vnet: arp who-has 10.0.2.2 sent\n");
	if (!wait_frame(is_arp_reply, wait_ms)) {
		vio_fail("no ARP reply for 10.0.2.2");
		goto out;
	}
	printf("vnet: arp 10.0.2.2 is-at %02x:%02x:%02x:%02x:%02x:%02x\n",
	    gw_mac[0], gw_mac[1], gw_mac[2], gw_mac[3], gw_mac[4], gw_mac[5]);
	send_ping();
	printf("vnet: icmp echo to 10.0.2.2 sent\n");
	if (!wait_frame(is_echo_reply, wait_ms))
		vio_fail("no ICMP echo reply from 10.0.2.2");
	else
		printf("vnet: icmp echo reply from 10.0.2.2\n");
	printf("vnet: interrupts rx %u tx %u config %u status 0x%x\n",
	    vio_irqs(&vd, RXQ), vio_irqs(&vd, TXQ), vio_config_irqs(&vd),
	    vio_status(&vd));
	if (vd.irq != VIO_IRQ_NONE && vio_irqs(&vd, RXQ) == 0)
		vio_fail("no receive interrupt");
out:
	if (vio_errors || pci_errors) {
		printf("vnet FAIL\n");
		finish(GX_FAIL);
	}
	printf("vnet ok\n");
	finish(GX_OK);
}
