/*
 * net_tap.c - the tap back end: a Linux tap interface through
 * /dev/net/tun (bhyve's tap back end, on Linux's tun/tap driver).
 *
 * The interface is attached with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so
 * every frame in both directions carries a virtio-net header: the device
 * passes the guest's header through (TUNSETVNETHDRSZ makes the kernel use
 * the length the guest negotiated, 10 or 12) and the kernel does the
 * checksum/segmentation work the header asks for.  TUNSETOFFLOAD tells
 * the kernel which offloaded (partial-checksum, TSO) frames it may hand
 * us: exactly those the guest said it accepts (GUEST_CSUM, GUEST_TSO4/6;
 * never UFO).
 *
 * The fd is non-blocking.  The kernel offers no "length of the next
 * frame" call on a tap fd, so peek reads the next frame into a bounce
 * buffer and recv copies it out (bhyve does the same).  A full tap queue
 * on send (EAGAIN) drops the frame.
 *
 * Privileges: attaching to an existing persistent tap owned by the user
 * (ip tuntap add NAME mode tap user USER) needs none; creating one needs
 * CAP_NET_ADMIN.  Bringing the interface up is tried and a refusal is only
 * noted (an unprivileged owner cannot do it; the administrator does).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "common.h"
#include "event/mevent.h"
#include "virtio/virtio_net.h"

#define TAP_OFFLOADS                                                          \
	(VIRTIO_NET_BIT(VIRTIO_NET_F_CSUM) |                                  \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM) |                         \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO4) |                          \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_HOST_TSO6) |                          \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4) |                         \
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO6))

struct tap_priv {
	int fd;
	char ifname[IFNAMSIZ];
	bool offload_ok; /* TUNSETOFFLOAD works: offer the offloads */
	struct mevent *ev;
	net_be_rx_cb_t *cb;
	void *cb_arg;
	ssize_t bbuflen; /* bytes of the frame waiting in bbuf, 0 if none */
	uint8_t bbuf[NETBE_MAX_FRAME];
};

static const char *const tap_prefixes[] = { "tap", "vmnet", NULL };

static void tap_bring_up(struct tap_priv *p, const char *who)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
			khyve_dbg("%s: cannot bring %s up (%s); the host "
			    "side must do it", who, p->ifname,
			    strerror(errno));
	}
	close(s);
}

static int tap_init(struct net_backend *be, const char *name,
    struct config_node *cfg, const char *who)
{
	struct tap_priv *p = netbe_priv(be);
	struct ifreq ifr;
	int e;

	p->fd = -1;
	if (strlen(name) >= IFNAMSIZ || strchr(name, '/') != NULL ||
	    strchr(name, '%') != NULL) {
		khyve_warnx("%s: bad tap interface name \"%s\" (at most %d "
		    "characters, no '/' or '%%')", who, name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	snprintf(p->ifname, sizeof(p->ifname), "%s", name);
	p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) {
		e = errno;
		khyve_warnx("%s: cannot open tap \"%s\": /dev/net/tun: %s",
		    who, name, strerror(e));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
	if (ioctl(p->fd, TUNSETIFF, &ifr) != 0) {
		e = errno;
		khyve_warnx("%s: cannot attach to tap \"%s\": %s%s", who, name,
		    strerror(e), e == EPERM ? " (create it first: ip tuntap "
		    "add NAME mode tap user USER; or use slirp)" :
		    e == EBUSY ? " (in use by another process)" :
		    e == EINVAL ? " (an interface of that name exists and is not "
		    "a tap)" : "");
		goto fail;
	}
	/* Probe the offloads once; set_cap applies what the guest takes. */
	p->offload_ok = ioctl(p->fd, TUNSETOFFLOAD,
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
	if (ioctl(p->fd, TUNSETOFFLOAD, 0) != 0)
		p->offload_ok = false;
	be->be_hdrlen = 10; /* the kernel's default until set_cap */
	tap_bring_up(p, who);
	return 0;

fail:
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	/* An interface that cannot be opened is a start failure (exit 4),
	 * never a configuration error, whatever errno the kernel chose
	 * (and never netbe_open's "no back end" -ENOENT). */
	return e == EINVAL || e == ENOENT ? -ENODEV : -e;
}

static void tap_readable(int fd, enum mevent_type type, void *arg)
{
	struct tap_priv *p = arg;

	p->cb(p->cb_arg);
}

static int tap_start(struct net_backend *be, struct mevent_loop *loop,
    net_be_rx_cb_t *cb, void *arg)
{
	struct tap_priv *p = netbe_priv(be);

	p->cb = cb;
	p->cb_arg = arg;
	p->ev = mevent_add_disabled(loop, p->fd, EVF_READ, tap_readable, p);
	return p->ev != NULL ? 0 : -errno;
}

static void tap_stop(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_delete(p->ev);
	p->ev = NULL;
}

static void tap_cleanup(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);

	tap_stop(be);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static ssize_t tap_send(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct tap_priv *p = netbe_priv(be);
	ssize_t n = writev(p->fd, iov, iovcnt);

	return n < 0 ? -errno : n;
}

static ssize_t tap_peek_recvlen(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);
	ssize_t n;

	if (p->bbuflen > 0)
		return p->bbuflen;
	do {
		n = read(p->fd, p->bbuf, sizeof(p->bbuf));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	p->bbuflen = n;
	return n;
}

static ssize_t tap_recv(struct net_backend *be, const struct iovec *iov,
    int iovcnt)
{
	struct tap_priv *p = netbe_priv(be);
	size_t off = 0;

	if (p->bbuflen == 0 && tap_peek_recvlen(be) <= 0)
		return 0;
	for (int i = 0; i < iovcnt && off < (size_t)p->bbuflen; i++) {
		size_t n = MIN(iov[i].iov_len, (size_t)p->bbuflen - off);

		memcpy(iov[i].iov_base, p->bbuf + off, n);
		off += n;
	}
	p->bbuflen = 0;
	return (ssize_t)off;
}

static void tap_recv_enable(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_enable(p->ev);
}

static void tap_recv_disable(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);

	if (p->ev != NULL)
		mevent_disable(p->ev);
}

static uint64_t tap_get_cap(struct net_backend *be)
{
	struct tap_priv *p = netbe_priv(be);

	return p->offload_ok ? TAP_OFFLOADS : 0;
}

/* The TUN_F_* flags for what the guest accepts on receive.  Pure. */
unsigned net_tap_offload_flags(uint64_t features)
{
	unsigned f = 0;

	/* TSO frames come with partial checksums: only with GUEST_CSUM. */
	if (features & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		f |= TUN_F_CSUM;
		if (features & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4))
			f |= TUN_F_TSO4;
		if (features & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO6))
			f |= TUN_F_TSO6;
	}
	return f;
}

static int tap_set_cap(struct net_backend *be, uint64_t features,
    unsigned vnet_hdr_len)
{
	struct tap_priv *p = netbe_priv(be);
	int len = (int)vnet_hdr_len;
	unsigned flags = p->offload_ok ? net_tap_offload_flags(features) : 0;

	/* The header is always on (IFF_VNET_HDR): 0 is not an option. */
	if (len != 10 && len != 12)
		return -EINVAL;
	if (ioctl(p->fd, TUNSETVNETHDRSZ, &len) != 0)
		return -errno;
	be->be_hdrlen = vnet_hdr_len;
	if (ioctl(p->fd, TUNSETOFFLOAD, flags) != 0)
		return -errno;
	return 0;
}

static const struct net_backend_ops tap_ops = {
	.type = "tap",
	.prefixes = tap_prefixes,
	.priv_size = sizeof(struct tap_priv),
	.init = tap_init,
	.start = tap_start,
	.stop = tap_stop,
	.cleanup = tap_cleanup,
	.send = tap_send,
	.peek_recvlen = tap_peek_recvlen,
	.recv = tap_recv,
	.recv_enable = tap_recv_enable,
	.recv_disable = tap_recv_disable,
	.get_cap = tap_get_cap,
	.set_cap = tap_set_cap,
};
NET_BACKEND_SET(tap_ops);
