/*
 * test_bootrom.c - -l bootrom parsing (dev/bootrom.c) and the -l fwcfg
 * choice; the mapping itself needs KVM (tests/integration/t-bootrom.sh).
 */
#include <errno.h>

#include "config.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "test.h"
#include "vmm/vm.h"

TEST(bootrom_parse)
{
	config_init();
	CHECK_EQ(platform_dev_parse_lpc("bootrom,/fw/rom.fd"), 0);
	CHECK_STR(config_get(NULL, "lpc.bootrom"), "/fw/rom.fd");
	CHECK(config_get(NULL, "lpc.bootvars") == NULL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,/fw/rom.fd,/fw/vars.fd"), 0);
	CHECK_STR(config_get(NULL, "lpc.bootrom"), "/fw/rom.fd");
	CHECK_STR(config_get(NULL, "lpc.bootvars"), "/fw/vars.fd");
	CHECK_EQ(platform_dev_parse_lpc("bootrom"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,,vars"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,rom,"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,rom,vars,extra"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,QEMU"), 0);
	CHECK_STR(config_get(NULL, "lpc.fwcfg"), "qemu");
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,bhyve"), 0);
	CHECK_STR(config_get(NULL, "lpc.fwcfg"), "bhyve");
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,ovmf"), -EINVAL);
	config_fini();
}

/* The fw_cfg device on the port bus of a VM without KVM: the standard
 * items and a -f string appear through 0x510/0x511; a -f without qemu
 * mode and a missing -f file are configuration errors. */
static uint64_t pio(struct vm *vm, bool write, uint64_t port, int size,
    uint64_t v)
{
	iobus_access(&vm->pio, NULL, port, size, write, &v);
	return v;
}

static void fw_vm(struct vm *vm, struct mevent_loop *loop)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->kvm_fd = vm->exit_fd = -1;
	vm->mem.lowmem = 64ULL << 20;
	vm->ncpus = 3;
	vm->topo = (struct vm_topology){ .cpus = 3, .sockets = 1, .cores = 3,
		.threads = 1 };
	vm->ev = loop;
	iobus_init(&vm->pio, "port");
	iobus_init(&vm->mmio, "mmio");
}

TEST(fwcfg_dev_items)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;
	char name[57] = { 0 };
	uint8_t d[4 + 64 * 8];
	/* Sorted by name; opt/t/s is the user's -f. */
	static const char *const files[] = { "etc/acpi/rsdp",
		"etc/acpi/tables", "etc/e820", "etc/smbios/smbios-anchor",
		"etc/smbios/smbios-tables", "etc/table-loader", "opt/t/s" };

	config_init();
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,qemu"), 0);
	CHECK_EQ(config_set(NULL, "fwcfg.user.0.name", "opt/t/s"), 0);
	CHECK_EQ(config_set(NULL, "fwcfg.user.0.string", "hi"), 0);
	fw_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	pio(&vm, true, 0x510, 2, 0x05); /* NB_CPUS */
	CHECK_EQ(pio(&vm, false, 0x511, 1, 0), 3);
	pio(&vm, true, 0x510, 2, 0x19);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)pio(&vm, false, 0x511, 1, 0);
	CHECK_EQ(d[3], ARRAY_SIZE(files));
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		memcpy(name, d + 4 + 64 * i + 8, 56);
		CHECK_STR(name, files[i]);
	}
	CHECK_EQ(d[4 + 64 * 6 + 3], 3); /* "hi" and its NUL */
	pio(&vm, true, 0x510, 2, (uint64_t)(d[4 + 64 * 6 + 4] << 8 |
	    d[4 + 64 * 6 + 5]));
	CHECK_EQ(pio(&vm, false, 0x511, 1, 0), 'h');
	platform_devs_fini(&vm);
	CHECK_EQ(vm.pio.n, 0);
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();

	/* -f needs qemu mode; a missing file is a configuration error. */
	config_init();
	CHECK_EQ(config_set(NULL, "fwcfg.user.0.name", "opt/t/s"), 0);
	CHECK_EQ(config_set(NULL, "fwcfg.user.0.string", "hi"), 0);
	fw_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,qemu"), 0);
	CHECK_EQ(config_set(NULL, "fwcfg.user.1.name", "opt/t/f"), 0);
	CHECK_EQ(config_set(NULL, "fwcfg.user.1.file", "/nonexistent/khyve"),
	    0);
	CHECK_EQ(platform_devs_init(&vm), -EINVAL);
	CHECK_EQ(vm.pio.n, 0);
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();
	mevent_loop_destroy(loop);
}
