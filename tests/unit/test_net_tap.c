/*
 * test_net_tap.c - the tap back end on a real tap interface, created in a
 * private network namespace (needs root; skipped otherwise) so the host's
 * network is never touched: the interface comes up, the vnet header and
 * offloads are accepted, and an ARP request sent through the back end is
 * answered by the kernel with a reply that arrives behind a 12-byte
 * virtio-net header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "config.h"
#include "event/mevent.h"
#include "test.h"
#include "virtio/virtio_net.h"

#define TAPNAME "khyvetap0"

static const uint8_t gmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void rx_cb(void *arg)
{
}

static int set_addr(const char *ifname, unsigned long req, uint32_t addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	rc = ioctl(s, req, &ifr);
	close(s);
	return rc;
}

static bool is_up(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	bool up;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
	close(s);
	return up;
}

/* Runs in the child, inside its own network namespace. */
static int tap_child(void)
{
	int f = 0, *failed = &f;
	struct net_backend *be = NULL;
	struct mevent_loop *loop = mevent_loop_create();
	struct config_node *n;
	uint8_t hdr[12] = { 0 }, arp[42], r[2048];
	struct iovec iov[2] = { { hdr, 12 }, { arp, sizeof(arp) } };
	struct iovec riov = { r, sizeof(r) };
	struct timespec ts = { 0, 2000000 };
	bool reply = false;

	config_init();
	n = config_create(NULL, "pci.0.2.0");
	CHECK_EQ(netbe_legacy_config(n, "tap=" TAPNAME), 0);
	CHECK_EQ(netbe_open(&be, n, "tap test"), 0);
	if (be == NULL)
		return 1;
	CHECK_EQ(netbe_start(be, loop, rx_cb, NULL), 0);
	CHECK(is_up(TAPNAME));
	CHECK_EQ(netbe_get_cap(be) & VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4),
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4));
	CHECK_EQ(netbe_set_cap(be, VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_CSUM) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO4) |
	    VIRTIO_NET_BIT(VIRTIO_NET_F_GUEST_TSO6), 12), 0);
	CHECK_EQ(be->be_hdrlen, 12);
	CHECK_EQ(set_addr(TAPNAME, SIOCSIFADDR, 0x0a090001), 0);
	CHECK_EQ(set_addr(TAPNAME, SIOCSIFNETMASK, 0xffffff00), 0);

	memset(arp, 0xff, 6);
	memcpy(arp + 6, gmac, 6);
	memcpy(arp + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(arp + 22, gmac, 6);
	memcpy(arp + 28, "\x0a\x09\x00\x02", 4);
	memset(arp + 32, 0, 6);
	memcpy(arp + 38, "\x0a\x09\x00\x01", 4);
	CHECK_EQ(netbe_send(be, iov, 2), 12 + (ssize_t)sizeof(arp));

	for (int waited = 0; !reply && waited < 3000; waited += 2) {
		ssize_t len = netbe_peek_recvlen(be);

		if (len <= 0) {
			nanosleep(&ts, NULL);
			continue;
		}
		CHECK_EQ(netbe_recv(be, &riov, 1), len);
		/* Skip the kernel's IPv6 chatter on a fresh link. */
		if (len < 12 + 42 || r[12 + 12] != 0x08 || r[12 + 13] != 0x06)
			continue;
		reply = true;
		CHECK(memcmp(r + 12, gmac, 6) == 0);
		CHECK_EQ(r[12 + 21], 2); /* ARP reply */
		CHECK(memcmp(r + 12 + 28, "\x0a\x09\x00\x01", 4) == 0);
		CHECK(memcmp(r + 12 + 38, "\x0a\x09\x00\x02", 4) == 0);
		CHECK_EQ(r[0] & ~VIRTIO_NET_HDR_F_DATA_VALID, 0);
		CHECK_EQ(r[1], VIRTIO_NET_HDR_GSO_NONE);
	}
	CHECK(reply);
	netbe_stop(be);
	netbe_close(be);
	mevent_loop_destroy(loop);
	config_fini();
	return f;
}

TEST(net_tap_in_private_netns)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid < 0)
		return;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0)
			_exit(77);
		int rc = tap_child();

		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		SKIP("needs root (unshare(CLONE_NEWNET)) for a tap interface "
		    "in a private network namespace");
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}
