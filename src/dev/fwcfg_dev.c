/*
 * fwcfg_dev.c - the firmware interface device at 0x510: `-l fwcfg,bhyve`
 * (bhyve's fwctl, the default) or `-l fwcfg,qemu` (QEMU's fw_cfg);
 * configuration key lpc.fwcfg, as bhyve.
 *
 * fw_cfg items: SIGNATURE, ID (with DMA), RAM_SIZE (all RAM, u64),
 * NB_CPUS and MAX_CPUS (u16), FILE_DIR, the file "etc/e820" (the memory
 * map, 20-byte entries), with direct kernel boot KERNEL_SIZE/DATA,
 * INITRD_SIZE/DATA and CMDLINE_SIZE/DATA (the files as given, the command
 * line with its NUL), the tables firmware builds from (etc/acpi/rsdp,
 * etc/acpi/tables, etc/table-loader, etc/smbios/smbios-anchor and
 * smbios-tables: firmware/fwtables.h), "bootorder" from the PCI
 * devices' bootindex, and the user files of -f
 * (fwcfg.user.N.name with .string, stored with its NUL as bhyve does, or
 * .file).  User files come last, so a -f that names a file khyve
 * provides is refused as given twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "config.h"
#include "dev/fwcfg.h"
#include "dev/platform.h"
#include "firmware/e820.h"
#include "firmware/fwtables.h"
#include "vmm/vm.h"

struct fwcfg_dev {
	struct fwcfg *qemu;
	struct fwctl *bhyve;
};

static int fwcfg_dev_parse(const struct platform_dev *dev, const char *opts)
{
	(void)dev;
	if (opts == NULL || (strcasecmp(opts, "bhyve") != 0 &&
	    strcasecmp(opts, "qemu") != 0)) {
		khyve_warnx("-l fwcfg%s%s: expected fwcfg,bhyve or fwcfg,qemu",
		    opts ? "," : "", opts ? opts : "");
		return -EINVAL;
	}
	return config_set(NULL, "lpc.fwcfg",
	    strcasecmp(opts, "qemu") == 0 ? "qemu" : "bhyve") == 0 ? 0 :
	    -EINVAL;
}

static int fwcfg_dev_io(void *opaque, struct vcpu *vcpu, bool write,
    uint64_t offset, int size, uint64_t *val)
{
	struct fwcfg_dev *sc = opaque;

	(void)vcpu;
	if (sc->qemu != NULL)
		fwcfg_io(sc->qemu, write, offset, size, val);
	else
		fwctl_io(sc->bhyve, write, offset, size, val);
	return 0;
}

/* Read a whole file of at most FWCFG_ITEM_MAX bytes. */
static int slurp(const char *path, uint8_t **out, uint32_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)FWCFG_ITEM_MAX) {
		rc = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (got != (size_t)st.st_size) {
		rc = -EIO;
		free(buf);
		goto out;
	}
	*out = buf;
	*len = (uint32_t)got;
out:
	close(fd);
	return rc;
}

static int add_file_item(struct fwcfg *f, uint16_t size_key,
    uint16_t data_key, const char *path)
{
	uint8_t *buf;
	uint32_t len;
	int rc;

	if (path == NULL)
		return 0;
	if ((rc = slurp(path, &buf, &len)) != 0) {
		khyve_warnx("fw_cfg: %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = fwcfg_add_item(f, size_key, &len, 4);
	if (rc == 0)
		rc = fwcfg_add_item(f, data_key, buf, len);
	free(buf);
	return rc;
}

static int add_user_files(struct fwcfg *f)
{
	struct config_node *n = config_find(NULL, "fwcfg.user"), *c;
	int rc = 0;

	for (c = n ? config_node_first(n) : NULL; c != NULL && rc == 0;
	     c = config_node_next(c)) {
		const char *name = config_get(c, "name");
		const char *str = config_get(c, "string");
		const char *path = config_get(c, "file");
		uint8_t *buf;
		uint32_t len;

		if (name == NULL || (str == NULL) == (path == NULL)) {
			khyve_warnx("fwcfg.user.%s: needs name and one of "
			    "string or file", config_node_name(c));
			return -EINVAL;
		}
		if (str != NULL) {
			rc = fwcfg_add_file(f, name, str,
			    (uint32_t)strnlen(str, FWCFG_ITEM_MAX - 1) + 1);
		} else if ((rc = slurp(path, &buf, &len)) == 0) {
			rc = fwcfg_add_file(f, name, buf, len);
			free(buf);
		} else {
			khyve_warnx("-f %s,file=%s: %s", name, path,
			    strerror(-rc));
			return rc == -ENOENT || rc == -EFBIG ? -EINVAL : rc;
		}
		if (rc != 0)
			khyve_warnx("-f %s: %s", name, rc == -EEXIST ?
			    "given twice, or a file khyve provides" :
			    strerror(-rc));
		if (rc == -EEXIST || rc == -ENOSPC)
			rc = -EINVAL;
	}
	return rc;
}

/*
 * The tables firmware builds from (fwtables.h): ACPI with its loader
 * script (unless acpi_tables=false) and SMBIOS, from the same builders
 * and machine description as the tables in the BIOS area.  The PCI
 * devices exist by now (pci_emul_init runs before the platform devices).
 */
static int add_tables(struct fwcfg *f, struct vm *vm)
{
	struct fw_fwcfg_blobs b = { 0 };
	struct fw_machine *m = malloc(sizeof(*m));
	int rc;

	if (m == NULL)
		return -ENOMEM;
	if ((rc = fw_machine_from_vm(vm, m)) != 0)
		goto out;
	if (config_bool(NULL, "acpi_tables", true)) {
		if ((rc = acpi_build_fwcfg(m, &b)) != 0 ||
		    (rc = fwcfg_add_file(f, FW_FILE_ACPI_RSDP, b.rsdp,
			(uint32_t)b.rsdp_len)) != 0 ||
		    (rc = fwcfg_add_file(f, FW_FILE_ACPI_TABLES, b.tables,
			(uint32_t)b.tables_len)) != 0 ||
		    (rc = fwcfg_add_file(f, FW_FILE_TABLE_LOADER, b.loader,
			(uint32_t)b.loader_len)) != 0)
			goto out;
	}
	if ((rc = smbios_build_fwcfg(m, &b)) != 0 ||
	    (rc = fwcfg_add_file(f, FW_FILE_SMBIOS_ANCHOR, b.sm_anchor,
		(uint32_t)b.sm_anchor_len)) != 0 ||
	    (rc = fwcfg_add_file(f, FW_FILE_SMBIOS_TABLES, b.sm_tables,
		(uint32_t)b.sm_tables_len)) != 0)
		goto out;
out:
	if (rc != 0)
		khyve_warnx("fw_cfg: cannot build the firmware tables: %s",
		    strerror(-rc));
	fw_fwcfg_blobs_free(&b);
	free(m);
	return rc;
}

/*
 * "bootorder" (bhyve 14's init_bootorder; QEMU's format): one
 * OpenFirmware path per device with a bootindex (pci.B.S.F.bootindex,
 * -s ...,bootindex=N), lowest index first, each line ended by '\n',
 * then a NUL.  bhyve writes "/pci@i0cf8/pci@SLOT,FUNC"; the unit address
 * is hexadecimal as SeaBIOS and OVMF parse it (bhyve prints decimal,
 * which differs from slot 10 on).  Two devices with one index are a
 * configuration error, as in bhyve.  With none there is no file.
 */
#define BOOT_MAX 256
struct boot_dev {
	unsigned long index;
	int bus, slot, func;
};

static int cmp_boot(const void *a, const void *b)
{
	const struct boot_dev *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

struct boot_walk {
	struct boot_dev *d; /* BOOT_MAX entries, or NULL to only count */
	int n;
};

/*
 * The one place a bootindex value is judged (-s only moves it into the
 * tree, and -o/-k can set pci.B.S.F.bootindex directly): decimal
 * 0..65535, as bhyve's pci_emul.c takes it.
 */
static int boot_one(int bus, int slot, int func, struct config_node *fn,
    void *arg)
{
	struct boot_walk *w = arg;
	const char *v = config_get(fn, "bootindex");
	unsigned long index;
	char *end;

	if (v == NULL)
		return 0;
	errno = 0;
	index = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 ||
	    index > 65535) {
		khyve_warnx("pci.%d.%d.%d.bootindex=%s: expected 0..65535",
		    bus, slot, func, v);
		return -EINVAL;
	}
	if (w->d != NULL) {
		if (w->n == BOOT_MAX) {
			khyve_warnx("bootindex: more than %d devices",
			    BOOT_MAX);
			return -EINVAL;
		}
		w->d[w->n] = (struct boot_dev){ index, bus, slot, func };
	}
	w->n++;
	return 0;
}

/* The devices with a bootindex into d[BOOT_MAX] (NULL: only count and
 * check them); returns the count or -EINVAL after a message. */
static int boot_devices(struct boot_dev *d)
{
	struct boot_walk w = { .d = d };
	int rc = pci_emul_foreach_config(boot_one, &w);

	return rc != 0 ? rc : w.n;
}

static int add_bootorder(struct fwcfg *f)
{
	struct boot_dev *d = calloc(BOOT_MAX, sizeof(*d));
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int n, rc = 0;

	if (d == NULL)
		return -ENOMEM;
	if ((n = boot_devices(d)) <= 0) {
		free(d);
		return n;
	}
	qsort(d, (size_t)n, sizeof(*d), cmp_boot);
	for (int i = 1; i < n; i++)
		if (d[i].index == d[i - 1].index) {
			khyve_warnx("bootindex %lu is given to both PCI %d:%d:%d "
			    "and %d:%d:%d", d[i].index, d[i - 1].bus,
			    d[i - 1].slot, d[i - 1].func, d[i].bus, d[i].slot,
			    d[i].func);
			free(d);
			return -EINVAL;
		}
	fp = open_memstream(&text, &len);
	if (fp == NULL) {
		free(d);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		fprintf(fp, "/pci@i0cf8/pci@%x,%x\n", d[i].slot, d[i].func);
	if (fclose(fp) != 0 || text == NULL)
		rc = -ENOMEM;
	else
		rc = fwcfg_add_file(f, "bootorder", text, (uint32_t)len + 1);
	free(text);
	free(d);
	return rc;
}

static int build_qemu(struct fwcfg *f, struct vm *vm)
{
	struct e820_entry map[32];
	uint64_t ram = gmem_size(&vm->mem);
	uint16_t ncpus = (uint16_t)vm->ncpus;
	const char *cmdline = config_get(NULL, "boot.cmdline");
	int n, rc;

	n = e820_build(&vm->mem, map, (int)ARRAY_SIZE(map));
	if ((rc = fwcfg_add_item(f, FWCFG_RAM_SIZE, &ram, 8)) != 0 ||
	    (rc = fwcfg_add_item(f, FWCFG_NB_CPUS, &ncpus, 2)) != 0 ||
	    (rc = fwcfg_add_item(f, FWCFG_MAX_CPUS, &ncpus, 2)) != 0 ||
	    (rc = fwcfg_add_file(f, "etc/e820", map,
		(uint32_t)(n > 0 ? n : 0) * sizeof(map[0]))) != 0 ||
	    (rc = add_tables(f, vm)) != 0 || (rc = add_bootorder(f)) != 0)
		return rc;
	if ((rc = add_file_item(f, FWCFG_KERNEL_SIZE, FWCFG_KERNEL_DATA,
	    config_get(NULL, "boot.kernel"))) != 0 ||
	    (rc = add_file_item(f, FWCFG_INITRD_SIZE, FWCFG_INITRD_DATA,
	    config_get(NULL, "boot.initrd"))) != 0)
		return rc;
	if (cmdline != NULL && config_get(NULL, "boot.kernel") != NULL) {
		uint32_t len = (uint32_t)strnlen(cmdline, 1 << 20) + 1;

		if ((rc = fwcfg_add_item(f, FWCFG_CMDLINE_SIZE, &len, 4)) != 0 ||
		    (rc = fwcfg_add_item(f, FWCFG_CMDLINE_DATA, cmdline, len)) != 0)
			return rc;
	}
	return add_user_files(f);
}

static int fwcfg_dev_init(const struct platform_dev *dev, struct vm *vm)
{
	const char *mode = config_get(NULL, "lpc.fwcfg");
	struct fwcfg_dev *sc;
	bool qemu;
	int rc;

	(void)dev;
	if (mode == NULL)
		mode = "bhyve";
	if (strcmp(mode, "bhyve") != 0 && strcmp(mode, "qemu") != 0) {
		khyve_warnx("lpc.fwcfg=%s: expected bhyve or qemu", mode);
		return -EINVAL;
	}
	qemu = strcmp(mode, "qemu") == 0;
	if (!qemu && config_find(NULL, "fwcfg.user") != NULL) {
		khyve_warnx("-f needs -l fwcfg,qemu (bhyve's fwctl has no "
		    "files)");
		return -EINVAL;
	}
	if (!qemu && boot_devices(NULL) != 0) {
		khyve_warnx("bootindex needs -l fwcfg,qemu (the boot order is "
		    "its \"bootorder\" file)");
		return -EINVAL;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	if (qemu) {
		rc = -ENOMEM;
		if ((sc->qemu = fwcfg_create(&vm->mem)) == NULL ||
		    (rc = build_qemu(sc->qemu, vm)) != 0)
			goto fail;
	} else if ((sc->bhyve = fwctl_create((uint32_t)vm->ncpus)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = iobus_register(&vm->pio, FWCFG_PORT,
	    qemu ? FWCFG_QEMU_PORTS : FWCTL_PORTS, fwcfg_dev_io, sc,
	    qemu ? "fw_cfg" : "fwctl");
	if (rc == 0)
		return 0;
fail:
	fwcfg_destroy(sc->qemu);
	fwctl_destroy(sc->bhyve);
	free(sc);
	return rc;
}

static void fwcfg_dev_fini(const struct platform_dev *dev, struct vm *vm)
{
	struct fwcfg_dev *sc = iobus_opaque(&vm->pio, FWCFG_PORT);

	(void)dev;
	if (sc == NULL)
		return;
	iobus_unregister(&vm->pio, FWCFG_PORT);
	fwcfg_destroy(sc->qemu);
	fwctl_destroy(sc->bhyve);
	free(sc);
}

static const struct platform_dev fwcfg_dev = {
	.name = "fwcfg",
	.help = "firmware interface at 0x510: fwcfg,bhyve (fwctl, the default) or fwcfg,qemu (fw_cfg with DMA)",
	.parse = fwcfg_dev_parse,
	.init = fwcfg_dev_init,
	.fini = fwcfg_dev_fini,
};
PLATFORM_DEV_SET(fwcfg_dev);
