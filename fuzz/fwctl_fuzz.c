/*
 * fwctl_fuzz.c - bhyve's fwctl (src/dev/fwctl.c) behind the platform
 * device "fwcfg" (lpc.fwcfg=bhyve, the default) on the port bus of a fake
 * VM with 1..255 vCPUs: the identify handshake and request/response pairs
 * at 0x510/0x511, next to a reference model of the protocol in fwcfg.h.
 * Every value the guest reads is checked against the model: the
 * signature bytes, each response word (size, op, transaction id, error,
 * the 8-byte size and hw.ncpu's value) and the all-ones of a read the
 * state does not serve.
 *
 * Operations (first byte % 5): 0 identify (outw 0x510, mostly 0, rarely
 * any 16 bits); 1 inb 0x511 (a signature byte); 2 a request (size mostly
 * the header plus the name's padded length, rarely under the header, over
 * the 80-byte name bound or any 32 bits; op mostly GET or GET_LEN;
 * name mostly "hw.ncpu", else from the input; rarely cut short, after
 * which the model stops predicting until the next identify); 3 inl 0x511
 * a few times (response words); 4 any access at 0x50e..0x519.
 */
#include <stdlib.h>
#include <string.h>

#include "bus/iobus.h"
#include "config.h"
#include "dev/fwcfg.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "fuzz.h"
#include "isa.h"
#include "vmm/vm.h"

enum mstate { M_IDENT_WAIT, M_IDENT_SEND, M_REQ, M_RESP };

/* The protocol as fwcfg.h states it, written apart from fwctl.c. */
struct model {
	bool known; /* false: predictions off until the next identify */
	enum mstate st;
	unsigned ident;
	uint32_t ncpus;
	unsigned hdr;        /* request header words seen */
	uint32_t left;       /* request payload bytes still expected */
	uint32_t op, txid, size;
	uint8_t name[128];
	uint32_t got;        /* payload bytes seen */
	uint32_t resp[8];
	unsigned nresp, ridx;
};

static void m_respond(struct model *m)
{
	uint32_t err = 0, n = 0;

	memset(m->resp, 0, sizeof(m->resp));
	if (m->op != 3 && m->op != 4)
		err = 2; /* ENOENT */
	else if (m->size - 12 > 80)
		err = 7; /* E2BIG */
	else if (strncmp((const char *)m->name, "hw.ncpu", 8) != 0)
		err = 2;
	else {
		m->resp[4] = 4; /* sizeof the value, as a 64-bit size */
		n = 2;
		if (m->op == 3)
			m->resp[4 + n++] = m->ncpus;
	}
	m->resp[0] = 16 + 4 * n;
	m->resp[1] = m->op;
	m->resp[2] = m->txid;
	m->resp[3] = err;
	m->nresp = 4 + n;
	m->ridx = 0;
	m->st = M_RESP;
}

static void m_word(struct model *m, uint32_t v)
{
	if (m->hdr == 0) {
		if (v < 12)
			return; /* dropped */
		m->size = v;
		m->left = v - 12;
		m->got = 0;
		memset(m->name, 0, sizeof(m->name));
		m->hdr = 1;
		return;
	}
	if (m->hdr == 1) {
		m->op = v;
		m->hdr = 2;
		return;
	}
	if (m->hdr == 2) {
		m->txid = v;
		m->hdr = 3;
	} else {
		/* Name bytes past 80 are not part of the name. */
		for (int i = 0; i < 4; i++)
			if (m->got + (uint32_t)i < 80)
				m->name[m->got + (uint32_t)i] = (uint8_t)(v >> (8 * i));
		m->got += 4;
		m->left = m->left > 4 ? m->left - 4 : 0;
	}
	if (m->left == 0) {
		m->hdr = 0;
		m_respond(m);
	}
}

/* One access, through the bus and through the model; checks reads. */
static void access(struct vm *vm, struct model *m, uint16_t port, int size,
    bool write, uint32_t val)
{
	uint64_t v = val;
	uint64_t expect = size == 1 ? 0xff : 0xffffffff;
	int rc = iobus_access(&vm->pio, NULL, port, size, write, &v);
	bool ours = size == 1 || size == 2 || size == 4 || size == 8;

	/* The device claims 0x510..0x517; an access that leaves it is not
	 * delivered at all. */
	ours = ours && port >= FWCFG_PORT &&
	    port + (unsigned)size <= FWCFG_PORT + FWCTL_PORTS;
	if ((rc == 0) != ours)
		abort();
	if (!ours)
		return;
	if (write && size == 2 && (uint16_t)val == 0) {
		m->known = true;
		m->st = M_IDENT_SEND;
		m->ident = 0;
		m->hdr = 0;
		return;
	}
	if (!m->known)
		return;
	if (write) {
		if (size == 4 && m->st == M_REQ)
			m_word(m, val);
		return;
	}
	if (size == 1 && m->st == M_IDENT_SEND) {
		expect = (uint8_t)"BHYV"[m->ident++];
		if (m->ident == 4)
			m->st = M_REQ;
	} else if (size == 4 && m->st == M_RESP) {
		expect = m->resp[m->ridx++];
		if (m->ridx == m->nresp)
			m->st = M_REQ;
	}
	if (v != expect)
		abort();
}

static void op_request(struct vm *vm, struct model *m, struct fz *f)
{
	uint8_t c = fz_u8(f), name[96];
	uint32_t size, nwords, op = (c & 1) ? 3 : 4;
	size_t nlen;

	memset(name, 0, sizeof(name));
	if ((c & 0x0e) == 0x0e) {
		nlen = fz_u8(f) % sizeof(name);
		fz_bytes(f, name, nlen); /* any name, up to 95 bytes */
	} else {
		memcpy(name, "hw.ncpu", 8);
		nlen = 8;
	}
	size = 12 + (uint32_t)((nlen + 3) & ~3u);
	switch ((c >> 4) & 7) {
	case 7:
		size = fz_u32(f);
		break;
	case 6:
		size = fz_u8(f) % 12; /* no header fits */
		break;
	case 5:
		size += 4 * (fz_u8(f) % 32); /* past the name bound */
		break;
	}
	if ((c & 0x80) && (fz_u8(f) & 3) == 3)
		op = fz_u32(f);
	access(vm, m, FWCFG_PORT, 4, true, size);
	access(vm, m, FWCFG_PORT, 4, true, op);
	access(vm, m, FWCFG_PORT, 4, true, fz_u32(f)); /* txid */
	nwords = size >= 12 ? (size - 12 + 3) / 4 : 0;
	if (nwords > 64) {
		/* Too many to send: the model stops predicting. */
		nwords = fz_u8(f) % 64;
		m->known = false;
	}
	for (uint32_t i = 0; i < nwords; i++) {
		uint32_t w = 0;

		if (4 * i < sizeof(name))
			memcpy(&w, name + 4 * i, 4 * i + 4 <= sizeof(name) ? 4 :
			    sizeof(name) - 4 * i);
		access(vm, m, FWCFG_PORT, 4, true, w);
	}
}

static const struct platform_dev *find_dev(void)
{
	const struct platform_dev *d = isa_find("fwcfg");

	if (d == NULL)
		abort();
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct platform_dev *d = find_dev();
	struct mevent_loop *loop = mevent_loop_create();
	struct model m;
	struct vm vm;
	struct fz f;

	if (loop == NULL)
		abort();
	fz_init(&f, data, size);
	config_init();
	memset(&vm, 0, sizeof(vm));
	vm.fd = vm.kvm_fd = vm.exit_fd = -1;
	vm.mem.lowmem = 64ULL << 20;
	vm.ncpus = 1 + fz_u8(&f);
	vm.ev = loop;
	iobus_init(&vm.pio, "port");
	iobus_init(&vm.mmio, "mmio");
	if (d->init(d, &vm) != 0)
		abort();
	memset(&m, 0, sizeof(m));
	m.known = true;
	m.st = M_IDENT_WAIT;
	m.ncpus = (uint32_t)vm.ncpus;
	while (fz_more(&f)) {
		uint8_t c = fz_u8(&f);

		switch (c % 5) {
		case 0:
			access(&vm, &m, FWCFG_PORT, 2, true,
			    (c & 0xf0) == 0xf0 ? fz_u16(&f) : 0);
			break;
		case 1:
			access(&vm, &m, FWCFG_PORT + 1, 1, false, 0);
			break;
		case 2:
			op_request(&vm, &m, &f);
			break;
		case 3:
			for (int i = 0; i <= (c >> 5); i++)
				access(&vm, &m, FWCFG_PORT + 1, 4, false, 0);
			break;
		default: {
			uint16_t port = (uint16_t)(FWCFG_PORT - 2 +
			    fz_u8(&f) % 12);
			int sz = fz_size(&f);

			access(&vm, &m, port, sz, (c & 0x80) != 0, fz_u32(&f));
			break;
		}
		}
	}
	d->fini(d, &vm);
	if (vm.pio.n != 0)
		abort(); /* fini left its claim behind */
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();
	mevent_loop_destroy(loop);
	return 0;
}
