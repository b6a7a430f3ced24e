/*
 * mptable.c - the Intel MultiProcessor Specification 1.4 table (bhyve's
 * mptbl.c): a floating pointer at 0xF0000 and the configuration table
 * right after it, with
 *
 *   - one processor entry per vCPU (its APIC ID; the BSP flagged),
 *   - bus 0 "PCI" and bus 1 "ISA",
 *   - the I/O APIC (ID 0, 24 inputs at 0xFEC00000),
 *   - I/O interrupt entries: ISA IRQs 0..15 on pins 0..15 (pin 0 ExtINT,
 *     IRQ 0 on pin 2, IRQ 2 absent, the SCI level-triggered), then one
 *     per PCI slot and INTx pin in use, to its GSI,
 *   - LINT0 ExtINT and LINT1 NMI on every local APIC.
 *
 * Entries are sorted by type, as the specification requires.  The table
 * cannot describe APIC IDs above 254 or INTx on a bus other than 0; for
 * such machines it is refused (-EINVAL) and -Y leaves it out.
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "firmware/fwtables.h"

#define MPFP_LEN 16
#define MPCH_LEN 44
#define MP_SPEC_REV 4

#define MPE_PROC 0
#define MPE_BUS 1
#define MPE_IOAPIC 2
#define MPE_IOINT 3
#define MPE_LOCALINT 4
#define MPE_PROC_LEN 20
#define MPE_LEN 8 /* every other entry */

#define INT_TYPE_INT 0
#define INT_TYPE_NMI 1
#define INT_TYPE_EXTINT 3
/* Polarity bits 1:0 and trigger bits 3:2: 00 = conforms to the bus. */
#define INT_FLAGS_CONFORM 0x0
#define INT_FLAGS_HIGH_LEVEL 0x0d

#define PROC_EN 0x01
#define PROC_BP 0x02
#define LAPIC_VERSION 0x14  /* KVM's local APIC */
#define IOAPIC_VERSION 0x11 /* KVM's I/O APIC */

#define BUS_PCI 0
#define BUS_ISA 1

struct mpbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static uint8_t *mp_alloc(struct mpbuf *b, size_t n)
{
	uint8_t *p;

	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return NULL;
	}
	p = b->p + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static void ioint(struct mpbuf *b, int *count, uint8_t type, uint16_t flags,
    uint8_t bus, uint8_t irq, uint8_t pin, bool local)
{
	uint8_t *e = mp_alloc(b, MPE_LEN);

	if (e == NULL)
		return;
	e[0] = local ? MPE_LOCALINT : MPE_IOINT;
	e[1] = type;
	fw_put16(e + 2, flags);
	e[4] = bus;
	e[5] = irq;
	e[6] = local ? 0xff : FW_IOAPIC_ID; /* 0xff: every local APIC */
	e[7] = pin;
	(*count)++;
}

/* True if an earlier entry already routes this slot's pin (functions of
 * one slot share their slot's INTx lines). */
static bool intx_seen(const struct fw_machine *m, int i)
{
	for (int j = 0; j < i; j++)
		if (m->intx[j].bus == m->intx[i].bus &&
		    m->intx[j].slot == m->intx[i].slot &&
		    m->intx[j].pin == m->intx[i].pin)
			return true;
	return false;
}

int mptable_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used)
{
	struct mpbuf b = { .p = buf, .cap = cap };
	uint8_t *fp, *ch, *e;
	int count = 0;

	if (m->ncpus < 1 || m->ncpus > VM_MAX_VCPUS || gpa > UINT32_MAX - cap)
		return -EINVAL;
	for (int i = 0; i < m->ncpus; i++)
		if (m->apic_id[i] > 254) {
			khyve_warnx("the MP table cannot list APIC ID %u (above "
			    "254); leave it out with -Y", m->apic_id[i]);
			return -EINVAL;
		}
	for (int i = 0; i < m->nintx; i++)
		if (m->intx[i].bus != 0 || m->intx[i].pin < 1 ||
		    m->intx[i].pin > 4 || m->intx[i].slot > 31 ||
		    m->intx[i].gsi >= FW_IOAPIC_PINS) {
			khyve_warnx("the MP table cannot describe PCI INTx of "
			    "%u:%u.%u (only bus 0 is possible); leave it out "
			    "with -Y", m->intx[i].bus, m->intx[i].slot,
			    m->intx[i].func);
			return -EINVAL;
		}

	fp = mp_alloc(&b, MPFP_LEN);
	ch = mp_alloc(&b, MPCH_LEN);
	if (fp == NULL || ch == NULL)
		return -ENOSPC;

	for (int i = 0; i < m->ncpus; i++) {
		if ((e = mp_alloc(&b, MPE_PROC_LEN)) == NULL)
			break;
		e[0] = MPE_PROC;
		e[1] = (uint8_t)m->apic_id[i];
		e[2] = LAPIC_VERSION;
		e[3] = PROC_EN | (i == 0 ? PROC_BP : 0);
		fw_put32(e + 4, m->cpu_signature);
		fw_put32(e + 8, m->cpu_features);
		count++;
	}
	if ((e = mp_alloc(&b, MPE_LEN)) != NULL) {
		e[0] = MPE_BUS;
		e[1] = BUS_PCI;
		memcpy(e + 2, "PCI   ", 6);
		count++;
	}
	if ((e = mp_alloc(&b, MPE_LEN)) != NULL) {
		e[0] = MPE_BUS;
		e[1] = BUS_ISA;
		memcpy(e + 2, "ISA   ", 6);
		count++;
	}
	if ((e = mp_alloc(&b, MPE_LEN)) != NULL) {
		e[0] = MPE_IOAPIC;
		e[1] = FW_IOAPIC_ID;
		e[2] = IOAPIC_VERSION;
		e[3] = 0x01; /* enabled */
		fw_put32(e + 4, FW_IOAPIC_ADDR);
		count++;
	}

	/* ISA: identity on pins 1..15 except IRQ 0 -> pin 2; pin 0 is the
	 * 8259's ExtINT. */
	for (uint8_t pin = 0; pin < 16; pin++) {
		if (pin == 0)
			ioint(&b, &count, INT_TYPE_EXTINT, INT_FLAGS_CONFORM,
			    BUS_ISA, 0, 0, false);
		else if (pin == 2)
			ioint(&b, &count, INT_TYPE_INT, INT_FLAGS_CONFORM,
			    BUS_ISA, 0, 2, false);
		else
			ioint(&b, &count, INT_TYPE_INT, pin == FW_SCI_IRQ ?
			    INT_FLAGS_HIGH_LEVEL : INT_FLAGS_CONFORM, BUS_ISA,
			    pin, pin, false);
	}
	/* PCI: the source IRQ encodes the slot and pin (INTA = 0). */
	for (int i = 0; i < m->nintx; i++) {
		const struct fw_intx *x = &m->intx[i];

		if (intx_seen(m, i))
			continue;
		ioint(&b, &count, INT_TYPE_INT, INT_FLAGS_CONFORM, BUS_PCI,
		    (uint8_t)(x->slot << 2 | (x->pin - 1)), (uint8_t)x->gsi,
		    false);
	}
	ioint(&b, &count, INT_TYPE_EXTINT, INT_FLAGS_CONFORM, BUS_ISA, 0, 0,
	    true);
	ioint(&b, &count, INT_TYPE_NMI, INT_FLAGS_CONFORM, BUS_ISA, 0, 1, true);
	if (b.overflow || b.len - MPFP_LEN > 0xffff) {
		khyve_warnx("the MP table does not fit in %zu bytes", cap);
		return -ENOSPC;
	}

	memcpy(fp, "_MP_", 4);
	fw_put32(fp + 4, (uint32_t)(gpa + MPFP_LEN));
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	/* Feature bytes 1..5 are 0: a configuration table is present. */
	fp[10] = (uint8_t)-fw_sum(fp, MPFP_LEN);

	memcpy(ch, "PCMP", 4);
	fw_put16(ch + 4, (uint16_t)(b.len - MPFP_LEN));
	ch[6] = MP_SPEC_REV;
	memcpy(ch + 8, "KHYVE   ", 8);
	memcpy(ch + 16, "Hypervisor  ", 12);
	fw_put16(ch + 34, (uint16_t)count);
	fw_put32(ch + 36, FW_LAPIC_ADDR);
	ch[7] = (uint8_t)-fw_sum(ch, b.len - MPFP_LEN);
	*used = b.len;
	return 0;
}
