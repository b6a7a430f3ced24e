/*
 * test_bootrom.c - -l bootrom parsing (dev/bootrom.c) and the -l fwcfg
 * choice; the mapping itself needs KVM (tests/integration/t-bootrom.sh).
 */
#include <errno.h>

#include "config.h"
#include "dev/platform.h"
#include "event/mevent.h"
#include "options.h"
#include "test.h"
#include "vm_fixture.h"
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
	fake_vm(vm, loop);
	vm->ncpus = 3;
	vm->topo = (struct vm_topology){ .cpus = 3, .sockets = 1, .cores = 3,
		.threads = 1 };
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
	fake_vm_fini(&vm);
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
	fake_vm_fini(&vm);
	config_fini();
	mevent_loop_destroy(loop);
}

/* Read fw_cfg file `want` through the ports into buf (NUL-terminated);
 * its size, or -1 when FILE_DIR does not list it. */
static int read_file(struct vm *vm, const char *want, char *buf, size_t cap)
{
	uint8_t d[4 + 64 * 16];
	uint32_t n, size;

	pio(vm, true, 0x510, 2, 0x19);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)pio(vm, false, 0x511, 1, 0);
	n = (uint32_t)d[2] << 8 | d[3];
	for (uint32_t i = 0; i < n && i < 16; i++) {
		const uint8_t *e = d + 4 + 64 * i;

		if (strncmp((const char *)e + 8, want, 56) != 0)
			continue;
		size = (uint32_t)e[2] << 8 | e[3];
		pio(vm, true, 0x510, 2, (uint64_t)(e[4] << 8 | e[5]));
		for (uint32_t j = 0; j < size && j < cap - 1; j++)
			buf[j] = (char)pio(vm, false, 0x511, 1, 0);
		buf[size < cap - 1 ? size : cap - 1] = '\0';
		return (int)size;
	}
	return -1;
}

/* bootindex on -s (any device; the device's parser never sees it) makes
 * "bootorder": OpenFirmware paths by index, hex unit addresses, '\n'
 * after each and a NUL; duplicates and fwctl mode are refused. */
TEST(fwcfg_bootorder)
{
	struct mevent_loop *loop = mevent_loop_create();
	struct vm vm;
	char text[256];

	config_init();
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,qemu"), 0);
	CHECK_EQ(options_parse_pci_slot("4,virtio-blk,/img/d.raw,ro,"
	    "bootindex=2"), 0);
	CHECK_STR(config_get(NULL, "pci.0.4.0.path"), "/img/d.raw");
	CHECK_STR(config_get(NULL, "pci.0.4.0.ro"), "true");
	CHECK_STR(config_get(NULL, "pci.0.4.0.bootindex"), "2");
	CHECK_EQ(options_parse_pci_slot("3,virtio-rnd,bootindex=07"), 0);
	CHECK_STR(config_get(NULL, "pci.0.3.0.bootindex"), "07");
	CHECK_EQ(options_parse_pci_slot("12:1,virtio-net,slirp,bootindex=0"),
	    0);
	CHECK_STR(config_get(NULL, "pci.0.12.1.bootindex"), "0");
	CHECK(config_get(NULL, "pci.0.12.1.slirp") != NULL ||
	    config_get(NULL, "pci.0.12.1.backend") != NULL);
	/* Twice on one device: refused, the slot left free. */
	CHECK_EQ(options_parse_pci_slot("5,virtio-rnd,bootindex=1,"
	    "bootindex=2"), -EINVAL);
	CHECK(config_find(NULL, "pci.0.5.0") == NULL);
	/* The other items reach the device as they were, empty ones too. */
	CHECK_EQ(options_parse_pci_slot("5,virtio-blk,,bootindex=1"), -EINVAL);
	CHECK(config_find(NULL, "pci.0.5.0") == NULL);

	fw_vm(&vm, loop);
	CHECK_EQ(platform_devs_init(&vm), 0);
	CHECK_EQ(read_file(&vm, "bootorder", text, sizeof(text)),
	    3 * 19 + 1); /* "/pci@i0cf8/pci@S,F\n" each, then the NUL */
	CHECK_STR(text, "/pci@i0cf8/pci@c,1\n/pci@i0cf8/pci@4,0\n"
	    "/pci@i0cf8/pci@3,0\n");
	platform_devs_fini(&vm);

	/* One index twice: a configuration error naming both. */
	CHECK_EQ(config_set(NULL, "pci.0.6.0.device", "virtio-rnd"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.bootindex", "2"), 0);
	CHECK_EQ(platform_devs_init(&vm), -EINVAL);
	/* Bad values, from -s (stored as given) or -o: judged at start-up. */
	static const char *const bad[] = { "x", "-1", "", "65536", "1x",
		"99999999999999999999" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char slot[64];

		config_unset(NULL, "pci.0.6.0");
		snprintf(slot, sizeof(slot), "6,virtio-rnd,bootindex=%s",
		    bad[i]);
		CHECK_EQ(options_parse_pci_slot(slot), 0);
		CHECK_STR(config_get(NULL, "pci.0.6.0.bootindex"), bad[i]);
		CHECK_EQ(platform_devs_init(&vm), -EINVAL);
	}
	CHECK_EQ(config_set(NULL, "pci.0.6.0.bootindex", "65535"), 0);
	CHECK_EQ(platform_devs_init(&vm), 0);
	CHECK_EQ(read_file(&vm, "bootorder", text, sizeof(text)),
	    4 * 19 + 1);
	platform_devs_fini(&vm);
	config_unset(NULL, "pci.0.6.0");
	/* Without any bootindex there is no file. */
	config_unset(NULL, "pci");
	CHECK_EQ(platform_devs_init(&vm), 0);
	CHECK_EQ(read_file(&vm, "bootorder", text, sizeof(text)), -1);
	platform_devs_fini(&vm);
	/* bhyve's fwctl has no place for it. */
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,bhyve"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.3.0.device", "virtio-rnd"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.3.0.bootindex", "1"), 0);
	CHECK_EQ(platform_devs_init(&vm), -EINVAL);
	CHECK_EQ(vm.pio.n, 0);
	iobus_fini(&vm.pio);
	iobus_fini(&vm.mmio);
	config_fini();
	mevent_loop_destroy(loop);
}
