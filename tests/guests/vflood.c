/*
 * vflood.elf - a guest that floods the host (t-flood.sh measures khyve's
 * memory meanwhile).  "dev=" picks the target:
 *   uart  COM1 (0x3f8): "kb=" KiB with "rep outsb", 4 KiB per instruction,
 *         never looking at the line status (the host may drop it);
 *   con   virtio-console port 0 without MULTIPORT (queues 0/1): transmit
 *         "kb=" KiB in 4 KiB buffers, keeping up to 32 in flight; if the
 *         device returns none for "stall=" ms (default 2000) the flood
 *         stops there ("stalled").  With "hello=MS" it first posts one
 *         receive buffer and waits up to MS for the client's first bytes
 *         ("flood con client said N bytes", else "flood con no client"),
 *         so a test knows its client is connected before the flood;
 *   net   virtio-net: posts 16 receive buffers and never takes them back
 *         (the used ring is never read), then transmits "frames=" ICMP
 *         echo requests of 1442 bytes to 10.0.2.2 (slirp answers each),
 *         up to 32 in flight.
 * "wait=MS" idles first (a test's client may still be connecting).
 * COM1 gets "flood DEV start", then "flood DEV done KB KiB" or "flood DEV
 * stalled after KB KiB", then ~1 s of quiet (so the host can read the
 * process's memory figures before it exits), "vflood ok" and status 33.
 */
#include "virtio.h"

#define CHUNK 4096
#define INFLIGHT 32

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;
static int npci;

static void outsb(uint16_t port, const void *buf, uint32_t n)
{
	__asm__ volatile("cld; rep outsb"
	    : "+S"(buf), "+c"(n)
	    : "d"(port)
	    : "memory");
}

static uint32_t flood_uart(uint32_t kb)
{
	uint8_t *buf = palloc(CHUNK, 4096);

	for (uint32_t i = 0; i < CHUNK; i++)
		buf[i] = (uint8_t)('a' + i % 26);
	outb(0x3f8 + 3, 0x03); /* 8N1, DLAB 0 */
	for (uint32_t k = 0; k < kb / 4; k++)
		outsb(0x3f8, buf, CHUNK);
	return kb / 4 * 4;
}

/* Keep `q` full of `len`-byte chains from `bufs` until `total` sent or no
 * chain comes back for stall_ms.  Returns chains completed.  A used entry
 * that names no chain in flight (vio_poll has reported it) frees nothing:
 * freeing a slot twice would overrun free_slots on the stack. */
static uint32_t pump(int q, uint8_t **hdrs, uint32_t hdrlen, uint8_t **bufs,
    uint32_t len, uint32_t total, uint32_t stall_ms, bool *stalled)
{
	uint32_t sent = 0, done = 0, id;
	int slot_of[1024], free_slots[INFLIGHT], nfree = INFLIGHT;
	bool got;

	for (int i = 0; i < 1024; i++)
		slot_of[i] = -1;
	for (int i = 0; i < INFLIGHT; i++)
		free_slots[i] = i;
	*stalled = false;
	while (done < total) {
		while (nfree > 0 && sent < total) {
			int s = free_slots[--nfree], h;
			struct vbuf b[2];
			int n = 0;

			if (hdrs != NULL)
				b[n++] = (struct vbuf){ hdrs[s], hdrlen, false };
			b[n++] = (struct vbuf){ bufs[s], len, false };
			h = vio_add(&vd, q, b, n);
			if (h < 0 || h >= 1024) {
				nfree++;
				break;
			}
			slot_of[h] = s;
			sent++;
		}
		vio_kick(&vd, q);
		got = vio_wait(&vd, q, &id, NULL, stall_ms);
		if (!got) {
			*stalled = true;
			break;
		}
		for (; got; got = vio_poll(&vd, q, &id, NULL)) {
			if (id >= 1024 || slot_of[id] < 0 || nfree >= INFLIGHT)
				return done; /* the device misbehaved: stop */
			free_slots[nfree++] = slot_of[id];
			slot_of[id] = -1;
			done++;
		}
	}
	return done;
}

static uint32_t flood_con(uint32_t kb, bool *stalled)
{
	struct pci_dev *d = vio_find(devs, npci, VIRTIO_ID_CONSOLE, 0);
	uint8_t *bufs[INFLIGHT];

	if (d == NULL || vio_init(&vd, d, vio_mode_arg("transport"),
	    VIO_IRQ_NONE, 0x40) != 0 || vio_negotiate(&vd, 0) != 0 ||
	    vio_setup_vq(&vd, 0, 64) != 0 || vio_setup_vq(&vd, 1, 64) != 0) {
		vio_fail("no usable virtio-console");
		return 0;
	}
	vio_driver_ok(&vd);
	for (int i = 0; i < INFLIGHT; i++) {
		bufs[i] = palloc(CHUNK, 4096);
		memset(bufs[i], 'c', CHUNK);
	}
	if (cmd_num("hello", 0) != 0) {
		/* Port 0 without MULTIPORT takes a client's bytes at once. */
		struct vbuf b = { palloc(64, 16), 64, true };
		uint32_t id, len = 0;

		vio_add(&vd, 0, &b, 1);
		vio_kick(&vd, 0);
		if (vio_wait(&vd, 0, &id, &len, (uint32_t)cmd_num("hello", 0)))
			printf("flood con client said %u bytes\n", len);
		else
			printf("flood con no client\n");
	}
	printf("flood con start\n");
	return pump(1, NULL, 0, bufs, CHUNK, kb / 4,
	    (uint32_t)cmd_num("stall", 2000), stalled) * 4;
}

static uint16_t csum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t flood_net(uint32_t frames, bool *stalled)
{
	struct pci_dev *d = vio_find(devs, npci, VIRTIO_ID_NET, 0);
	static const uint8_t src_ip[4] = { 10, 0, 2, 15 },
			     dst_ip[4] = { 10, 0, 2, 2 };
	uint8_t *hdrs[INFLIGHT], *bufs[INFLIGHT];
	uint32_t hdrlen, len = 14 + 20 + 8 + 1400;

	if (d == NULL || vio_init(&vd, d, vio_mode_arg("transport"),
	    VIO_IRQ_NONE, 0x40) != 0 || vio_negotiate(&vd, 1u << 5) != 0 ||
	    vio_setup_vq(&vd, 0, 64) != 0 || vio_setup_vq(&vd, 1, 64) != 0) {
		vio_fail("no usable virtio-net");
		return 0;
	}
	hdrlen = vd.modern ? 12 : 10;
	vio_driver_ok(&vd);
	/* Receive buffers the guest never takes back. */
	for (int i = 0; i < 16; i++) {
		struct vbuf b[2] = { { palloc(16, 16), hdrlen, true },
			{ palloc(1536, 16), 1536, true } };

		vio_add(&vd, 0, b, 2);
	}
	vio_kick(&vd, 0);
	for (int i = 0; i < INFLIGHT; i++) {
		uint8_t *f, *ip, *icmp;

		hdrs[i] = palloc(16, 16);
		memset(hdrs[i], 0, 16);
		f = bufs[i] = palloc(1536, 16);
		memset(f, 0xff, 6); /* slirp takes any destination MAC */
		for (int k = 0; k < 6; k++)
			f[6 + k] = (uint8_t)vio_cfg_read(&vd, (uint32_t)k, 1);
		put16(f + 12, 0x0800);
		ip = f + 14;
		icmp = ip + 20;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - 14));
		put16(ip + 4, (uint16_t)i);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, src_ip, 4);
		memcpy(ip + 16, dst_ip, 4);
		put16(ip + 10, csum(ip, 20));
		memset(icmp, 0, 8);
		icmp[0] = 8;
		put16(icmp + 4, 0x4b48);
		put16(icmp + 6, (uint16_t)i);
		memset(icmp + 8, 'n', 1400);
		put16(icmp + 2, csum(icmp, 8 + 1400));
	}
	printf("flood net start\n");
	return pump(1, hdrs, hdrlen, bufs, len, frames,
	    (uint32_t)cmd_num("stall", 5000), stalled) * (len / 1024);
}

void guest_main(void)
{
	char dev[8] = "uart";
	uint32_t kb = (uint32_t)cmd_num("kb", 16384), done = 0;
	bool stalled = false;

	npci = pci_scan(devs, PCI_MAX_DEVS);
	cmd_get("dev", dev, sizeof(dev));
	delay_ms((uint32_t)cmd_num("wait", 0));
	if (strcmp(dev, "uart") == 0) {
		printf("flood uart start\n");
		done = flood_uart(kb);
	} else if (strcmp(dev, "con") == 0) {
		done = flood_con(kb, &stalled);
	} else if (strcmp(dev, "net") == 0) {
		done = flood_net((uint32_t)cmd_num("frames", 20000), &stalled);
	} else {
		vio_fail("dev=%s: expected uart, con or net", dev);
	}
	if (stalled)
		printf("flood %s stalled after %u KiB\n", dev, done);
	else
		printf("flood %s done %u KiB\n", dev, done);
	for (int i = 0; i < 10; i++)
		delay_us(100000);
	if (vio_errors || pci_errors) {
		printf("vflood FAIL\n");
		finish(GX_FAIL);
	}
	printf("vflood ok\n");
	finish(GX_OK);
}
