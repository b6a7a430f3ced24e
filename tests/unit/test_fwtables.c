/* test_fwtables.c - the glue (firmware/fwtables.c): a VM without KVM
 * (fake guest RAM with guard pages, no PCI core) gets its three tables at
 * bhyve's addresses; -Y, acpi_tables=false and acpi.dump=DIR behave. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "firmware/fwtables.h"
#include "loader_fixture.h"
#include "test.h"

static int fake_vm(struct vm *vm, struct fx_mem *t, int cpus)
{
	memset(vm, 0, sizeof(*vm));
	if (fx_init(t, 64 * MiB, 0) != 0)
		return -1;
	vm->mem = t->m;
	vm->ncpus = cpus;
	vm->topo = (struct vm_topology){ cpus, cpus, 1, 1 };
	vm->fd = -1;
	vm->kvm_fd = -1;
	return 0;
}

static bool at(struct fx_mem *t, uint64_t gpa, const char *sig)
{
	return fx_holds(t, gpa, sig, strlen(sig));
}

TEST(fwtables_layout)
{
	struct vm vm;
	struct fx_mem t;

	config_init();
	if (fake_vm(&vm, &t, 4) != 0) {
		CHECK(0);
		config_fini();
		return;
	}
	CHECK_EQ(fwtables_build(&vm), 0);
	CHECK(at(&t, 0xF0000, "_MP_"));
	CHECK(at(&t, 0xF0010, "PCMP"));
	CHECK(at(&t, 0xF1000, "_SM3_"));
	CHECK(at(&t, 0xF1020, "_SM_"));
	CHECK(at(&t, 0xF2400, "RSD PTR "));
	/* Nothing of ours in the legacy hole below the BIOS area. */
	for (uint64_t a = 0xA0000; a < 0xF0000; a += 4096)
		CHECK_EQ(FX_G64(&t, a), 0);
	fx_fini(&t);

	/* -Y: no MP table, SMBIOS and ACPI where they were. */
	config_set(NULL, "x86.mptable", "false");
	if (fake_vm(&vm, &t, 2) == 0) {
		CHECK_EQ(fwtables_build(&vm), 0);
		CHECK(!at(&t, 0xF0000, "_MP_"));
		CHECK(at(&t, 0xF1000, "_SM3_"));
		CHECK(at(&t, 0xF2400, "RSD PTR "));
		fx_fini(&t);
	}
	/* acpi_tables=false: no RSDP anywhere. */
	config_set(NULL, "acpi_tables", "false");
	if (fake_vm(&vm, &t, 2) == 0) {
		CHECK_EQ(fwtables_build(&vm), 0);
		for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
			CHECK(!at(&t, a, "RSD PTR "));
		CHECK(at(&t, 0xF1000, "_SM3_"));
		fx_fini(&t);
	}
	config_fini();
}

/* The MP table cannot list an APIC ID above 254: a configuration error
 * (exit 64) that -Y avoids. */
TEST(fwtables_mptable_refused)
{
	struct vm vm;
	struct fx_mem t;

	config_init();
	if (fake_vm(&vm, &t, 1) != 0) {
		CHECK(0);
		config_fini();
		return;
	}
	/* 256 threads in one core: APIC IDs 0..255. */
	vm.ncpus = 256;
	vm.topo = (struct vm_topology){ 256, 1, 1, 256 };
	vm.x2apic = true;
	CHECK_EQ(fwtables_build(&vm), -EINVAL);
	config_set(NULL, "x86.mptable", "false");
	CHECK_EQ(fwtables_build(&vm), 0);
	CHECK(at(&t, 0xF2400, "RSD PTR "));
	fx_fini(&t);
	config_fini();
}

TEST(fwtables_dump)
{
	static const char *const want[] = { "rsdp", "rsdt", "xsdt", "facp",
		"apic", "mcfg", "facs", "dsdt" };
	char dir[] = "/tmp/khyve-acpi-XXXXXX", path[512];
	struct vm vm;
	struct fx_mem t;
	struct stat st;
	DIR *d;
	struct dirent *e;

	config_init();
	if (mkdtemp(dir) == NULL || fake_vm(&vm, &t, 2) != 0) {
		CHECK(0);
		config_fini();
		return;
	}
	config_set(NULL, "acpi.dump", dir);
	CHECK_EQ(fwtables_build(&vm), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(path, sizeof(path), "%s/%s.dat", dir, want[i]);
		CHECK(stat(path, &st) == 0 && st.st_size >= 36);
	}
	/* No console configured: no SPCR. */
	snprintf(path, sizeof(path), "%s/spcr.dat", dir);
	CHECK(stat(path, &st) != 0);
	fx_fini(&t);
	d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);

	/* A directory that does not exist: an error, reported. */
	config_set(NULL, "acpi.dump", "/nonexistent/khyve-acpi");
	if (fake_vm(&vm, &t, 1) == 0) {
		CHECK(fwtables_build(&vm) < 0);
		fx_fini(&t);
	}
	config_fini();
}
