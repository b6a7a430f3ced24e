/*
 * config.c - the configuration tree (see config.h; bhyve's config.c design).
 *
 * The tree is a plain n-ary tree of nodes.  A node with a value is a leaf;
 * a node without one is interior (possibly still childless).  Children are
 * kept in insertion order, as bhyve's nvlists do; config_dump() sorts.
 *
 * Trust boundary: every key and value comes from the command line or a -k
 * file, so paths and values are length-checked, key components are limited
 * to [A-Za-z0-9_-], and %(name) expansion is bounded both in depth (as
 * bhyve's) and in output size (so a chain of references that doubles at
 * each level cannot blow up memory or time).
 *
 * The tree is the one accepted global (DEVELOPERS.md); it is only changed
 * by the main thread before other threads start.  Reading a value that
 * needs expansion fills a per-node cache, so that one step takes a lock:
 * device threads may read the configuration at any time.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "config.h"

#define CONFIG_PATH_MAX 256     /* bytes in a dotted path */
#define CONFIG_NAME_MAX 64      /* bytes in one path component */
#define CONFIG_VALUE_MAX 65536  /* bytes in a value, raw or expanded */
#define CONFIG_LINE_MAX (CONFIG_PATH_MAX + CONFIG_VALUE_MAX + 64)
#define CONFIG_EXPAND_DEPTH 15  /* bhyve's nesting limit for %(name) */
#define CONFIG_EXPAND_REFS 4096 /* references resolved per config_get() */

struct config_node {
	char *name;
	char *value;    /* leaf: raw value; NULL: interior node */
	char *expanded; /* cached expansion of value, or NULL */
	unsigned long expanded_gen;
	struct config_node *parent;
	struct config_node *child; /* first child */
	struct config_node *next;  /* next sibling */
};

static char config_root_name[1];
static struct config_node config_root_node = { .name = config_root_name };
/* Bumped on every change so cached expansions are recomputed. */
static unsigned long config_gen = 1;
static pthread_mutex_t config_expand_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The one place defaults live: bhyve_config(5) key names, set before any
 * option is parsed so that options, -o and -k override them.  "cpus" is
 * set alone on purpose: sockets/cores/threads are derived from it by the
 * reader (bhyve's calc_topology), so "-o cpus=4" needs nothing else.
 */
static const struct {
	const char *key, *value;
} config_defaults[] = {
	{ "memory.size", "256M" },
	{ "memory.wired", "false" },
	{ "memory.guest_in_core", "false" },
	{ "cpus", "1" },
	{ "acpi.powerbutton_timeout", "30" }, /* seconds; dev/acpi_pm.h */
	{ "acpi_tables", "true" },
	{ "acpi_tables_in_memory", "true" },
	{ "rtc.use_localtime", "true" },
	{ "sandbox", "kill" }, /* off | log | kill: src/sandbox/sandbox.h */
	{ "virtio_msix", "true" },
	{ "x86.mptable", "true" },
	{ "x86.strictio", "false" },
	{ "x86.strictmsr", "true" },
	{ "x86.vmexit_on_hlt", "false" },
	{ "x86.vmexit_on_pause", "false" },
	{ "x86.x2apic", "false" },
};

/* ---- nodes ------------------------------------------------------------ */

static void node_free(struct config_node *n)
{
	struct config_node *c, *next;

	for (c = n->child; c != NULL; c = next) {
		next = c->next;
		node_free(c);
	}
	free(n->name);
	free(n->value);
	free(n->expanded);
	free(n);
}

static void node_clear(struct config_node *n)
{
	struct config_node *c, *next;

	for (c = n->child; c != NULL; c = next) {
		next = c->next;
		node_free(c);
	}
	n->child = NULL;
}

static void node_unlink(struct config_node *n)
{
	struct config_node **pp;

	for (pp = &n->parent->child; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	n->next = NULL;
	n->parent = NULL;
}

static struct config_node *node_child(struct config_node *n, const char *name,
    size_t len)
{
	struct config_node *c;

	for (c = n->child; c != NULL; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

static struct config_node *node_add(struct config_node *parent,
    const char *name, size_t len)
{
	struct config_node *n, **pp;

	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->name = strndup(name, len);
	if (n->name == NULL) {
		free(n);
		return NULL;
	}
	n->parent = parent;
	for (pp = &parent->child; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = n;
	return n;
}

/* Key components are identifiers: bhyve_config(5) uses nothing else. */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '_' && ch != '-')
			return false;
	}
	return true;
}

static bool path_valid(const char *path)
{
	const char *p, *dot;
	size_t len;

	if (path == NULL)
		return false;
	len = strnlen(path, CONFIG_PATH_MAX + 1);
	if (len == 0 || len > CONFIG_PATH_MAX)
		return false;
	for (p = path;; p = dot + 1) {
		dot = strchr(p, '.');
		if (!name_valid(p, dot ? (size_t)(dot - p) : strlen(p)))
			return false;
		if (dot == NULL)
			return true;
	}
}

/*
 * Walk `path` from `parent` (NULL: the root).  With `create`, missing
 * components become interior nodes.  Returns the node at `path` (leaf or
 * interior), or NULL if the path is invalid, absent (without `create`),
 * or runs through a leaf.  Nodes are only created once the walk has left
 * the existing tree, so a failure never leaves half-created nodes behind.
 */
static struct config_node *walk(struct config_node *parent, const char *path,
    bool create)
{
	struct config_node *n = parent ? parent : &config_root_node, *c;
	const char *p, *dot;
	size_t len;

	if (!path_valid(path) || n->value != NULL)
		return NULL;
	for (p = path;; p = dot + 1) {
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		c = node_child(n, p, len);
		if (c == NULL) {
			if (!create)
				return NULL;
			c = node_add(n, p, len);
			if (c == NULL)
				return NULL;
			config_gen++;
		}
		if (dot == NULL)
			return c;
		if (c->value != NULL) /* a leaf cannot have children */
			return NULL;
		n = c;
	}
}

/* Write the full dotted path of `n` to buf; false if it does not fit. */
static bool node_path(const struct config_node *n, char *buf, size_t size)
{
	const struct config_node *parts[CONFIG_PATH_MAX];
	size_t depth = 0, off = 0;

	for (; n != NULL && n != &config_root_node; n = n->parent) {
		if (depth == ARRAY_SIZE(parts))
			return false;
		parts[depth++] = n;
	}
	if (size == 0)
		return false;
	buf[0] = '\0';
	while (depth > 0) {
		const char *name = parts[--depth]->name;
		int w = snprintf(buf + off, size - off, "%s%s",
		    off ? "." : "", name);

		if (w < 0 || (size_t)w >= size - off)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* ---- public tree API -------------------------------------------------- */

void config_fini(void)
{
	node_clear(&config_root_node);
	free(config_root_node.value);
	config_root_node.value = NULL;
	config_gen++;
}

void config_init(void)
{
	config_fini();
	for (size_t i = 0; i < ARRAY_SIZE(config_defaults); i++)
		(void)config_set(NULL, config_defaults[i].key,
		    config_defaults[i].value);
}

struct config_node *config_root(void)
{
	return &config_root_node;
}

struct config_node *config_find(struct config_node *parent, const char *path)
{
	return walk(parent, path, false);
}

struct config_node *config_create(struct config_node *parent, const char *path)
{
	struct config_node *n = walk(parent, path, true);

	return n != NULL && n->value == NULL ? n : NULL;
}

int config_set(struct config_node *parent, const char *path, const char *value)
{
	struct config_node *n, *dir;
	const char *last;
	char *copy;

	if (!path_valid(path) || value == NULL ||
	    strnlen(value, CONFIG_VALUE_MAX + 1) > CONFIG_VALUE_MAX)
		return -EINVAL;
	dir = parent ? parent : &config_root_node;
	if (dir->value != NULL)
		return -EINVAL;
	last = strrchr(path, '.');
	if (last != NULL) {
		char prefix[CONFIG_PATH_MAX + 1];
		size_t len = (size_t)(last - path);

		/* path_valid() bounded the length, so this fits. */
		memcpy(prefix, path, len);
		prefix[len] = '\0';
		dir = config_create(dir, prefix);
		if (dir == NULL)
			return -EINVAL;
		last++;
	} else {
		last = path;
	}
	n = node_child(dir, last, strlen(last));
	if (n != NULL && n->value == NULL)
		return -EINVAL; /* would turn a node into a leaf */
	copy = strdup(value);
	if (copy == NULL)
		return -ENOMEM;
	if (n == NULL) {
		n = node_add(dir, last, strlen(last));
		if (n == NULL) {
			free(copy);
			return -ENOMEM;
		}
	}
	free(n->value);
	n->value = copy;
	config_gen++;
	return 0;
}

int config_set_default(struct config_node *parent, const char *path,
    const char *value)
{
	struct config_node *n = config_find(parent, path);

	if (n != NULL)
		return n->value != NULL ? 0 : -EINVAL;
	return config_set(parent, path, value);
}

void config_unset(struct config_node *parent, const char *path)
{
	struct config_node *n = config_find(parent, path);

	if (n == NULL)
		return;
	node_unlink(n);
	node_free(n);
	config_gen++;
}

const char *config_node_name(const struct config_node *n)
{
	return n ? n->name : NULL;
}

bool config_node_is_leaf(const struct config_node *n)
{
	return n != NULL && n->value != NULL;
}

struct config_node *config_node_first(struct config_node *n)
{
	return n ? n->child : NULL;
}

struct config_node *config_node_next(struct config_node *n)
{
	return n ? n->next : NULL;
}

/* ---- %(name) expansion ------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
	unsigned int refs; /* %(name) references resolved so far */
	bool full;         /* a bound was reached: further output dropped */
	bool nomem;
	bool warned;       /* one warning per expansion is enough */
};

static void sb_warn(struct sbuf *sb, const char *what, const char *ref,
    const char *value)
{
	if (sb->warned)
		return;
	sb->warned = true;
	khyve_warnx("%s%s in \"%s\"", what, ref, value);
}

static void sb_add(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->full || sb->nomem)
		return;
	if (n > CONFIG_VALUE_MAX - sb->len) {
		n = CONFIG_VALUE_MAX - sb->len;
		sb->full = true;
	}
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = MAX(sb->cap * 2, sb->len + n + 1);
		char *p;

		cap = MIN(cap, (size_t)CONFIG_VALUE_MAX + 1);
		p = realloc(sb->p, cap);
		if (p == NULL) {
			sb->nomem = true;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

/*
 * Expand `value` into sb.  "%(path)" is replaced by the expanded value of
 * the key `path` (looked up from the root, as in bhyve); "%%" is a literal
 * '%' (bhyve_config(5)) and a backslash quotes the next character (bhyve's
 * config.c).  A '%' not starting a reference is kept.  Unknown or empty
 * references expand to nothing, with a warning, as in bhyve.  Below
 * CONFIG_EXPAND_DEPTH nested levels a reference is kept as text (this is
 * where a loop such as a=%(a) ends); CONFIG_EXPAND_REFS and
 * CONFIG_VALUE_MAX bound the work and the output.
 */
static void expand(struct sbuf *sb, const char *value, int depth)
{
	const char *vp = value, *end;
	char path[CONFIG_PATH_MAX + 1];
	struct config_node *ref;
	size_t len;

	while (*vp != '\0' && !sb->full && !sb->nomem) {
		if (*vp == '\\' && vp[1] != '\0') {
			sb_add(sb, vp + 1, 1);
			vp += 2;
			continue;
		}
		if (*vp != '%' || (vp[1] != '(' && vp[1] != '%')) {
			len = strcspn(vp + 1, "%\\") + 1;
			sb_add(sb, vp, len);
			vp += len;
			continue;
		}
		if (vp[1] == '%') {
			sb_add(sb, "%", 1);
			vp += 2;
			continue;
		}
		end = strchr(vp + 2, ')');
		if (end == NULL) {
			sb_warn(sb, "unterminated %(", "", value);
			sb_add(sb, vp, strlen(vp));
			return;
		}
		if (depth > CONFIG_EXPAND_DEPTH) {
			sb_warn(sb, "too many nested %(...) references", "",
			    value);
			sb_add(sb, vp, strlen(vp));
			return;
		}
		if (++sb->refs > CONFIG_EXPAND_REFS) {
			sb_warn(sb, "too many %(...) references", "", value);
			sb->full = true;
			return;
		}
		len = (size_t)(end - (vp + 2));
		vp = end + 1;
		if (len == 0 || len > CONFIG_PATH_MAX) {
			sb_warn(sb, "invalid %(...) reference", "", value);
			continue;
		}
		memcpy(path, end - len, len);
		path[len] = '\0';
		ref = config_find(NULL, path);
		if (ref == NULL || ref->value == NULL) {
			sb_warn(sb, "no configuration value for ", path,
			    value);
			continue;
		}
		expand(sb, ref->value, depth + 1);
	}
}

const char *config_get(struct config_node *parent, const char *path)
{
	struct config_node *n = config_find(parent, path);
	struct sbuf sb = { 0 };
	const char *v = NULL;

	if (n == NULL || n->value == NULL)
		return NULL;
	if (strpbrk(n->value, "%\\") == NULL)
		return n->value;
	pthread_mutex_lock(&config_expand_lock);
	if (n->expanded != NULL && n->expanded_gen == config_gen) {
		v = n->expanded;
		goto out;
	}
	expand(&sb, n->value, 0);
	if (sb.nomem || (sb.p == NULL && (sb.p = strdup("")) == NULL)) {
		free(sb.p);
		goto out;
	}
	if (sb.full && sb.len == CONFIG_VALUE_MAX)
		khyve_warnx("%s: expanded value truncated to %d bytes", path,
		    CONFIG_VALUE_MAX);
	free(n->expanded);
	n->expanded = sb.p;
	n->expanded_gen = config_gen;
	v = n->expanded;
out:
	pthread_mutex_unlock(&config_expand_lock);
	return v;
}

/* ---- typed getters ---------------------------------------------------- */

int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* The value of a leaf for a typed getter, or NULL with *rc set. */
static const char *typed_value(struct config_node *parent, const char *path,
    int *rc)
{
	struct config_node *n = config_find(parent, path);
	char full[CONFIG_PATH_MAX + 1];
	const char *v;

	if (n == NULL) {
		*rc = -ENOENT;
		return NULL;
	}
	if (!node_path(n, full, sizeof(full)))
		snprintf(full, sizeof(full), "%s", path);
	if (n->value == NULL) {
		khyve_warnx("%s is a group of settings, not a value", full);
		*rc = -EINVAL;
		return NULL;
	}
	v = config_get(parent, path);
	if (v == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = 0;
	return v;
}

static void bad_value(struct config_node *parent, const char *path,
    const char *v, const char *what)
{
	struct config_node *n = config_find(parent, path);
	char full[CONFIG_PATH_MAX + 1];

	if (n == NULL || !node_path(n, full, sizeof(full)))
		snprintf(full, sizeof(full), "%s", path);
	khyve_warnx("%s=%s: %s", full, v, what);
}

int config_get_bool(struct config_node *parent, const char *path, bool *out)
{
	const char *v;
	bool b;
	int rc;

	v = typed_value(parent, path, &rc);
	if (v == NULL)
		return rc;
	if (config_parse_bool(v, &b) != 0) {
		bad_value(parent, path, v, "not a boolean (true/false, "
		    "yes/no, on/off, 1/0)");
		return -EINVAL;
	}
	*out = b;
	return 0;
}

/*
 * Unsigned 64-bit: strtoull syntax (decimal, 0x hex, 0 octal) without
 * sign or leading blanks, optionally followed by one expand_number(3)
 * unit (B, K, M, G, T, P, E: binary multiples, any case).  The unit makes
 * the "256M" default of memory.size readable here.
 */
int config_get_u64(struct config_node *parent, const char *path, uint64_t *out)
{
	static const char units[] = "bkmgtpe";
	const char *v, *u;
	unsigned long long x;
	char *end;
	int rc, shift;

	v = typed_value(parent, path, &rc);
	if (v == NULL)
		return rc;
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno != 0)
		goto bad;
	if (*end != '\0') {
		u = strchr(units, tolower((unsigned char)*end));
		if (u == NULL || end[1] != '\0')
			goto bad;
		shift = (int)(u - units) * 10;
		if (shift > 0 && x > (UINT64_MAX >> shift))
			goto bad;
		x <<= shift;
	}
	*out = x;
	return 0;
bad:
	bad_value(parent, path, v, "not an unsigned 64-bit number");
	return -EINVAL;
}

int config_get_int(struct config_node *parent, const char *path, int *out)
{
	const char *v;
	long x;
	char *end;
	int rc;

	v = typed_value(parent, path, &rc);
	if (v == NULL)
		return rc;
	if (!isdigit((unsigned char)v[v[0] == '-']))
		goto bad;
	errno = 0;
	x = strtol(v, &end, 0);
	if (errno != 0 || *end != '\0' || x < INT_MIN || x > INT_MAX)
		goto bad;
	*out = (int)x;
	return 0;
bad:
	bad_value(parent, path, v, "not an integer");
	return -EINVAL;
}

bool config_bool(struct config_node *parent, const char *path, bool dflt)
{
	bool b = dflt;

	return config_get_bool(parent, path, &b) == 0 ? b : dflt;
}

/* ---- key=value, -k files, dump ---------------------------------------- */

/*
 * Set key (keylen bytes) to value; on error print "WHAT SHOWN: why".
 * bhyve rejects an empty value (bhyve_parse_config_option), so do we.
 */
static int assign(const char *key, size_t keylen, const char *value,
    const char *what, const char *shown)
{
	char path[CONFIG_PATH_MAX + 1];
	int rc;

	if (keylen == 0) {
		khyve_warnx("%s %s: expected key=value", what, shown);
		return -EINVAL;
	}
	if (keylen > CONFIG_PATH_MAX) {
		khyve_warnx("%s %s: key longer than %d bytes", what, shown,
		    CONFIG_PATH_MAX);
		return -EINVAL;
	}
	memcpy(path, key, keylen);
	path[keylen] = '\0';
	if (!path_valid(path)) {
		khyve_warnx("%s %s: invalid key \"%s\" (dot-separated names "
		    "of letters, digits, '_' and '-')", what, shown, path);
		return -EINVAL;
	}
	if (value[0] == '\0') {
		khyve_warnx("%s %s: empty value", what, shown);
		return -EINVAL;
	}
	if (strnlen(value, CONFIG_VALUE_MAX + 1) > CONFIG_VALUE_MAX) {
		khyve_warnx("%s %s: value longer than %d bytes", what, shown,
		    CONFIG_VALUE_MAX);
		return -EINVAL;
	}
	rc = config_set(NULL, path, value);
	if (rc == -EINVAL)
		khyve_warnx("%s %s: %s conflicts with an existing setting (a "
		    "key cannot both hold a value and have sub-keys)", what,
		    shown, path);
	else if (rc != 0)
		khyve_warnx("%s %s: %s", what, shown, strerror(-rc));
	return rc;
}

int config_parse_assignment(const char *assign_str, const char *what)
{
	const char *eq;

	if (assign_str == NULL)
		return -EINVAL;
	eq = strchr(assign_str, '=');
	if (eq == NULL) {
		khyve_warnx("%s %s: expected key=value", what, assign_str);
		return -EINVAL;
	}
	return assign(assign_str, (size_t)(eq - assign_str), eq + 1, what,
	    assign_str);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(const char *path)
{
	char where[PATH_MAX + 32], *line = NULL, *s, *eq, *key;
	unsigned int lineno = 0;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		khyve_warn("-k %s", path);
		return -ENOENT;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u:", path, lineno);
		if (n > CONFIG_LINE_MAX) {
			khyve_warnx("%s line longer than %d bytes", where,
			    CONFIG_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (strlen(line) != (size_t)n) {
			khyve_warnx("%s line contains a NUL byte", where);
			rc = -EINVAL;
			break;
		}
		s = trim(line);
		/* '#' starts a comment only at the start of a line, so
		 * values (kernel command lines, paths) may contain it. */
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			khyve_warnx("%s %s: expected key=value", where, s);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(s);
		rc = assign(key, strlen(key), trim(eq + 1), where, key);
		if (rc != 0) {
			rc = -EINVAL;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		khyve_warn("-k %s", path);
		rc = -EINVAL;
	}
	free(line);
	fclose(f);
	return rc;
}

struct dump_entry {
	char *path;
	const char *value;
};

static int dump_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dump_entry *)a)->path,
	    ((const struct dump_entry *)b)->path);
}

static size_t count_leaves(const struct config_node *n)
{
	size_t k = n->value != NULL;

	for (const struct config_node *c = n->child; c; c = c->next)
		k += count_leaves(c);
	return k;
}

static void collect(const struct config_node *n, struct dump_entry *e,
    size_t *k)
{
	char path[CONFIG_PATH_MAX + 1];

	if (n->value != NULL && node_path(n, path, sizeof(path))) {
		e[*k].path = strdup(path);
		e[*k].value = n->value;
		if (e[*k].path != NULL)
			(*k)++;
	}
	for (const struct config_node *c = n->child; c; c = c->next)
		collect(c, e, k);
}

/* Raw (unexpanded) values, as bhyve's dump_config() prints them. */
void config_dump(FILE *f)
{
	size_t total = count_leaves(&config_root_node), k = 0;
	struct dump_entry *e;

	if (total == 0)
		return;
	e = calloc(total, sizeof(*e));
	if (e == NULL) {
		khyve_warnx("config.dump: out of memory");
		return;
	}
	collect(&config_root_node, e, &k);
	qsort(e, k, sizeof(*e), dump_cmp);
	for (size_t i = 0; i < k; i++) {
		fprintf(f, "%s=%s\n", e[i].path, e[i].value);
		free(e[i].path);
	}
	free(e);
}
