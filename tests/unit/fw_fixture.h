/*
 * fw_fixture.h - shared by the firmware table tests (test_acpi.c,
 * test_mptable.c, test_smbios.c): an output buffer that ends exactly at a
 * PROT_NONE guard page (and starts right after another), so a builder
 * that writes one byte too many faults the test run; and a typical
 * machine description.
 */
#ifndef KHYVE_TEST_FW_FIXTURE_H
#define KHYVE_TEST_FW_FIXTURE_H

#include <string.h>
#include <sys/mman.h>

#include "firmware/fwtables.h"
#include "vmm/cpuid.h"

#define FWFX_PAGE 4096UL

struct fwfx_buf {
	uint8_t *p;
	size_t cap;
	void *map;
	size_t maplen;
};

static inline uint8_t *fwfx_alloc(struct fwfx_buf *b, size_t cap)
{
	size_t body = (cap + FWFX_PAGE - 1) / FWFX_PAGE * FWFX_PAGE;
	uint8_t *m;

	memset(b, 0, sizeof(*b));
	b->maplen = body + 2 * FWFX_PAGE;
	m = mmap(NULL, b->maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	if (m == MAP_FAILED)
		return NULL;
	if (body != 0 && mprotect(m + FWFX_PAGE, body, PROT_READ |
	    PROT_WRITE) != 0) {
		munmap(m, b->maplen);
		return NULL;
	}
	b->map = m;
	b->cap = cap;
	b->p = m + FWFX_PAGE + (body - cap);
	/* Poison, so "zeroed" fields are really written. */
	memset(b->p, 0xa5, cap);
	return b->p;
}

static inline void fwfx_free(struct fwfx_buf *b)
{
	if (b->map != NULL)
		munmap(b->map, b->maplen);
	memset(b, 0, sizeof(*b));
}

/* `cpus` vCPUs as -c cpus,sockets=s,cores=c,threads=t would make them,
 * 256 MiB of RAM, the PCI windows of pci_emul.h, an LPC bridge at 31.0,
 * COM1 as the console and two routed INTx lines. */
static inline void fwfx_machine(struct fw_machine *m, int sockets, int cores,
    int threads, bool x2apic)
{
	memset(m, 0, sizeof(*m));
	m->topo.sockets = sockets;
	m->topo.cores = cores;
	m->topo.threads = threads;
	m->topo.cpus = sockets * cores * threads;
	m->ncpus = m->topo.cpus;
	for (int i = 0; i < m->ncpus; i++)
		m->apic_id[i] = cpuid_apic_id(&m->topo, i);
	m->x2apic = x2apic;
	m->lowmem = 256ULL << 20;
	memcpy(m->cpu_vendor, "GenuineIntel", 13);
	m->cpu_signature = 0x000906ea;
	m->cpu_features = 0xbfebfbff;
	m->io_base = 0x2000;
	m->io_limit = 0x10000;
	m->mem32_base = 0xc0000000;
	m->mem32_limit = 0xe0000000;
	m->ecam_base = 0xe0000000;
	m->ecam_size = 0x10000000;
	m->bus_max = 255;
	m->lpc = true;
	m->lpc_slot = 31;
	m->console_com = 1;
	m->nintx = 2;
	m->intx[0] = (struct fw_intx){ .slot = 3, .pin = 1, .gsi = 16,
		.isa_irq = 5 };
	m->intx[1] = (struct fw_intx){ .slot = 4, .pin = 2, .gsi = 18,
		.isa_irq = 10 };
}

#endif
