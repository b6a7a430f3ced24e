/*
 * smbios.c - the SMBIOS tables (DMTF DSP0134 3.0; bhyve's smbiostbl.c
 * lists the same structures):
 *
 *   0xF1000  SMBIOS 3.0 64-bit entry point "_SM3_" (24 bytes)
 *   0xF1020  SMBIOS 2.8 32-bit entry point "_SM_" / "_DMI_" (31 bytes)
 *   0xF1040  the structure table, shared by both entry points
 *
 * Structures: type 0 (BIOS), 1 (system, with the UUID), 2 (baseboard),
 * 3 (chassis), 4 (one per socket as -c says), 16 (memory array), 17 (one
 * memory device holding all RAM), 19 (one mapped range per RAM region),
 * 32 (boot status) and 127 (end).  Their layouts are SMBIOS 3.0's; the
 * 2.8 entry point is truthful too, since a 2.8 reader skips the fields it
 * does not know by each structure's length.
 *
 * Strings come from the configuration (-B type,key=value sets bios.*,
 * system.*, board.*, chassis.*) or defaults.  Values set with -o or -k
 * bypass -B's checks, so each one is checked here: 1..255 printable
 * characters, else a configuration error.  The UUID is "uuid" (-U, or
 * -B 1,uuid=) or, without one, derived from the host and VM names so a
 * VM keeps it across runs (as bhyve's MD5 of the same names; here a
 * 128-bit FNV-1a, marked as RFC 9562 version 8, "custom").  SMBIOS 2.6
 * and later store the first three UUID fields little-endian.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "firmware/fwtables.h"
#include "options.h"

#define SM3_EP_LEN 0x18
#define SM2_EP_LEN 0x1f
#define SM2_EP_OFF 0x20
#define SM_TABLE_OFF 0x40
#define SM_STR_MAX 255

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

struct sm {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
	int err;
	uint16_t nstruct;
	uint32_t maxsize;
	size_t cur;   /* start of the structure being built */
	uint8_t nstr; /* strings it has so far */
};

static uint8_t *sm_alloc(struct sm *s, size_t n)
{
	uint8_t *p;

	if (s->overflow || n > s->cap - s->len) {
		s->overflow = true;
		return NULL;
	}
	p = s->p + s->len;
	memset(p, 0, n);
	s->len += n;
	return p;
}

/* A structure's formatted area, zeroed, with its header filled in.  On
 * overflow returns a scratch area so callers need not check. */
static uint8_t *sm_begin(struct sm *s, uint8_t type, uint8_t len)
{
	static uint8_t scratch[64];
	uint8_t *e;

	s->cur = s->len;
	s->nstr = 0;
	e = sm_alloc(s, len);
	if (e == NULL) {
		memset(scratch, 0, sizeof(scratch));
		return scratch;
	}
	e[0] = type;
	e[1] = len;
	fw_put16(e + 2, s->nstruct);
	return e;
}

/* Append a string to the current structure; returns its number. */
static uint8_t sm_str(struct sm *s, const char *str)
{
	size_t n = strlen(str) + 1;
	uint8_t *p = sm_alloc(s, n);

	if (p == NULL)
		return 0;
	memcpy(p, str, n);
	return ++s->nstr;
}

static void sm_end(struct sm *s)
{
	/* The string set ends with an extra NUL; with no strings at all the
	 * formatted area is followed by two. */
	sm_alloc(s, s->nstr == 0 ? 2 : 1);
	if (s->overflow)
		return;
	s->maxsize = MAX(s->maxsize, (uint32_t)(s->len - s->cur));
	s->nstruct++;
}

static bool valid_str(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > SM_STR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			return false;
	return true;
}

/* The configured string `key`, or `dflt`. */
static const char *cfg_str(struct sm *s, const char *key, const char *dflt)
{
	const char *v = config_get(NULL, key);

	if (v == NULL)
		return dflt;
	if (!valid_str(v)) {
		khyve_warnx("%s: an SMBIOS string must be 1 to %d printable "
		    "characters", key, SM_STR_MAX);
		if (s->err == 0)
			s->err = -EINVAL;
		return dflt;
	}
	return v;
}

/* ---- UUID ---- */

static void fnv1a(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

/* The UUID in RFC 4122 byte order. */
static int get_uuid(uint8_t u[16])
{
	const char *str = config_get(NULL, "uuid"), *name;
	char host[256] = "";
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;

	if (str != NULL) {
		if (options_parse_uuid(str, u) != 0) {
			khyve_warnx("uuid: \"%s\" is not a UUID", str);
			return -EINVAL;
		}
		return 0;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	name = config_get(NULL, "name");
	if (name == NULL)
		name = "";
	/* Two 64-bit FNV-1a hashes with different offset bases over the
	 * same "host\0name\0" bytes. */
	fnv1a(&h1, host, strlen(host) + 1);
	fnv1a(&h1, name, strlen(name) + 1);
	fnv1a(&h2, "khyve", 5);
	fnv1a(&h2, host, strlen(host) + 1);
	fnv1a(&h2, name, strlen(name) + 1);
	for (int i = 0; i < 8; i++) {
		u[i] = (uint8_t)(h1 >> (56 - 8 * i));
		u[8 + i] = (uint8_t)(h2 >> (56 - 8 * i));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x80); /* version 8 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC variant */
	return 0;
}

/* ---- the structures ---- */

static void type0(struct sm *s, bool acpi)
{
	uint8_t *e = sm_begin(s, 0, 0x18);

	e[4] = sm_str(s, cfg_str(s, "bios.vendor", "khyve"));
	e[5] = sm_str(s, cfg_str(s, "bios.version", "1.0"));
	fw_put16(e + 6, 0xf000); /* BIOS starting segment */
	e[8] = sm_str(s, cfg_str(s, "bios.release_date", "01/01/2025"));
	e[9] = 0;                /* ROM size: 64 KiB */
	/* ISA and PCI supported. */
	fw_put64(e + 0x0a, 1u << 4 | 1u << 7);
	e[0x12] = acpi ? 0x01 : 0x00; /* ACPI supported */
	e[0x13] = 1u << 4;            /* this is a virtual machine */
	e[0x14] = 0xff;               /* BIOS and EC releases: none */
	e[0x15] = 0xff;
	e[0x16] = 0xff;
	e[0x17] = 0xff;
	sm_end(s);
}

static void type1(struct sm *s, const uint8_t uuid[16])
{
	uint8_t *e = sm_begin(s, 1, 0x1b);

	e[4] = sm_str(s, cfg_str(s, "system.manufacturer", "khyve"));
	e[5] = sm_str(s, cfg_str(s, "system.product_name", "khyve"));
	e[6] = sm_str(s, cfg_str(s, "system.version", "1.0"));
	e[7] = sm_str(s, cfg_str(s, "system.serial_number", "None"));
	/* time_low, time_mid, time_hi little-endian; the rest as is. */
	for (int i = 0; i < 4; i++)
		e[8 + i] = uuid[3 - i];
	e[12] = uuid[5];
	e[13] = uuid[4];
	e[14] = uuid[7];
	e[15] = uuid[6];
	memcpy(e + 16, uuid + 8, 8);
	e[0x18] = 0x06; /* woken by the power switch */
	e[0x19] = sm_str(s, cfg_str(s, "system.sku", "None"));
	e[0x1a] = sm_str(s, cfg_str(s, "system.family_name",
	    "Virtual Machine"));
	sm_end(s);
}

static void type2(struct sm *s, uint16_t chassis)
{
	uint8_t *e = sm_begin(s, 2, 0x0f);

	e[4] = sm_str(s, cfg_str(s, "board.manufacturer", "khyve"));
	e[5] = sm_str(s, cfg_str(s, "board.product_name", "khyve"));
	e[6] = sm_str(s, cfg_str(s, "board.version", "1.0"));
	e[7] = sm_str(s, cfg_str(s, "board.serial_number", "None"));
	e[8] = sm_str(s, cfg_str(s, "board.asset_tag", "None"));
	e[9] = 0x01; /* a hosting board */
	e[0x0a] = sm_str(s, cfg_str(s, "board.location", "None"));
	fw_put16(e + 0x0b, chassis);
	e[0x0d] = 0x0a; /* motherboard */
	sm_end(s);
}

static void type3(struct sm *s)
{
	uint8_t *e = sm_begin(s, 3, 0x16);

	e[4] = sm_str(s, cfg_str(s, "chassis.manufacturer", "khyve"));
	e[5] = 0x01; /* other */
	e[6] = sm_str(s, cfg_str(s, "chassis.version", "1.0"));
	e[7] = sm_str(s, cfg_str(s, "chassis.serial_number", "None"));
	e[8] = sm_str(s, cfg_str(s, "chassis.asset_tag", "None"));
	e[9] = 0x03;    /* boot-up state: safe */
	e[0x0a] = 0x03; /* power supply: safe */
	e[0x0b] = 0x03; /* thermal: safe */
	e[0x0c] = 0x03; /* security: none */
	e[0x15] = sm_str(s, cfg_str(s, "chassis.sku", "None"));
	sm_end(s);
}

static void type4(struct sm *s, const struct fw_machine *m, int socket)
{
	unsigned cores = (unsigned)m->topo.cores;
	unsigned threads = (unsigned)(m->topo.cores * m->topo.threads);
	char name[24];
	uint8_t *e = sm_begin(s, 4, 0x30);
	uint16_t chars = 0x04; /* 64-bit capable */

	snprintf(name, sizeof(name), "CPU #%d", socket);
	e[4] = sm_str(s, name);
	e[5] = 0x03; /* central processor */
	e[6] = 0x01; /* family: other */
	e[7] = sm_str(s, m->cpu_vendor[0] ? m->cpu_vendor : "Unknown");
	fw_put32(e + 8, m->cpu_signature);
	fw_put32(e + 12, m->cpu_features);
	e[0x10] = sm_str(s, "Virtual CPU");
	e[0x18] = 0x41; /* socket populated, CPU enabled */
	e[0x19] = 0x06; /* upgrade: none */
	fw_put16(e + 0x1a, 0xffff); /* no cache information */
	fw_put16(e + 0x1c, 0xffff);
	fw_put16(e + 0x1e, 0xffff);
	/* Counts above 255 go in the 3.0 fields; the old ones say 0xff. */
	e[0x23] = (uint8_t)MIN(cores, 0xffu);
	e[0x24] = (uint8_t)MIN(cores, 0xffu);
	e[0x25] = (uint8_t)MIN(threads, 0xffu);
	if (cores > 1)
		chars |= 0x08;
	if (threads > cores)
		chars |= 0x10;
	fw_put16(e + 0x26, chars);
	fw_put16(e + 0x28, 0x01);
	fw_put16(e + 0x2a, (uint16_t)cores);
	fw_put16(e + 0x2c, (uint16_t)cores);
	fw_put16(e + 0x2e, (uint16_t)threads);
	sm_end(s);
}

static uint16_t type16(struct sm *s, const struct fw_machine *m)
{
	uint64_t total = m->lowmem + m->highmem;
	uint16_t handle = s->nstruct;
	uint8_t *e = sm_begin(s, 16, 0x17);

	e[4] = 0x03; /* system board */
	e[5] = 0x03; /* system memory */
	e[6] = 0x03; /* no error correction */
	if (total / KiB < 0x80000000ULL) {
		fw_put32(e + 7, (uint32_t)(total / KiB));
	} else {
		fw_put32(e + 7, 0x80000000U); /* see the extended field */
		fw_put64(e + 0x0f, total);
	}
	fw_put16(e + 0x0b, 0xfffe); /* no error information */
	fw_put16(e + 0x0d, 1);      /* one memory device */
	sm_end(s);
	return handle;
}

static void type17(struct sm *s, const struct fw_machine *m, uint16_t array)
{
	uint64_t mb = (m->lowmem + m->highmem) / MiB;
	uint8_t *e = sm_begin(s, 17, 0x28);

	fw_put16(e + 4, array);
	fw_put16(e + 6, 0xfffe);
	fw_put16(e + 8, 64);
	fw_put16(e + 0x0a, 64);
	if (mb < 0x7fff) {
		fw_put16(e + 0x0c, (uint16_t)mb); /* bit 15 clear: MiB */
	} else {
		fw_put16(e + 0x0c, 0x7fff);
		fw_put32(e + 0x1c, (uint32_t)MIN(mb, 0x7fffffffULL));
	}
	e[0x0e] = 0x01; /* form factor: other */
	e[0x10] = sm_str(s, "RAM");
	e[0x11] = sm_str(s, "None");
	e[0x12] = 0x07;             /* RAM */
	fw_put16(e + 0x13, 0x0002); /* type detail: other */
	e[0x17] = sm_str(s, "khyve");
	e[0x18] = sm_str(s, "None");
	e[0x19] = sm_str(s, "None");
	e[0x1a] = sm_str(s, "None");
	sm_end(s);
}

static void type19(struct sm *s, uint64_t start, uint64_t size,
    uint16_t array)
{
	uint64_t last = start + size - 1;
	uint8_t *e = sm_begin(s, 19, 0x1f);

	/* Inclusive ends; KiB fields when the range fits below 4 TiB. */
	if (last / KiB < 0xffffffffULL) {
		fw_put32(e + 4, (uint32_t)(start / KiB));
		fw_put32(e + 8, (uint32_t)(last / KiB));
	} else {
		fw_put32(e + 4, 0xffffffffU);
		fw_put32(e + 8, 0xffffffffU);
		fw_put64(e + 0x0f, start);
		fw_put64(e + 0x17, last);
	}
	fw_put16(e + 0x0c, array);
	e[0x0e] = 1; /* devices per row */
	sm_end(s);
}

int smbios_build(const struct fw_machine *m, uint8_t *buf, uint64_t gpa,
    size_t cap, size_t *used)
{
	struct sm s = { .p = buf, .cap = cap };
	uint8_t uuid[16], *ep3, *ep2;
	uint16_t array, chassis;
	size_t tlen;
	int rc;

	if (m->topo.sockets < 1 || m->topo.cores < 1 || m->topo.threads < 1 ||
	    gpa > UINT32_MAX - cap)
		return -EINVAL;
	if ((rc = get_uuid(uuid)) != 0)
		return rc;
	if (cap < SM_TABLE_OFF)
		return -ENOSPC;
	ep3 = sm_alloc(&s, SM2_EP_OFF);
	ep2 = sm_alloc(&s, SM_TABLE_OFF - SM2_EP_OFF);

	type0(&s, config_bool(NULL, "acpi_tables", true));
	type1(&s, uuid);
	chassis = (uint16_t)(s.nstruct + 1); /* type 3 follows type 2 */
	type2(&s, chassis);
	type3(&s);
	for (int i = 0; i < m->topo.sockets; i++)
		type4(&s, m, i);
	array = type16(&s, m);
	type17(&s, m, array);
	if (m->lowmem != 0)
		type19(&s, 0, m->lowmem, array);
	if (m->highmem != 0)
		type19(&s, GMEM_HIGHMEM_BASE, m->highmem, array);
	sm_begin(&s, 32, 0x0b); /* boot status 0: no errors */
	sm_end(&s);
	sm_begin(&s, 127, 4);
	sm_end(&s);
	if (s.err != 0)
		return s.err;
	if (s.overflow) {
		khyve_warnx("the SMBIOS tables do not fit in %zu bytes", cap);
		return -ENOSPC;
	}
	tlen = s.len - SM_TABLE_OFF;

	memcpy(ep3, "_SM3_", 5);
	ep3[6] = SM3_EP_LEN;
	ep3[7] = 3; /* SMBIOS 3.0 */
	ep3[8] = 0;
	ep3[9] = 0;    /* docrev */
	ep3[10] = 1;   /* entry point revision: 3.0 */
	fw_put32(ep3 + 12, (uint32_t)tlen); /* maximum table size */
	fw_put64(ep3 + 16, gpa + SM_TABLE_OFF);
	ep3[5] = (uint8_t)-fw_sum(ep3, SM3_EP_LEN);

	/* The 2.x structure table length is 16 bits: without room for it
	 * only the 3.0 entry point exists. */
	if (tlen <= 0xffff) {
		memcpy(ep2, "_SM_", 4);
		ep2[5] = SM2_EP_LEN;
		ep2[6] = 2; /* SMBIOS 2.8 */
		ep2[7] = 8;
		fw_put16(ep2 + 8, (uint16_t)s.maxsize);
		memcpy(ep2 + 0x10, "_DMI_", 5);
		fw_put16(ep2 + 0x16, (uint16_t)tlen);
		fw_put32(ep2 + 0x18, (uint32_t)(gpa + SM_TABLE_OFF));
		fw_put16(ep2 + 0x1c, s.nstruct);
		ep2[0x1e] = 0x28; /* BCD revision 2.8 */
		ep2[0x15] = (uint8_t)-fw_sum(ep2 + 0x10, 0x0f);
		ep2[4] = (uint8_t)-fw_sum(ep2, SM2_EP_LEN);
	}
	*used = s.len;
	return 0;
}

/*
 * For QEMU's fw_cfg: the structures built at address 0, then the entry
 * point firmware expects in etc/smbios/smbios-anchor (QEMU's choice: the
 * 2.x one while the table fits its 16-bit length) with the structure
 * table address 0, firmware's to fill in, and checksums right as it is.
 */
#define SM_FWCFG_CAP (64 * 1024 + SM_TABLE_OFF + 4096)

int smbios_build_fwcfg(const struct fw_machine *m, struct fw_fwcfg_blobs *b)
{
	uint8_t *buf = malloc(SM_FWCFG_CAP), *ep;
	size_t used, tlen, elen;
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	if ((rc = smbios_build(m, buf, 0, SM_FWCFG_CAP, &used)) != 0)
		goto out;
	tlen = used - SM_TABLE_OFF;
	if (tlen <= 0xffff) {
		ep = buf + SM2_EP_OFF;
		elen = SM2_EP_LEN;
		fw_put32(ep + 0x18, 0);
		ep[0x15] = 0;
		ep[0x15] = (uint8_t)-fw_sum(ep + 0x10, 0x0f);
		ep[4] = 0;
		ep[4] = (uint8_t)-fw_sum(ep, SM2_EP_LEN);
	} else {
		ep = buf;
		elen = SM3_EP_LEN;
		fw_put64(ep + 16, 0);
		ep[5] = 0;
		ep[5] = (uint8_t)-fw_sum(ep, SM3_EP_LEN);
	}
	b->sm_anchor = malloc(elen);
	b->sm_tables = malloc(tlen);
	if (b->sm_anchor == NULL || b->sm_tables == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(b->sm_anchor, ep, elen);
	b->sm_anchor_len = elen;
	memcpy(b->sm_tables, buf + SM_TABLE_OFF, tlen);
	b->sm_tables_len = tlen;
out:
	free(buf);
	return rc;
}
