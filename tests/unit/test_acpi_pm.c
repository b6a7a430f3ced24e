/*
 * test_acpi_pm.c - the ACPI power button (dev/acpi_pm.c) on a VM without
 * KVM: SIGTERM's press sets PWRBTN_STS and arms the deadline; the second
 * press, timeout 0 or a missing PM device power off at once; the guest
 * clears the status by writing 1; bad timeouts are configuration errors.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "dev/acpi_pm.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "sandbox/sandbox.h"
#include "test.h"
#include "vm_fixture.h"
#include "vmm/vm.h"

static void pm_vm_done(struct vm *vm)
{
	platform_devs_fini(vm);
	fake_vm_fini(vm);
}

static uint64_t pm_in(struct vm *vm, uint64_t port)
{
	uint64_t v = ~0ULL;

	iobus_access(&vm->pio, NULL, port, 2, false, &v);
	return v;
}

static void pm_out(struct vm *vm, uint64_t port, uint64_t v)
{
	iobus_access(&vm->pio, NULL, port, 2, true, &v);
}

TEST(acpi_pm_power_button_press)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;

	config_init();
	fake_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	pm_out(&vm, 0x402, 0x0100); /* PWRBTN_EN */
	CHECK_EQ(pm_in(&vm, 0x400) & 0x0100, 0);
	/* First press: the guest is told, nobody asked to exit. */
	CHECK(acpi_pm_power_button(&vm));
	CHECK_EQ(pm_in(&vm, 0x400) & 0x0100, 0x0100);
	CHECK_EQ(atomic_load(&vm.exit_requested), 0);
	/* Write 1 to clear; writing 0 leaves it. */
	pm_out(&vm, 0x400, 0);
	CHECK_EQ(pm_in(&vm, 0x400) & 0x0100, 0x0100);
	pm_out(&vm, 0x400, 0x0100);
	CHECK_EQ(pm_in(&vm, 0x400) & 0x0100, 0);
	/* Second press: power-off. */
	CHECK(!acpi_pm_power_button(&vm));
	CHECK_EQ(atomic_load(&vm.exit_requested), 2);
	CHECK_EQ(vm.exit_status, KHYVE_EXIT_POWEROFF);
	pm_vm_done(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}

/* The deadline fires through the event loop and powers off. */
static void stop_loop(int fd, enum mevent_type type, void *arg)
{
	(void)fd, (void)type;
	mevent_loop_stop(arg, 7);
}

TEST(acpi_pm_power_button_timeout)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct mevent *watchdog;
	struct vm vm;

	config_init();
	CHECK_EQ(config_set(NULL, "acpi.powerbutton_timeout", "1"), 0);
	fake_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	CHECK(acpi_pm_power_button(&vm));
	CHECK_EQ(atomic_load(&vm.exit_requested), 0);
	/* A 1.5 s watchdog: the 1 s deadline must come first. */
	watchdog = mevent_add(loop, 1500, EVF_TIMER, stop_loop, loop);
	CHECK(watchdog != NULL);
	(void)mevent_dispatch(loop);
	mevent_delete(watchdog);
	CHECK_EQ(atomic_load(&vm.exit_requested), 2);
	CHECK_EQ(vm.exit_status, KHYVE_EXIT_POWEROFF);
	pm_vm_done(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}

TEST(acpi_pm_power_button_immediate)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;

	config_init();
	CHECK_EQ(config_set(NULL, "acpi.powerbutton_timeout", "0"), 0);
	fake_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	CHECK(!acpi_pm_power_button(&vm));
	CHECK_EQ(pm_in(&vm, 0x400) & 0x0100, 0);
	CHECK_EQ(atomic_load(&vm.exit_requested), 2);
	pm_vm_done(&vm);

	/* No PM device at all: power-off too. */
	fake_vm(&vm, loop);
	CHECK(!acpi_pm_power_button(&vm));
	CHECK_EQ(atomic_load(&vm.exit_requested), 2);
	fake_vm_fini(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}

TEST(acpi_pm_power_button_bad_timeout)
{
	static const char *const bad[] = { "-1", "86401", "soon", "" };
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		config_init();
		CHECK_EQ(config_set(NULL, "acpi.powerbutton_timeout", bad[i]),
		    0);
		fake_vm(&vm, loop);
		CHECK_EQ(platform_devs_init(&vm), -EINVAL);
		CHECK_EQ(vm.pio.n, 0);
		fake_vm_fini(&vm);
		config_fini();
	}
	mevent_loop_destroy(loop);
}

/*
 * The press comes on the sandboxed main thread, which may not create
 * descriptors: the deadline's timer is made at start-up and only armed
 * here.  In a forked child (a filter never leaves its process): 100 when
 * there is no seccomp, 0 when the press told the guest, else it died.
 */
TEST(acpi_pm_power_button_press_in_sandbox)
{
	int st = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct mevent_loop *loop = mevent_loop_create();
		struct vm vm;

		config_init();
		config_set(NULL, "sandbox", "kill");
		config_set(NULL, "acpi.powerbutton_timeout", "5");
		if (sandbox_init(config_root()) != 0)
			_exit(100);
		fake_vm(&vm, loop);
		if (loop == NULL || platform_devs_init(&vm) != 0)
			_exit(101);
		sandbox_enter(SANDBOX_MAIN);
		_exit(acpi_pm_power_button(&vm) ? 0 : 102);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
		SKIP("no seccomp here");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (WIFSIGNALED(st))
		printf("  (the child died of signal %d)\n", WTERMSIG(st));
}
