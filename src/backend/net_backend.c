/*
 * net_backend.c - the back-end registry, the generic calls, and the
 * helpers network devices share (MAC and MTU parsing, the stable MAC,
 * the -s conf parser).  See net_backend.h.
 *
 * Trust: every string here comes from the command line or a -k file; the
 * parsers are strict and print one line naming the bad value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/net_backend.h"
#include "common.h"
#include "config.h"

const struct net_backend_ops *netbe_find(const char *type, const char *backend)
{
	const struct net_backend_ops *ops;

	LINKER_SET_FOREACH(net_backend_set, ops) {
		if (type != NULL) {
			if (strcmp(type, ops->type) == 0)
				return ops;
			continue;
		}
		if (backend == NULL)
			continue;
		for (const char *const *p = ops->prefixes; p && *p; p++)
			if (strncmp(backend, *p, strlen(*p)) == 0)
				return ops;
	}
	return NULL;
}

static void list_types(char *buf, size_t len)
{
	const struct net_backend_ops *ops;
	size_t off = 0;

	buf[0] = '\0';
	LINKER_SET_FOREACH(net_backend_set, ops) {
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    ops->type);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

int netbe_open(struct net_backend **out, struct config_node *cfg,
    const char *who)
{
	const struct net_backend_ops *ops;
	const char *name, *type;
	struct net_backend *be;
	char types[128];
	int rc;

	*out = NULL;
	name = config_get(cfg, "backend");
	if (name == NULL)
		return -ENOENT;
	type = config_get(cfg, "type");
	ops = netbe_find(type, name);
	if (ops == NULL) {
		list_types(types, sizeof(types));
		if (type != NULL)
			khyve_warnx("%s: unknown network back end type \"%s\" "
			    "(known: %s)", who, type, types);
		else
			khyve_warnx("%s: cannot tell the back end type of "
			    "\"%s\" (use tapN, tap=IFNAME or slirp; known "
			    "types: %s)", who, name, types);
		return -EINVAL;
	}
	if (*name == '\0') {
		khyve_warnx("%s: empty back end name", who);
		return -EINVAL;
	}
	be = calloc(1, sizeof(*be) + ops->priv_size);
	if (be == NULL)
		return -ENOMEM;
	be->ops = ops;
	snprintf(be->who, sizeof(be->who), "%s", who);
	rc = ops->init(be, name, cfg, be->who);
	if (rc != 0) {
		free(be);
		return rc;
	}
	*out = be;
	return 0;
}

int netbe_start(struct net_backend *be, struct mevent_loop *loop,
    net_be_rx_cb_t *cb, void *arg)
{
	return be->ops->start(be, loop, cb, arg);
}

void netbe_stop(struct net_backend *be)
{
	if (be != NULL && be->ops->stop != NULL)
		be->ops->stop(be);
}

void netbe_close(struct net_backend *be)
{
	if (be == NULL)
		return;
	be->ops->cleanup(be);
	free(be);
}

uint64_t netbe_get_cap(struct net_backend *be)
{
	return be->ops->get_cap(be);
}

int netbe_set_cap(struct net_backend *be, uint64_t features,
    unsigned vnet_hdr_len)
{
	if (vnet_hdr_len != 0 && vnet_hdr_len != 10 && vnet_hdr_len != 12)
		return -EINVAL;
	return be->ops->set_cap(be, features, vnet_hdr_len);
}

ssize_t netbe_send(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	return be->ops->send(be, iov, iovcnt);
}

ssize_t netbe_peek_recvlen(struct net_backend *be)
{
	return be->ops->peek_recvlen(be);
}

ssize_t netbe_recv(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	return be->ops->recv(be, iov, iovcnt);
}

ssize_t netbe_rx_discard(struct net_backend *be)
{
	/*
	 * Receive into one byte: every back end's recv drops the rest of the
	 * frame (a datagram is truncated, tap's bounce buffer is emptied),
	 * and no frame-sized buffer has to be shared between devices.
	 */
	uint8_t b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };

	return be->ops->recv(be, &iov, 1);
}

void netbe_rx_enable(struct net_backend *be)
{
	be->ops->recv_enable(be);
}

void netbe_rx_disable(struct net_backend *be)
{
	be->ops->recv_disable(be);
}

/* ---- -s conf ----------------------------------------------------------- */

static int set_item(struct config_node *dev, char *tok)
{
	char *eq = strchr(tok, '=');
	const char *old;
	char *joined;
	int rc;

	if (eq == NULL) {
		/* A bare word is a boolean ("open"). */
		if (strchr(tok, '.') != NULL || config_set(dev, tok, "true")) {
			khyve_warnx("virtio-net: bad item \"%s\"", tok);
			return -EINVAL;
		}
		return 0;
	}
	*eq = '\0';
	if (*tok == '\0') {
		khyve_warnx("virtio-net: item \"=%s\" has no key", eq + 1);
		return -EINVAL;
	}
	old = config_get(dev, tok);
	if (strcmp(tok, "hostfwd") == 0 && old != NULL && *old != '\0') {
		/* Several hostfwd= items: one rule list, as with ';'. */
		if (asprintf(&joined, "%s;%s", old, eq + 1) < 0)
			return -ENOMEM;
		rc = config_set(dev, tok, joined);
		free(joined);
	} else {
		rc = config_set(dev, tok, eq + 1);
	}
	if (rc != 0) {
		khyve_warnx("virtio-net: bad key \"%s\" (letters, digits, '_' "
		    "and '-', not clashing with another key)", tok);
		return -EINVAL;
	}
	return 0;
}

int netbe_legacy_config(struct config_node *dev, const char *conf)
{
	char *copy, *p, *tok;
	int rc = 0;
	bool first = true;

	if (conf == NULL)
		return 0;
	copy = strdup(conf);
	if (copy == NULL)
		return -ENOMEM;
	p = copy;
	while (rc == 0 && (tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0') {
			khyve_warnx("virtio-net: empty item in \"%s\"", conf);
			rc = -EINVAL;
		} else if (first && strncmp(tok, "tap=", 4) == 0) {
			/* Linux tap names are free-form: tap=NAME. */
			if (tok[4] == '\0') {
				khyve_warnx("virtio-net: \"tap=\" needs an "
				    "interface name");
				rc = -EINVAL;
			} else if (config_set(dev, "type", "tap") != 0 ||
			    config_set(dev, "backend", tok + 4) != 0) {
				khyve_warnx("virtio-net: cannot set back end "
				    "\"%s\"", tok + 4);
				rc = -EINVAL;
			}
		} else if (first && strchr(tok, '=') == NULL) {
			if (config_set(dev, "backend", tok) != 0) {
				khyve_warnx("virtio-net: cannot set back end "
				    "\"%s\"", tok);
				rc = -EINVAL;
			}
		} else {
			rc = set_item(dev, tok);
		}
		first = false;
	}
	free(copy);
	return rc;
}

/* ---- MAC and MTU ------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[NET_ETHER_ADDR_LEN])
{
	uint8_t m[NET_ETHER_ADDR_LEN];
	static const uint8_t zero[NET_ETHER_ADDR_LEN];

	if (s == NULL)
		return -EINVAL;
	for (int i = 0; i < NET_ETHER_ADDR_LEN; i++) {
		int hi = hexval(*s), lo;

		if (hi < 0)
			return -EINVAL;
		s++;
		lo = hexval(*s);
		if (lo >= 0) {
			m[i] = (uint8_t)(hi << 4 | lo);
			s++;
		} else {
			m[i] = (uint8_t)hi;
		}
		if (i < NET_ETHER_ADDR_LEN - 1 && *s++ != ':')
			return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	/* The guest's own address must be unicast and not zero (bhyve). */
	if ((m[0] & 1) || memcmp(m, zero, sizeof(m)) == 0)
		return -EINVAL;
	memcpy(mac, m, sizeof(m));
	return 0;
}

void net_gen_mac(const char *vmname, int bus, int slot, int func,
    uint8_t mac[NET_ETHER_ADDR_LEN])
{
	char key[320];
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */

	snprintf(key, sizeof(key), "%d-%d-%d-%s", bus, slot, func,
	    vmname ? vmname : "");
	for (const char *p = key; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ULL;
	}
	/* Mix the high bits down: FNV's low bytes alone vary little for
	 * keys that differ only in their last character. */
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	for (int i = 0; i < NET_ETHER_ADDR_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1), unicast (bit 0 clear). */
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

int net_parse_mtu(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}
