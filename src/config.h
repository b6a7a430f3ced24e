/*
 * config.h - the one configuration tree (bhyve's config.c design).
 *
 * Every command-line option and every line of a -k file only sets keys in
 * this tree; each component reads its own subtree at init time.  Keys are
 * dotted paths ("pci.0.4.0.path", "lpc.com1.path", "boot.kernel").  A key
 * is either a leaf with a string value or an interior node with children;
 * setting "a.b" when "a" is a leaf (or the reverse) is an error.
 *
 * Values may reference other keys as %(name), expanded on read, as bhyve's
 * get_config_value() does (used for e.g. "name").
 *
 * Defaults live in one table in config.c (config_init()).  The tree is
 * built by the main thread before any other thread starts and is read-only
 * afterwards, so it needs no locking.
 */
#ifndef KHYVE_CONFIG_H
#define KHYVE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config_node;

/* Reset the tree and load the defaults.  Call once before parsing options. */
void config_init(void);
void config_fini(void);

/* The root node. */
struct config_node *config_root(void);

/* Find the node at `path` below `parent` (NULL = root).  NULL if absent. */
struct config_node *config_find(struct config_node *parent, const char *path);
/* Find or create the interior node at `path`.  NULL if a leaf is in the way. */
struct config_node *config_create(struct config_node *parent, const char *path);

/*
 * Set a leaf value (copied).  Returns 0, or -EINVAL if `path` is empty, has
 * an empty component, or would turn a leaf into a node or a node into a leaf.
 * (Also -EINVAL: a component that is not 1..64 of [A-Za-z0-9_-], a path
 * over 256 bytes, a value over 64 KiB.)
 */
int config_set(struct config_node *parent, const char *path, const char *value);
/* Like config_set but only if the key has no value yet. */
int config_set_default(struct config_node *parent, const char *path,
    const char *value);
/* Remove a key (leaf or subtree).  Missing keys are fine. */
void config_unset(struct config_node *parent, const char *path);

/*
 * The expanded value of a leaf, or NULL if absent or not a leaf.  The
 * returned string stays valid until the tree is changed.
 */
const char *config_get(struct config_node *parent, const char *path);

/*
 * Typed getters.  They return 0 and store the value, -ENOENT if the key is
 * absent (the output is left alone, so callers pre-load defaults), or
 * -EINVAL if the value does not parse; in that case they print one line
 * naming the key and value.
 */
int config_get_bool(struct config_node *parent, const char *path, bool *out);
/* strtoull syntax, plus an optional expand_number(3) unit: "256M", "1G". */
int config_get_u64(struct config_node *parent, const char *path, uint64_t *out);
int config_get_int(struct config_node *parent, const char *path, int *out);
/* Convenience: the boolean or `dflt` when absent or malformed. */
bool config_bool(struct config_node *parent, const char *path, bool dflt);

/* Parse the strings bhyve's config accepts as booleans. */
int config_parse_bool(const char *s, bool *out);

/* Node accessors for walking a subtree (e.g. every pci.B.S.F). */
const char *config_node_name(const struct config_node *n);
bool config_node_is_leaf(const struct config_node *n);
struct config_node *config_node_first(struct config_node *n); /* first child */
struct config_node *config_node_next(struct config_node *n);  /* sibling */

/*
 * Parse "key=value" and set it.  Used by -o and by -k files.  Returns 0 or
 * -EINVAL (message printed naming `what`, e.g. "-o" or "file:line").
 */
int config_parse_assignment(const char *assign, const char *what);

/*
 * Load a -k file: one key=value per line, '#' starts a comment, blank lines
 * ignored, leading/trailing whitespace around key and value trimmed.
 * Returns 0, -ENOENT (cannot open, message printed) or -EINVAL.
 */
int config_load_file(const char *path);

/* Print every leaf as "path=value" in sorted order (-o config.dump=1). */
void config_dump(FILE *f);

#endif
