/* test_mptable.c - the MP table (firmware/mptable.c), read back as a
 * guest's MP parser would. */
#include <errno.h>

#include "fw_fixture.h"
#include "test.h"

#define BASE 0xF0000ULL
#define CAP 0x1000

struct mp_seen {
	int proc, bp, bus_pci, bus_isa, ioapic, ioint, lint, pci_ints, bad;
	uint32_t ids[VM_MAX_VCPUS];
	uint8_t pin_of_irq[16];   /* ISA IRQ -> I/O APIC pin, 0xff none */
	uint16_t flags_of_irq[16];
	uint8_t pci_src[64], pci_pin[64];
};

/* Check the floating pointer and header; walk the entries. */
static void walk(int *failed, const uint8_t *p, size_t used,
    struct mp_seen *s)
{
	const uint8_t *ch, *e;
	uint16_t len, n;

	memset(s, 0, sizeof(*s));
	memset(s->pin_of_irq, 0xff, sizeof(s->pin_of_irq));
	CHECK(memcmp(p, "_MP_", 4) == 0);
	CHECK_EQ(fw_sum(p, 16), 0);
	CHECK_EQ(p[8], 1);
	CHECK_EQ(p[9], 4);
	CHECK_EQ(p[11], 0); /* a configuration table follows */
	CHECK_EQ(fw_get32(p + 4), BASE + 16);
	ch = p + 16;
	CHECK(memcmp(ch, "PCMP", 4) == 0);
	len = fw_get16(ch + 4);
	n = fw_get16(ch + 34);
	CHECK_EQ(16 + (size_t)len, used);
	if (16 + (size_t)len > used) {
		s->bad++;
		return;
	}
	CHECK_EQ(fw_sum(ch, len), 0);
	CHECK_EQ(fw_get32(ch + 36), 0xfee00000);
	e = ch + 44;
	for (int i = 0; i < n; i++) {
		size_t sz = e[0] == 0 ? 20 : 8;

		if ((size_t)(e - ch) + sz > len || e[0] > 4) {
			s->bad++;
			return;
		}
		switch (e[0]) {
		case 0:
			if (s->proc < VM_MAX_VCPUS)
				s->ids[s->proc] = e[1];
			s->proc++;
			s->bp += (e[3] & 2) != 0;
			CHECK(e[3] & 1);
			break;
		case 1:
			s->bus_pci += e[1] == 0 && memcmp(e + 2, "PCI   ", 6) == 0;
			s->bus_isa += e[1] == 1 && memcmp(e + 2, "ISA   ", 6) == 0;
			break;
		case 2:
			s->ioapic += e[1] == 0 && fw_get32(e + 4) == 0xfec00000;
			break;
		case 3:
			s->ioint++;
			if (e[4] == 1 && e[1] == 0 && e[5] < 16) {
				s->pin_of_irq[e[5]] = e[7];
				s->flags_of_irq[e[5]] = fw_get16(e + 2);
			}
			if (e[4] == 0 && s->pci_ints < 64) {
				s->pci_src[s->pci_ints] = e[5];
				s->pci_pin[s->pci_ints++] = e[7];
			}
			break;
		case 4:
			s->lint++;
			CHECK_EQ(e[6], 0xff);
			break;
		}
		e += sz;
	}
	CHECK_EQ((size_t)(e - ch), len);
}

static void check(int *failed, int sockets, int cores, int threads)
{
	struct fw_machine m;
	struct fwfx_buf b;
	struct mp_seen s;
	size_t used = 0;

	fwfx_machine(&m, sockets, cores, threads, false);
	if (fwfx_alloc(&b, CAP) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), 0);
	walk(failed, b.p, used, &s);
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(s.proc, m.ncpus);
	for (int i = 0; i < s.proc && i < m.ncpus; i++)
		CHECK_EQ(s.ids[i], m.apic_id[i]);
	CHECK_EQ(s.bp, 1);
	CHECK_EQ(s.bus_pci, 1);
	CHECK_EQ(s.bus_isa, 1);
	CHECK_EQ(s.ioapic, 1);
	CHECK_EQ(s.ioint, 16 + 2); /* ISA pins 0..15 (IRQ 0 on 2); 2 INTx */
	CHECK_EQ(s.lint, 2);
	CHECK_EQ(s.pin_of_irq[0], 2);
	CHECK_EQ(s.pin_of_irq[2], 0xff);
	for (int irq = 3; irq < 16; irq++)
		CHECK_EQ(s.pin_of_irq[irq], irq);
	CHECK_EQ(s.flags_of_irq[9], 0x0d);
	CHECK_EQ(s.pci_ints, 2);
	CHECK_EQ(s.pci_src[0], 3 << 2 | 0);
	CHECK_EQ(s.pci_pin[0], 16);
	CHECK_EQ(s.pci_src[1], 4 << 2 | 1);
	CHECK_EQ(s.pci_pin[1], 18);
	fwfx_free(&b);
}

TEST(mptable_cpus_and_routing)
{
	check(failed, 1, 1, 1);
	check(failed, 8, 1, 1);
	check(failed, 2, 2, 2);
	check(failed, 2, 3, 1);
	check(failed, 1, 32, 4); /* 128 vCPUs: still below 4 KiB */
}

TEST(mptable_refuses)
{
	struct fw_machine m;
	struct fwfx_buf b;
	size_t used = 0, need;

	if (fwfx_alloc(&b, CAP) == NULL) {
		CHECK(0);
		return;
	}
	fwfx_machine(&m, 2, 1, 1, false);
	m.apic_id[1] = 255; /* not expressible in 8 bits with 0xff = all */
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), -EINVAL);
	fwfx_machine(&m, 2, 1, 1, false);
	m.intx[1].bus = 1; /* only bus 0 can be described */
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), -EINVAL);
	m.intx[1].bus = 0;
	m.intx[1].gsi = 24;
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), -EINVAL);
	m.intx[1].gsi = 17;
	m.intx[1].pin = 5;
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), -EINVAL);
	m.intx[1].pin = 1;
	m.ncpus = 0;
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), -EINVAL);
	fwfx_free(&b);

	/* Each size short of what it needs: -ENOSPC, no stray write. */
	fwfx_machine(&m, 8, 1, 1, false);
	if (fwfx_alloc(&b, CAP) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(mptable_build(&m, b.p, BASE, CAP, &used), 0);
	need = used;
	fwfx_free(&b);
	for (size_t cap = 0; cap < need; cap++) {
		if (fwfx_alloc(&b, cap) == NULL) {
			CHECK(0);
			return;
		}
		CHECK_EQ(mptable_build(&m, b.p, BASE, cap, &used), -ENOSPC);
		fwfx_free(&b);
	}
}
