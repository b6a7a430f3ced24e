/*
 * test_net_slirp.c - the slirp back end for real, without root: ARP for
 * the gateway, a DHCP DISCOVER, and a hostfwd connection from the host
 * that must reach the guest as a TCP SYN.  Frames go in with netbe_send
 * and come out with netbe_peek_recvlen/netbe_recv, as the device does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "config.h"
#include "event/mevent.h"
#include "test.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void rx_cb(void *arg)
{
}

static struct net_backend *open_slirp(const char *hostfwd, const char *open,
    struct mevent_loop **loop)
{
	struct net_backend *be = NULL;
	struct config_node *n;

	config_init();
	n = config_create(NULL, "pci.0.3.0");
	config_set(n, "backend", "slirp");
	if (hostfwd != NULL)
		config_set(n, "hostfwd", hostfwd);
	if (open != NULL)
		config_set(n, "open", open);
	*loop = mevent_loop_create();
	if (*loop == NULL || netbe_open(&be, n, "slirp test") != 0)
		return NULL;
	if (netbe_start(be, *loop, rx_cb, NULL) != 0 ||
	    netbe_set_cap(be, 0, 0) != 0) {
		netbe_close(be);
		return NULL;
	}
	return be;
}

static void close_slirp(struct net_backend *be, struct mevent_loop *loop)
{
	netbe_stop(be);
	netbe_close(be);
	mevent_loop_destroy(loop);
	config_fini();
}

/* The next frame from slirp within `ms`; its length or 0. */
static size_t next_frame(struct net_backend *be, uint8_t *buf, size_t len,
    int ms)
{
	struct iovec iov = { buf, len };
	struct timespec ts = { 0, 2000000 };

	for (int waited = 0; waited < ms; waited += 2) {
		ssize_t n = netbe_peek_recvlen(be);

		if (n > 0)
			return (size_t)netbe_recv(be, &iov, 1);
		nanosleep(&ts, NULL);
	}
	return 0;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static ssize_t send_arp_for_gateway(struct net_backend *be)
{
	uint8_t f[42] = { 0 };
	struct iovec iov = { f, sizeof(f) };

	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);      /* Ethernet */
	put16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);      /* request */
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, (uint8_t[]){ 10, 0, 2, 15 }, 4);
	memcpy(f + 38, (uint8_t[]){ 10, 0, 2, 2 }, 4);
	return netbe_send(be, &iov, 1);
}

TEST(slirp_answers_arp_for_gateway)
{
	struct mevent_loop *loop;
	struct net_backend *be = open_slirp(NULL, NULL, &loop);
	uint8_t f[2048];
	size_t n;
	bool seen = false;

	CHECK(be != NULL);
	if (be == NULL)
		return;
	CHECK_EQ(be->be_hdrlen, 0);
	CHECK_EQ(netbe_get_cap(be), 0); /* no offloads through slirp */
	CHECK_EQ(send_arp_for_gateway(be), 42);
	while (!seen && (n = next_frame(be, f, sizeof(f), 3000)) > 0) {
		if (n < 42 || get16(f + 12) != 0x0806)
			continue; /* e.g. an IPv6 router advertisement */
		seen = true;
		CHECK(memcmp(f, guest_mac, 6) == 0);
		CHECK_EQ(get16(f + 20), 2); /* reply */
		CHECK(memcmp(f + 28, (uint8_t[]){ 10, 0, 2, 2 }, 4) == 0);
		CHECK(memcmp(f + 32, guest_mac, 6) == 0);
		CHECK(memcmp(f + 38, (uint8_t[]){ 10, 0, 2, 15 }, 4) == 0);
		CHECK(memcmp(f + 6, f + 22, 6) == 0); /* sender MAC agrees */
	}
	CHECK(seen);
	close_slirp(be, loop);
}

/*
 * DISCOVER -> OFFER of 10.0.2.15.  Open (the default), the offer names
 * the gateway 10.0.2.2 and DNS 10.0.2.3; restricted (open=false, bhyve
 * 15.0's only mode) slirp leaves both out: the guest cannot go out.
 */
static void dhcp_case(int *failed, const char *open, bool want_route)
{
	struct mevent_loop *loop;
	struct net_backend *be = open_slirp(NULL, open, &loop);
	uint8_t f[600], r[2048];
	struct iovec iov = { f, 0 };
	uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
	size_t blen = 240 + 4, n;
	bool seen = false;

	CHECK(be != NULL);
	if (be == NULL)
		return;
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	bp[0] = 1; /* BOOTREQUEST */
	bp[1] = 1;
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4); /* xid */
	memcpy(bp + 28, guest_mac, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4); /* magic cookie */
	memcpy(bp + 240, "\x35\x01\x01\xff", 4); /* DISCOVER, end */
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(8 + blen));
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + blen));
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	put16(ip + 10, csum(ip, 20));
	iov.iov_len = 14 + 20 + 8 + blen;
	CHECK_EQ(netbe_send(be, &iov, 1), iov.iov_len);

	while (!seen && (n = next_frame(be, r, sizeof(r), 3000)) > 0) {
		uint8_t *rip = r + 14, *rudp = rip + 20, *rbp = rudp + 8;
		bool offer = false, router = false, dns = false;

		if (n < 14 + 20 + 8 + 240 || get16(r + 12) != 0x0800 ||
		    rip[9] != 17 || get16(rudp + 2) != 68)
			continue;
		seen = true;
		CHECK_EQ(rbp[0], 2); /* BOOTREPLY */
		CHECK(memcmp(rbp + 4, "\x12\x34\x56\x78", 4) == 0);
		CHECK(memcmp(rbp + 16, (uint8_t[]){ 10, 0, 2, 15 }, 4) == 0);
		CHECK(memcmp(r + 6, r, 6) != 0);
		for (size_t o = 240; o + 2 <= n - 42 && rbp[o] != 0xff;) {
			uint8_t code = rbp[o], len = rbp[o + 1];

			if (code == 0) {
				o++;
				continue;
			}
			if (code == 53 && len == 1 && rbp[o + 2] == 2)
				offer = true;
			if (code == 3 && len >= 4 && memcmp(rbp + o + 2,
			    (uint8_t[]){ 10, 0, 2, 2 }, 4) == 0)
				router = true;
			if (code == 6 && len >= 4 && memcmp(rbp + o + 2,
			    (uint8_t[]){ 10, 0, 2, 3 }, 4) == 0)
				dns = true;
			o += 2u + len;
		}
		CHECK(offer);
		CHECK_EQ(router, want_route);
		CHECK_EQ(dns, want_route);
	}
	CHECK(seen);
	close_slirp(be, loop);
}

TEST(slirp_offers_dhcp_lease)
{
	dhcp_case(failed, NULL, true);
	dhcp_case(failed, "false", false);
}

TEST(slirp_hostfwd_reaches_guest)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	struct mevent_loop *loop;
	struct net_backend *be;
	uint8_t f[2048];
	char rule[64];
	size_t n;
	bool syn = false;
	int s;

	/* Find a free port (closed again just before slirp takes it). */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%u-:22", ntohs(a.sin_port));
	be = open_slirp(rule, NULL, &loop);
	CHECK(be != NULL);
	if (be == NULL)
		return;
	/* Let slirp learn the guest's MAC, so its SYN needs no ARP. */
	CHECK_EQ(send_arp_for_gateway(be), 42);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ||
	    errno == EINPROGRESS);
	while (!syn && (n = next_frame(be, f, sizeof(f), 3000)) > 0) {
		uint8_t *ip = f + 14, *tcp;

		if (n < 14 + 20 + 20 || get16(f + 12) != 0x0800 ||
		    ip[9] != 6)
			continue;
		tcp = ip + (ip[0] & 15) * 4;
		CHECK(memcmp(ip + 16, (uint8_t[]){ 10, 0, 2, 15 }, 4) == 0);
		CHECK_EQ(get16(tcp + 2), 22);
		CHECK(tcp[13] & 0x02); /* SYN */
		CHECK(memcmp(f, guest_mac, 6) == 0);
		syn = true;
	}
	CHECK(syn);
	close(s);
	close_slirp(be, loop);
}
