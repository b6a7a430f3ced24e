/*
 * vdisk.elf - virtio-blk durability and error reporting (t-disk-crash.sh,
 * t-disk-errors.sh).  Blocks are BLKPAT_SIZE bytes, filled as
 * tests/tools/blkpat.h says (block N holds N, the run's "gen=" and a
 * checksum), at offset N * BLKPAT_SIZE.
 *
 * mode=crash (default): write blocks 0, 1, 2, ... in batches of 1..8
 * requests in flight at once (sizes from the TSC), and after each batch
 * print "w FIRST LAST" once all of its writes completed with status OK;
 * then, unless "flush=0", send FLUSH and print "f LAST" when it completed
 * OK.  Runs until the disk is full ("done", status 33) or khyve is killed,
 * which is the point: the host checks that every acknowledged block is on
 * disk.  Any status other than OK prints "vdisk FAIL: ..." (status 35).
 *
 * mode=ops ops=LIST: run the comma-separated LIST in order and print one
 * "op OP status S" line per request (S: 0 OK, 1 IOERR, 2 UNSUPP, -1 no
 * answer), the host asserts them.  OP is "wN" (write block N), "wA-B"
 * (blocks A..B, one request each), "rN" (read block N; "intact 1|0" added
 * when OK) or "f" (flush).  Ends "vdisk ok" (status 33).
 *
 * Options: "transport=", "irq=" as the other virtio programs, "gen=N".
 */
#include "virtio.h"
#include "../tools/blkpat.h"

#define BLK_F_FLUSH 9
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define SECTORS_PER_BLK (BLKPAT_SIZE / 512)
#define NSLOT 8

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

struct slot {
	struct blk_hdr *hdr;
	uint8_t *status;
	uint32_t *data;
	int head;
};

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;
static struct slot slots[NSLOT];
static uint32_t gen;

/* Queue request `s` (type, block) without kicking; false if no room. */
static bool queue_req(struct slot *s, uint32_t type, uint32_t blk)
{
	struct vbuf b[3];
	int n = 0;

	s->hdr->type = type;
	s->hdr->reserved = 0;
	s->hdr->sector = (uint64_t)blk * SECTORS_PER_BLK;
	*s->status = 0xff;
	b[n++] = (struct vbuf){ s->hdr, sizeof(*s->hdr), false };
	if (type == BLK_T_OUT)
		b[n++] = (struct vbuf){ s->data, BLKPAT_SIZE, false };
	else if (type == BLK_T_IN)
		b[n++] = (struct vbuf){ s->data, BLKPAT_SIZE, true };
	b[n++] = (struct vbuf){ s->status, 1, true };
	s->head = vio_add(&vd, 0, b, n);
	return s->head >= 0;
}

/* Wait for `n` outstanding slots; false on a timeout. */
static bool wait_all(int n)
{
	uint32_t id;

	for (int done = 0; done < n; done++) {
		if (!vio_wait(&vd, 0, &id, NULL, 20000))
			return false;
		for (int i = 0; i < n; i++)
			if (slots[i].head == (int)id)
				slots[i].head = -1;
	}
	return true;
}

static int one(uint32_t type, uint32_t blk)
{
	struct slot *s = &slots[0];

	if (type == BLK_T_OUT)
		blkpat_fill(s->data, blk, gen);
	if (!queue_req(s, type, blk))
		return -1;
	vio_kick(&vd, 0);
	if (!wait_all(1))
		return -1;
	return *s->status;
}

static void run_ops(void)
{
	char list[512], *p, *op;
	static uint32_t want[BLKPAT_WORDS];

	if (!cmd_get("ops", list, sizeof(list))) {
		vio_fail("mode=ops without ops=");
		return;
	}
	for (p = list; *p != '\0';) {
		uint32_t a = 0, b;
		int st;
		char kind;

		op = p;
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == ',')
			*p++ = '\0';
		kind = op[0];
		for (op++; *op >= '0' && *op <= '9'; op++)
			a = a * 10 + (uint32_t)(*op - '0');
		b = a;
		if (*op == '-')
			for (b = 0, op++; *op >= '0' && *op <= '9'; op++)
				b = b * 10 + (uint32_t)(*op - '0');
		if (kind == 'f') {
			st = one(BLK_T_FLUSH, 0);
			printf("op f status %d\n", st);
		} else if (kind == 'r') {
			st = one(BLK_T_IN, a);
			printf("op r%u status %d", a, st);
			if (st == 0) {
				blkpat_fill(want, a, gen);
				printf(" intact %d", memcmp(want, slots[0].data,
				    BLKPAT_SIZE) == 0);
			}
			printf("\n");
		} else if (kind == 'w') {
			for (uint32_t k = a; k <= b; k++) {
				st = one(BLK_T_OUT, k);
				printf("op w%u status %d\n", k, st);
			}
		} else {
			vio_fail("unknown op '%c'", kind);
			return;
		}
	}
}

static void run_crash(uint64_t nblk)
{
	bool flush = cmd_num("flush", 1) != 0;
	uint32_t next = 0, rnd = (uint32_t)rdtsc() | 1;

	if (flush && !(vd.features >> BLK_F_FLUSH & 1)) {
		vio_fail("no VIRTIO_BLK_F_FLUSH");
		return;
	}
	while (next < nblk) {
		uint32_t n, first = next;

		rnd ^= rnd << 13;
		rnd ^= rnd >> 17;
		rnd ^= rnd << 5;
		n = 1 + rnd % NSLOT;
		if (n > nblk - next)
			n = (uint32_t)(nblk - next);
		for (uint32_t i = 0; i < n; i++) {
			blkpat_fill(slots[i].data, next + i, gen);
			if (!queue_req(&slots[i], BLK_T_OUT, next + i)) {
				vio_fail("no room in the queue");
				return;
			}
		}
		vio_kick(&vd, 0);
		if (!wait_all((int)n)) {
			vio_fail("writes %u..%u not completed", first,
			    first + n - 1);
			return;
		}
		for (uint32_t i = 0; i < n; i++)
			if (*slots[i].status != 0) {
				vio_fail("write %u: status %d", first + i,
				    *slots[i].status);
				return;
			}
		next += n;
		printf("w %u %u\n", first, next - 1);
		if (flush) {
			int st = one(BLK_T_FLUSH, 0);

			if (st != 0) {
				vio_fail("flush after %u: status %d", next - 1,
				    st);
				return;
			}
			printf("f %u\n", next - 1);
		}
	}
	printf("done %u\n", next);
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS);
	struct pci_dev *d = vio_find(devs, n, VIRTIO_ID_BLOCK, 0);
	char mode[16] = "crash";
	uint64_t cap;

	gen = (uint32_t)cmd_num("gen", 0);
	cmd_get("mode", mode, sizeof(mode));
	if (d == NULL) {
		printf("vdisk FAIL: no virtio-blk function\n");
		finish(GX_FAIL);
	}
	for (int i = 0; i < NSLOT; i++) {
		slots[i].hdr = palloc(sizeof(*slots[i].hdr), 16);
		slots[i].status = palloc(1, 16);
		slots[i].data = palloc(BLKPAT_SIZE, 4096);
		slots[i].head = -1;
	}
	if (vio_init(&vd, d, vio_mode_arg("transport"), vio_irq_arg("irq", d),
		0x40) != 0 ||
	    vio_negotiate(&vd, 1u << BLK_F_FLUSH) != 0 ||
	    vio_setup_vq(&vd, 0, 128) != 0)
		goto out;
	vio_driver_ok(&vd);
	cap = vio_cfg_read(&vd, 0, 8);
	printf("vdisk: capacity %llu flush %d mode %s gen %u\n",
	    (unsigned long long)cap, (int)(vd.features >> BLK_F_FLUSH & 1),
	    mode, gen);
	if (strcmp(mode, "ops") == 0)
		run_ops();
	else
		run_crash(cap / SECTORS_PER_BLK);
out:
	if (vio_errors || pci_errors) {
		printf("vdisk FAIL\n");
		finish(GX_FAIL);
	}
	printf("vdisk ok\n");
	finish(GX_OK);
}
