/*
 * test_net_backend.c - network device options: the -s conf parser, the
 * back-end registry, MAC/MTU/hostfwd parsing, the generated MAC, and what
 * vtnet_setup() makes of good and bad configurations (-EINVAL for a bad
 * value, another error for a host resource that cannot be opened).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/net_backend.h"
#include "config.h"
#include "options.h"
#include "test.h"
#include "virtio/virtio_net.h"

TEST(net_legacy_config_forms)
{
	config_init();
	CHECK_EQ(options_parse_pci_slot("2,virtio-net,tap0,mac=00:a0:98:12:34:"
	    "56,mtu=9000"), 0);
	CHECK_STR(config_get(NULL, "pci.0.2.0.device"), "virtio-net");
	CHECK_STR(config_get(NULL, "pci.0.2.0.backend"), "tap0");
	CHECK_STR(config_get(NULL, "pci.0.2.0.mac"), "00:a0:98:12:34:56");
	CHECK_STR(config_get(NULL, "pci.0.2.0.mtu"), "9000");
	CHECK(config_get(NULL, "pci.0.2.0.type") == NULL);

	CHECK_EQ(options_parse_pci_slot("3,virtio-net,tap=my-tap_1"), 0);
	CHECK_STR(config_get(NULL, "pci.0.3.0.backend"), "my-tap_1");
	CHECK_STR(config_get(NULL, "pci.0.3.0.type"), "tap");

	CHECK_EQ(options_parse_pci_slot("4,virtio-net,slirp,hostfwd=tcp:127.0."
	    "0.1:2222-:22;udp::5353-:53,open"), 0);
	CHECK_STR(config_get(NULL, "pci.0.4.0.backend"), "slirp");
	CHECK_STR(config_get(NULL, "pci.0.4.0.hostfwd"),
	    "tcp:127.0.0.1:2222-:22;udp::5353-:53");
	CHECK_STR(config_get(NULL, "pci.0.4.0.open"), "true");

	/* Repeated hostfwd items add rules instead of replacing them. */
	CHECK_EQ(options_parse_pci_slot("5,virtio-net,slirp,hostfwd=tcp::1-:2,"
	    "hostfwd=tcp::3-:4,transport=modern"), 0);
	CHECK_STR(config_get(NULL, "pci.0.5.0.hostfwd"), "tcp::1-:2;tcp::3-:4");
	CHECK_STR(config_get(NULL, "pci.0.5.0.transport"), "modern");

	/* A key=value first item is just a key (bhyve_config style). */
	CHECK_EQ(options_parse_pci_slot("6,virtio-net,backend=slirp,mac=02:00:"
	    "00:00:00:01"), 0);
	CHECK_STR(config_get(NULL, "pci.0.6.0.backend"), "slirp");

	/* Bad forms: -EINVAL, nothing left behind. */
	static const char *const bad[] = {
		"7,virtio-net,tap=",
		"7,virtio-net,tap0,,mtu=1500",
		"7,virtio-net,tap0,=x",
		"7,virtio-net,tap0,a.b",
		"7,virtio-net,tap0,mtu=1500,",
		"7,virtio-net,slirp,bad key=1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_pci_slot(bad[i]) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
		CHECK(config_find(NULL, "pci.0.7.0") == NULL);
	}
	config_fini();
}

TEST(net_backend_registry)
{
	const struct net_backend_ops *tap = netbe_find(NULL, "tap0");
	const struct net_backend_ops *slirp = netbe_find(NULL, "slirp");

	CHECK(tap != NULL && strcmp(tap->type, "tap") == 0);
	CHECK(slirp != NULL && strcmp(slirp->type, "slirp") == 0);
	CHECK(netbe_find(NULL, "vmnet7") == tap);
	CHECK(netbe_find(NULL, "eth0") == NULL);
	CHECK(netbe_find("tap", "anything") == tap);
	CHECK(netbe_find("slirp", "x") == slirp);
	CHECK(netbe_find("netmap", "vale0:1") == NULL);
}

TEST(net_parse_mac_forms)
{
	static const char *const bad[] = {
		"", "00:11:22:33:44", "00:11:22:33:44:55:66",
		"01:00:5e:00:00:01",       /* multicast */
		"ff:ff:ff:ff:ff:ff",       /* broadcast */
		"00:00:00:00:00:00",       /* zero */
		"00-11-22-33-44-55", "0g:11:22:33:44:55", "001:1:2:3:4:5",
		"00:11:22:33:44:55 ", ":00:11:22:33:44:55", "00:11:22:33:44:",
		"00::22:33:44:55",
	};
	uint8_t m[6];
	static const uint8_t want[6] = { 0x00, 0xa0, 0x98, 0x01, 0x02, 0x03 };

	CHECK_EQ(net_parse_mac("00:a0:98:01:02:03", m), 0);
	CHECK(memcmp(m, want, 6) == 0);
	memset(m, 0, 6);
	CHECK_EQ(net_parse_mac("0:a0:98:1:2:3", m), 0); /* ethers(5) short */
	CHECK(memcmp(m, want, 6) == 0);
	CHECK_EQ(net_parse_mac("02:AB:cd:EF:00:01", m), 0);
	CHECK_EQ(m[1], 0xab);
	CHECK_EQ(m[3], 0xef);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (net_parse_mac(bad[i], m) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
}

TEST(net_gen_mac_stable_local_unicast)
{
	uint8_t a[6], b[6], c[6], d[6], e[6];
	/* Frozen: a change here changes every user's guest MAC. */
	static const uint8_t frozen[6] = { 0x7a, 0xbc, 0x85, 0x06, 0xb0, 0x25 };

	net_gen_mac("vm1", 0, 2, 0, a);
	net_gen_mac("vm1", 0, 2, 0, b);
	net_gen_mac("vm1", 0, 3, 0, c);
	net_gen_mac("vm2", 0, 2, 0, d);
	net_gen_mac(NULL, 0, 2, 0, e);
	CHECK(memcmp(a, b, 6) == 0);
	CHECK(memcmp(a, c, 6) != 0);
	CHECK(memcmp(a, d, 6) != 0);
	CHECK(memcmp(a, frozen, 6) == 0);
	if (memcmp(a, frozen, 6) != 0)
		printf("  got %02x:%02x:%02x:%02x:%02x:%02x\n", a[0], a[1],
		    a[2], a[3], a[4], a[5]);
	for (int i = 0; i < 256; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%d", i);
		net_gen_mac(name, 0, i % 32, i % 8, a);
		CHECK_EQ(a[0] & 3, 2); /* locally administered, unicast */
	}
	CHECK_EQ(e[0] & 3, 2);
}

TEST(net_parse_mtu_range)
{
	unsigned v = 0;

	CHECK_EQ(net_parse_mtu("68", 68, 65535, &v), 0);
	CHECK_EQ(v, 68);
	CHECK_EQ(net_parse_mtu("65535", 68, 65535, &v), 0);
	CHECK_EQ(v, 65535);
	CHECK_EQ(net_parse_mtu("9000", 68, 65535, &v), 0);
	CHECK_EQ(v, 9000);
	static const char *const bad[] = { "67", "65536", "0", "", "-1",
		"1500x", " 1500", "0x5dc", "99999999999999999999" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(net_parse_mtu(bad[i], 68, 65535, &v), -EINVAL);
}

TEST(net_hostfwd_rules)
{
	struct net_hostfwd f;

	CHECK_EQ(net_slirp_parse_hostfwd("tcp:127.0.0.1:2222-:22", &f), 0);
	CHECK(!f.udp);
	CHECK_EQ(f.host_addr, htonl(0x7f000001));
	CHECK_EQ(f.host_port, 2222);
	CHECK_EQ(f.guest_addr, 0);
	CHECK_EQ(f.guest_port, 22);
	CHECK_EQ(net_slirp_parse_hostfwd("udp::5353-10.0.2.15:53", &f), 0);
	CHECK(f.udp);
	CHECK_EQ(f.host_addr, 0);
	CHECK_EQ(f.guest_addr, htonl(0x0a00020f));
	CHECK_EQ(f.guest_port, 53);
	static const char *const bad[] = {
		"", "tcp", "tcp:", "tcp:127.0.0.1:2222", "sctp::1-:2",
		"tcp::0-:22", "tcp::22-:0", "tcp::70000-:22", "tcp::22-:65536",
		"tcp:1.2.3:22-:22", "tcp::22-:22-:3", "tcp::x-:22",
		"tcp:localhost:22-:22", "tcp::22-:", "tcp::-:22", "TCP::1-:2",
		"tcp:[::1]:22-:22",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (net_slirp_parse_hostfwd(bad[i], &f) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
}

/* vtnet_setup on a fresh pci.0.2.0 with the given key=value pairs. */
static int setup_with(const char *const *kv, struct vtnet_softc **out)
{
	struct vtnet_softc *sc = calloc(1, sizeof(*sc));
	struct config_node *n;
	int rc;

	config_init();
	config_set(NULL, "name", "testvm");
	n = config_create(NULL, "pci.0.2.0");
	config_set(n, "device", "virtio-net");
	for (; kv[0] != NULL; kv += 2)
		config_set(n, kv[0], kv[1]);
	rc = vtnet_setup(sc, n, "virtio-net 0:2:0", 0, 2, 0);
	if (rc == 0 && out != NULL) {
		*out = sc;
		return 0;
	}
	if (rc == 0)
		vtnet_teardown(sc);
	free(sc);
	config_fini();
	return rc;
}

static void done(struct vtnet_softc *sc)
{
	vtnet_teardown(sc);
	free(sc);
	config_fini();
}

TEST(vtnet_setup_values)
{
	struct vtnet_softc *sc;
	uint8_t want[6];

	/* No back end at all: allowed (bhyve), MAC generated from the name. */
	CHECK_EQ(setup_with((const char *const[]){ NULL }, &sc), 0);
	CHECK(sc->be == NULL);
	net_gen_mac("testvm", 0, 2, 0, want);
	CHECK(memcmp(sc->config, want, 6) == 0);
	CHECK(!(sc->ops.features & VIRTIO_NET_BIT(VIRTIO_NET_F_MTU)));
	CHECK_EQ(sc->config[VTNET_CFG_MTU] | sc->config[VTNET_CFG_MTU + 1] << 8,
	    1500);
	done(sc);

	CHECK_EQ(setup_with((const char *const[]){ "mac", "02:11:22:33:44:55",
	    "mtu", "9000", NULL }, &sc), 0);
	CHECK_EQ(sc->config[0], 0x02);
	CHECK_EQ(sc->config[5], 0x55);
	CHECK(sc->ops.features & VIRTIO_NET_BIT(VIRTIO_NET_F_MTU));
	CHECK_EQ(sc->config[VTNET_CFG_MTU] | sc->config[VTNET_CFG_MTU + 1] << 8,
	    9000);
	done(sc);

	/* Bad values: -EINVAL (exit 64). */
	static const char *const bad[][4] = {
		{ "mac", "01:00:5e:00:00:01" }, { "mac", "nonsense" },
		{ "mtu", "67" }, { "mtu", "65536" }, { "mtu", "big" },
		{ "backend", "eth0" },
		{ "backend", "x", "type", "netmap" },
		{ "backend", "tap-name-far-too-long-for-linux" },
		{ "backend", "tap0/x" },
		{ "backend", "slirp", "hostfwd", "tcp::2222" },
		{ "backend", "slirp", "hostfwd", "tcp::1-:2;bogus" },
		{ "backend", "slirp", "open", "maybe" },
		{ "backend", "slirpy" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *kv[5] = { bad[i][0], bad[i][1], bad[i][2],
			bad[i][3], NULL };

		if (setup_with(kv, NULL) != -EINVAL) {
			printf("  accepted %s=%s\n", bad[i][0], bad[i][1]);
			CHECK(0);
		}
	}
}

TEST(vtnet_setup_tap_open_failure_is_not_a_config_error)
{
	int rc;

	/* "lo" exists and is not a tap: TUNSETIFF refuses it, root or not.
	 * That is a start failure (exit 4), not a bad value (exit 64). */
	rc = setup_with((const char *const[]){ "backend", "lo", "type", "tap",
	    NULL }, NULL);
	CHECK(rc < 0);
	CHECK(rc != -EINVAL);
}

TEST(vtnet_setup_backend_failure_errno)
{
	/* Whatever errno a back end fails with (ENOENT: no /dev/net/tun),
	 * set-up fails, and not as a configuration error. */
	static const char *const errs[] = { "2", "1", "13", "16", "19" };

	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		int rc = setup_with((const char *const[]){ "backend",
		    "testsock", "fail", errs[i], NULL }, NULL);

		CHECK(rc < 0);
		CHECK(rc != -EINVAL);
	}
}

TEST(vtnet_setup_slirp_hostfwd_port_taken)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	char rule[64];
	int s, rc;

	/* A port someone listens on: the host refuses, exit 4 not 64. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0);
	CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(s, 1), 0);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &al), 0);
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%u-:22", ntohs(a.sin_port));
	rc = setup_with((const char *const[]){ "backend", "slirp", "hostfwd",
	    rule, NULL }, NULL);
	CHECK(rc < 0);
	CHECK(rc != -EINVAL);
	close(s);
}
