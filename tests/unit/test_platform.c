/*
 * test_platform.c - the platform device registry (dev/platform.c): -l
 * parsing, and init/fini of every registered device on a VM that has
 * buses and memory sizes but no KVM (nothing here raises an interrupt).
 */
#include <errno.h>

#include "config.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "test.h"
#include "vm_fixture.h"
#include "vmm/vm.h"

TEST(platform_parse_lpc)
{
	config_init();
	CHECK_EQ(platform_dev_parse_lpc("com1,stdio"), 0);
	CHECK_STR(config_get(NULL, "lpc.com1.path"), "stdio");
	/* Names are case-insensitive; keys use the canonical name. */
	CHECK_EQ(platform_dev_parse_lpc("COM2,tcp=127.0.0.1:1234"), 0);
	CHECK_STR(config_get(NULL, "lpc.com2.path"), "tcp=127.0.0.1:1234");
	/* Everything after the first comma is the back end. */
	CHECK_EQ(platform_dev_parse_lpc("com3,/dev/pts/9,x"), 0);
	CHECK_STR(config_get(NULL, "lpc.com3.path"), "/dev/pts/9,x");
	CHECK_EQ(platform_dev_parse_lpc("pc-testdev"), 0);
	CHECK(config_bool(NULL, "lpc.pc-testdev", false));
	config_fini();
}

TEST(platform_parse_lpc_rejects)
{
	config_init();
	CHECK_EQ(platform_dev_parse_lpc(NULL), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc(""), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc(","), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc(",stdio"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("com5,stdio"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("com1"), -EINVAL);  /* no back end */
	CHECK_EQ(platform_dev_parse_lpc("com1,"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("pc-testdev,on"), -EINVAL);
	/* Internal devices have no -l name. */
	CHECK_EQ(platform_dev_parse_lpc("rtc"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("atkbdc"), -EINVAL);
	CHECK(platform_dev_find("rtc") == NULL);
	CHECK(platform_dev_find(NULL) == NULL);
	CHECK(platform_dev_find("com4") != NULL);
	CHECK(config_get(NULL, "lpc.com1.path") == NULL);
	config_fini();
}

static int bus_read(struct iobus *bus, uint64_t addr, int size, uint64_t *v)
{
	*v = ~0ULL;
	return iobus_access(bus, NULL, addr, size, false, v);
}

static int dummy_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	(void)opaque, (void)vcpu, (void)write, (void)offset, (void)size;
	(void)val;
	return 0;
}

TEST(platform_init_and_fini)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;
	uint64_t v;

	config_init();
	CHECK_EQ(platform_dev_parse_lpc("pc-testdev"), 0);
	fake_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	/* The always-present devices and the COM ports answer. */
	CHECK_EQ(bus_read(&vm.pio, 0x3fd, 1, &v), 0); /* COM1 LSR */
	CHECK_EQ(v, 0x60);
	CHECK_EQ(bus_read(&vm.pio, 0x2e8 + 5, 1, &v), 0); /* COM4 */
	CHECK_EQ(v, 0x60);
	CHECK_EQ(bus_read(&vm.pio, 0x64, 1, &v), 0); /* i8042 status */
	CHECK_EQ(v & 0x01, 0);
	iobus_access(&vm.pio, NULL, 0x70, 1, true, &(uint64_t){ 0x35 });
	CHECK_EQ(bus_read(&vm.pio, 0x71, 1, &v), 0); /* 48 MiB above 16 */
	CHECK_EQ(v, 0x03);
	CHECK_EQ(bus_read(&vm.pio, 0x404, 2, &v), 0); /* PM1a_CNT */
	CHECK_EQ(v, 0);
	CHECK_EQ(bus_read(&vm.pio, 0xe0, 4, &v), 0); /* pc-testdev */
	CHECK_EQ(bus_read(&vm.mmio, 0xff000000, 8, &v), 0);
	CHECK_EQ(v, 0);
	platform_devs_fini(&vm);
	/* Every claim is gone again. */
	CHECK_EQ(vm.pio.n, 0);
	CHECK_EQ(vm.mmio.n, 0);
	fake_vm_fini(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}

TEST(platform_init_unwinds)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;

	config_init();
	fake_vm(&vm, loop);
	/* Someone else holds COM1's ports: the UARTs come late in link
	 * order, so earlier devices must be undone. */
	CHECK_EQ(iobus_register(&vm.pio, 0x3f8, 1, dummy_io, NULL, "squat"),
	    0);
	CHECK_EQ(platform_devs_init(&vm), -EEXIST);
	CHECK_EQ(vm.pio.n, 1);
	CHECK_EQ(vm.mmio.n, 0);
	iobus_unregister(&vm.pio, 0x3f8);

	/* A back end that cannot be opened fails the same way. */
	CHECK_EQ(platform_dev_parse_lpc("com2,/nonexistent/khyve-tty"), 0);
	CHECK_EQ(platform_devs_init(&vm), -ENOENT);
	CHECK_EQ(vm.pio.n, 0);
	fake_vm_fini(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}
