/*
 * test_virtio_console.c - the virtio console without the transport:
 * option parsing into the config tree, the port configuration, the
 * control protocol over fake guest queues (virtio_fixture.h), data both
 * ways between fake queues and socketpairs (including a slow client and
 * hang-ups), and the Unix listening sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "test.h"
#include "virtio/virtio_console.h"
#include "virtio_fixture.h"

/* ---- helpers ---------------------------------------------------------- */

static struct vtcon *mk_sc(int nports)
{
	struct vtcon *sc = calloc(1, sizeof(*sc));

	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		struct vtcon_port *p = &sc->port[i];

		p->sc = sc;
		p->id = (uint32_t)i;
		p->lfd = p->cfd = p->wfd = -1;
		p->enabled = i < nports;
		snprintf(p->name, sizeof(p->name), "p%d", i);
	}
	sc->max_nr_ports = (uint32_t)MAX(nports, 1);
	return sc;
}

static void free_sc(struct vtcon *sc)
{
	for (int i = 0; i < VTCON_MAXPORTS; i++) {
		vtcon_port_hangup(&sc->port[i]);
		free(sc->port[i].path);
	}
	free(sc);
}

/* Post one chain: one readable buffer with `data`, or a writable one. */
static uint16_t post(struct vfx *t, uint16_t d, const void *data,
    uint32_t len, bool write)
{
	uint64_t b = vfx_buf(t, len, 0xee);

	if (data != NULL)
		memcpy(vfx_host(t, b, len), data, len);
	vfx_desc(t, d, b, len, write ? VRING_DESC_F_WRITE : 0, 0);
	vfx_push(t, d);
	return d;
}

static uint64_t used_buf(struct vfx *t, uint16_t slot)
{
	uint8_t *p = vfx_host(t, VFX_DESC + 16ULL * vfx_used_id(t, slot), 16);
	uint64_t a;

	memcpy(&a, p, 8);
	return a;
}

static struct vtcon_ctl ctl_at(struct vfx *t, uint64_t gpa)
{
	struct vtcon_ctl m = {
		.id = FX_G32(&t->fx, gpa),
		.event = FX_G16(&t->fx, gpa + 4),
		.value = FX_G16(&t->fx, gpa + 6),
	};
	return m;
}

static void post_ctl(struct vfx *t, uint16_t d, uint32_t id, uint16_t ev,
    uint16_t val)
{
	uint8_t b[8];

	fx_w32(b, id);
	fx_w16(b + 4, ev);
	fx_w16(b + 6, val);
	post(t, d, b, sizeof(b), false);
}

/* ---- options and configuration ---------------------------------------- */

TEST(vtcon_options)
{
	static const char *const bad[] = {
		"7,virtio-console,port1", "7,virtio-console,=/tmp/x",
		"7,virtio-console,p=", "7,virtio-console,a/b=/tmp/x",
		"7,virtio-console,a b=/tmp/x", "7,virtio-console,a=/x,,b=/y",
		"7,virtio-console,a=/x,b", "7,virtio-console,a\"b=/x",
	};
	char opt[4096], name[80], path[200];
	int n;

	config_init();
	CHECK_EQ(options_parse_pci_slot("5,virtio-console,port1=/tmp/a.sock"),
	    0);
	CHECK_STR(config_get(NULL, "pci.0.5.0.device"), "virtio-console");
	CHECK_STR(config_get(NULL, "pci.0.5.0.port.0.name"), "port1");
	CHECK_STR(config_get(NULL, "pci.0.5.0.port.0.path"), "/tmp/a.sock");
	CHECK_EQ(options_parse_pci_slot("6,virtio-console,org.qemu.ga:0=rel/b,"
	    "transport=modern,x-y_z=/c"), 0);
	CHECK_STR(config_get(NULL, "pci.0.6.0.port.0.name"), "org.qemu.ga:0");
	CHECK_STR(config_get(NULL, "pci.0.6.0.port.0.path"), "rel/b");
	CHECK_STR(config_get(NULL, "pci.0.6.0.transport"), "modern");
	CHECK_STR(config_get(NULL, "pci.0.6.0.port.1.name"), "x-y_z");
	CHECK(config_find(NULL, "pci.0.6.0.port.2") == NULL);
	/* No ports at all is a valid (useless) device, as in bhyve. */
	CHECK_EQ(options_parse_pci_slot("8,virtio-console"), 0);

	/* 16 ports fit, 17 do not. */
	n = snprintf(opt, sizeof(opt), "9,virtio-console");
	for (int i = 0; i < VTCON_MAXPORTS; i++)
		n += snprintf(opt + n, sizeof(opt) - (size_t)n, ",p%d=/tmp/s%d",
		    i, i);
	CHECK_EQ(options_parse_pci_slot(opt), 0);
	CHECK_STR(config_get(NULL, "pci.0.9.0.port.15.name"), "p15");
	opt[0] = '1';
	snprintf(opt + n, sizeof(opt) - (size_t)n, ",p16=/tmp/s16");
	CHECK_EQ(options_parse_pci_slot(opt), -EINVAL);
	CHECK(config_find(NULL, "pci.0.1.0") == NULL); /* undone */

	/* Longest name and path that fit, and one byte more. */
	memset(name, 'n', VTCON_NAME_MAX);
	name[VTCON_NAME_MAX] = '\0';
	memset(path, 'p', 107);
	path[107] = '\0';
	snprintf(opt, sizeof(opt), "10,virtio-console,%s=%s", name, path);
	CHECK_EQ(options_parse_pci_slot(opt), 0);
	snprintf(opt, sizeof(opt), "11,virtio-console,%sn=%s", name, path);
	CHECK_EQ(options_parse_pci_slot(opt), -EINVAL);
	snprintf(opt, sizeof(opt), "11,virtio-console,%s=%sp", name, path);
	CHECK_EQ(options_parse_pci_slot(opt), -EINVAL);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_pci_slot(bad[i]) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(config_find(NULL, "pci.0.7.0") == NULL);
	config_fini();
}

/* Build pci.0.5.0 from "key=value" strings and read the ports. */
static int ports_from(struct vtcon *sc, const char *const *kv)
{
	struct config_node *dev;

	config_init();
	dev = config_create(NULL, "pci.0.5.0");
	for (; *kv != NULL; kv++) {
		char k[64];
		const char *eq = strchr(*kv, '=');

		snprintf(k, sizeof(k), "%.*s", (int)(eq - *kv), *kv);
		if (config_set(dev, k, eq + 1) != 0)
			return -100;
	}
	return vtcon_config_ports(sc, dev);
}

TEST(vtcon_config_ports)
{
	static const char *const good[] = { "port.0.name=a",
		"port.0.path=/tmp/a", "port.3.name=b", "port.3.path=/tmp/b",
		"port.3.console=true", NULL };
	const char *const *const bad[] = {
		(const char *const[]){ "port.16.name=a", "port.16.path=/a",
		    NULL },
		(const char *const[]){ "port.x.name=a", "port.x.path=/a",
		    NULL },
		(const char *const[]){ "port.-1.name=a", "port.-1.path=/a",
		    NULL },
		(const char *const[]){ "port.0.name=a", NULL },
		(const char *const[]){ "port.0.path=/a", NULL },
		(const char *const[]){ "port=1", NULL },
		(const char *const[]){ "port.0=1", NULL },
		(const char *const[]){ "port.0.name=a", "port.0.path=/a",
		    "port.1.name=a", "port.1.path=/b", NULL },
		(const char *const[]){ "port.0.name=a", "port.0.path=/a",
		    "port.1.name=b", "port.1.path=/a", NULL },
		(const char *const[]){ "port.0.name=a/b", "port.0.path=/a",
		    NULL },
		(const char *const[]){ "port.0.name=", "port.0.path=/a",
		    NULL },
		(const char *const[]){ "port.0.name=a", "port.0.path=",
		    NULL },
		(const char *const[]){ "port.0.name=a", "port.0.path=/a",
		    "port.0.console=maybe", NULL },
	};
	struct vtcon *sc;

	sc = calloc(1, sizeof(*sc));
	CHECK_EQ(ports_from(sc, good), 0);
	CHECK(sc->port[0].enabled && sc->port[3].enabled);
	CHECK(!sc->port[1].enabled && !sc->port[2].enabled);
	CHECK_STR(sc->port[3].name, "b");
	CHECK_STR(sc->port[3].path, "/tmp/b");
	CHECK(sc->port[3].console && !sc->port[0].console);
	CHECK_EQ(sc->port[3].id, 3);
	CHECK_EQ(sc->port[0].cfd, -1);
	CHECK_EQ(sc->max_nr_ports, 4);
	free_sc(sc);
	config_fini();

	sc = calloc(1, sizeof(*sc));
	CHECK_EQ(ports_from(sc, (const char *const[]){ NULL }), 0);
	CHECK_EQ(sc->max_nr_ports, 1);
	free_sc(sc);
	config_fini();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc;

		sc = calloc(1, sizeof(*sc));
		rc = ports_from(sc, bad[i]);
		if (rc != -EINVAL) {
			printf("  case %zu: rc %d\n", i, rc);
			CHECK(0);
		}
		free_sc(sc);
		config_fini();
	}
}

/* ---- the control protocol ---------------------------------------------- */

TEST(vtcon_ctl_parse_encode)
{
	uint8_t a[3] = { 0x02, 0, 0 }, b[5] = { 0, 0x03, 0, 0x01, 0 };
	uint8_t w[16];
	struct vq_seg s[3] = { { a, 3, false }, { b, 5, false }, { w, 16, true } };
	struct vtcon_ctl m;

	CHECK_EQ(vtcon_ctl_parse(s, 3, &m), 0);
	CHECK_EQ(m.id, 2);
	CHECK_EQ(m.event, 3);
	CHECK_EQ(m.value, 1);
	CHECK_EQ(vtcon_ctl_parse(s, 1, &m), -EINVAL); /* 3 bytes */
	s[1].len = 4;
	CHECK_EQ(vtcon_ctl_parse(s, 3, &m), -EINVAL); /* 7 bytes */
	CHECK_EQ(vtcon_ctl_parse(&s[2], 1, &m), -EINVAL); /* writable only */

	m = (struct vtcon_ctl){ .id = 0x01020304, .event = 7, .value = 1 };
	memset(w, 0xee, sizeof(w));
	CHECK_EQ(vtcon_ctl_encode(&s[2], 1, &m, "abcdefghij", 11), 16);
	CHECK_EQ(w[0], 4);
	CHECK_EQ(w[3], 1);
	CHECK_EQ(w[4], 7);
	CHECK_EQ(w[6], 1);
	CHECK(memcmp(w + 8, "abcdefgh", 8) == 0); /* cut to fit */
	s[2].len = 7;
	CHECK_EQ(vtcon_ctl_encode(&s[2], 1, &m, NULL, 0), -1);
	CHECK_EQ(vtcon_ctl_encode(s, 2, &m, NULL, 0), -1); /* readable */
}

static bool next_is(struct vtcon *sc, uint32_t id, uint16_t ev,
    uint16_t val, const char *name)
{
	struct vtcon_ctl m;
	const void *pl;
	size_t plen;

	if (!vtcon_ctl_next(sc, &m, &pl, &plen))
		return false;
	if (m.id != id || m.event != ev || m.value != val)
		return false;
	if (name != NULL && (pl == NULL || plen != strlen(name) + 1 ||
	    memcmp(pl, name, plen) != 0))
		return false;
	vtcon_ctl_sent(sc, &m);
	return true;
}

TEST(vtcon_ctl_state_machine)
{
	struct vtcon *sc = mk_sc(3);
	struct vtcon_ctl m;
	const void *pl;
	size_t plen;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	sc->port[1].enabled = false; /* ports 0 and 2 */
	sc->port[2].console = true;
	sc->port[0].cfd = sv[0];       /* a client on port 0 */
	sc->multiport = true;

	/* Nothing owed; PORT_READY before DEVICE_READY is ignored. */
	CHECK(!vtcon_ctl_next(sc, &m, &pl, &plen));
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_PORT_READY, 1 };
	CHECK_EQ(vtcon_ctl_handle(sc, &m), -1);
	CHECK(!sc->port[0].guest_ready);
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_DEVICE_READY, 0 };
	vtcon_ctl_handle(sc, &m);
	CHECK(!sc->device_ready);

	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_DEVICE_READY, 1 };
	CHECK_EQ(vtcon_ctl_handle(sc, &m), -1);
	/* PORT_READY before its DEVICE_ADD went out: ignored. */
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_PORT_READY, 1 };
	vtcon_ctl_handle(sc, &m);
	CHECK(!sc->port[0].guest_ready);
	CHECK(next_is(sc, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL));
	CHECK(next_is(sc, 2, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL));
	CHECK(!vtcon_ctl_next(sc, &m, &pl, &plen));

	/* Unknown, disabled or absurd ports and events: nothing happens. */
	{
		struct vtcon_ctl junk[] = {
			{ 1, VIRTIO_CONSOLE_PORT_READY, 1 },
			{ 16, VIRTIO_CONSOLE_PORT_READY, 1 },
			{ 0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1 },
			{ 0xffffffff, VIRTIO_CONSOLE_PORT_OPEN, 1 },
			{ 2, VIRTIO_CONSOLE_PORT_OPEN, 1 }, /* not ready */
			{ 0, VIRTIO_CONSOLE_DEVICE_ADD, 1 },
			{ 0, VIRTIO_CONSOLE_PORT_NAME, 1 },
			{ 0, 0xffff, 0xffff },
		};
		for (size_t i = 0; i < ARRAY_SIZE(junk); i++)
			CHECK_EQ(vtcon_ctl_handle(sc, &junk[i]), -1);
		CHECK(!vtcon_ctl_next(sc, &m, &pl, &plen));
		CHECK(!sc->port[2].guest_open);
	}

	/* Port 0 ready: its name, then PORT_OPEN(1) (a client is there). */
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_PORT_READY, 1 };
	CHECK_EQ(vtcon_ctl_handle(sc, &m), -1);
	CHECK(sc->port[0].guest_ready);
	m = (struct vtcon_ctl){ 2, VIRTIO_CONSOLE_PORT_READY, 1 };
	vtcon_ctl_handle(sc, &m);
	CHECK(next_is(sc, 0, VIRTIO_CONSOLE_PORT_NAME, 1, "p0"));
	CHECK(next_is(sc, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL));
	/* Port 2, a console without a client: CONSOLE_PORT and its name. */
	CHECK(next_is(sc, 2, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL));
	CHECK(next_is(sc, 2, VIRTIO_CONSOLE_PORT_NAME, 1, "p2"));
	CHECK(!vtcon_ctl_next(sc, &m, &pl, &plen));

	/* The guest opens and closes port 0. */
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_PORT_OPEN, 1 };
	CHECK_EQ(vtcon_ctl_handle(sc, &m), 0);
	CHECK(sc->port[0].guest_open);
	CHECK_EQ(vtcon_ctl_handle(sc, &m), -1); /* already open */
	m.value = 0;
	CHECK_EQ(vtcon_ctl_handle(sc, &m), -1);
	CHECK(!sc->port[0].guest_open);

	/* The client leaves: PORT_OPEN(0) is owed. */
	vtcon_port_hangup(&sc->port[0]);
	CHECK_EQ(sc->port[0].cfd, -1);
	CHECK(next_is(sc, 0, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL));

	/* A driver restart (DEVICE_READY again) re-announces everything. */
	m = (struct vtcon_ctl){ 0, VIRTIO_CONSOLE_DEVICE_READY, 1 };
	vtcon_ctl_handle(sc, &m);
	CHECK(!sc->port[0].guest_ready && !sc->port[2].guest_ready);
	CHECK(next_is(sc, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL));

	/* Device reset forgets the guest's side. */
	vtcon_reset_state(sc);
	CHECK(!sc->multiport && !sc->device_ready);
	CHECK(!vtcon_ctl_next(sc, &m, &pl, &plen));
	close(sv[1]);
	free_sc(sc);
}

TEST(vtcon_ctl_queues)
{
	struct vfx rx, tx;
	struct vtcon *sc = mk_sc(2);
	uint32_t opened = 0;
	bool ret = false;
	struct vtcon_ctl m;

	CHECK(vfx_init(&rx, 8, false, false) == 0);
	CHECK(vfx_init(&tx, 128, false, false) == 0);
	sc->multiport = true;

	/* The guest says DEVICE_READY; a short message is ignored. */
	post(&tx, 0, "abcd", 4, false);
	post_ctl(&tx, 1, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	CHECK_EQ(vtcon_ctl_receive(sc, &tx.vq, &opened, &ret), VTCON_DONE);
	CHECK(ret);
	CHECK_EQ(vfx_used_idx(&tx), 2);
	CHECK_EQ(vfx_used_len(&tx, 1), 0);
	CHECK(sc->device_ready);

	/* No receive buffers: the messages wait. */
	ret = false;
	CHECK_EQ(vtcon_ctl_flush(sc, &rx.vq, &ret), VTCON_DONE);
	CHECK(!ret);
	CHECK(sc->port[0].pending == VTCON_SEND_ADD);

	/* A buffer too small for a header comes back empty; then two good. */
	post(&rx, 0, NULL, 4, true);
	post(&rx, 1, NULL, 64, true);
	post(&rx, 2, NULL, 64, true);
	CHECK_EQ(vtcon_ctl_flush(sc, &rx.vq, &ret), VTCON_DONE);
	CHECK(ret);
	CHECK_EQ(vfx_used_idx(&rx), 3);
	CHECK_EQ(vfx_used_len(&rx, 0), 0);
	CHECK_EQ(vfx_used_len(&rx, 1), 8);
	m = ctl_at(&rx, used_buf(&rx, 1));
	CHECK(m.id == 0 && m.event == VIRTIO_CONSOLE_DEVICE_ADD);
	m = ctl_at(&rx, used_buf(&rx, 2));
	CHECK(m.id == 1 && m.event == VIRTIO_CONSOLE_DEVICE_ADD);

	/* PORT_READY(1) then PORT_OPEN(1): the name goes out, port opens. */
	post_ctl(&tx, 2, 1, VIRTIO_CONSOLE_PORT_READY, 1);
	post_ctl(&tx, 3, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(vtcon_ctl_receive(sc, &tx.vq, &opened, &ret), VTCON_DONE);
	CHECK_EQ(opened, 1u << 1);
	post(&rx, 3, NULL, 64, true);
	CHECK_EQ(vtcon_ctl_flush(sc, &rx.vq, &ret), VTCON_DONE);
	CHECK_EQ(vfx_used_len(&rx, 3), 8 + 3);
	CHECK(fx_holds(&rx.fx, used_buf(&rx, 3) + 8, "p1", 3));

	/* A flood of guest messages is handled a budget at a time. */
	for (int i = 0; i < VTCON_BUDGET + 10; i++)
		post_ctl(&tx, 4, 0xffffffff, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(vtcon_ctl_receive(sc, &tx.vq, &opened, &ret), VTCON_MORE);
	CHECK_EQ(vtcon_ctl_receive(sc, &tx.vq, &opened, &ret), VTCON_DONE);
	CHECK_EQ(vfx_used_idx(&tx), 4 + VTCON_BUDGET + 10);

	/* Hostile chains on either queue break it. */
	vfx_desc(&tx, 5, VFX_LOW - 2, 8, 0, 0);
	vfx_push(&tx, 5);
	CHECK_EQ(vtcon_ctl_receive(sc, &tx.vq, &opened, &ret), -EBADMSG);
	sc->port[0].pending = VTCON_SEND_NAME;
	vfx_desc(&rx, 4, 0, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 4);
	vfx_push(&rx, 4);
	CHECK_EQ(vtcon_ctl_flush(sc, &rx.vq, &ret), -EBADMSG);

	/* Without MULTIPORT there is no control queue to flush. */
	sc->multiport = false;
	CHECK_EQ(vtcon_ctl_flush(sc, &rx.vq, &ret), VTCON_DONE);
	vfx_fini(&rx);
	vfx_fini(&tx);
	free_sc(sc);
}

/* ---- data --------------------------------------------------------------- */

TEST(vtcon_data_socketpair)
{
	struct vfx rx, tx;
	struct vtcon *sc = mk_sc(1);
	struct vtcon_port *p = &sc->port[0];
	char buf[64];
	bool ret = false;
	int sv[2];

	CHECK(vfx_init(&rx, 8, false, false) == 0);
	CHECK(vfx_init(&tx, 8, false, false) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	sc->multiport = true;
	p->cfd = sv[0];
	p->guest_ready = true;

	/* Client -> guest waits until a guest program opens the port. */
	CHECK_EQ(write(sv[1], "hello", 5), 5);
	CHECK(!vtcon_port_can_rx(p));
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_WAIT);
	p->guest_open = true;
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_WAIT); /* no buffers */
	CHECK(!ret);
	post(&rx, 0, NULL, 4, true);
	post(&rx, 1, NULL, 16, true);
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_WAIT);
	CHECK(ret);
	CHECK_EQ(vfx_used_idx(&rx), 2);
	CHECK_EQ(vfx_used_len(&rx, 0), 4);
	CHECK_EQ(vfx_used_len(&rx, 1), 1);
	CHECK(fx_holds(&rx.fx, used_buf(&rx, 0), "hell", 4));
	CHECK(fx_holds(&rx.fx, used_buf(&rx, 1), "o", 1));
	/* A buffer and no data: it stays available. */
	post(&rx, 2, NULL, 16, true);
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_DONE);
	CHECK(vq_has_descs(&rx.vq));
	/* Data fills that buffer; a chain with nothing writable goes back. */
	post(&rx, 3, "zz", 2, false);
	CHECK_EQ(write(sv[1], "!", 1), 1);
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_WAIT);
	CHECK_EQ(vfx_used_idx(&rx), 4);
	CHECK_EQ(vfx_used_len(&rx, 2), 1);
	CHECK(fx_holds(&rx.fx, used_buf(&rx, 2), "!", 1));
	CHECK_EQ(vfx_used_len(&rx, 3), 0);

	/* Guest -> client: readable segments only, in order. */
	{
		uint64_t a = vfx_buf(&tx, 3, 0), b = vfx_buf(&tx, 2, 0),
			 w = vfx_buf(&tx, 8, 0);

		memcpy(vfx_host(&tx, a, 3), "wor", 3);
		memcpy(vfx_host(&tx, b, 2), "ld", 2);
		vfx_desc(&tx, 0, a, 3, VRING_DESC_F_NEXT, 1);
		vfx_desc(&tx, 1, b, 2, VRING_DESC_F_NEXT, 2);
		vfx_desc(&tx, 2, w, 8, VRING_DESC_F_WRITE, 0);
		vfx_push(&tx, 0);
	}
	ret = false;
	CHECK_EQ(vtcon_port_tx(p, &tx.vq, &ret), VTCON_DONE);
	CHECK(ret);
	CHECK_EQ(vfx_used_idx(&tx), 1);
	CHECK_EQ(vfx_used_len(&tx, 0), 0);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 5);
	CHECK(memcmp(buf, "world", 5) == 0);

	/* The client leaves: the next write hangs the port up, data dropped. */
	close(sv[1]);
	post(&tx, 3, "lost", 4, false);
	post(&tx, 4, "gone", 4, false);
	CHECK_EQ(vtcon_port_tx(p, &tx.vq, &ret), VTCON_DONE);
	CHECK_EQ(p->cfd, -1);
	CHECK(p->pending & VTCON_SEND_OPEN);
	CHECK_EQ(vfx_used_idx(&tx), 3);
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_DONE); /* no client */

	/* EOF from a client on the receive side hangs up too. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	p->cfd = sv[0];
	p->pending = 0;
	close(sv[1]);
	post(&rx, 4, NULL, 16, true);
	CHECK_EQ(vtcon_port_rx(p, &rx.vq, &ret), VTCON_CLOSED);
	CHECK_EQ(p->cfd, -1);
	CHECK(p->pending & VTCON_SEND_OPEN);
	CHECK(vq_has_descs(&rx.vq)); /* the buffer was given back */
	vfx_fini(&rx);
	vfx_fini(&tx);
	free_sc(sc);
}

TEST(vtcon_data_slow_client)
{
	enum { CHUNK = 64 * 1024, NCHAINS = 6 };
	struct vfx tx;
	struct vtcon *sc = mk_sc(1);
	struct vtcon_port *p = &sc->port[0];
	static uint8_t got[CHUNK * NCHAINS];
	size_t total = 0;
	bool ret = false;
	int sv[2], sz = 4096, rounds = 0, rc, blocked = 0;

	CHECK(vfx_init(&tx, 8, false, false) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	p->cfd = sv[0];
	for (int i = 0; i < NCHAINS; i++) {
		uint64_t b = vfx_buf(&tx, CHUNK, 0);

		for (int j = 0; j < CHUNK; j++)
			vfx_host(&tx, b, CHUNK)[j] = fx_pat((size_t)(i * CHUNK +
			    j));
		vfx_desc(&tx, (uint16_t)i, b, CHUNK, 0, 0);
		vfx_push(&tx, (uint16_t)i);
	}
	/*
	 * The socket takes a few KiB at a time: the device holds one chain,
	 * takes no other, and returns each chain only once all of it went.
	 */
	do {
		uint16_t used = vfx_used_idx(&tx);
		ssize_t n;

		rc = vtcon_port_tx(p, &tx.vq, &ret);
		if (rc == VTCON_BLOCKED) {
			blocked++;
			CHECK(p->tx_held);
			/* Exactly one chain beyond the returned ones is taken. */
			CHECK_EQ((uint16_t)(tx.vq.last_avail - vfx_used_idx(&tx)),
			    1);
		}
		CHECK((uint16_t)(vfx_used_idx(&tx) - used) <= NCHAINS);
		while ((n = recv(sv[1], got + total, sizeof(got) - total,
		    MSG_DONTWAIT)) > 0)
			total += (size_t)n;
	} while (rc == VTCON_BLOCKED && ++rounds < 100000);
	CHECK_EQ(rc, VTCON_DONE);
	CHECK(blocked > NCHAINS);
	CHECK_EQ(vfx_used_idx(&tx), NCHAINS);
	CHECK_EQ(total, sizeof(got));
	for (size_t i = 0; i < sizeof(got); i++) {
		if (got[i] != fx_pat(i)) {
			CHECK_EQ(i, -1);
			break;
		}
	}
	/* A reset while a chain is held forgets it. */
	p->tx_held = true;
	vtcon_reset_state(sc);
	CHECK(!p->tx_held);
	close(sv[1]);
	vfx_fini(&tx);
	free_sc(sc);
}

TEST(vtcon_data_no_multiport)
{
	struct vfx rx;
	struct vtcon *sc = mk_sc(2);
	bool ret = false;
	int sv[2];

	CHECK(vfx_init(&rx, 8, false, false) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* A driver without MULTIPORT sees port 0, always open. */
	sc->port[0].cfd = sv[0];
	CHECK(vtcon_port_can_rx(&sc->port[0]));
	sc->port[1].cfd = sv[0];
	CHECK(!vtcon_port_can_rx(&sc->port[1]));
	sc->port[1].cfd = -1;
	CHECK_EQ(write(sv[1], "x", 1), 1);
	post(&rx, 0, NULL, 4, true);
	CHECK_EQ(vtcon_port_rx(&sc->port[0], &rx.vq, &ret), VTCON_WAIT);
	CHECK_EQ(vfx_used_len(&rx, 0), 1);
	close(sv[1]);
	vfx_fini(&rx);
	free_sc(sc);
}

/* ---- Unix sockets ------------------------------------------------------- */

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST(vtcon_unix_sockets)
{
	char dir[] = "/tmp/khyve-vtcon-XXXXXX", path[4][64], buf[8];
	struct vtcon *sc = mk_sc(4);
	struct vfx rx;
	bool ret = false;
	int c1, c2, other;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(vfx_init(&rx, 8, false, false) == 0);
	for (int i = 0; i < 4; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/s%d", dir, i);
		sc->port[i].path = strdup(path[i]);
	}

	/* Listen, accept one client, refuse a second, move data, close. */
	CHECK_EQ(vtcon_port_listen(&sc->port[0]), 0);
	CHECK(is_socket(path[0]));
	c1 = client(path[0]);
	CHECK(c1 >= 0);
	CHECK_EQ(vtcon_port_accept(&sc->port[0]), 0);
	c2 = client(path[0]);
	CHECK(c2 >= 0);
	CHECK_EQ(vtcon_port_accept(&sc->port[0]), -EBUSY);
	CHECK_EQ(read(c2, buf, sizeof(buf)), 0); /* dropped */
	close(c2);
	CHECK_EQ(vtcon_port_accept(&sc->port[0]), -EAGAIN); /* none waiting */
	CHECK_EQ(write(c1, "hi", 2), 2);
	post(&rx, 0, NULL, 8, true);
	CHECK_EQ(vtcon_port_rx(&sc->port[0], &rx.vq, &ret), VTCON_WAIT);
	CHECK(fx_holds(&rx.fx, used_buf(&rx, 0), "hi", 2));
	vtcon_port_close(&sc->port[0]);
	CHECK(!is_socket(path[0]));
	CHECK_EQ(read(c1, buf, sizeof(buf)), 0); /* the client sees EOF */
	close(c1);

	/* A stale socket file (nobody listening) is replaced. */
	other = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path[1]);
		CHECK(bind(other, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(other);
		/* A live listener is not: its owner keeps it. */
		other = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path[2]);
		CHECK(bind(other, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CHECK(listen(other, 1) == 0);
	}
	CHECK_EQ(vtcon_port_listen(&sc->port[1]), 0);
	c1 = client(path[1]);
	CHECK(c1 >= 0);
	close(c1);
	CHECK_EQ(vtcon_port_listen(&sc->port[2]), -EADDRINUSE);
	CHECK(is_socket(path[2]));
	vtcon_port_close(&sc->port[2]); /* never ours: stays */
	CHECK(is_socket(path[2]));
	close(other);

	/* A regular file at the path is never removed. */
	CHECK(close(open(path[3], O_CREAT | O_WRONLY, 0600)) == 0);
	CHECK_EQ(vtcon_port_listen(&sc->port[3]), -EADDRINUSE);
	CHECK(access(path[3], F_OK) == 0);
	/* Nor a file that replaced our socket. */
	unlink(path[1]);
	CHECK(close(open(path[1], O_CREAT | O_WRONLY, 0600)) == 0);
	vtcon_port_close(&sc->port[1]);
	CHECK(access(path[1], F_OK) == 0);

	for (int i = 0; i < 4; i++)
		unlink(path[i]);
	CHECK(rmdir(dir) == 0);
	vfx_fini(&rx);
	free_sc(sc);
}
