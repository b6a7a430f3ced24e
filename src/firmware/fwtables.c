/*
 * fwtables.c - gather what the firmware tables describe from the VM and
 * the configuration, build them into the BIOS area of guest RAM, and
 * (acpi.dump=DIR) write the ACPI tables to files for inspection.
 *
 * Configuration: x86.mptable (-Y sets false), acpi_tables (-A sets true;
 * true by default, as bhyve builds ACPI unconditionally), acpi.dump.
 * SMBIOS is always built (bhyve does too).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "firmware/fwtables.h"
#include "vmm/cpuid.h"

#define FW_AREA_BASE 0xF0000ULL
#define FW_AREA_END 0x100000ULL

static void host_cpuid(struct fw_machine *m)
{
	unsigned a, b, c, d;

	if (__get_cpuid(0, &a, &b, &c, &d)) {
		memcpy(m->cpu_vendor, &b, 4);
		memcpy(m->cpu_vendor + 4, &d, 4);
		memcpy(m->cpu_vendor + 8, &c, 4);
		m->cpu_vendor[12] = '\0';
	}
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		m->cpu_signature = a;
		m->cpu_features = d;
	}
}

struct lintr_ctx {
	struct vm *vm;
	struct fw_machine *m;
	int dropped;
};

static void add_lintr(int bus, int slot, int pin, int pirq_pin, int gsi,
    void *arg)
{
	struct lintr_ctx *c = arg;
	struct fw_machine *m = c->m;

	if (m->nintx >= FW_MAX_INTX || bus < 0 || bus > 255 || slot < 0 ||
	    slot > 31 || pin < 1 || pin > 4 || gsi < 0) {
		c->dropped++;
		return;
	}
	m->intx[m->nintx++] = (struct fw_intx){
		.bus = (uint8_t)bus, .slot = (uint8_t)slot, .pin = (uint8_t)pin,
		.gsi = (uint32_t)gsi,
		.isa_irq = pci_pirq_isa_irq(c->vm, pirq_pin),
	};
}

/* The PCI core's windows, INTx routing and LPC bridge. */
static int pci_info(struct vm *vm, struct fw_machine *m)
{
	struct pci_windows w;
	struct lintr_ctx c = { .vm = vm, .m = m };
	int slot, func = 0;

	pci_emul_windows(vm, &w);
	m->io_base = w.io_base;
	m->io_limit = w.io_limit;
	m->mem32_base = w.mem32_base;
	m->mem32_limit = w.mem32_limit;
	m->mem64_base = w.mem64_base;
	m->mem64_limit = w.mem64_limit;
	m->ecam_base = w.ecam_base;
	m->ecam_size = w.ecam_size;
	m->bus_max = (uint8_t)(MIN(w.ecam_size >> 20, 256ULL) - 1);
	pci_walk_lintr(vm, add_lintr, &c);
	if (c.dropped != 0) {
		khyve_warnx("firmware tables: %d PCI interrupt routes cannot "
		    "be described", c.dropped);
		return -EINVAL;
	}
	slot = pci_lpc_slot(vm, &func);
	if (slot >= 0 && slot < 32 && func >= 0 && func < 8) {
		m->lpc = true;
		m->lpc_slot = (uint8_t)slot;
		m->lpc_func = (uint8_t)func;
	}
	return 0;
}

int fw_machine_from_vm(struct vm *vm, struct fw_machine *m)
{
	static const char *const com[] = { "lpc.com1.path", "lpc.com2.path",
		"lpc.com3.path", "lpc.com4.path" };

	memset(m, 0, sizeof(*m));
	m->ncpus = vm->ncpus;
	m->topo = vm->topo;
	if (m->ncpus < 1 || m->ncpus > VM_MAX_VCPUS || m->topo.threads < 1 ||
	    m->topo.cores < 1 || m->topo.sockets < 1)
		return -EINVAL;
	for (int i = 0; i < m->ncpus; i++)
		m->apic_id[i] = cpuid_apic_id(&vm->topo, i);
	m->x2apic = vm->x2apic;
	m->lowmem = vm->mem.lowmem;
	m->highmem = vm->mem.highmem;
	host_cpuid(m);
	if (pci_info(vm, m) != 0)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (config_get(NULL, com[i]) != NULL) {
			m->console_com = i + 1;
			break;
		}
	m->pctestdev = config_bool(NULL, "lpc.pc-testdev", false);
	m->bvmcons = config_bool(NULL, "bvmconsole", false);
	m->dbgport = config_get(NULL, "bvmdebug.port") != NULL;
	m->fwcfg_qemu = config_get(NULL, "lpc.fwcfg") != NULL &&
	    strcmp(config_get(NULL, "lpc.fwcfg"), "qemu") == 0;
	return 0;
}

/* Write each ACPI table to DIR/<sig>.dat (iasl -d reads those). */
static int dump_acpi(const char *dir, const uint8_t *buf,
    const struct fw_acpi_info *info)
{
	char path[4096], lower[5];
	int fd;

	for (int i = 0; i < info->n; i++) {
		const struct fw_acpi_table *t = &info->t[i];

		for (int j = 0; j < 5; j++)
			lower[j] = (char)(t->sig[j] >= 'A' && t->sig[j] <= 'Z' ?
			    t->sig[j] - 'A' + 'a' : t->sig[j]);
		if (snprintf(path, sizeof(path), "%s/%s.dat", dir, lower) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf + t->off, t->len) != (ssize_t)t->len) {
			int err = errno;

			khyve_warn("acpi.dump: %s", path);
			if (fd >= 0)
				close(fd);
			return -err;
		}
		close(fd);
	}
	return 0;
}

int fwtables_build(struct vm *vm)
{
	struct fw_machine *m;
	struct fw_acpi_info info;
	const char *dump = config_get(NULL, "acpi.dump");
	uint8_t *area = gmem_ptr(&vm->mem, FW_AREA_BASE,
	    FW_AREA_END - FW_AREA_BASE);
	uint64_t cur = FW_AREA_BASE;
	size_t used;
	int rc;

	if (area == NULL) {
		khyve_warnx("no guest RAM at 0x%llx for the firmware tables",
		    FW_AREA_BASE);
		return -ENOMEM;
	}
	m = malloc(sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	if ((rc = fw_machine_from_vm(vm, m)) != 0)
		goto out;
	memset(area, 0, FW_AREA_END - FW_AREA_BASE);

	/* Each part at bhyve's address, or after the previous one if that
	 * grew past it (16-byte aligned: guests scan on that boundary). */
	if (config_bool(NULL, "x86.mptable", true)) {
		rc = mptable_build(m, area + (cur - FW_AREA_BASE), cur,
		    FW_AREA_END - cur, &used);
		if (rc != 0)
			goto out;
		cur = ALIGN_UP(cur + used, 16);
	}
	cur = MAX(cur, FW_SMBIOS_ADDR);
	rc = smbios_build(m, area + (cur - FW_AREA_BASE), cur,
	    FW_AREA_END - cur, &used);
	if (rc != 0)
		goto out;
	cur = MAX(ALIGN_UP(cur + used, 16), FW_ACPI_ADDR);
	if (config_bool(NULL, "acpi_tables", true)) {
		rc = acpi_build(m, area + (cur - FW_AREA_BASE), cur,
		    FW_AREA_END - cur, &used, &info);
		if (rc != 0)
			goto out;
		khyve_dbg("ACPI tables at 0x%llx-0x%llx, RSDP at 0x%llx",
		    (unsigned long long)cur,
		    (unsigned long long)(cur + used - 1),
		    (unsigned long long)info.rsdp_gpa);
		if (dump != NULL)
			rc = dump_acpi(dump, area + (cur - FW_AREA_BASE), &info);
	} else if (dump != NULL) {
		khyve_warnx("acpi.dump: no ACPI tables (acpi_tables=false)");
	}
out:
	free(m);
	return rc;
}
