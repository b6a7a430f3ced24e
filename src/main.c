/*
 * main.c - khyve's start-up order and exit statuses (bhyverun.c's main()).
 *
 *   options -> configuration tree -> (config.dump) -> VM (memory, irqchip,
 *   vCPUs, CPUID) -> PCI functions -> platform devices -> firmware
 *   tables -> kernel -> signals -> gdb stub -> vCPU threads -> event loop
 *   until the guest resets, powers off, halts or faults.
 *
 * Only this file decides to exit.  Exit statuses are bhyve's: 0 reset,
 * 1 power-off, 2 halt, 3 triple fault, 4 error; 64 for bad configuration
 * (nothing started), and pc-testdev's isa-debug-exit codes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/chardev.h"
#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "dev/acpi_pm.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "firmware/fwtables.h"
#include "firmware/loader.h"
#include "gdb/gdb.h"
#include "options.h"
#include "proctitle.h"
#include "sandbox/sandbox.h"
#include "vmm/cpuid.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* How often the event loop asks the vCPUs whether they all halted. */
#define HALT_POLL_MS 200

static void on_exit_fd(int fd, enum mevent_type type, void *arg)
{
	struct vm *vm = arg;

	(void)fd;
	(void)type;
	if (atomic_load(&vm->exit_requested) == 2)
		mevent_loop_stop(vm->ev, vm->exit_status);
}

static void on_halt_poll(int fd, enum mevent_type type, void *arg)
{
	(void)fd;
	(void)type;
	vcpu_poll_halt(arg);
}

/*
 * SIGTERM presses the ACPI power button (bhyve's pm.c); a second one or
 * acpi.powerbutton_timeout forces power-off (dev/acpi_pm.h).
 */
static void on_sigterm(int sig, enum mevent_type type, void *arg)
{
	(void)sig;
	(void)type;
	(void)acpi_pm_power_button(arg);
}

/* SIGINT powers off at once (status 1): bhyve does not catch it. */
static void on_sigint(int sig, enum mevent_type type, void *arg)
{
	(void)type;
	khyve_dbg("signal %d: powering off", sig);
	vm_request_exit(arg, KHYVE_EXIT_POWEROFF);
}

static int load_kernel(struct vm *vm, struct config_node *cfg)
{
	struct loader_args args = {
		.kernel = config_get(cfg, "boot.kernel"),
		.initrd = config_get(cfg, "boot.initrd"),
		.cmdline = config_get(cfg, "boot.cmdline"),
		.ncpus = vm->ncpus,
	};
	struct boot_state bs;
	char err[256] = "";
	int rc;

	rc = loader_load(&vm->mem, &args, &bs, err, sizeof(err));
	if (rc != 0) {
		khyve_warnx("%s", err[0] ? err : strerror(-rc));
		return rc;
	}
	khyve_dbg("booting %s kernel %s at 0x%llx", bs.format, args.kernel,
	    (unsigned long long)bs.rip);
	rc = vcpu_set_boot_state(&vm->vcpus[0], &bs);
	if (rc != 0)
		khyve_warnx("cannot set the boot CPU state: %s", strerror(-rc));
	return rc;
}

static int run_vm(struct config_node *cfg)
{
	struct vm vm;
	struct mevent_loop *ev;
	int status = KHYVE_EXIT_ERROR, rc;

	ev = mevent_loop_create();
	if (ev == NULL) {
		khyve_warn("cannot create the event loop");
		return KHYVE_EXIT_ERROR;
	}
	/* Signals are caught through the loop; block them before any
	 * thread exists so every thread inherits the mask. */
	if (mevent_add(ev, SIGTERM, EVF_SIGNAL, on_sigterm, &vm) == NULL ||
	    mevent_add(ev, SIGINT, EVF_SIGNAL, on_sigint, &vm) == NULL) {
		khyve_warn("cannot catch SIGTERM/SIGINT");
		goto out_loop;
	}
	/* Configuration errors that only show here (keys set with -o or -k
	 * bypass the option parser's checks) are still usage errors. */
	if (config_get(cfg, "boot.kernel") == NULL &&
	    config_get(cfg, "lpc.bootrom") == NULL) {
		khyve_warnx("nothing to boot: set boot.kernel=PATH (-o "
		    "boot.kernel=...) for direct kernel boot, or give a boot "
		    "ROM (-l bootrom,ROMFILE)");
		status = KHYVE_EXIT_USAGE;
		goto out_loop;
	}
	if (config_get(cfg, "boot.kernel") != NULL &&
	    config_get(cfg, "lpc.bootrom") != NULL) {
		khyve_warnx("boot.kernel and -l bootrom exclude each other: the "
		    "boot ROM loads the OS itself");
		status = KHYVE_EXIT_USAGE;
		goto out_loop;
	}
	/* Before any thread: each one confines itself as it starts. */
	if ((rc = sandbox_init(cfg)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_loop;
	}
	if ((rc = vm_create(&vm, cfg)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_loop;
	}
	vm.ev = ev;
	if ((rc = pci_emul_init(&vm)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_vm;
	}
	if ((rc = platform_devs_init(&vm)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_pci;
	}
	/* MP table, SMBIOS and ACPI describe the devices that now exist. */
	if ((rc = fwtables_build(&vm)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_devs;
	}
	/* With a boot ROM the BSP keeps KVM's reset state: the reset vector
	 * (dev/bootrom.c). */
	if (config_get(cfg, "boot.kernel") != NULL && load_kernel(&vm, cfg) != 0)
		goto out_devs;
	if (mevent_add(ev, vm.exit_fd, EVF_READ, on_exit_fd, &vm) == NULL ||
	    mevent_add(ev, HALT_POLL_MS, EVF_TIMER, on_halt_poll, &vm) == NULL) {
		khyve_warn("cannot watch the VM");
		goto out_devs;
	}
	/* After the devices and the kernel, before the first instruction:
	 * -G w holds the vCPUs from their start. */
	if ((rc = gdb_stub_init(&vm, cfg)) != 0) {
		status = rc == -EINVAL ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR;
		goto out_devs;
	}
	if (vm_start(&vm) != 0)
		goto out_stop;
	sandbox_enter(SANDBOX_MAIN);
	status = mevent_dispatch(ev);
out_stop:
	vm_stop(&vm);
	if (atomic_load(&vm.exit_requested) == 2)
		status = vm.exit_status;
	gdb_stub_fini(&vm, status);
out_devs:
	platform_devs_fini(&vm);
out_pci:
	pci_emul_fini(&vm);
out_vm:
	vm_destroy(&vm);
out_loop:
	mevent_loop_destroy(ev);
	sandbox_fini();
	return status;
}

int main(int argc, char **argv)
{
	struct config_node *cfg;
	int code = 0, status;

	setvbuf(stdout, NULL, _IONBF, 0);
	config_init();
	if (options_parse(argc, argv, &code) != 0) {
		config_fini();
		return code;
	}
	cfg = config_root();
	khyve_debug = config_bool(cfg, "debug", false);
	if (config_bool(cfg, "config.dump", false)) {
		config_dump(stdout);
		config_fini();
		return 0;
	}
	if (config_get(cfg, "x86.cpuid.disable") != NULL &&
	    strcmp(config_get(cfg, "x86.cpuid.disable"), "help") == 0) {
		cpuid_print_features();
		config_fini();
		return 0;
	}
	proctitle_set(argc, argv, config_get(cfg, "name"));
	status = run_vm(cfg);
	chardev_restore_tty();
	config_fini();
	return status;
}
