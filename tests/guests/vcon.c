/*
 * vcon.elf - a virtio-console multiport driver (virtio 1.2, 5.3).
 *
 * Queues: port 0 receiveq 0 / transmitq 1, control receiveq 2 /
 * transmitq 3, port N receiveq 2(N+1) / transmitq 2(N+1)+1.  The program
 * negotiates VIRTIO_CONSOLE_F_MULTIPORT, posts control buffers, sends
 * DEVICE_READY, answers each DEVICE_ADD with PORT_READY and prints every
 * control event ("vcon: control id I event E value V [name]").  On the
 * chosen port ("name=NAME", else "port=N", default 0) it waits for the
 * host side to open (PORT_OPEN 1: a client connected to the port's
 * socket), opens its side, sends "hello from vcon port N\n", waits for a
 * line from the host and sends it back as "echo: LINE\n".
 * Options: "transport=", "irq=", "wait=MS" for the host (default 60000).
 * Ends "vcon ok" (GX_OK) or "vcon FAIL" (GX_FAIL).
 */
#include "virtio.h"

#define CON_F_SIZE 0
#define CON_F_MULTIPORT 1

#define EV_DEVICE_READY 0
#define EV_DEVICE_ADD 1
#define EV_DEVICE_REMOVE 2
#define EV_PORT_READY 3
#define EV_CONSOLE_PORT 4
#define EV_RESIZE 5
#define EV_PORT_OPEN 6
#define EV_PORT_NAME 7

#define CTRL_BUFS 16
#define CTRL_LEN 128
#define RX_BUFS 4
#define RX_LEN 256
#define QMAX 64

struct ctrl {
	uint32_t id;
	uint16_t event, value;
} __attribute__((packed));

static struct pci_dev devs[PCI_MAX_DEVS];
static struct vdev vd;
static uint8_t *ctrl_buf[QMAX]; /* control receiveq buffer by head */
static uint8_t *rx_buf[QMAX];   /* port receiveq buffer by head */
static int port = -1, rxq, txq;
static bool host_open, port_added;
static char want_name[64];
static uint8_t *txmsg;

static void post_ctrl(uint8_t *b)
{
	struct vbuf v = { b, CTRL_LEN, true };
	int h = vio_add(&vd, 2, &v, 1);

	if (h >= 0 && h < QMAX)
		ctrl_buf[h] = b;
}

static void send_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
	struct ctrl *c = (struct ctrl *)txmsg;
	struct vbuf v = { c, sizeof(*c), false };

	c->id = id;
	c->event = event;
	c->value = value;
	if (vio_request(&vd, 3, &v, 1, 10000) < 0)
		vio_fail("control message %u not taken", event);
}

static void handle_ctrl(const uint8_t *b, uint32_t len)
{
	const struct ctrl *c = (const struct ctrl *)b;
	char name[CTRL_LEN];

	if (len < sizeof(*c) || len > CTRL_LEN) {
		vio_fail("control message of %u bytes", len);
		return;
	}
	name[0] = 0;
	if (c->event == EV_PORT_NAME) {
		memcpy(name, b + sizeof(*c), len - sizeof(*c));
		name[len - sizeof(*c)] = 0;
	}
	printf("vcon: control id %u event %u value %u%s%s\n", c->id, c->event,
	    c->value, name[0] ? " name " : "", name);
	switch (c->event) {
	case EV_DEVICE_ADD:
		send_ctrl(c->id, EV_PORT_READY, 1);
		if ((int)c->id == port)
			port_added = true;
		break;
	case EV_PORT_NAME:
		if (want_name[0] && strcmp(name, want_name) == 0 && port < 0) {
			port = (int)c->id;
			port_added = true;
		}
		break;
	case EV_PORT_OPEN:
		if ((int)c->id == port || (port < 0 && !want_name[0]))
			host_open = c->value != 0;
		break;
	}
}

/* Drain the control receiveq; buffers are posted again. */
static void poll_ctrl(void)
{
	uint32_t id, len;

	while (vio_poll(&vd, 2, &id, &len)) {
		if (id >= QMAX || ctrl_buf[id] == NULL) {
			vio_fail("control used id %u", id);
			continue;
		}
		uint8_t *b = ctrl_buf[id];

		ctrl_buf[id] = NULL;
		handle_ctrl(b, len);
		post_ctrl(b);
		vio_kick(&vd, 2);
	}
}

static void send_port(const char *s)
{
	size_t n = strlen(s);
	struct vbuf v = { txmsg, (uint32_t)n, false };

	memcpy(txmsg, s, n);
	if (vio_request(&vd, txq, &v, 1, 10000) < 0)
		vio_fail("port %d: transmit not completed", port);
}

void guest_main(void)
{
	int n = pci_scan(devs, PCI_MAX_DEVS);
	struct pci_dev *d = vio_find(devs, n, VIRTIO_ID_CONSOLE, 0);
	uint32_t wait_ms = (uint32_t)cmd_num("wait", 60000), nports;
	char line[RX_LEN + 1], msg[RX_LEN + 64];
	size_t have = 0;
	bool got_line = false;
	int nq;

	if (d == NULL) {
		printf("vcon FAIL: no virtio-console function\n");
		finish(GX_FAIL);
	}
	if (!cmd_get("name", want_name, sizeof(want_name)))
		port = (int)cmd_num("port", 0);
	txmsg = palloc(RX_LEN + 64, 16);
	if (vio_init(&vd, d, vio_mode_arg("transport"), vio_irq_arg("irq", d),
		0x40) != 0 ||
	    vio_negotiate(&vd, 1u << CON_F_MULTIPORT | 1u << CON_F_SIZE) != 0)
		goto out;
	if (!(vd.features >> CON_F_MULTIPORT & 1)) {
		vio_fail("VIRTIO_CONSOLE_F_MULTIPORT not offered");
		goto out;
	}
	nports = (uint32_t)vio_cfg_read(&vd, 4, 4);
	printf("vcon: max_nr_ports %u cols %u rows %u\n", nports,
	    (unsigned)vio_cfg_read(&vd, 0, 2), (unsigned)vio_cfg_read(&vd, 2, 2));
	if (nports == 0 || nports > 32) {
		vio_fail("max_nr_ports %u", nports);
		goto out;
	}
	/* Every queue before DRIVER_OK (3.1.1): ports 0..2 fit our table. */
	nq = 2 * ((nports < 3 ? (int)nports : 3) + 1);
	for (int q = 0; q < nq; q++)
		if (vio_setup_vq(&vd, q, QMAX) != 0)
			goto out;
	vio_driver_ok(&vd);
	vio_print(&vd, "vcon");
	for (int i = 0; i < CTRL_BUFS; i++)
		post_ctrl(palloc(CTRL_LEN, 16));
	vio_kick(&vd, 2);
	send_ctrl(0, EV_DEVICE_READY, 1);

	/* Wait for our port to be announced and the host side to open. */
	for (uint32_t t = 0; t < wait_ms; t++) {
		poll_ctrl();
		if (port >= 0 && port_added && host_open)
			break;
		delay_ms(1);
	}
	if (port < 0 || !port_added) {
		vio_fail("port %s not announced", want_name[0] ? want_name :
		    "(number)");
		goto out;
	}
	if ((uint32_t)port >= nports || 2 * (port + 1) + 1 >= nq) {
		vio_fail("port %d: max_nr_ports %u, we drive ports 0..2", port,
		    nports);
		goto out;
	}
	if (!host_open) {
		vio_fail("port %d: the host side never opened", port);
		goto out;
	}
	rxq = port == 0 ? 0 : 2 * (port + 1);
	txq = rxq + 1;
	printf("vcon: port %d open (queues %d/%d)\n", port, rxq, txq);
	for (int i = 0; i < RX_BUFS; i++) {
		uint8_t *b = palloc(RX_LEN, 16);
		struct vbuf v = { b, RX_LEN, true };
		int h = vio_add(&vd, rxq, &v, 1);

		if (h >= 0 && h < QMAX)
			rx_buf[h] = b;
	}
	vio_kick(&vd, rxq);
	send_ctrl((uint32_t)port, EV_PORT_OPEN, 1);
	snprintf(msg, sizeof(msg), "hello from vcon port %d\n", port);
	send_port(msg);

	for (uint32_t t = 0; t < wait_ms * 10 && !got_line; t++) {
		uint32_t id, len;

		poll_ctrl();
		if (!vio_poll(&vd, rxq, &id, &len)) {
			delay_us(100);
			continue;
		}
		if (id >= QMAX || rx_buf[id] == NULL || len > RX_LEN) {
			vio_fail("port rx: used id %u len %u", id, len);
			break;
		}
		for (uint32_t i = 0; i < len && have < RX_LEN; i++) {
			char c = (char)rx_buf[id][i];

			if (c == '\n') {
				got_line = true;
				break;
			}
			line[have++] = c;
		}
		struct vbuf v = { rx_buf[id], RX_LEN, true };
		uint8_t *b = rx_buf[id];

		rx_buf[id] = NULL;
		int h = vio_add(&vd, rxq, &v, 1);
		if (h >= 0 && h < QMAX)
			rx_buf[h] = b;
		vio_kick(&vd, rxq);
	}
	line[have] = 0;
	if (!got_line) {
		vio_fail("port %d: no line from the host (have '%s')", port,
		    line);
		goto out;
	}
	printf("vcon: received '%s'\n", line);
	snprintf(msg, sizeof(msg), "echo: %s\n", line);
	send_port(msg);
	printf("vcon: interrupts tx %u rx %u config %u status 0x%x\n",
	    vio_irqs(&vd, txq), vio_irqs(&vd, rxq), vio_config_irqs(&vd),
	    vio_status(&vd));
out:
	if (vio_errors || pci_errors) {
		printf("vcon FAIL\n");
		finish(GX_FAIL);
	}
	printf("vcon ok\n");
	finish(GX_OK);
}
