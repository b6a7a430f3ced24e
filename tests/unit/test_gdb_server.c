/* test_gdb_server.c - the GDB remote protocol commands (gdb/gdb_server.c)
 * driven against a fake target (gdb_fake.h): stop replies, registers,
 * memory, breakpoints, vCont, threads, queries, acks, and hostile input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdb_fake.h"
#include "test.h"

struct sess {
	struct gdb_server s;
	struct fake f;
	char reply[2 * GDB_PKT_MAX + 64];
};

static struct sess *open_sess(void)
{
	struct sess *x = calloc(1, sizeof(*x));

	fake_init(&x->f);
	if (gdb_server_init(&x->s, &fake_ops, &x->f, FAKE_CPUS,
		GDB_ARCH_AMD64) != 0) {
		free(x);
		return NULL;
	}
	return x;
}

static void close_sess(struct sess *x)
{
	gdb_server_fini(&x->s);
	free(x);
}

static void raw(struct sess *x, const void *data, size_t n)
{
	gdb_server_input(&x->s, data, n);
}

/* Send one packet (payload given unescaped but escape-free). */
static void pkt_n(struct sess *x, const char *p, size_t n)
{
	char buf[GDB_PKT_MAX + 16];
	uint8_t sum = 0;
	size_t len;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + (uint8_t)p[i]);
	buf[0] = '$';
	memcpy(buf + 1, p, n);
	len = 1 + n + (size_t)snprintf(buf + 1 + n, 4, "#%02x", sum);
	raw(x, buf, len);
}

static void pkt(struct sess *x, const char *p)
{
	pkt_n(x, p, strlen(p));
}

/*
 * The next reply packet in the output (acks before it skipped), with its
 * checksum checked and escapes undone; NULL if there is none.
 */
static const char *take(struct sess *x)
{
	struct gdb_tx *o = &x->s.out;
	struct gdb_rx rx;
	size_t i = 0;

	while (i < o->len && (o->buf[i] == '+' || o->buf[i] == '-'))
		i++;
	if (i >= o->len)
		return NULL;
	gdb_rx_init(&rx);
	for (; i < o->len; i++) {
		enum gdb_rx_event e = gdb_rx_byte(&rx, o->buf[i]);

		if (e == GDB_RX_PACKET) {
			memcpy(x->reply, rx.buf, rx.len);
			x->reply[rx.len] = '\0';
			gdb_tx_consume(o, i + 1);
			return x->reply;
		}
		if (e != GDB_RX_NONE)
			return "(bad reply)";
	}
	return NULL;
}

/* Send a packet and return its reply ("" is a real empty reply). */
static const char *ask(struct sess *x, const char *p)
{
	pkt(x, p);
	return take(x);
}

static void flush_out(struct sess *x)
{
	gdb_tx_consume(&x->s.out, x->s.out.len);
}

/* Connected and stopped on attach, as a session starts. */
static struct sess *attached(void)
{
	struct sess *x = open_sess();

	if (x != NULL)
		fake_stop(&x->s, &x->f, GDB_STOP_ATTACH, -1, 0);
	return x;
}

#define CHECK_REPLY(x, p, want) CHECK_STR(ask((x), (p)), (want))

TEST(gdb_server_attach)
{
	struct sess *x = open_sess();
	const char *r;

	/* Packets wait (acked) for the stop on attach. */
	pkt(x, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	pkt(x, "?");
	CHECK(take(x) == NULL);
	CHECK_EQ(x->s.out.len, 1); /* the first packet's ack */
	fake_stop(&x->s, &x->f, GDB_STOP_ATTACH, -1, 0);
	r = take(x);
	CHECK(r != NULL && strstr(r, "PacketSize=4000;") != NULL &&
	    strstr(r, "swbreak+") != NULL);
	CHECK(x->s.swbreak && x->s.hwbreak);
	CHECK_STR(take(x), "T05thread:1;");
	CHECK_REPLY(x, "?", "T05thread:1;");
	CHECK_REPLY(x, "qAttached", "1");
	CHECK_REPLY(x, "qC", "QC1");
	CHECK_REPLY(x, "qfThreadInfo", "m1,2,3");
	CHECK_REPLY(x, "qsThreadInfo", "l");
	CHECK_REPLY(x, "qThreadExtraInfo,3", "764350552032"); /* "vCPU 2" */
	CHECK_REPLY(x, "qThreadExtraInfo,4", "E16");
	CHECK_REPLY(x, "T3", "OK");
	CHECK_REPLY(x, "T4", "E16");
	CHECK_REPLY(x, "T0", "E16");
	CHECK_REPLY(x, "qOffsets", "");
	CHECK_REPLY(x, "qSymbol::", "OK");
	CHECK_REPLY(x, "vMustReplyEmpty", "");
	CHECK_REPLY(x, "vCont?", "vCont;c;C;s;S");
	CHECK_REPLY(x, "Xyz", "E16");
	CHECK_REPLY(x, "!", "");
	/* This client understands swbreak and hwbreak stop reasons. */
	pkt(x, "c");
	fake_stop(&x->s, &x->f, GDB_STOP_SWBREAK, 1, 0);
	CHECK_STR(take(x), "T05thread:2;swbreak:;");
	pkt(x, "c");
	fake_stop(&x->s, &x->f, GDB_STOP_HWBREAK, 0, 0);
	CHECK_STR(take(x), "T05thread:1;hwbreak:;");
	close_sess(x);
}

TEST(gdb_server_registers)
{
	struct sess *x = attached();
	size_t n = gdb_regs_size(GDB_ARCH_AMD64);
	char *g = malloc(2 * n + 8), *newg;
	const char *r;

	flush_out(x);
	r = ask(x, "g");
	CHECK_EQ(strlen(r), 2 * n);
	CHECK(strncmp(r, "1111111111111111", 16) == 0);   /* rax, cpu 0 */
	CHECK(strncmp(r + 256, "0000100000000000", 16) == 0); /* rip */
	strcpy(g, r);
	/* Another thread. */
	CHECK_REPLY(x, "Hg2", "OK");
	r = ask(x, "g");
	CHECK(strncmp(r, "1211111111111111", 16) == 0);
	CHECK_EQ(x->f.last_cpu, 1);
	CHECK_REPLY(x, "Hg4", "E16");
	CHECK_REPLY(x, "Hgzz", "E16");
	CHECK_REPLY(x, "Hx1", "E16");
	CHECK_REPLY(x, "Hg-1", "OK");
	CHECK_REPLY(x, "Hgp1.3", "OK");
	r = ask(x, "p10");
	CHECK_STR(r, "0200100000000000"); /* rip of cpu 2 */
	CHECK_REPLY(x, "Hg0", "OK");

	/* G: the whole file. */
	newg = malloc(2 * n + 2);
	memcpy(newg, "G", 1);
	strcpy(newg + 1, g);
	memcpy(newg + 1, "efbeadde00000000", 16);
	CHECK_REPLY(x, newg, "OK");
	CHECK(x->f.regs[0].gpr[GDB_RAX] == 0xdeadbeef);
	newg[2 * n] = '\0'; /* one digit short */
	CHECK_REPLY(x, newg, "E16");
	CHECK_REPLY(x, "G00", "E16");
	/* P / p one register. */
	CHECK_REPLY(x, "P10=0020100000000000", "OK");
	CHECK_EQ(x->f.regs[0].rip, 0x102000);
	CHECK_REPLY(x, "p10", "0020100000000000");
	CHECK_REPLY(x, "p11", "02000000");           /* eflags: 32 bits */
	CHECK_REPLY(x, "P11=00020000", "OK");
	CHECK_EQ(x->f.regs[0].rflags, 0x200);
	CHECK_REPLY(x, "P11=0002", "E16");           /* wrong size */
	CHECK_REPLY(x, "P10=zz20100000000000", "E16");
	CHECK_REPLY(x, "p31", "E16");                /* past the last */
	CHECK_REPLY(x, "pffffffffffffffffff", "E16");
	CHECK_REPLY(x, "p", "E16");
	CHECK_REPLY(x, "P", "E16");
	CHECK_REPLY(x, "P21", "E16");
	CHECK_REPLY(x, "gx", "E16");
	free(g);
	free(newg);
	close_sess(x);
}

TEST(gdb_server_memory)
{
	struct sess *x = attached();
	char req[64], big[2 * 300 + 64];
	const char *r;

	flush_out(x);
	snprintf(req, sizeof(req), "m%x,4", FAKE_BASE);
	CHECK_REPLY(x, req, "0714212e");
	CHECK_REPLY(x, "m0,4", "E0e");                 /* unmapped */
	snprintf(req, sizeof(req), "m%x,8", FAKE_BASE + FAKE_MEM - 2);
	r = ask(x, req);
	CHECK_EQ(strlen(r), 4);                        /* short read */
	snprintf(req, sizeof(req), "m%x,0", FAKE_BASE);
	CHECK_REPLY(x, req, "");
	/* Huge lengths are capped to what a packet holds. */
	snprintf(req, sizeof(req), "m%x,ffffffffffff", FAKE_BASE);
	r = ask(x, req);
	CHECK(strlen(r) > 0 && strlen(r) <= GDB_PKT_MAX);
	CHECK_REPLY(x, "m1000", "E16");
	CHECK_REPLY(x, "m,4", "E16");
	CHECK_REPLY(x, "m1000,4,", "E16");
	CHECK_REPLY(x, "m1ffffffffffffffff,4", "E16");

	snprintf(req, sizeof(req), "M%x,3:aabbcc", FAKE_BASE + 1);
	CHECK_REPLY(x, req, "OK");
	CHECK(memcmp(x->f.mem + 1, "\xaa\xbb\xcc", 3) == 0);
	snprintf(req, sizeof(req), "M%x,3:aabb", FAKE_BASE);
	CHECK_REPLY(x, req, "E16");
	snprintf(req, sizeof(req), "M%x,2:aabbcc", FAKE_BASE);
	CHECK_REPLY(x, req, "E16");
	snprintf(req, sizeof(req), "M%x,1:zz", FAKE_BASE);
	CHECK_REPLY(x, req, "E16");
	CHECK_REPLY(x, "M0,1:00", "E0e");
	CHECK_REPLY(x, "M1000,1", "E16");
	snprintf(big, sizeof(big), "M%x,ffffffffff:00", FAKE_BASE);
	CHECK_REPLY(x, big, "E16");

	/* X: binary, escapes already undone by the framing. */
	snprintf(req, sizeof(req), "X%x,0:", FAKE_BASE);
	CHECK_REPLY(x, req, "OK");
	{
		char xp[32];
		int n = snprintf(xp, sizeof(xp), "X%x,4:", FAKE_BASE + 8);
		const char esc[] = "\x01}\x03}\x5d\x00";
		uint8_t sum = 0;
		char buf[64];
		size_t len;

		memcpy(xp + n, esc, 6);
		for (int i = 0; i < n + 6; i++)
			sum = (uint8_t)(sum + (uint8_t)xp[i]);
		buf[0] = '$';
		memcpy(buf + 1, xp, (size_t)n + 6);
		len = 1 + (size_t)n + 6;
		len += (size_t)snprintf(buf + len, 4, "#%02x", sum);
		raw(x, buf, len);
		CHECK_STR(take(x), "OK");
		CHECK(memcmp(x->f.mem + 8, "\x01#}\x00", 4) == 0);
	}
	snprintf(req, sizeof(req), "X%x,4:ab", FAKE_BASE);
	CHECK_REPLY(x, req, "E16");
	close_sess(x);
}

TEST(gdb_server_breakpoints)
{
	struct sess *x = attached();

	flush_out(x);
	CHECK_REPLY(x, "Z0,100180,1", "OK");
	CHECK(x->f.bp_calls == 1 && x->f.bp_insert && x->f.bp_type == 0 &&
	    x->f.bp_addr == 0x100180 && x->f.bp_kind == 1);
	CHECK_REPLY(x, "z0,100180,1", "OK");
	CHECK(!x->f.bp_insert);
	CHECK_REPLY(x, "Z2,2000,4", "OK");
	CHECK(x->f.bp_type == 2 && x->f.bp_kind == 4);
	x->f.bp_rc = -EOPNOTSUPP;
	CHECK_REPLY(x, "Z3,2000,4", "");
	x->f.bp_rc = -ENOSPC;
	CHECK_REPLY(x, "Z1,2000,1", "E1c");
	x->f.bp_rc = 0;
	CHECK_EQ(x->f.bp_calls, 5);
	CHECK_REPLY(x, "Z0,100180,1;X1,0", ""); /* conditions: not offered */
	CHECK_REPLY(x, "Z5,100180,1", "");
	CHECK_REPLY(x, "Z0,100180", "E16");
	CHECK_REPLY(x, "Z0,,1", "E16");
	CHECK_REPLY(x, "Z", "E16");
	CHECK_REPLY(x, "Z0,1,1x", "E16");
	CHECK_EQ(x->f.bp_calls, 5);
	close_sess(x);
}

TEST(gdb_server_execution)
{
	struct sess *x = attached();

	flush_out(x);
	/* continue: no reply until the target stops. */
	pkt(x, "c");
	CHECK(take(x) == NULL);
	CHECK_EQ(x->f.resumes, 1);
	CHECK(x->f.actions[0] == GDB_ACT_CONT && x->f.actions[2] ==
	    GDB_ACT_CONT);
	/* A packet while running waits; Ctrl-C still gets through. */
	pkt(x, "g");
	raw(x, "\x03", 1);
	CHECK_EQ(x->f.interrupts, 0); /* queued behind the 'g' */
	CHECK(take(x) == NULL);
	fake_stop(&x->s, &x->f, GDB_STOP_INTERRUPT, 2, 0);
	CHECK_STR(take(x), "T02thread:3;");
	CHECK(take(x) != NULL && strlen(x->reply) == 696); /* the 'g' */
	CHECK_EQ(x->f.last_cpu, 2); /* gdb follows the reporting thread */
	CHECK_EQ(x->f.interrupts, 0); /* stopped by then: moot */

	pkt(x, "c");
	raw(x, "\x03", 1);
	CHECK_EQ(x->f.interrupts, 1);
	pkt(x, "vCtrlC"); /* the packet form works while running too */
	CHECK_STR(take(x), "OK");
	CHECK_EQ(x->f.interrupts, 2);
	fake_stop(&x->s, &x->f, GDB_STOP_INTERRUPT, -1, 0);
	CHECK_STR(take(x), "T02thread:1;"); /* no vCPU in particular */

	/* s steps the Hc thread only. */
	CHECK_REPLY(x, "Hc2", "OK");
	pkt(x, "s");
	CHECK(x->f.actions[0] == GDB_ACT_STOP &&
	    x->f.actions[1] == GDB_ACT_STEP && x->f.actions[2] == GDB_ACT_STOP);
	fake_stop(&x->s, &x->f, GDB_STOP_STEP, 1, 0);
	CHECK_STR(take(x), "T05thread:2;");
	/* c ADDR sets the pc first. */
	pkt(x, "c101000");
	CHECK_EQ(x->f.regs[1].rip, 0x101000);
	fake_stop(&x->s, &x->f, GDB_STOP_HWBREAK, 0, 0);
	CHECK_STR(take(x), "T05thread:1;"); /* no hwbreak+ from this client */
	pkt(x, "S05;102000");
	CHECK_EQ(x->f.regs[0].rip, 0x102000);
	CHECK(x->f.actions[0] == GDB_ACT_STEP);
	fake_stop(&x->s, &x->f, GDB_STOP_WATCH, 0, 0x2000);
	CHECK_STR(take(x), "T05thread:1;watch:2000;");
	CHECK_REPLY(x, "c10x", "E16");
	CHECK_REPLY(x, "C", "E16");
	CHECK_REPLY(x, "Czz", "E16");
	/* A target that cannot step says so. */
	x->f.resume_rc = -EOPNOTSUPP;
	CHECK_REPLY(x, "s", "");
	x->f.resume_rc = 0;
	close_sess(x);
}

TEST(gdb_server_vcont)
{
	struct sess *x = attached();

	flush_out(x);
	pkt(x, "vCont;s:2;c");
	CHECK(x->f.actions[0] == GDB_ACT_CONT &&
	    x->f.actions[1] == GDB_ACT_STEP && x->f.actions[2] == GDB_ACT_CONT);
	fake_stop(&x->s, &x->f, GDB_STOP_STEP, 1, 0);
	CHECK_STR(take(x), "T05thread:2;");
	pkt(x, "vCont;c:1");
	CHECK(x->f.actions[0] == GDB_ACT_CONT &&
	    x->f.actions[1] == GDB_ACT_STOP && x->f.actions[2] == GDB_ACT_STOP);
	fake_stop(&x->s, &x->f, GDB_STOP_AWATCH, 0, 0x30);
	CHECK_STR(take(x), "T05thread:1;awatch:30;");
	pkt(x, "vCont;C05:p1.3;S0b:p1.-1");
	CHECK(x->f.actions[0] == GDB_ACT_STEP &&
	    x->f.actions[1] == GDB_ACT_STEP && x->f.actions[2] == GDB_ACT_CONT);
	fake_stop(&x->s, &x->f, GDB_STOP_SWBREAK, 0, 0);
	CHECK_STR(take(x), "T05thread:1;"); /* no swbreak+ from this client */
	CHECK_EQ(x->f.resumes, 3);
	CHECK_REPLY(x, "vCont;t", "E16");          /* nothing would run */
	CHECK_REPLY(x, "vCont;c:5", "E16");
	CHECK_REPLY(x, "vCont;r1,2", "E16");
	CHECK_REPLY(x, "vCont;", "E16");
	CHECK_REPLY(x, "vCont;c;", "E16");
	CHECK_REPLY(x, "vCont;c:", "E16");
	CHECK_REPLY(x, "vCont;Cxx", "E16");
	CHECK_REPLY(x, "vCont;c:1x", "E16");
	CHECK_EQ(x->f.resumes, 3);
	close_sess(x);
}

TEST(gdb_server_xfer)
{
	struct sess *x = attached();
	size_t len = gdb_regs_xml(GDB_ARCH_AMD64, NULL, 0), got = 0;
	char *want = malloc(len + 1), *all = calloc(1, len + 1), req[64];

	flush_out(x);
	gdb_regs_xml(GDB_ARCH_AMD64, want, len + 1);
	for (;;) {
		const char *r;

		snprintf(req, sizeof(req),
		    "qXfer:features:read:target.xml:%zx,100", got);
		r = ask(x, req);
		CHECK(r != NULL && (r[0] == 'm' || r[0] == 'l'));
		if (r == NULL || got + strlen(r + 1) > len)
			break;
		memcpy(all + got, r + 1, strlen(r + 1));
		got += strlen(r + 1);
		if (r[0] == 'l')
			break;
	}
	CHECK_EQ(got, len);
	CHECK(memcmp(all, want, len) == 0);
	snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%zx,10",
	    len + 5);
	CHECK_REPLY(x, req, "l");
	CHECK_REPLY(x, "qXfer:features:read:other.xml:0,10", "E02");
	CHECK_REPLY(x, "qXfer:features:read:target.xml:0", "E16");
	CHECK_REPLY(x, "qXfer:features:read:target.xml:,10", "E16");
	free(want);
	free(all);
	close_sess(x);
}

TEST(gdb_server_acks)
{
	struct sess *x = attached();
	const char *r;

	flush_out(x);
	/* A bad checksum is nacked and nothing runs. */
	raw(x, "$g#00", 5);
	CHECK_EQ(x->s.out.len, 1);
	CHECK_EQ(x->s.out.buf[0], '-');
	flush_out(x);
	/* A nack repeats the last reply. */
	r = ask(x, "qC");
	CHECK_STR(r, "QC1");
	raw(x, "-", 1);
	CHECK_STR(take(x), "QC1");
	raw(x, "+", 1);
	CHECK_EQ(x->s.out.len, 0);
	/* Malformed but well framed: an error reply. */
	raw(x, "$*!#4b", 6);
	CHECK_STR(take(x), "E16");
	/* Junk between packets is ignored. */
	raw(x, "\xff\x00garbage", 9);
	CHECK_EQ(x->s.out.len, 0);
	CHECK(!x->s.closing);
	/* No-ack mode: no '+' after it, and '-' does nothing. */
	CHECK_REPLY(x, "QStartNoAckMode", "OK");
	flush_out(x);
	pkt(x, "qC");
	CHECK_EQ(x->s.out.buf[0], '$');
	flush_out(x);
	raw(x, "-", 1);
	CHECK_EQ(x->s.out.len, 0);
	raw(x, "$g#00", 5); /* dropped silently */
	CHECK_EQ(x->s.out.len, 0);
	close_sess(x);
}

TEST(gdb_server_hostile)
{
	struct sess *x = attached();
	char *big = malloc(GDB_PKT_MAX + 16);

	/* Oversized: the connection is dropped. */
	memset(big, 'm', GDB_PKT_MAX + 8);
	pkt_n(x, big, GDB_PKT_MAX + 8);
	CHECK(x->s.closing);
	close_sess(x);

	/* A client that floods while the guest runs is dropped. */
	x = attached();
	pkt(x, "c");
	for (int i = 0; i < 10 && !x->s.closing; i++) {
		memset(big, 'q', GDB_PKT_MAX);
		raw(x, "$", 1);
		raw(x, big, GDB_PKT_MAX);
		raw(x, "#00$g#67", 8);
	}
	CHECK(x->s.closing);
	close_sess(x);

	/* One that does not read its replies is dropped too. */
	x = attached();
	for (int i = 0; i < 200 && !x->s.closing; i++)
		pkt(x, "m1000,1000");
	CHECK(x->s.closing);
	close_sess(x);
	free(big);
}

TEST(gdb_server_detach_exit)
{
	struct sess *x = attached();
	struct gdb_stop st = { .reason = GDB_STOP_EXITED, .status = 0x21 };

	flush_out(x);
	CHECK_REPLY(x, "D", "OK");
	CHECK_EQ(x->f.detaches, 1);
	CHECK(x->s.closing);
	/* Nothing is processed after a detach. */
	CHECK(ask(x, "g") == NULL);
	close_sess(x);

	x = attached();
	flush_out(x);
	pkt(x, "k");
	CHECK(take(x) == NULL);
	CHECK_EQ(x->f.detaches, 1);
	CHECK(x->s.closing);
	close_sess(x);

	/* The VM ends while gdb waits: a W packet, then close. */
	x = attached();
	flush_out(x);
	pkt(x, "c");
	gdb_server_stopped(&x->s, &st);
	CHECK_STR(take(x), "W21");
	CHECK(x->s.closing);
	close_sess(x);

	/* A reconnect forgets the old client. */
	x = attached();
	CHECK_REPLY(x, "QStartNoAckMode", "OK");
	CHECK_REPLY(x, "Hg3", "OK");
	gdb_server_connect(&x->s);
	CHECK(!x->s.noack && x->s.cpu_g == -1 && !x->s.stopped);
	close_sess(x);
}
