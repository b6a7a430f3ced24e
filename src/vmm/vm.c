/*
 * vm.c - create and destroy the KVM virtual machine (see vm.h).
 *
 * Order (each step undone in reverse on failure):
 *   /dev/kvm + API check -> VM -> TSS/identity map -> irqchip + PIT ->
 *   GSI routing copy -> user-space MSR exits -> guest memory + memslots ->
 *   buses -> vCPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "common.h"
#include "config.h"
#include "options.h"
#include "vmm/cpuid.h"
#include "vmm/irq.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/*
 * KVM needs three pages below 4 GiB for Intel's real-mode emulation (TSS)
 * and an identity-map page table.  Keep them just below the local APIC
 * window, out of RAM and of the top 16 MiB where a boot ROM goes.
 */
#define VM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define VM_TSS_ADDR 0xfeffd000ULL

static int read_topology(struct config_node *cfg, struct vm_topology *t)
{
	int cpus = 1;

	config_get_int(cfg, "cpus", &cpus);
	t->cpus = cpus;
	t->sockets = cpus;
	t->cores = 1;
	t->threads = 1;
	config_get_int(cfg, "sockets", &t->sockets);
	config_get_int(cfg, "cores", &t->cores);
	config_get_int(cfg, "threads", &t->threads);
	/* The option parser enforces this; keys set through -o or -k are
	 * checked again here because they bypass it. */
	if (t->cpus < 1 || t->cpus > VM_MAX_VCPUS || t->sockets < 1 ||
	    t->cores < 1 || t->threads < 1 ||
	    (long)t->sockets * t->cores * t->threads != t->cpus) {
		khyve_warnx("cpus=%d does not match sockets=%d * cores=%d * "
		    "threads=%d, or is out of range 1..%d", t->cpus,
		    t->sockets, t->cores, t->threads, VM_MAX_VCPUS);
		return -EINVAL;
	}
	return 0;
}

static int read_memsize(struct config_node *cfg, uint64_t *size)
{
	struct sysinfo si;
	uint64_t host;

	const char *s = config_get(cfg, "memory.size");

	/* Same rules as -m (bhyve reads the key with vm_parse_memsize). */
	if (s == NULL || options_parse_memsize(s, size) != 0) {
		khyve_warnx("memory.size=%s: expected a size of at least 1 MiB "
		    "such as 512M or 2G", s ? s : "(unset)");
		return -EINVAL;
	}
	/* The host must be able to back all of guest RAM; refuse at start
	 * rather than let the OOM killer end the guest later. */
	if (sysinfo(&si) == 0) {
		host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (*size > host) {
			khyve_warnx("guest memory of %llu MiB exceeds this host's "
			    "%llu MiB of RAM and swap",
			    (unsigned long long)(*size >> 20),
			    (unsigned long long)(host >> 20));
			return -ENOMEM;
		}
	}
	return 0;
}

static int set_memslots(struct vm *vm)
{
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct gmem_region *r = &vm->mem.r[i];
		struct kvm_userspace_memory_region slot = {
			.slot = (uint32_t)i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
		};

		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			khyve_warn("KVM_SET_USER_MEMORY_REGION %d", i);
			return -errno;
		}
	}
	return 0;
}

static int enable_msr_exits(struct vm *vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN,
	};

	/* Without it KVM itself injects #GP for unknown MSRs, which is
	 * right for strict mode but makes -w impossible. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		KVM_CAP_X86_USER_SPACE_MSR) <= 0) {
		if (!vm->strict_msr)
			khyve_warnx("-w: this kernel's KVM cannot pass unknown "
			    "MSRs to user space; they raise #GP");
		return 0;
	}
	if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0) {
		khyve_warn("KVM_ENABLE_CAP(X86_USER_SPACE_MSR)");
		return -errno;
	}
	return 0;
}

static int create_machine(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR,
		&(uint64_t){ VM_IDENTITY_MAP_ADDR }) < 0) {
		khyve_warn("KVM_SET_IDENTITY_MAP_ADDR");
		return -errno;
	}
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0) {
		khyve_warn("KVM_SET_TSS_ADDR");
		return -errno;
	}
	/* In-kernel PIC, I/O APIC and local APICs: interrupts, INIT/SIPI
	 * and HLT never leave the kernel. */
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		khyve_warn("KVM_CREATE_IRQCHIP");
		return -errno;
	}
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
		khyve_warn("KVM_CREATE_PIT2");
		return -errno;
	}
	return 0;
}

static int read_cpuid_masks(struct config_node *cfg, struct cpuid_masks *m)
{
	const char *v;
	int rc;

	m->n = 0;
	v = config_get(cfg, "x86.cpuid.disable");
	if (v != NULL && (rc = cpuid_parse_disable(v, m)) != 0)
		return rc;
	v = config_get(cfg, "x86.cpuid.clear");
	if (v != NULL && (rc = cpuid_parse_clear(v, m)) != 0)
		return rc;
	return 0;
}

int vm_create(struct vm *vm, struct config_node *cfg)
{
	struct cpuid_masks *masks = NULL;
	uint64_t memsize;
	int rc, api;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->fd = vm->exit_fd = -1;
	vm->name = config_get(cfg, "name");
	vm->strict_io = config_bool(cfg, "x86.strictio", false);
	vm->strict_msr = config_bool(cfg, "x86.strictmsr", true);
	vm->x2apic = config_bool(cfg, "x86.x2apic", false);
	if ((rc = read_topology(cfg, &vm->topo)) != 0 ||
	    (rc = read_memsize(cfg, &memsize)) != 0)
		return rc;
	masks = calloc(1, sizeof(*masks));
	if (masks == NULL)
		return -ENOMEM;
	if ((rc = read_cpuid_masks(cfg, masks)) != 0)
		goto fail_masks;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		rc = -errno;
		khyve_warn("cannot open /dev/kvm (is KVM available and "
		    "accessible to this user?)");
		goto fail_masks;
	}
	api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		khyve_warnx("/dev/kvm speaks API version %d, khyve needs %d",
		    api, KVM_API_VERSION);
		rc = -ENOTSUP;
		goto fail_kvm;
	}
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		rc = -errno;
		khyve_warn("KVM_CREATE_VM");
		goto fail_kvm;
	}
	if ((rc = create_machine(vm)) != 0)
		goto fail_vm;
	if ((rc = vm_irq_init(vm)) != 0) {
		khyve_warnx("cannot set up interrupt routing: %s",
		    strerror(-rc));
		goto fail_vm;
	}
	if ((rc = enable_msr_exits(vm)) != 0)
		goto fail_irq;

	rc = gmem_alloc(&vm->mem, memsize, config_bool(cfg, "memory.wired",
	    false), config_bool(cfg, "memory.guest_in_core", false));
	if (rc != 0) {
		khyve_warnx("cannot allocate %llu MiB of guest memory: %s",
		    (unsigned long long)(memsize >> 20), strerror(-rc));
		goto fail_irq;
	}
	if ((rc = set_memslots(vm)) != 0)
		goto fail_mem;
	if ((rc = iobus_init(&vm->pio, "port")) != 0)
		goto fail_mem;
	if ((rc = iobus_init(&vm->mmio, "mmio")) != 0)
		goto fail_pio;
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0) {
		rc = -errno;
		goto fail_mmio;
	}
	if ((rc = vcpu_create_all(vm, cfg, masks)) != 0)
		goto fail_exitfd;
	free(masks);
	return 0;

fail_exitfd:
	close(vm->exit_fd);
fail_mmio:
	iobus_fini(&vm->mmio);
fail_pio:
	iobus_fini(&vm->pio);
fail_mem:
	gmem_free(&vm->mem);
fail_irq:
	vm_irq_fini(vm);
fail_vm:
	close(vm->fd);
fail_kvm:
	close(vm->kvm_fd);
fail_masks:
	free(masks);
	vm->fd = vm->kvm_fd = vm->exit_fd = -1;
	return rc;
}

void vm_destroy(struct vm *vm)
{
	if (vm->fd < 0)
		return;
	vm_stop(vm);
	vcpu_destroy_all(vm);
	close(vm->exit_fd);
	iobus_fini(&vm->mmio);
	iobus_fini(&vm->pio);
	vm_irq_fini(vm);
	close(vm->fd);
	close(vm->kvm_fd);
	gmem_free(&vm->mem);
	vm->fd = vm->kvm_fd = vm->exit_fd = -1;
}

void vm_request_exit(struct vm *vm, int status)
{
	uint64_t one = 1;
	int expected = 0;

	if (!atomic_compare_exchange_strong(&vm->exit_requested, &expected,
		1))
		return;
	vm->exit_status = status;
	atomic_store(&vm->exit_requested, 2); /* status is published */
	vcpu_kick_all(vm);
	if (write(vm->exit_fd, &one, sizeof(one)) < 0) {
		/* eventfd counter cannot overflow from one write. */
	}
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm_irq_pulse(struct vm *vm, unsigned gsi)
{
	int rc = vm_irq_line(vm, gsi, 1);

	return rc ? rc : vm_irq_line(vm, gsi, 0);
}
