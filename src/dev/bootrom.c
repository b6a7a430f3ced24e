/*
 * bootrom.c - `-l bootrom,ROMFILE[,VARFILE]` (bhyve's bootrom.c; keys
 * lpc.bootrom and lpc.bootvars): a firmware image mapped read-only at
 * the top of the 32-bit space, ending at 4 GiB, and its variable store
 * mapped writable just below it and backed by the file itself, so what
 * the firmware writes is on disk (MAP_SHARED; msync at teardown).
 *
 *   4 GiB - romsize            ROM (KVM_MEM_READONLY: reads from memory,
 *                              writes exit as MMIO and are dropped here)
 *   4 GiB - romsize - varsize  VARFILE (ordinary writable memory)
 *
 * Both sizes must be page multiples and fit bhyve's 16 MiB window at
 * 0xFF000000 (reserved in e820, see firmware/e820.c).  The ROM is copied
 * into anonymous memory at start, so editing the file later changes
 * nothing.  The BSP starts where KVM's reset state puts it, at the reset
 * vector (CS base 0xFFFF0000, IP 0xFFF0): main.c skips the direct kernel
 * boot, which excludes a boot ROM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dev/platform.h"
#include "vmm/vm.h"

#define BOOTROM_WINDOW 0xFF000000ULL
#define BOOTROM_END 0x100000000ULL
#define BOOTROM_PAGE 4096ULL
/* Memory slots after guest RAM's (vm.c numbers those from 0). */
#define BOOTROM_SLOT_ROM (GMEM_MAX_REGIONS + 0)
#define BOOTROM_SLOT_VARS (GMEM_MAX_REGIONS + 1)

#define BOOTROM_MAGIC 0x6b62726fu

struct bootrom {
	uint32_t magic; /* first: tells our claim from others in the window */
	void *rom, *vars;
	uint64_t rom_size, vars_size, base; /* base: lowest address used */
};

static int bootrom_parse(const struct platform_dev *dev, const char *opts)
{
	const char *comma;
	char *rom;
	int rc;

	(void)dev;
	if (opts == NULL || *opts == '\0' || *opts == ',') {
		khyve_warnx("-l bootrom: expected bootrom,ROMFILE[,VARFILE]");
		return -EINVAL;
	}
	comma = strchr(opts, ',');
	rom = comma ? strndup(opts, (size_t)(comma - opts)) : strdup(opts);
	if (rom == NULL)
		return -ENOMEM;
	rc = config_set(NULL, "lpc.bootrom", rom);
	free(rom);
	if (rc == 0 && comma != NULL) {
		if (comma[1] == '\0' || strchr(comma + 1, ',') != NULL) {
			khyve_warnx("-l bootrom,%s: expected one VARFILE", opts);
			return -EINVAL;
		}
		rc = config_set(NULL, "lpc.bootvars", comma + 1);
	}
	return rc == 0 ? 0 : -EINVAL;
}

/* Writes to the read-only ROM exit here; the ROM does not change. */
static int bootrom_mmio(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	(void)opaque, (void)vcpu, (void)offset, (void)size;
	if (!write)
		*val = ~0ULL; /* not reached: reads come from the slot */
	return 0;
}

/* Open a regular file whose size is a non-zero page multiple. */
static int open_image(const char *what, const char *path, int flags,
    uint64_t *size)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC), err;

	if (fd < 0) {
		err = errno;
		khyve_warn("-l bootrom: %s %s", what, path);
		return err == ENOENT ? -EINVAL : -err;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uint64_t)st.st_size % BOOTROM_PAGE != 0 ||
	    (uint64_t)st.st_size > BOOTROM_END - BOOTROM_WINDOW) {
		khyve_warnx("-l bootrom: %s %s: size must be a non-zero "
		    "multiple of 4 KiB up to 16 MiB", what, path);
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int add_slot(struct vm *vm, uint32_t slot, uint64_t gpa,
    uint64_t size, void *host, bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		khyve_warn("-l bootrom: cannot map 0x%llx bytes at 0x%llx",
		    (unsigned long long)size, (unsigned long long)gpa);
		return -errno;
	}
	return 0;
}

static void del_slot(struct vm *vm, uint32_t slot)
{
	struct kvm_userspace_memory_region r = { .slot = slot };

	(void)ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int bootrom_init(const struct platform_dev *dev, struct vm *vm)
{
	const char *rom_path = config_get(NULL, "lpc.bootrom");
	const char *var_path = config_get(NULL, "lpc.bootvars");
	struct bootrom *sc;
	uint64_t got = 0, rom_gpa;
	ssize_t n;
	int fd = -1, rc;

	(void)dev;
	if (rom_path == NULL) {
		if (var_path != NULL) {
			khyve_warnx("lpc.bootvars needs lpc.bootrom");
			return -EINVAL;
		}
		return 0;
	}
	if (ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
		khyve_warnx("-l bootrom: KVM cannot map read-only memory");
		return -ENOTSUP;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->magic = BOOTROM_MAGIC;
	sc->rom = sc->vars = MAP_FAILED;
	if ((fd = open_image("ROM", rom_path, O_RDONLY, &sc->rom_size)) < 0) {
		rc = fd;
		goto fail;
	}
	sc->rom = mmap(NULL, sc->rom_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sc->rom == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	while (got < sc->rom_size && (n = read(fd, (uint8_t *)sc->rom + got,
	    sc->rom_size - got)) > 0)
		got += (uint64_t)n;
	close(fd);
	fd = -1;
	if (got != sc->rom_size) {
		khyve_warnx("-l bootrom: short read of %s", rom_path);
		rc = -EIO;
		goto fail;
	}
	(void)mprotect(sc->rom, sc->rom_size, PROT_READ);
	rom_gpa = BOOTROM_END - sc->rom_size;
	sc->base = rom_gpa;
	if (var_path != NULL) {
		fd = open_image("VARFILE", var_path, O_RDWR, &sc->vars_size);
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		if (sc->vars_size > rom_gpa - BOOTROM_WINDOW) {
			khyve_warnx("-l bootrom: ROM and VARFILE together "
			    "exceed 16 MiB");
			rc = -EINVAL;
			goto fail;
		}
		sc->vars = mmap(NULL, sc->vars_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
		if (sc->vars == MAP_FAILED) {
			rc = -errno;
			khyve_warn("-l bootrom: mmap %s", var_path);
			goto fail;
		}
		close(fd);
		fd = -1;
		sc->base = rom_gpa - sc->vars_size;
	}
	/* Claim the window on the MMIO bus: ROM writes land here, and a
	 * device already there (pc-testdev's window) is a clear clash. */
	rc = iobus_register(&vm->mmio, sc->base, BOOTROM_END - sc->base,
	    bootrom_mmio, sc, "bootrom");
	if (rc != 0) {
		khyve_warnx("-l bootrom: 0x%llx-0xffffffff is taken by "
		    "another device", (unsigned long long)sc->base);
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = add_slot(vm, BOOTROM_SLOT_ROM, rom_gpa, sc->rom_size,
	    sc->rom, true)) != 0)
		goto fail_bus;
	if (sc->vars != MAP_FAILED && (rc = add_slot(vm, BOOTROM_SLOT_VARS,
	    sc->base, sc->vars_size, sc->vars, false)) != 0) {
		del_slot(vm, BOOTROM_SLOT_ROM);
		goto fail_bus;
	}
	khyve_dbg("boot ROM %s at 0x%llx, variables at 0x%llx", rom_path,
	    (unsigned long long)rom_gpa, (unsigned long long)sc->base);
	return 0;

fail_bus:
	iobus_unregister(&vm->mmio, sc->base);
fail:
	if (fd >= 0)
		close(fd);
	if (sc->vars != MAP_FAILED)
		munmap(sc->vars, sc->vars_size);
	if (sc->rom != MAP_FAILED)
		munmap(sc->rom, sc->rom_size);
	free(sc);
	return rc;
}

static void bootrom_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct bootrom *sc;
	const char *rom_path = config_get(NULL, "lpc.bootrom");

	(void)dev;
	if (rom_path == NULL)
		return;
	/* Find our claim: it starts at the lowest address we used. */
	for (uint64_t a = BOOTROM_WINDOW; a < BOOTROM_END; a += BOOTROM_PAGE) {
		sc = iobus_opaque(&vm->mmio, a);
		if (sc == NULL || sc->magic != BOOTROM_MAGIC)
			continue;
		iobus_unregister(&vm->mmio, sc->base);
		if (sc->vars != MAP_FAILED) {
			del_slot(vm, BOOTROM_SLOT_VARS);
			(void)msync(sc->vars, sc->vars_size, MS_SYNC);
			munmap(sc->vars, sc->vars_size);
		}
		del_slot(vm, BOOTROM_SLOT_ROM);
		munmap(sc->rom, sc->rom_size);
		free(sc);
		return;
	}
}

static const struct platform_dev bootrom_dev = {
	.name = "bootrom",
	.help = "firmware image at the top of 4 GiB: bootrom,ROMFILE[,VARFILE]",
	.parse = bootrom_parse,
	.init = bootrom_init,
	.fini = bootrom_fini,
};
PLATFORM_DEV_SET(bootrom_dev);
