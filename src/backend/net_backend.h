/*
 * net_backend.h - packet back ends for network devices (bhyve's
 * net_backends.h).
 *
 * A back end moves Ethernet frames between a network device model
 * (virtio-net) and the host: "tap" (a Linux tap interface through
 * /dev/net/tun) or "slirp" (user-mode NAT through libslirp, no privileges
 * needed).  Each type is one file defining a `const struct
 * net_backend_ops` added with NET_BACKEND_SET(); netbe_open() finds the
 * type by walking that set, so there is no list of back ends to keep.
 *
 * Configuration (bhyve_config(5) "Network Backend Settings"), read from
 * the device's node pci.B.S.F:
 *   backend  the back end: "tap0", "slirp", ... (required)
 *   type     "tap" or "slirp"; when absent, inferred from the prefix of
 *            `backend` (tap*, vmnet* -> tap; slirp -> slirp)
 * plus each type's own keys (slirp: hostfwd, open).
 *
 * Frames.  A back end may carry a virtio-net header in front of every
 * frame (tap with IFF_VNET_HDR does, after set_cap); be_hdrlen says how
 * long it is (0 = none).  When present it has the length the device
 * negotiated with the guest, so the device passes headers through.
 *
 * Threads.  netbe_start() registers the back end's receive fd on the
 * device's event loop (disabled); the callback runs on that loop's thread
 * and the device then calls peek_recvlen/recv until they return 0.
 * send/recv/peek and enable/disable are called by the device with its own
 * lock held, one caller at a time.  A back end with its own thread (slirp)
 * serialises internally.  Nothing here blocks: a host side that cannot
 * take a frame drops it, as a NIC would.
 */
#ifndef KHYVE_BACKEND_NET_BACKEND_H
#define KHYVE_BACKEND_NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common.h"

struct config_node;
struct mevent;
struct mevent_loop;
struct net_backend;

/* Frames may be available: call netbe_peek_recvlen()/netbe_recv(). */
typedef void net_be_rx_cb_t(void *arg);

/* The largest frame any back end hands over: 64 KiB (TSO) plus headers. */
#define NETBE_MAX_FRAME (65536 + 256)

struct net_backend_ops {
	const char *type;   /* "tap", "slirp" */
	/* Prefixes of `backend` values that select this type when no
	 * "type" key is set, NULL-terminated (bhyve's pattern table). */
	const char *const *prefixes;
	size_t priv_size;   /* bytes of private state after the struct */
	/*
	 * Read the type's keys from `cfg`, open host resources.  `name` is
	 * the backend value, `who` names the device for messages
	 * ("virtio-net 0:2:0").  Returns 0, -EINVAL for a bad configuration
	 * value (one line printed), or another negative errno when the host
	 * side cannot be set up (message printed).  On failure it releases
	 * what it took; cleanup is not called.
	 */
	int (*init)(struct net_backend *be, const char *name,
	    struct config_node *cfg, const char *who);
	/* Register the receive fd on `loop`, receive disabled. */
	int (*start)(struct net_backend *be, struct mevent_loop *loop,
	    net_be_rx_cb_t *cb, void *arg);
	/* Unregister from the loop (before the loop goes away). */
	void (*stop)(struct net_backend *be);
	void (*cleanup)(struct net_backend *be);
	/* Send one frame (with the back end's header, if any).  Returns the
	 * bytes taken or a negative errno (the frame is then dropped). */
	ssize_t (*send)(struct net_backend *be, const struct iovec *iov,
	    int iovcnt);
	/* Length of the next frame (with header), 0 if none, < 0 on error. */
	ssize_t (*peek_recvlen)(struct net_backend *be);
	/* Receive the next frame into iov; returns the bytes stored, 0 if
	 * none.  A frame longer than the iov is truncated, the rest lost. */
	ssize_t (*recv)(struct net_backend *be, const struct iovec *iov,
	    int iovcnt);
	void (*recv_enable)(struct net_backend *be);
	void (*recv_disable)(struct net_backend *be);
	/* virtio-net offload feature bits (VIRTIO_NET_F_*) it can carry. */
	uint64_t (*get_cap)(struct net_backend *be);
	/* Enable the negotiated offloads and header length (0, 10 or 12). */
	int (*set_cap)(struct net_backend *be, uint64_t features,
	    unsigned vnet_hdr_len);
};

struct net_backend {
	const struct net_backend_ops *ops;
	unsigned be_hdrlen; /* virtio-net header on the back end's frames */
	char who[48];       /* device name, for messages */
	/* the type's private state follows (ops->priv_size bytes) */
	max_align_t priv[];
};

LINKER_SET_DECLARE(net_backend_set);
#define NET_BACKEND_SET(ops) LINKER_SET_ADD(net_backend_set, ops)

static inline void *netbe_priv(struct net_backend *be)
{
	return be->priv;
}

/* The back end type `backend` (or `type`, if not NULL) selects; NULL if
 * none does. */
const struct net_backend_ops *netbe_find(const char *type,
    const char *backend);

/*
 * Open the back end the device node `cfg` names.  Returns 0 and *out,
 * -ENOENT if no "backend" key is set (a device without a back end),
 * -EINVAL after one line for a bad value, or another negative errno after
 * a message when the host side cannot be opened.
 */
int netbe_open(struct net_backend **out, struct config_node *cfg,
    const char *who);
int netbe_start(struct net_backend *be, struct mevent_loop *loop,
    net_be_rx_cb_t *cb, void *arg);
void netbe_stop(struct net_backend *be);
void netbe_close(struct net_backend *be);

uint64_t netbe_get_cap(struct net_backend *be);
/* Header length must be 0, 10 or 12 (else -EINVAL). */
int netbe_set_cap(struct net_backend *be, uint64_t features,
    unsigned vnet_hdr_len);
ssize_t netbe_send(struct net_backend *be, const struct iovec *iov,
    int iovcnt);
ssize_t netbe_peek_recvlen(struct net_backend *be);
ssize_t netbe_recv(struct net_backend *be, const struct iovec *iov,
    int iovcnt);
/* Throw the next frame away; > 0 if there was one, 0 if none. */
ssize_t netbe_rx_discard(struct net_backend *be);
void netbe_rx_enable(struct net_backend *be);
void netbe_rx_disable(struct net_backend *be);

/*
 * The -s conf string of a network device ("tap0,mac=...,mtu=1500",
 * "tap=NAME", "slirp,hostfwd=tcp::2222-:22;udp::5353-:53,open") as keys
 * below `dev`: the first item is the back end ("tap=NAME" sets type=tap,
 * backend=NAME; a key=value first item is just a key), the rest are
 * key=value items or bare words (word=true).  Repeated hostfwd items are
 * joined with ';'.  0, or -EINVAL after one line naming the item.
 */
int netbe_legacy_config(struct config_node *dev, const char *conf);

/* ---- helpers shared by network devices (bhyve's net_utils.c) ---------- */

#define NET_ETHER_ADDR_LEN 6

/*
 * Parse a MAC address in ethers(5) form: six groups of one or two hex
 * digits separated by ':'.  Multicast/broadcast and all-zero addresses are
 * refused.  0 or -EINVAL (no message: the caller names the key).
 */
int net_parse_mac(const char *s, uint8_t mac[NET_ETHER_ADDR_LEN]);
/*
 * A stable MAC for a device without mac=: a locally administered unicast
 * address whose other 46 bits are a hash of the VM name and the PCI
 * bus/slot/function, so it is the same on every run and differs between
 * slots and VMs.
 */
void net_gen_mac(const char *vmname, int bus, int slot, int func,
    uint8_t mac[NET_ETHER_ADDR_LEN]);
/* Parse a decimal MTU in [min, max].  0 or -EINVAL. */
int net_parse_mtu(const char *s, unsigned min, unsigned max, unsigned *out);

/* The TUN_F_* offload flags matching the guest's negotiated virtio-net
 * features (what it accepts on receive).  net_tap.c; pure. */
unsigned net_tap_offload_flags(uint64_t features);

/* ---- slirp hostfwd rules (net_slirp.c; exposed for the unit tests) ---- */

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;  /* network byte order; 0 = any */
	uint16_t host_port;  /* host byte order */
	uint32_t guest_addr; /* network byte order; 0 = the DHCP address */
	uint16_t guest_port;
};

/*
 * Parse one rule "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"
 * (bhyve's and QEMU's hostfwd syntax, IPv4, ports 1..65535).  0 or
 * -EINVAL.
 */
int net_slirp_parse_hostfwd(const char *rule, struct net_hostfwd *out);

#endif
