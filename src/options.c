/*
 * options.c - the command line (options.h): bhyve's getopt loop and the
 * parsers of option values.  Options only set configuration keys.
 *
 * Every value comes from the user and is checked completely here; the
 * parsers fill a short "why" so that each error is exactly one line
 * "khyve: -X VALUE: why" followed by exit status 64 (EX_USAGE).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci_emul.h"
#include "common.h"
#include "config.h"
#include "dev/platform.h"
#include "options.h"

#define WHY_MAX 192
#define VM_NAME_MAX 31      /* bhyve: VM_MAX_NAMELEN (32) with the NUL */
#define SMBIOS_VALUE_MAX 255
#define KBD_LAYOUT_MAX 64

/* Format the reason for a rejected value; always returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * An unsigned number with strtoul syntax (base 0 or 10) that must start
 * with a digit (no blanks or sign), end exactly at `end` (or the NUL when
 * end is NULL) and not exceed `max`.
 */
static int parse_num(const char *s, const char *end, int base,
    unsigned long max, unsigned long *out)
{
	char buf[32], *stop;
	size_t len = end ? (size_t)(end - s) : strlen(s);
	unsigned long v;

	if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoul(buf, &stop, base);
	if (errno != 0 || *stop != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- -c --------------------------------------------------------------- */

static int topology(const char *s, struct vm_topology *t, char *why,
    size_t wlen)
{
	static const char *const keys[] = { "cpus=", "sockets=", "cores=",
		"threads=" };
	unsigned long val[4] = { 1, 1, 1, 1 }, product;
	bool given[4] = { false, false, false, false };
	const char *tok, *end, *v;
	size_t k, tlen;

	/* bhyve: an empty specification is 1 vCPU, by design. */
	if (*s == '\0') {
		*t = (struct vm_topology){ 1, 1, 1, 1 };
		return 0;
	}
	for (tok = s;; tok = end + 1) {
		end = strchr(tok, ',');
		tlen = end ? (size_t)(end - tok) : strlen(tok);
		if (tlen == 0)
			return fail(why, wlen, "empty item");
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (strncmp(tok, keys[k], strlen(keys[k])) == 0)
				break;
		if (k == ARRAY_SIZE(keys)) {
			if (memchr(tok, '=', tlen) != NULL)
				return fail(why, wlen, "unknown setting "
				    "\"%.*s\" (cpus, sockets, cores, threads)",
				    (int)tlen, tok);
			k = 0; /* a bare number is cpus */
			v = tok;
		} else {
			v = tok + strlen(keys[k]);
		}
		if (parse_num(v, tok + tlen, 0, VM_MAX_VCPUS, &val[k]) != 0 ||
		    val[k] < 1)
			return fail(why, wlen, "\"%.*s\": expected a number "
			    "1..%d", (int)tlen, tok, VM_MAX_VCPUS);
		given[k] = true;
		if (end == NULL)
			break;
	}
	/* bhyve's calc_topology(): sockets default to cpus. */
	if (!given[1])
		val[1] = val[0];
	product = val[1] * val[2] * val[3]; /* each <= 256: no overflow */
	if (product > VM_MAX_VCPUS)
		return fail(why, wlen, "sockets*cores*threads = %lu exceeds "
		    "%d vCPUs", product, VM_MAX_VCPUS);
	if (given[0] && val[0] != product)
		return fail(why, wlen, "%lu sockets * %lu cores * %lu threads "
		    "does not match %lu vCPUs", val[1], val[2], val[3],
		    val[0]);
	*t = (struct vm_topology){ (int)product, (int)val[1], (int)val[2],
		(int)val[3] };
	return 0;
}

int options_parse_topology(const char *s, struct vm_topology *out)
{
	return s ? topology(s, out, NULL, 0) : -EINVAL;
}

/* ---- -m --------------------------------------------------------------- */

static int memsize(const char *s, uint64_t *bytes, char *why, size_t wlen)
{
	static const char units[] = "bkmgtpe";
	unsigned long long v;
	const char *u;
	char *end;
	int shift;

	if (!isdigit((unsigned char)s[0]))
		return fail(why, wlen, "not a size");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0)
		return fail(why, wlen, "too large");
	if (*end == '\0') {
		/* bhyve's backward compatibility: small numbers are MiB. */
		if (v < (1ULL << 20))
			v <<= 20;
	} else {
		u = strchr(units, tolower((unsigned char)*end));
		if (u == NULL || end[1] != '\0')
			return fail(why, wlen, "bad unit (B, K, M, G, T, P "
			    "or E)");
		shift = (int)(u - units) * 10;
		if (shift > 0 && v > (UINT64_MAX >> shift))
			return fail(why, wlen, "too large");
		v <<= shift;
	}
	if (v < (1ULL << 20))
		return fail(why, wlen, "guest memory must be at least 1 MiB");
	*bytes = v;
	return 0;
}

int options_parse_memsize(const char *s, uint64_t *bytes)
{
	return s ? memsize(s, bytes, NULL, 0) : -EINVAL;
}

/* ---- -p, -U, -g, -G ---------------------------------------------------- */

static int pincpu(const char *s, int *vcpu, int *hostcpu, char *why,
    size_t wlen)
{
	const char *colon = strchr(s, ':');
	unsigned long v, h;

	if (colon == NULL)
		return fail(why, wlen, "expected vcpu:hostcpu");
	if (parse_num(s, colon, 10, VM_MAX_VCPUS - 1, &v) != 0)
		return fail(why, wlen, "vcpu must be a number 0..%d",
		    VM_MAX_VCPUS - 1);
	if (parse_num(colon + 1, NULL, 10, CPU_SETSIZE - 1, &h) != 0)
		return fail(why, wlen, "hostcpu must be a number 0..%d",
		    CPU_SETSIZE - 1);
	*vcpu = (int)v;
	*hostcpu = (int)h;
	return 0;
}

int options_parse_pincpu(const char *s, int *vcpu, int *hostcpu)
{
	return s ? pincpu(s, vcpu, hostcpu, NULL, 0) : -EINVAL;
}

/* One decimal CPU number at *s, advanced past it. */
static int cpu_number(const char **s, long *cpu)
{
	char *end;

	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	errno = 0;
	*cpu = strtol(*s, &end, 10);
	if (errno || *cpu >= CPU_SETSIZE)
		return -EINVAL;
	*s = end;
	return 0;
}

int options_parse_cpuset(const char *s, cpu_set_t *set)
{
	long lo, hi;

	if (s == NULL || set == NULL)
		return -EINVAL;
	CPU_ZERO(set);
	for (;;) {
		if (cpu_number(&s, &lo) != 0)
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s++;
			if (cpu_number(&s, &hi) != 0 || hi < lo)
				return -EINVAL;
		}
		for (long c = lo; c <= hi; c++)
			CPU_SET((int)c, set);
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

static int hexval(char c)
{
	unsigned char ch = (unsigned char)c;

	if (isdigit(ch))
		return ch - '0';
	return isxdigit(ch) ? tolower(ch) - 'a' + 10 : -1;
}

int options_parse_uuid(const char *s, uint8_t uuid[16])
{
	uint8_t b[16];
	size_t i = 0, n = 0;
	int hi, lo;

	if (s == NULL || strlen(s) != 36)
		return -EINVAL;
	while (i < 36) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		/* Groups have even lengths: a pair never spans a dash. */
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || n == sizeof(b))
			return -EINVAL;
		b[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	if (uuid != NULL)
		memcpy(uuid, b, sizeof(b));
	return 0;
}

int options_parse_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (s == NULL || parse_num(s, NULL, 10, 65535, &v) != 0 || v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int gdb(const char *s, struct options_gdb *g, char *why, size_t wlen)
{
	const char *colon, *addr;
	size_t alen;

	memset(g, 0, sizeof(*g));
	if (*s == 'w') { /* bhyve: a leading 'w' waits for the debugger */
		g->wait = true;
		s++;
	}
	colon = strrchr(s, ':');
	if (options_parse_port(colon ? colon + 1 : s, &g->port) != 0)
		return fail(why, wlen, "expected [w][bind_address:]port with "
		    "a port 1..65535");
	if (colon == NULL)
		return 0;
	addr = s;
	alen = (size_t)(colon - s);
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
		addr++; /* [v6addr]:port */
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(g->addr))
		return fail(why, wlen, "bad bind address");
	for (size_t i = 0; i < alen; i++) {
		unsigned char ch = (unsigned char)addr[i];

		/* Host names, IPv4, IPv6 (with %zone). */
		if (!isalnum(ch) && !strchr(".-_:%", ch))
			return fail(why, wlen, "bad bind address");
	}
	memcpy(g->addr, addr, alen);
	g->addr[alen] = '\0';
	return 0;
}

int options_parse_gdb(const char *s, struct options_gdb *out)
{
	return s ? gdb(s, out, NULL, 0) : -EINVAL;
}

/* ---- -s --------------------------------------------------------------- */

/* bhyve's pci_parse_legacy_config(), minus its acceptance of "" items. */
static int pci_generic_conf(struct config_node *dev, const char *emul,
    char *conf, char *why, size_t wlen)
{
	char *tok, *eq;

	while ((tok = strsep(&conf, ",")) != NULL) {
		if (*tok == '\0')
			return fail(why, wlen, "empty item");
		eq = strchr(tok, '=');
		if (eq != NULL) {
			*eq = '\0';
			if (config_set(dev, tok, eq + 1) != 0)
				return fail(why, wlen, "bad key \"%s\" (dot-"
				    "separated names of letters, digits, '_' "
				    "and '-', not clashing with another)",
				    tok);
		} else if (strchr(tok, '.') != NULL ||
		    config_set(dev, tok, "true") != 0) {
			return fail(why, wlen, "\"%s\" is not a key=value item "
			    "and %s has no parser for other forms", tok, emul);
		}
	}
	return 0;
}

/*
 * bootindex=N (bhyve 14): the firmware boot order position of any PCI
 * device, so the PCI options take it before the device's own parser sees
 * the rest.  Stored as pci.B.S.F.bootindex as given; dev/fwcfg_dev.c
 * judges the value (it also comes from -o) and turns these into QEMU's
 * "bootorder" file.  *conf becomes NULL when nothing else is left.
 */
static int take_bootindex(struct config_node *dev, char **conf, char *why,
    size_t wlen)
{
	static const char key[] = "bootindex=";
	char *in = *conf, *out = *conf, *tok;
	bool first = true;

	if (strstr(*conf, key) == NULL)
		return 0;
	/* Keep every other item as it was, empty ones too (the device's
	 * parser judges them). */
	while ((tok = strsep(&in, ",")) != NULL) {
		if (strncmp(tok, key, sizeof(key) - 1) != 0) {
			if (!first)
				*out++ = ',';
			first = false;
			memmove(out, tok, strlen(tok));
			out += strlen(tok);
			continue;
		}
		if (config_get(dev, "bootindex") != NULL)
			return fail(why, wlen, "bootindex given twice");
		if (config_set(dev, "bootindex", tok + sizeof(key) - 1) != 0)
			return fail(why, wlen, "cannot store bootindex");
	}
	*out = '\0';
	if (first)
		*conf = NULL;
	return 0;
}

static int pci_slot(const char *arg, char *why, size_t wlen)
{
	const struct pci_devemu *pe;
	unsigned long num[3] = { 0, 0, 0 };
	static const unsigned long lim[3] = { 255, 31, 7 };
	char node[sizeof("pci.255.31.7")], *copy, *emul, *conf, *p, *colon;
	struct config_node *dev;
	int i, n, first, rc = -EINVAL;

	copy = strdup(arg);
	if (copy == NULL)
		return fail(why, wlen, "out of memory");
	emul = strchr(copy, ',');
	if (emul == NULL) {
		fail(why, wlen, "expected slot,emulation[,conf]");
		goto out;
	}
	*emul++ = '\0';
	conf = strchr(emul, ',');
	if (conf != NULL)
		*conf++ = '\0';
	/* slot | slot:func | bus:slot:func */
	for (n = 1, p = copy; (p = strchr(p, ':')) != NULL; p++)
		n++;
	if (n > 3) {
		fail(why, wlen, "slot must be slot, slot:func or "
		    "bus:slot:func");
		goto out;
	}
	first = n == 3 ? 0 : 1;
	for (i = first, p = copy; i < first + n; i++, p = colon + 1) {
		colon = strchr(p, ':');
		if (parse_num(p, colon, 10, lim[i], &num[i]) != 0) {
			fail(why, wlen, "bus must be 0..255, slot 0..31 and "
			    "function 0..7");
			goto out;
		}
		if (colon == NULL)
			break;
	}
	if (*emul == '\0' || strlen(emul) > PCI_EMUL_NAME_MAX ||
	    strspn(emul, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != strlen(emul)) {
		fail(why, wlen, "bad emulation name \"%s\"", emul);
		goto out;
	}
	snprintf(node, sizeof(node), "pci.%lu.%lu.%lu", num[0], num[1],
	    num[2]);
	if (config_find(NULL, node) != NULL) {
		fail(why, wlen, "PCI slot %lu:%lu:%lu is already occupied",
		    num[0], num[1], num[2]);
		goto out;
	}
	dev = config_create(NULL, node);
	if (dev == NULL || config_set(dev, "device", emul) != 0) {
		fail(why, wlen, "%s conflicts with another setting", node);
		goto undo;
	}
	/*
	 * Unknown emulations are stored too: the PCI layer rejects them when
	 * it builds the bus, naming the slot.
	 */
	pe = pci_emul_find(emul);
	rc = 0;
	if (conf != NULL && *conf != '\0' &&
	    (rc = take_bootindex(dev, &conf, why, wlen)) != 0)
		goto undo;
	if (conf != NULL && *conf == '\0')
		rc = fail(why, wlen, "empty configuration after \"%s\"", emul);
	else if (conf != NULL && pe != NULL && pe->pe_legacy_config != NULL)
		rc = pe->pe_legacy_config(dev, conf); /* it printed why */
	else if (conf != NULL)
		rc = pci_generic_conf(dev, emul, conf, why, wlen);
undo:
	if (rc != 0)
		config_unset(NULL, node);
out:
	free(copy);
	return rc;
}

int options_parse_pci_slot(const char *arg)
{
	return arg ? pci_slot(arg, NULL, 0) : -EINVAL;
}

/* ---- -B --------------------------------------------------------------- */

/* SMBIOS string keys per structure type (illumos smbiostbl.c tables). */
static const char *const smbios_node[] = { "bios", "system", "board",
	"chassis" };
static const char *const smbios_keys[][7] = {
	{ "vendor", "version", "release_date" },
	{ "manufacturer", "product_name", "version", "serial_number", "sku",
	    "family_name" },
	{ "manufacturer", "product_name", "version", "serial_number",
	    "asset_tag", "location" },
	{ "manufacturer", "version", "serial_number", "asset_tag", "sku" },
};
/* Type 1 names accepted by earlier illumos bhyve. */
static const char *const smbios_legacy[][2] = {
	{ "product", "product_name" },
	{ "serial", "serial_number" },
	{ "family", "family_name" },
};

static int smbios(const char *arg, char *why, size_t wlen)
{
	char key[64], *copy, *rest, *tok, *val;
	unsigned long type;
	const char *name;
	int rc = 0;
	size_t i;

	copy = strdup(arg);
	if (copy == NULL)
		return fail(why, wlen, "out of memory");
	rest = copy;
	tok = strsep(&rest, ",");
	if (parse_num(tok, NULL, 10, ARRAY_SIZE(smbios_node) - 1, &type)) {
		rc = fail(why, wlen, "the type must be 0..3");
		goto out;
	}
	while (rc == 0 && (tok = strsep(&rest, ",")) != NULL) {
		val = strchr(tok, '=');
		if (val == NULL || val == tok || val[1] == '\0') {
			rc = fail(why, wlen, "\"%s\" is not key=value", tok);
			break;
		}
		*val++ = '\0';
		if (strlen(val) > SMBIOS_VALUE_MAX ||
		    strspn(val, " ") == strlen(val)) {
			rc = fail(why, wlen, "bad value for %s", tok);
			break;
		}
		for (i = 0; val[i] != '\0'; i++)
			if (iscntrl((unsigned char)val[i]))
				rc = fail(why, wlen, "bad value for %s", tok);
		if (rc != 0)
			break;
		/* UUID is a top-level setting, and -U takes priority. */
		if (strcmp(tok, "uuid") == 0) {
			if (options_parse_uuid(val, NULL) != 0 ||
			    config_set_default(NULL, "uuid", val) != 0)
				rc = fail(why, wlen, "bad uuid \"%s\"", val);
			continue;
		}
		name = tok;
		for (i = 0; type == 1 && i < ARRAY_SIZE(smbios_legacy); i++)
			if (strcmp(tok, smbios_legacy[i][0]) == 0)
				name = smbios_legacy[i][1];
		for (i = 0; i < ARRAY_SIZE(smbios_keys[0]); i++)
			if (smbios_keys[type][i] != NULL &&
			    strcmp(name, smbios_keys[type][i]) == 0)
				break;
		if (i == ARRAY_SIZE(smbios_keys[0])) {
			rc = fail(why, wlen, "unknown key %s for type %lu", tok,
			    type);
			break;
		}
		snprintf(key, sizeof(key), "%s.%s", smbios_node[type], name);
		if (config_set(NULL, key, val) != 0)
			rc = fail(why, wlen, "%s conflicts with another "
			    "setting", key);
	}
out:
	free(copy);
	return rc;
}

int options_parse_smbios(const char *arg)
{
	return arg ? smbios(arg, NULL, 0) : -EINVAL;
}

/* ---- the option loop -------------------------------------------------- */

/* Flags that only set one key (bhyve_optparse()).  `note` is printed once
 * when the flag has no effect under KVM. */
static const struct {
	char opt;
	const char *key, *value, *note;
} flag_opts[] = {
	{ 'a', "x86.x2apic", "false", NULL },
	{ 'A', "acpi_tables", "true", NULL },
	{ 'b', "bvmconsole", "true", NULL },
	{ 'C', "memory.guest_in_core", "true", NULL },
	{ 'd', "suspend_at_boot", "true", "ignored: khyve has no bhyvectl "
	    "to resume vCPUs suspended at start (illumos); use -G w..." },
	{ 'D', "destroy_on_poweroff", "true", "ignored: a KVM VM exists only "
	    "while its khyve process runs, so it is always destroyed on "
	    "power-off" },
	{ 'e', "x86.strictio", "true", NULL },
	{ 'H', "x86.vmexit_on_hlt", "true", NULL },
	{ 'P', "x86.vmexit_on_pause", "true", NULL },
	{ 'S', "memory.wired", "true", NULL },
	{ 'u', "rtc.use_localtime", "false", NULL },
	{ 'w', "x86.strictmsr", "false", NULL },
	{ 'W', "virtio_msix", "false", NULL },
	{ 'x', "x86.x2apic", "true", NULL },
	{ 'Y', "x86.mptable", "false", NULL },
};

/*
 * Set key=value for option -c (arg may be NULL for flags); print one line
 * and fail when the key clashes with one set earlier (e.g. "-o
 * x86.x2apic.a=1" made x86.x2apic a group of keys).
 */
static int set_key(int c, const char *arg, const char *key, const char *value)
{
	if (config_set(NULL, key, value) == 0)
		return 0;
	khyve_warnx("-%c%s%s: cannot set %s (it clashes with another "
	    "setting)", c, arg ? " " : "", arg ? arg : "", key);
	return -EINVAL;
}

static int set_num(int c, const char *arg, const char *key,
    unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	return set_key(c, arg, key, buf);
}

static int opt_pincpu(const char *arg, char *why, size_t wlen)
{
	char key[32], *list, *tok, *save = NULL, host[16];
	const char *old;
	int v, h, rc;

	if ((rc = pincpu(arg, &v, &h, why, wlen)) != 0)
		return rc;
	snprintf(key, sizeof(key), "vcpu.%d.cpuset", v);
	snprintf(host, sizeof(host), "%d", h);
	old = config_get(NULL, key);
	if (old == NULL)
		return set_key('p', arg, key, host);
	/* bhyve appends; skip a host CPU already listed (bounds the list). */
	if (asprintf(&list, "%s", old) < 0)
		return fail(why, wlen, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, host) == 0) {
			free(list);
			return 0;
		}
	}
	free(list);
	if (asprintf(&list, "%s,%s", old, host) < 0)
		return fail(why, wlen, "out of memory");
	rc = set_key('p', arg, key, list);
	free(list);
	return rc;
}

static int opt_gdb(const char *arg, char *why, size_t wlen)
{
	struct options_gdb g;
	int rc;

	if ((rc = gdb(arg, &g, why, wlen)) != 0)
		return rc;
	if (g.wait && (rc = set_key('G', arg, "gdb.wait", "true")) != 0)
		return rc;
	if (g.addr[0] && (rc = set_key('G', arg, "gdb.address", g.addr)) != 0)
		return rc;
	return set_num('G', arg, "gdb.port", g.port);
}

/*
 * -f [name=]NAME,string=VALUE|file=PATH (bhyve's qemu_fwcfg syntax): a
 * fw_cfg file, stored as fwcfg.user.N.{name,string|file}; the device
 * (dev/fwcfg_dev.c) reads the file.  NAME is 1..55 bytes.
 */
static int opt_fwcfg_file(const char *arg, char *why, size_t wlen)
{
	const char *name = arg, *comma, *v;
	struct config_node *n = config_find(NULL, "fwcfg.user");
	char key[64], nm[64];
	unsigned idx = 0;

	if (strncmp(name, "name=", 5) == 0)
		name += 5;
	comma = strchr(name, ',');
	if (comma == NULL || comma == name || comma - name >= 56)
		return fail(why, wlen, "expected [name=]NAME,string=VALUE or "
		    "[name=]NAME,file=PATH (NAME 1..55 bytes)");
	v = comma + 1;
	if (strncmp(v, "string=", 7) != 0 &&
	    (strncmp(v, "file=", 5) != 0 || v[5] == '\0'))
		return fail(why, wlen, "expected string=VALUE or file=PATH "
		    "after the name");
	for (struct config_node *c = n ? config_node_first(n) : NULL;
	     c != NULL; c = config_node_next(c))
		idx++;
	snprintf(nm, sizeof(nm), "%.*s", (int)(comma - name), name);
	snprintf(key, sizeof(key), "fwcfg.user.%u.name", idx);
	if (set_key('f', arg, key, nm) != 0)
		return -EINVAL;
	if (v[0] == 's') {
		snprintf(key, sizeof(key), "fwcfg.user.%u.string", idx);
		return set_key('f', arg, key, v + 7);
	}
	snprintf(key, sizeof(key), "fwcfg.user.%u.file", idx);
	return set_key('f', arg, key, v + 5);
}

static int opt_layout(const char *arg, char *why, size_t wlen)
{
	/* A file name under bhyve's kbdlayout directory: no paths. */
	if (*arg == '\0' || strlen(arg) > KBD_LAYOUT_MAX ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(arg) || arg[0] == '.')
		return fail(why, wlen, "expected a layout file name");
	return set_key('K', arg, "keyboard.layout", arg);
}

/*
 * Handle one option with an argument.  Returns 0, or -EINVAL after the
 * error line was printed (or will be, from `why`, by the caller).
 */
static int opt_value(int c, const char *arg, char *why, size_t wlen)
{
	struct vm_topology t;
	uint64_t bytes;
	uint16_t port;
	int rc;

	switch (c) {
	case 'B':
		return smbios(arg, why, wlen);
	case 'c':
		if ((rc = topology(arg, &t, why, wlen)) != 0)
			return rc;
		if (set_num(c, arg, "cpus", (unsigned)t.cpus) ||
		    set_num(c, arg, "sockets", (unsigned)t.sockets) ||
		    set_num(c, arg, "cores", (unsigned)t.cores) ||
		    set_num(c, arg, "threads", (unsigned)t.threads))
			return -EINVAL;
		return 0;
	case 'f':
		return opt_fwcfg_file(arg, why, wlen);
	case 'g':
		if (options_parse_port(arg, &port) != 0)
			return fail(why, wlen, "expected a port 1..65535");
		return set_num(c, arg, "bvmdebug.port", port);
	case 'G':
		return opt_gdb(arg, why, wlen);
	case 'k':
		return config_load_file(arg) == 0 ? 0 : -EINVAL;
	case 'K':
		return opt_layout(arg, why, wlen);
	case 'l':
		return platform_dev_parse_lpc(arg) == 0 ? 0 : -EINVAL;
	case 'm':
		if ((rc = memsize(arg, &bytes, why, wlen)) != 0)
			return rc;
		return set_num(c, arg, "memory.size", bytes);
	case 'o':
		return config_parse_assignment(arg, "-o") == 0 ? 0 : -EINVAL;
	case 'p':
		return opt_pincpu(arg, why, wlen);
	case 'r':
		return fail(why, wlen, "restoring a checkpoint is not "
		    "supported by khyve");
	case 's':
		return pci_slot(arg, why, wlen);
	case 'U':
		if (options_parse_uuid(arg, NULL) != 0)
			return fail(why, wlen, "expected a UUID "
			    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
		return set_key(c, arg, "uuid", arg);
	default:
		return fail(why, wlen, "unhandled option");
	}
}

static int check_name(const char *name, char *why, size_t wlen)
{
	size_t len = strlen(name);

	if (len == 0 || len > VM_NAME_MAX)
		return fail(why, wlen, "the VM name must be 1..%d characters",
		    VM_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)name[i]) || name[i] == '/')
			return fail(why, wlen, "the VM name must be printable, "
			    "without blanks or '/'");
	return 0;
}

void options_usage(FILE *f, const char *progname)
{
	int w = (int)strlen(progname);

	fprintf(f,
	    "Usage: %s [-aCDdeHhPSuWwxY]\n"
	    "       %*s [-c [[cpus=]numcpus][,sockets=n][,cores=n][,threads=n]]\n"
	    "       %*s [-B type,key=value,...] [-G [w][bind_address:]port]\n"
	    "       %*s [-f [name=]name,(string|file)=value]\n"
	    "       %*s [-k config_file] [-K layout] [-l lpcdev[,conf]]\n"
	    "       %*s [-m memsize[K|M|G|T]] [-o var=value] [-p vcpu:hostcpu]\n"
	    "       %*s [-s slot,emulation[,conf]] [-U uuid] vmname\n"
	    "       %s -l help\n"
	    "       %s -s help\n"
	    "       -A: create ACPI tables (the default)\n"
	    "       -a: local APIC is in xAPIC mode (the default)\n"
	    "       -B: set SMBIOS information (type 0..3)\n"
	    "       -C: include guest memory in core files\n"
	    "       -c: number of CPUs and/or topology specification\n"
	    "       -D: destroy on power-off (always so with KVM)\n"
	    "       -e: exit on unhandled I/O access\n"
	    "       -f: add a fw_cfg file (with -l fwcfg,qemu)\n"
	    "       -G: start a GDB debug server\n"
	    "       -H: vmexit from the guest on HLT\n"
	    "       -h: help\n"
	    "       -k: key=value flat config file\n"
	    "       -K: PS/2 keyboard layout\n"
	    "       -l: LPC device configuration\n"
	    "       -m: memory size (MiB without a unit)\n"
	    "       -o: set config 'var' to 'value'\n"
	    "       -P: vmexit from the guest on pause\n"
	    "       -p: pin 'vcpu' to 'hostcpu'\n"
	    "       -S: guest memory cannot be swapped\n"
	    "       -s: <slot,driver,configinfo> PCI slot config\n"
	    "       -U: UUID\n"
	    "       -u: RTC keeps UTC time\n"
	    "       -W: force virtio to use single-vector MSI\n"
	    "       -w: ignore unimplemented MSRs\n"
	    "       -x: local APIC is in x2APIC mode\n"
	    "       -Y: disable MPtable generation\n",
	    progname, w, "", w, "", w, "", w, "", w, "", w, "", progname,
	    progname);
}

int options_parse(int argc, char **argv, int *exit_code)
{
	/* '+': stop at the first operand, as BSD getopt does ("khyve vm -m
	 * 1G" is an error there, not a reordering). */
	static const char optstr[] =
	    "+aAbCdDehHIPSuwWxYB:c:f:g:G:k:K:l:m:o:p:r:s:U:";
	const char *prog = "khyve", *name;
	char why[WHY_MAX];
	size_t i;
	int c;

	if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0')
		prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
		    argv[0];
	*exit_code = 0;
	optind = 0; /* glibc: 0 re-initialises getopt completely */
	while ((c = getopt(argc, argv, optstr)) != -1) {
		for (i = 0; i < ARRAY_SIZE(flag_opts); i++)
			if (flag_opts[i].opt == c)
				break;
		if (i < ARRAY_SIZE(flag_opts)) {
			if (set_key(c, NULL, flag_opts[i].key,
			    flag_opts[i].value) != 0)
				goto bad;
			if (flag_opts[i].note != NULL)
				khyve_warnx("-%c: %s", c, flag_opts[i].note);
			continue;
		}
		switch (c) {
		case 'I': /* bhyve: the I/O APIC is always there; no-op */
			continue;
		case 'h':
			options_usage(stdout, prog);
			return 1;
		case 'l':
		case 's':
			if (strcmp(optarg, "help") == 0) {
				if (c == 'l')
					platform_dev_print_help();
				else
					pci_emul_print_help();
				return 1;
			}
			break;
		case '?':
		case ':':
			goto usage;
		}
		why[0] = '\0';
		if (opt_value(c, optarg, why, sizeof(why)) != 0) {
			/* Parsers that print for themselves leave why empty. */
			if (why[0] != '\0')
				khyve_warnx("-%c %s: %s", c, optarg, why);
			goto bad;
		}
	}
	if (argc - optind > 1)
		goto usage;
	if (argc - optind == 1 &&
	    config_set(NULL, "name", argv[optind]) != 0) {
		khyve_warnx("vmname %s: cannot set name (it clashes with "
		    "another setting)", argv[optind]);
		goto bad;
	}
	name = config_get(NULL, "name");
	if (name == NULL)
		goto usage;
	if (check_name(name, why, sizeof(why)) != 0) {
		khyve_warnx("vmname %s: %s", name, why);
		goto bad;
	}
	return 0;
usage:
	options_usage(stderr, prog);
	*exit_code = 1;
	return 1;
bad:
	*exit_code = KHYVE_EXIT_USAGE;
	return 1;
}
