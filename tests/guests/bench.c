/*
 * bench.elf - the guest side of bench/run (not a test): the same work
 * under khyve, QEMU and the bench's floor loop.  Timing is in TSC cycles;
 * the bench converts with the host's TSC rate.  Modes ("mode=..."):
 *
 *  idle   bring up the first virtio-blk and virtio-net functions (modern
 *         transport, queues set up, DRIVER_OK), print "bench idle", then
 *         sleep with interrupts on (the bench reads the VMM's memory).
 *  exits  "n=N" round trips each, timed one by one with rdtsc, printed
 *         as "bench exit KIND median=C min=C p25=C p75=C p90=C": pio
 *         (a read of the UART's scratch register 0x3ff, a user-space
 *         device everywhere), mmio
 *         (a read of device_feature_select in a virtio-blk's modern
 *         common configuration; without one, of "mmio=ADDR"), kick (a
 *         write to virtio-blk queue 0's doorbell, an ioeventfd, with no
 *         buffer made available, so only the exit and the wake-up cost).
 *  blk    virtio-blk throughput: 4 KiB random reads and 128 KiB
 *         sequential reads then writes, each at queue depth 1 and 32
 *         ("n4k=N", "n128k=N" requests each), polling the used ring with
 *         MSI-X interrupts on, as "bench blk NAME qd=Q n=N bytes=B
 *         cycles=C irqs=I" (I: queue interrupts the guest took).
 *  net    virtio-net over the bench's tap (see bench/run): the guest is
 *         02:00:00:00:00:02 / 10.77.0.2, the host's tap 02:00:00:00:00:01 /
 *         10.77.0.1.  Both rings are polled with interrupts suppressed
 *         (VRING_AVAIL_F_NO_INTERRUPT), and the guest kicks only when the
 *         device asks (VRING_USED_F_NO_NOTIFY clear), as a NAPI driver
 *         would.  tx-64 and tx-1500: "ntx=N" UDP frames to 10.77.0.1:9
 *         (60 and 1514 bytes of Ethernet frame, no FCS), the TX queue
 *         kept full, used buffers reclaimed, printed as "bench net NAME
 *         n=N bytes=B cycles=C kicks=K" (the host counts what arrived;
 *         K: doorbell writes, each an exit).  rx-64
 *         and rx-1500: all RX buffers posted, "bench net ready NAME"
 *         printed, then the UDP frames of that size to 10.77.0.2:5001 the
 *         host sends are counted for "win=MS" milliseconds ("khz=" TSC
 *         kHz) from the first one, printed the same way; frames of other
 *         kinds are counted as other=.
 * Ends with pc-testdev 0x10 (status 33), or 0x11 after an error.
 */
#include "virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define QD_MAX 32
#define NSAMPLES 512

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;
static struct vdev blk, net;
static uint32_t samples[NSAMPLES];

static void sort(uint32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t v = a[i];
		int j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static void report(const char *kind, int n)
{
	sort(samples, n);
	/* Quartiles and p90 too: the kick's spread is bimodal. */
	printf("bench exit %s median=%u min=%u p25=%u p75=%u p90=%u\n", kind,
	    samples[n / 2], samples[0], samples[n / 4], samples[n * 3 / 4],
	    samples[n * 9 / 10]);
}

/* The first virtio function of `type`, modern, one queue per entry of
 * nq set up; false if there is none or it failed (reported). */
static bool vdev_up(struct vdev *vd, int type, int nq, uint16_t qsize,
    int vector_base)
{
	struct pci_dev *d = vio_find(devs, ndevs, type, 0);

	if (d == NULL)
		return false;
	if (vio_init(vd, d, VIO_MODERN, vio_irq_arg("irq", d),
		vector_base) != 0 || vio_negotiate(vd, 0) != 0)
		return false;
	for (int q = 0; q < nq; q++)
		if (vio_setup_vq(vd, q, qsize) != 0)
			return false;
	vio_driver_ok(vd);
	return true;
}

static void mode_exits(bool have_blk)
{
	int n = (int)cmd_num("n", 256);
	uintptr_t mmio = (uintptr_t)cmd_num("mmio", 0xd0000000u);
	volatile uint16_t *doorbell = NULL;

	if (n > NSAMPLES)
		n = NSAMPLES;
	if (n < 1)
		n = 1;
	if (have_blk) {
		mmio = blk.common;
		doorbell = (volatile uint16_t *)blk.vq[0].notify;
	}
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		(void)inb(0x3ff);
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("pio", n);
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		(void)mmio_read32(mmio);
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("mmio", n);
	if (doorbell == NULL)
		return;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = rdtsc();

		*doorbell = 0;
		samples[i] = (uint32_t)(rdtsc() - t0);
	}
	report("kick", n);
}

/* One queue-depth-limited run of n requests; false on error. */
static bool blk_run(const char *name, uint32_t type, uint32_t bs, int qd,
    int n, bool random, uint64_t cap)
{
	static struct blk_hdr *hdr;
	static uint8_t *status, *data;
	/* 32-bit arithmetic (no libgcc): disks here are far below 2 TiB. */
	uint32_t spb = bs / 512, next = 0;
	uint32_t nblocks = (cap > 0xffffffffu ? 0xffffffffu : (uint32_t)cap) /
	    spb;
	uint32_t rnd = 12345, id, len;
	int submitted = 0, done = 0, inflight = 0;
	uint64_t t0, t1, limit;
	uint32_t irqs0 = vio_irqs(&blk, 0);
	int slot_of[VIO_MAX_QSIZE];
	int free_slots[QD_MAX], nfree = 0;

	if (hdr == NULL) {
		hdr = palloc(QD_MAX * sizeof(*hdr), 16);
		status = palloc(QD_MAX, 16);
		data = palloc(QD_MAX * (128u << 10), 4096);
	}
	if (nblocks == 0 || qd > QD_MAX) {
		printf("bench blk %s: disk too small\n", name);
		return false;
	}
	for (int s = qd - 1; s >= 0; s--)
		free_slots[nfree++] = s;
	t0 = rdtsc();
	/* Generous bound: 10^12 cycles (minutes at any clock here). */
	limit = t0 + 1000000000000ull;
	while (done < n) {
		bool added = false;

		while (submitted < n && nfree > 0) {
			int s = free_slots[--nfree], head;
			uint32_t blkno;

			if (random) {
				rnd = rnd * 1103515245u + 12345u;
				blkno = rnd % nblocks;
			} else {
				blkno = next++ % nblocks;
			}
			hdr[s] = (struct blk_hdr){ type, 0, (uint64_t)blkno * spb };
			status[s] = 0xff;
			struct vbuf b[3] = {
				{ &hdr[s], sizeof(hdr[s]), false },
				{ data + (size_t)s * (128u << 10), bs,
				    type == BLK_T_IN },
				{ &status[s], 1, true },
			};
			head = vio_add(&blk, 0, b, 3);
			if (head < 0) {
				printf("bench blk %s: queue full\n", name);
				return false;
			}
			slot_of[head] = s;
			submitted++;
			inflight++;
			added = true;
		}
		if (added)
			vio_kick(&blk, 0);
		while (!vio_poll(&blk, 0, &id, &len)) {
			if (rdtsc() > limit) {
				printf("bench blk %s: timeout, %d of %d done\n",
				    name, done, n);
				return false;
			}
			cpu_relax();
		}
		if (id >= VIO_MAX_QSIZE || status[slot_of[id]] != 0) {
			printf("bench blk %s: request failed (status %u)\n",
			    name, id < VIO_MAX_QSIZE ? status[slot_of[id]] : 0);
			return false;
		}
		free_slots[nfree++] = slot_of[id];
		inflight--;
		done++;
	}
	t1 = rdtsc();
	printf("bench blk %s qd=%d n=%d bytes=%llu cycles=%llu irqs=%u\n", name,
	    qd, n, (unsigned long long)n * bs, (unsigned long long)(t1 - t0),
	    vio_irqs(&blk, 0) - irqs0);
	return true;
}

static bool mode_blk(void)
{
	int n4k = (int)cmd_num("n4k", 512), n128k = (int)cmd_num("n128k", 64);
	uint64_t cap = vio_cfg_read(&blk, 0, 8);
	bool ok = true;

	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("randread-4k", BLK_T_IN, 4096, qd, n4k, true, cap);
	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("seqread-128k", BLK_T_IN, 128u << 10, qd, n128k,
		    false, cap);
	for (int qd = 1; qd <= 32 && ok; qd += 31)
		ok = blk_run("seqwrite-128k", BLK_T_OUT, 128u << 10, qd, n128k,
		    false, cap);
	return ok;
}

/* ---- mode=net ----------------------------------------------------------- */

#define NET_RXQ 0
#define NET_TXQ 1
#define NET_QSIZE 256  /* QEMU's default for both queues */
#define NET_HDR 12     /* virtio-net header, VERSION_1 */
#define NET_BUF 1536   /* header + the largest frame */
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

static const uint8_t net_gmac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t net_hmac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t net_gip[4] = { 10, 77, 0, 2 };
static const uint8_t net_hip[4] = { 10, 77, 0, 1 };
static uint8_t *net_rxbuf[NET_QSIZE]; /* by head (one descriptor each) */
static uint8_t *net_rxmem;

static void net_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t net_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t net_kicks; /* doorbell writes (exits) in this phase */

/* Kick only if the device has not switched notifications off. */
static void net_kick(int qi)
{
	__asm__ volatile("mfence" ::: "memory");
	if (!(net.vq[qi].used->flags & VRING_USED_F_NO_NOTIFY)) {
		vio_kick(&net, qi);
		net_kicks++;
	}
}

/* Header (zero) and an Ethernet/IPv4/UDP frame of flen bytes at b. */
static void net_frame(uint8_t *b, uint32_t flen)
{
	uint8_t *f = b + NET_HDR, *ip = f + 14, *udp = ip + 20;
	uint32_t s = 0;

	memset(b, 0, NET_HDR + flen);
	memcpy(f, net_hmac, 6);
	memcpy(f + 6, net_gmac, 6);
	net_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	net_put16(ip + 2, (uint16_t)(flen - 14));
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	memcpy(ip + 12, net_gip, 4);
	memcpy(ip + 16, net_hip, 4);
	for (int i = 0; i < 20; i += 2)
		s += net_be16(ip + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	net_put16(ip + 10, (uint16_t)~s);
	net_put16(udp, 4000);
	net_put16(udp + 2, 9); /* discard; UDP checksum 0: none */
	net_put16(udp + 4, (uint16_t)(flen - 34));
}

/* Send n frames of flen bytes, the queue kept full; false on error. */
static bool net_tx(const char *name, uint32_t flen, int n)
{
	struct vq *q = &net.vq[NET_TXQ];
	uint8_t *buf = palloc(NET_BUF, 64);
	int sent = 0, done = 0;
	uint64_t t0, t1, limit;
	uint32_t id;

	/* Every descriptor points at the same frame: the device only reads. */
	net_frame(buf, flen);
	net_kicks = 0;
	t0 = rdtsc();
	limit = t0 + 1000000000000ull;
	while (done < n) {
		bool added = false, got = false;

		while (sent < n && q->num_free > 0) {
			struct vbuf b = { buf, NET_HDR + flen, false };

			if (vio_add(&net, NET_TXQ, &b, 1) < 0)
				break;
			sent++;
			added = true;
		}
		if (added)
			net_kick(NET_TXQ);
		while (vio_poll(&net, NET_TXQ, &id, NULL)) {
			done++;
			got = true;
		}
		if (!got) {
			if (rdtsc() > limit) {
				printf("bench net %s: timeout, %d of %d sent\n",
				    name, done, n);
				return false;
			}
			cpu_relax();
		}
	}
	t1 = rdtsc();
	printf("bench net %s n=%d bytes=%llu cycles=%llu kicks=%u\n", name, n,
	    (unsigned long long)n * flen, (unsigned long long)(t1 - t0),
	    net_kicks);
	return true;
}

static void net_rx_post(void)
{
	struct vq *q = &net.vq[NET_RXQ];
	bool added = false;

	while (q->num_free > 0) {
		/* The chain's head is the descriptor the free list gives. */
		uint16_t d = q->free_head;
		struct vbuf b = { net_rxmem + (size_t)d * NET_BUF, NET_BUF,
			true };

		if (d >= NET_QSIZE || vio_add(&net, NET_RXQ, &b, 1) < 0)
			break;
		net_rxbuf[d] = b.addr;
		added = true;
	}
	if (added)
		net_kick(NET_RXQ);
}

static bool net_rx_match(const uint8_t *f, uint32_t len, uint32_t flen)
{
	return len == flen && memcmp(f, net_gmac, 6) == 0 &&
	    net_be16(f + 12) == 0x0800 && f[14 + 9] == 17 &&
	    net_be16(f + 36) == 5001;
}

/* Count the host's frames of flen bytes for win cycles after the first. */
static bool net_rx(const char *name, uint32_t flen, uint64_t win,
    uint64_t wait)
{
	uint64_t t0 = 0, now, start = rdtsc();
	uint32_t id, len, n = 0, other = 0;
	uint64_t bytes = 0;

	net_rx_post();
	printf("bench net ready %s\n", name);
	for (;;) {
		bool got = false;

		while (vio_poll(&net, NET_RXQ, &id, &len)) {
			got = true;
			if (id >= NET_QSIZE || net_rxbuf[id] == NULL ||
			    len < NET_HDR || len > NET_BUF) {
				printf("bench net %s: bad used entry %u len %u\n",
				    name, id, len);
				return false;
			}
			if (!net_rx_match(net_rxbuf[id] + NET_HDR, len - NET_HDR,
				flen)) {
				other++;
				continue;
			}
			if (n++ == 0) {
				t0 = rdtsc();
				net_kicks = 0;
			}
			bytes += flen;
		}
		if (got)
			net_rx_post();
		now = rdtsc();
		if (n > 0 && now - t0 >= win)
			break;
		if (n == 0 && now - start > wait) {
			printf("bench net %s: nothing received\n", name);
			return false;
		}
		if (!got)
			cpu_relax();
	}
	printf("bench net %s n=%u bytes=%llu cycles=%llu other=%u kicks=%u\n",
	    name, n, (unsigned long long)bytes, (unsigned long long)(now - t0),
	    other, net_kicks);
	return true;
}

static bool mode_net(void)
{
	struct pci_dev *d = vio_find(devs, ndevs, VIRTIO_ID_NET, 0);
	int ntx = (int)cmd_num("ntx", 20000);
	uint64_t khz = cmd_num("khz", 2000000), win = cmd_num("win", 1000);
	uint8_t mac[6];

	if (d == NULL || vio_init(&net, d, VIO_MODERN, vio_irq_arg("irq", d),
		0x50) != 0 || vio_negotiate(&net, 0) != 0 ||
	    vio_setup_vq(&net, NET_RXQ, NET_QSIZE) != 0 ||
	    vio_setup_vq(&net, NET_TXQ, NET_QSIZE) != 0) {
		printf("bench net: no virtio-net\n");
		return false;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)vio_cfg_read(&net, (uint32_t)i, 1);
	if (memcmp(mac, net_gmac, 6) != 0) {
		printf("bench net: mac is not 02:00:00:00:00:02\n");
		return false;
	}
	/* Polled: no interrupts wanted on either queue. */
	net.vq[NET_RXQ].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	net.vq[NET_TXQ].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vio_driver_ok(&net);
	net_rxmem = palloc((size_t)NET_QSIZE * NET_BUF, 64);
	win *= khz; /* ms -> cycles */
	return net_tx("tx-64", 60, ntx) && net_tx("tx-1500", 1514, ntx) &&
	    net_rx("rx-64", 60, win, 60000 * khz) &&
	    net_rx("rx-1500", 1514, win, 60000 * khz);
}

void guest_main(void)
{
	char mode[16] = "exits";
	bool have_blk;

	(void)cmd_get("mode", mode, sizeof(mode));
	ndevs = pci_scan(devs, PCI_MAX_DEVS);
	have_blk = vdev_up(&blk, VIRTIO_ID_BLOCK, 1, 128, 0x40);
	if (strcmp(mode, "idle") == 0) {
		vdev_up(&net, VIRTIO_ID_NET, 2, 256, 0x50);
		printf("bench idle blk %d net %d errors %d\n", have_blk,
		    net.vq[0].size != 0, vio_errors + pci_errors);
		irq_enable();
		for (;;)
			__asm__ volatile("hlt" ::: "memory");
	}
	if (strcmp(mode, "exits") == 0) {
		mode_exits(have_blk);
	} else if (strcmp(mode, "net") == 0) {
		if (!mode_net())
			vio_errors++;
	} else if (strcmp(mode, "blk") == 0) {
		if (!have_blk || !mode_blk())
			vio_errors++;
	} else {
		printf("bench: unknown mode=%s\n", mode);
		vio_errors++;
	}
	printf("bench done errors %d\n", vio_errors + pci_errors);
	finish(vio_errors + pci_errors ? GX_FAIL : GX_OK);
}
