/*
 * gdb_server.c - GDB remote protocol commands over an abstract target
 * (see gdb_server.h).  Behaviour follows bhyve's gdb.c where bhyve has
 * the command, and the GDB manual ("Remote Protocol") elsewhere.
 *
 * Every packet here is hostile input: parsing is bounded by the packet
 * length (never by a NUL), numbers are checked for overflow, lengths are
 * capped before any buffer is touched, and every failure is an "Exx"
 * reply rather than a crash.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gdb/gdb_server.h"

#define SIG_INT 2
#define SIG_TRAP 5
/* Largest memory transfer per packet: hex doubles it, plus framing. */
#define MEM_MAX ((GDB_PKT_MAX - 32) / 2)
/* Largest qXfer chunk: escaping may double it. */
#define XFER_MAX ((GDB_PKT_MAX - 32) / 2)

static void process(struct gdb_server *s);

/* ---- replies ---- */

static void reply_begin(struct gdb_server *s)
{
	gdb_tx_begin(&s->out);
}

static void reply_end(struct gdb_server *s)
{
	size_t start = s->out.pkt_start, n;
	uint8_t *copy;

	gdb_tx_end(&s->out);
	if (s->noack || s->out.overflow)
		return;
	/* Keep the packet for a '-' from the client. */
	n = s->out.len - start;
	copy = realloc(s->last, n);
	if (copy == NULL) {
		s->last_len = 0;
		return;
	}
	memcpy(copy, s->out.buf + start, n);
	s->last = copy;
	s->last_len = n;
}

static void reply_str(struct gdb_server *s, const char *str)
{
	reply_begin(s);
	gdb_tx_str(&s->out, str);
	reply_end(s);
}

static void reply_ok(struct gdb_server *s)
{
	reply_str(s, "OK");
}

static void reply_empty(struct gdb_server *s)
{
	reply_str(s, "");
}

/* -EOPNOTSUPP means "not supported": gdb wants the empty reply then. */
static void reply_err(struct gdb_server *s, int err)
{
	if (err == -EOPNOTSUPP) {
		reply_empty(s);
		return;
	}
	reply_begin(s);
	gdb_tx_fmt(&s->out, "E%02x", (unsigned)(err < 0 ? -err : err) & 0xff);
	reply_end(s);
}

static void reply_rc(struct gdb_server *s, int rc)
{
	if (rc == 0)
		reply_ok(s);
	else
		reply_err(s, rc);
}

/* Debug trace of a packet: printable, bounded. */
static void trace(const char *dir, const uint8_t *p, size_t n)
{
	char buf[81];
	size_t i;

	if (!khyve_debug)
		return;
	for (i = 0; i < n && i < sizeof(buf) - 1; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	buf[i] = '\0';
	khyve_dbg("gdb %s %s%s", dir, buf, n > i ? "..." : "");
}

/* ---- parsing helpers: [p, end) is what is left of the packet ---- */

static bool eat(const uint8_t **p, const uint8_t *end, char c)
{
	if (*p < end && **p == (uint8_t)c) {
		(*p)++;
		return true;
	}
	return false;
}

static bool prefix(const uint8_t *p, size_t n, const char *word)
{
	size_t l = strlen(word);

	return n >= l && memcmp(p, word, l) == 0;
}

/*
 * A thread id: "-1" (all), "0" (any), hex N, or the multiprocess forms
 * "pPID" and "pPID.TID".  Stores -1, 0 or N.
 */
static int parse_tid(const uint8_t **pp, const uint8_t *end, long *tid)
{
	const uint8_t *p = *pp;
	uint64_t v;

	if (eat(&p, end, 'p')) {
		if (eat(&p, end, '-')) {
			if (!eat(&p, end, '1'))
				return -EINVAL;
		} else if (gdb_parse_hex(&p, end, &v) != 0)
			return -EINVAL;
		if (!eat(&p, end, '.')) {
			*tid = -1; /* every thread of the process */
			*pp = p;
			return 0;
		}
	}
	if (eat(&p, end, '-')) {
		if (!eat(&p, end, '1'))
			return -EINVAL;
		*tid = -1;
	} else {
		if (gdb_parse_hex(&p, end, &v) != 0 || v > INT_MAX)
			return -EINVAL;
		*tid = (long)v;
	}
	*pp = p;
	return 0;
}

/* vCPU index of a thread id that names one vCPU, or -1. */
static int tid_cpu(const struct gdb_server *s, long tid)
{
	return tid >= 1 && tid <= s->ncpus ? (int)(tid - 1) : -1;
}

/* The vCPU a command acts on: the selected one, else the last stop's. */
static int cur_cpu(const struct gdb_server *s, int sel)
{
	if (sel >= 0 && sel < s->ncpus)
		return sel;
	if (s->last_stop.cpu >= 0 && s->last_stop.cpu < s->ncpus)
		return s->last_stop.cpu;
	return 0;
}

/* "ADDR,LEN" then one of `term` (or the end when term is 0). */
static int parse_addr_len(const uint8_t **p, const uint8_t *end,
    uint64_t *addr, uint64_t *len, char term)
{
	if (gdb_parse_hex(p, end, addr) != 0 || !eat(p, end, ',') ||
	    gdb_parse_hex(p, end, len) != 0)
		return -EINVAL;
	if (term != 0 ? !eat(p, end, term) : *p != end)
		return -EINVAL;
	return 0;
}

/* ---- stop replies ---- */

/*
 * A stop that no vCPU caused (attach, Ctrl-C) is reported on vCPU 0, the
 * boot CPU: gdb's idea of its current thread is not always the last Hg.
 */
static void send_stop(struct gdb_server *s, const struct gdb_stop *st)
{
	int cpu = st->cpu >= 0 && st->cpu < s->ncpus ? st->cpu : 0;

	reply_begin(s);
	if (st->reason == GDB_STOP_EXITED) {
		gdb_tx_fmt(&s->out, "W%02x", (unsigned)st->status & 0xff);
		reply_end(s);
		return;
	}
	gdb_tx_fmt(&s->out, "T%02xthread:%x;",
	    st->reason == GDB_STOP_INTERRUPT ? SIG_INT : SIG_TRAP, cpu + 1);
	switch (st->reason) {
	case GDB_STOP_SWBREAK:
		if (s->swbreak)
			gdb_tx_str(&s->out, "swbreak:;");
		break;
	case GDB_STOP_HWBREAK:
		if (s->hwbreak)
			gdb_tx_str(&s->out, "hwbreak:;");
		break;
	case GDB_STOP_WATCH:
		gdb_tx_fmt(&s->out, "watch:%llx;",
		    (unsigned long long)st->addr);
		break;
	case GDB_STOP_AWATCH:
		gdb_tx_fmt(&s->out, "awatch:%llx;",
		    (unsigned long long)st->addr);
		break;
	default:
		break;
	}
	reply_end(s);
	/* gdb makes the reporting thread current; follow it. */
	s->cpu_g = s->cpu_c = cpu;
}

/* ---- registers ---- */

static void cmd_read_regs(struct gdb_server *s)
{
	struct gdb_regs r;
	int rc = s->ops->get_regs(s->t, cur_cpu(s, s->cpu_g), &r);

	if (rc != 0) {
		reply_err(s, rc);
		return;
	}
	gdb_regs_encode(s->arch, &r, s->scratch);
	reply_begin(s);
	gdb_tx_hex(&s->out, s->scratch, gdb_regs_size(s->arch));
	reply_end(s);
}

static void cmd_write_regs(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	size_t n = gdb_regs_size(s->arch);
	int cpu = cur_cpu(s, s->cpu_g), rc;
	struct gdb_regs r;

	if (gdb_unhex(p, (size_t)(end - p), s->scratch, n) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	/* Start from the live values: a layout may not cover them all. */
	rc = s->ops->get_regs(s->t, cpu, &r);
	if (rc == 0)
		rc = gdb_regs_decode(s->arch, &r, s->scratch, n);
	if (rc == 0)
		rc = s->ops->set_regs(s->t, cpu, &r);
	reply_rc(s, rc);
}

static void cmd_read_reg(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	uint8_t val[16];
	struct gdb_regs r;
	uint64_t n;
	int rc;

	if (gdb_parse_hex(&p, end, &n) != 0 || p != end ||
	    n >= (uint64_t)gdb_regs_count(s->arch)) {
		reply_err(s, -EINVAL);
		return;
	}
	rc = s->ops->get_regs(s->t, cur_cpu(s, s->cpu_g), &r);
	if (rc == 0)
		rc = gdb_reg_get(s->arch, &r, (int)n, val);
	if (rc < 0) {
		reply_err(s, rc);
		return;
	}
	reply_begin(s);
	gdb_tx_hex(&s->out, val, (size_t)rc);
	reply_end(s);
}

static void cmd_write_reg(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	int cpu = cur_cpu(s, s->cpu_g), rc;
	uint8_t val[16];
	struct gdb_regs r;
	size_t hexlen;
	uint64_t n;

	if (gdb_parse_hex(&p, end, &n) != 0 || !eat(&p, end, '=') ||
	    n >= (uint64_t)gdb_regs_count(s->arch)) {
		reply_err(s, -EINVAL);
		return;
	}
	hexlen = (size_t)(end - p);
	if (hexlen > 2 * sizeof(val) ||
	    gdb_unhex(p, hexlen, val, hexlen / 2) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	rc = s->ops->get_regs(s->t, cpu, &r);
	if (rc == 0)
		rc = gdb_reg_set(s->arch, &r, (int)n, val, hexlen / 2);
	if (rc == 0)
		rc = s->ops->set_regs(s->t, cpu, &r);
	reply_rc(s, rc);
}

/* ---- memory ---- */

static void cmd_read_mem(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	uint64_t addr, len;
	ssize_t got;

	if (parse_addr_len(&p, end, &addr, &len, 0) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	if (len > MEM_MAX)
		len = MEM_MAX; /* a short read is allowed */
	if (len == 0) {
		reply_empty(s);
		return;
	}
	got = s->ops->read_mem(s->t, cur_cpu(s, s->cpu_g), addr, s->scratch,
	    (size_t)len);
	if (got <= 0) {
		reply_err(s, got < 0 ? (int)got : -EFAULT);
		return;
	}
	reply_begin(s);
	gdb_tx_hex(&s->out, s->scratch, (size_t)got < len ? (size_t)got :
	    (size_t)len);
	reply_end(s);
}

static void cmd_write_mem(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end, bool binary)
{
	const uint8_t *data = s->scratch;
	uint64_t addr, len;
	int rc;

	if (parse_addr_len(&p, end, &addr, &len, ':') != 0 ||
	    len > GDB_PKT_MAX) {
		reply_err(s, -EINVAL);
		return;
	}
	if (binary) {
		/* The decoder already removed the escapes. */
		if ((uint64_t)(end - p) != len) {
			reply_err(s, -EINVAL);
			return;
		}
		data = p;
	} else if (gdb_unhex(p, (size_t)(end - p), s->scratch,
	    (size_t)len) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	if (len == 0) {
		reply_ok(s); /* gdb probes X support with a zero length */
		return;
	}
	rc = s->ops->write_mem(s->t, cur_cpu(s, s->cpu_g), addr, data,
	    (size_t)len);
	reply_rc(s, rc);
}

/* ---- breakpoints ---- */

static void cmd_breakpoint(struct gdb_server *s, bool insert,
    const uint8_t *p, const uint8_t *end)
{
	uint64_t type, addr, kind;

	if (gdb_parse_hex(&p, end, &type) != 0 || !eat(&p, end, ',') ||
	    gdb_parse_hex(&p, end, &addr) != 0 || !eat(&p, end, ',') ||
	    gdb_parse_hex(&p, end, &kind) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	if (p != end) {
		/* Conditions or commands (";X..."): not offered, and a
		 * packet with them is otherwise malformed. */
		reply_err(s, *p == ';' ? -EOPNOTSUPP : -EINVAL);
		return;
	}
	if (type > 4) {
		reply_empty(s);
		return;
	}
	reply_rc(s, s->ops->breakpoint(s->t, cur_cpu(s, s->cpu_g), insert,
	    (int)type, addr, kind));
}

/* ---- execution ---- */

static void resume(struct gdb_server *s)
{
	int rc = s->ops->resume(s->t, s->actions);

	if (rc != 0) {
		reply_err(s, rc);
		return;
	}
	s->stopped = false;
	s->want_stop = true;
}

static int set_pc(struct gdb_server *s, int cpu, uint64_t pc)
{
	struct gdb_regs r;
	int rc = s->ops->get_regs(s->t, cpu, &r);

	if (rc == 0) {
		r.rip = pc;
		rc = s->ops->set_regs(s->t, cpu, &r);
	}
	return rc;
}

/* c [addr], s [addr], C sig[;addr], S sig[;addr] */
static void cmd_continue(struct gdb_server *s, uint8_t cmd, const uint8_t *p,
    const uint8_t *end)
{
	bool step = cmd == 's' || cmd == 'S';
	int cpu = cur_cpu(s, step && s->cpu_c >= 0 ? s->cpu_c : s->cpu_g);
	uint64_t v;
	int rc;

	if (cmd == 'C' || cmd == 'S') {
		/* The signal means nothing to a VM; it is dropped. */
		if (gdb_parse_hex(&p, end, &v) != 0) {
			reply_err(s, -EINVAL);
			return;
		}
		if (p != end && !eat(&p, end, ';')) {
			reply_err(s, -EINVAL);
			return;
		}
	}
	if (p != end) {
		if (gdb_parse_hex(&p, end, &v) != 0 || p != end) {
			reply_err(s, -EINVAL);
			return;
		}
		if ((rc = set_pc(s, cpu, v)) != 0) {
			reply_err(s, rc);
			return;
		}
	}
	/* "s" steps one vCPU and keeps the others stopped, as bhyve. */
	for (int i = 0; i < s->ncpus; i++)
		s->actions[i] = step ? (i == cpu ? GDB_ACT_STEP : GDB_ACT_STOP) :
		    GDB_ACT_CONT;
	resume(s);
}

/*
 * vCont;ACTION[:TID];...  Each vCPU takes the leftmost action that names
 * it (or names no thread); vCPUs no action names stay stopped.
 */
static void cmd_vcont(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	const uint8_t unset = 0xff;
	bool any = false;
	uint64_t sig;

	memset(s->actions, unset, (size_t)s->ncpus);
	while (p < end) {
		uint8_t a, act;
		long tid = -1;

		if (!eat(&p, end, ';') || p == end)
			goto bad;
		a = *p++;
		switch (a) {
		case 'c':
			act = GDB_ACT_CONT;
			break;
		case 's':
			act = GDB_ACT_STEP;
			break;
		case 'C':
		case 'S':
			if (gdb_parse_hex(&p, end, &sig) != 0)
				goto bad;
			act = a == 'C' ? GDB_ACT_CONT : GDB_ACT_STEP;
			break;
		case 't':
			act = GDB_ACT_STOP;
			break;
		default: /* 'r' (range step) is not offered */
			goto bad;
		}
		if (eat(&p, end, ':') && parse_tid(&p, end, &tid) != 0)
			goto bad;
		if (tid > 0 && tid_cpu(s, tid) < 0)
			goto bad;
		for (int i = 0; i < s->ncpus; i++)
			if (s->actions[i] == unset &&
			    (tid <= 0 || tid_cpu(s, tid) == i))
				s->actions[i] = act;
	}
	for (int i = 0; i < s->ncpus; i++) {
		if (s->actions[i] == unset)
			s->actions[i] = GDB_ACT_STOP;
		any |= s->actions[i] != GDB_ACT_STOP;
	}
	if (!any)
		goto bad; /* nothing would run: no stop would ever come */
	resume(s);
	return;
bad:
	reply_err(s, -EINVAL);
}

static void detach(struct gdb_server *s)
{
	s->ops->detach(s->t);
	s->stopped = false;
	s->want_stop = false;
	s->closing = true;
}

/* ---- queries ---- */

static void cmd_supported(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	/* "qSupported:f1;f2+;f3=v": note what the client understands. */
	while (p < end) {
		const uint8_t *e = memchr(p, ';', (size_t)(end - p));
		size_t n = (size_t)((e ? e : end) - p);

		if (n == 8 && memcmp(p, "swbreak+", 8) == 0)
			s->swbreak = true;
		if (n == 8 && memcmp(p, "hwbreak+", 8) == 0)
			s->hwbreak = true;
		p += n + (e != NULL);
	}
	reply_begin(s);
	gdb_tx_fmt(&s->out, "PacketSize=%x;qXfer:features:read+;swbreak+;"
	    "hwbreak+;QStartNoAckMode+;vContSupported+", GDB_PKT_MAX);
	reply_end(s);
}

static void cmd_xfer_features(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	static const char annex[] = "target.xml:";
	uint64_t off, len;

	if (!prefix(p, (size_t)(end - p), annex)) {
		reply_err(s, -ENOENT);
		return;
	}
	p += sizeof(annex) - 1;
	if (parse_addr_len(&p, end, &off, &len, 0) != 0) {
		reply_err(s, -EINVAL);
		return;
	}
	if (len > XFER_MAX)
		len = XFER_MAX;
	reply_begin(s);
	if (off >= s->xml_len) {
		gdb_tx_str(&s->out, "l");
	} else {
		size_t n = s->xml_len - (size_t)off;

		if (n > len)
			n = (size_t)len;
		gdb_tx_str(&s->out, off + n < s->xml_len ? "m" : "l");
		gdb_tx_put(&s->out, s->xml + off, n);
	}
	reply_end(s);
}

static void cmd_query(struct gdb_server *s, const uint8_t *p,
    const uint8_t *end)
{
	size_t n = (size_t)(end - p);
	long tid;

	if (prefix(p, n, "qSupported")) {
		p += 10;
		eat(&p, end, ':');
		cmd_supported(s, p, end);
	} else if (prefix(p, n, "qXfer:features:read:")) {
		cmd_xfer_features(s, p + 20, end);
	} else if (n == 9 && prefix(p, n, "qAttached")) {
		reply_str(s, "1"); /* so gdb detaches, never kills, on quit */
	} else if (prefix(p, n, "qAttached:")) {
		reply_str(s, "1");
	} else if (n == 2 && prefix(p, n, "qC")) {
		reply_begin(s);
		gdb_tx_fmt(&s->out, "QC%x", cur_cpu(s, s->cpu_g) + 1);
		reply_end(s);
	} else if (n == 12 && prefix(p, n, "qfThreadInfo")) {
		reply_begin(s);
		gdb_tx_str(&s->out, "m");
		for (int i = 0; i < s->ncpus; i++)
			gdb_tx_fmt(&s->out, i ? ",%x" : "%x", i + 1);
		reply_end(s);
	} else if (n == 12 && prefix(p, n, "qsThreadInfo")) {
		reply_str(s, "l");
	} else if (prefix(p, n, "qThreadExtraInfo,")) {
		char name[32];

		p += 17;
		if (parse_tid(&p, end, &tid) != 0 || p != end ||
		    tid_cpu(s, tid) < 0) {
			reply_err(s, -EINVAL);
			return;
		}
		snprintf(name, sizeof(name), "vCPU %d", tid_cpu(s, tid));
		reply_begin(s);
		gdb_tx_hex(&s->out, name, strlen(name));
		reply_end(s);
	} else if (prefix(p, n, "qSymbol:")) {
		reply_ok(s); /* no symbols wanted */
	} else {
		reply_empty(s);
	}
}

static void cmd_v(struct gdb_server *s, const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p);

	if (n == 6 && prefix(p, n, "vCont?")) {
		reply_str(s, "vCont;c;C;s;S");
	} else if (prefix(p, n, "vCont;")) {
		cmd_vcont(s, p + 5, end);
	} else if (prefix(p, n, "vKill")) {
		/* Ending the VM from gdb is not offered: leave it running. */
		reply_ok(s);
		detach(s);
	} else {
		reply_empty(s); /* vCtrlC is handled before the stop check */
	}
}

static void handle(struct gdb_server *s, const uint8_t *pkt, size_t n)
{
	const uint8_t *end = pkt + n, *p = pkt + 1;
	long tid;

	trace("<-", pkt, n);
	if (n == 0) {
		reply_empty(s);
		return;
	}
	switch (pkt[0]) {
	case '?':
		send_stop(s, &s->last_stop);
		break;
	case 'g':
		if (n != 1)
			reply_err(s, -EINVAL);
		else
			cmd_read_regs(s);
		break;
	case 'G':
		cmd_write_regs(s, p, end);
		break;
	case 'p':
		cmd_read_reg(s, p, end);
		break;
	case 'P':
		cmd_write_reg(s, p, end);
		break;
	case 'm':
		cmd_read_mem(s, p, end);
		break;
	case 'M':
		cmd_write_mem(s, p, end, false);
		break;
	case 'X':
		cmd_write_mem(s, p, end, true);
		break;
	case 'c':
	case 's':
	case 'C':
	case 'S':
		cmd_continue(s, pkt[0], p, end);
		break;
	case 'H':
		if (n < 2 || (pkt[1] != 'g' && pkt[1] != 'c')) {
			reply_err(s, -EINVAL);
			break;
		}
		p = pkt + 2;
		if (parse_tid(&p, end, &tid) != 0 || p != end ||
		    (tid > 0 && tid_cpu(s, tid) < 0)) {
			reply_err(s, -EINVAL);
			break;
		}
		if (pkt[1] == 'g')
			s->cpu_g = tid > 0 ? tid_cpu(s, tid) : -1;
		else
			s->cpu_c = tid > 0 ? tid_cpu(s, tid) : -1;
		reply_ok(s);
		break;
	case 'T':
		if (parse_tid(&p, end, &tid) != 0 || p != end ||
		    tid_cpu(s, tid) < 0)
			reply_err(s, -EINVAL);
		else
			reply_ok(s);
		break;
	case 'q':
		cmd_query(s, pkt, end);
		break;
	case 'Q':
		if (n == 15 && prefix(pkt, n, "QStartNoAckMode")) {
			reply_ok(s); /* acked normally; then no more acks */
			s->noack = true;
		} else {
			reply_empty(s);
		}
		break;
	case 'v':
		cmd_v(s, pkt, end);
		break;
	case 'Z':
	case 'z':
		cmd_breakpoint(s, pkt[0] == 'Z', p, end);
		break;
	case 'D':
		reply_ok(s);
		detach(s);
		break;
	case 'k':
		/* No reply is expected.  As for vKill, the VM keeps running. */
		detach(s);
		break;
	default:
		reply_empty(s);
		break;
	}
}

/* ---- input ---- */

static bool is_vctrlc(const struct gdb_server *s)
{
	return s->rx.len == 6 && memcmp(s->rx.buf, "vCtrlC", 6) == 0;
}

static void interrupt(struct gdb_server *s)
{
	/* Only a running target can be interrupted; during the stop on
	 * attach or after a stop the request is moot. */
	if (!s->stopped && s->want_stop)
		s->ops->interrupt(s->t);
}

static void process(struct gdb_server *s)
{
	size_t pos = 0;

	while (!s->closing) {
		if (s->pkt_pending) {
			if (!s->stopped) {
				if (!is_vctrlc(s))
					break; /* wait for the stop */
				s->pkt_pending = false;
				reply_ok(s);
				interrupt(s);
				continue;
			}
			s->pkt_pending = false;
			handle(s, s->rx.buf, s->rx.len);
			continue;
		}
		if (pos >= s->inq_len)
			break;
		switch (gdb_rx_byte(&s->rx, s->inq[pos++])) {
		case GDB_RX_PACKET:
			if (!s->noack)
				gdb_tx_raw(&s->out, "+", 1);
			s->pkt_pending = true;
			break;
		case GDB_RX_BADSUM:
			trace("<- bad checksum:", s->rx.buf, s->rx.len);
			if (!s->noack)
				gdb_tx_raw(&s->out, "-", 1);
			break;
		case GDB_RX_MALFORMED:
			trace("<- malformed:", s->rx.buf, s->rx.len);
			if (!s->noack)
				gdb_tx_raw(&s->out, "+", 1);
			reply_err(s, -EINVAL);
			break;
		case GDB_RX_TOOLONG:
			khyve_warnx("gdb: packet longer than %d bytes; closing "
			    "the connection", GDB_PKT_MAX);
			s->closing = true;
			break;
		case GDB_RX_NACK:
			if (!s->noack && s->last_len > 0)
				gdb_tx_raw(&s->out, s->last, s->last_len);
			break;
		case GDB_RX_INTERRUPT:
			interrupt(s);
			break;
		case GDB_RX_ACK:
		case GDB_RX_JUNK:
		case GDB_RX_NONE:
			break;
		}
	}
	memmove(s->inq, s->inq + pos, s->inq_len - pos);
	s->inq_len -= pos;
	if (s->out.overflow) {
		khyve_warnx("gdb: the client does not read its replies; "
		    "closing the connection");
		s->closing = true;
	}
}

void gdb_server_input(struct gdb_server *s, const void *data, size_t len)
{
	if (s->closing)
		return;
	if (len > GDB_INQ_MAX - s->inq_len) {
		/* Only a client that ignores the protocol sends this much
		 * while the guest runs. */
		khyve_warnx("gdb: too much input while the guest runs; "
		    "closing the connection");
		s->closing = true;
		return;
	}
	memcpy(s->inq + s->inq_len, data, len);
	s->inq_len += len;
	s->in_input = true;
	process(s);
	s->in_input = false;
}

void gdb_server_stopped(struct gdb_server *s, const struct gdb_stop *st)
{
	s->last_stop = *st;
	if (s->last_stop.cpu >= s->ncpus)
		s->last_stop.cpu = -1;
	if (st->reason == GDB_STOP_EXITED) {
		if (s->want_stop)
			send_stop(s, st);
		s->want_stop = false;
		s->stopped = false;
		s->closing = true;
		return;
	}
	s->stopped = true;
	if (s->want_stop) {
		s->want_stop = false;
		send_stop(s, &s->last_stop);
	}
	if (!s->in_input)
		process(s);
}

void gdb_server_running(struct gdb_server *s)
{
	s->stopped = false;
	s->want_stop = false;
}

/* ---- life cycle ---- */

void gdb_server_connect(struct gdb_server *s)
{
	gdb_rx_init(&s->rx);
	gdb_tx_consume(&s->out, s->out.len);
	s->out.overflow = false;
	s->last_len = 0;
	s->inq_len = 0;
	s->noack = false;
	s->stopped = false;
	s->want_stop = false;
	s->pkt_pending = false;
	s->closing = false;
	s->swbreak = s->hwbreak = false;
	s->cpu_g = s->cpu_c = -1;
	memset(&s->last_stop, 0, sizeof(s->last_stop));
	s->last_stop.reason = GDB_STOP_ATTACH;
	s->last_stop.cpu = -1;
}

int gdb_server_init(struct gdb_server *s, const struct gdb_target_ops *ops,
    void *t, int ncpus, enum gdb_arch arch)
{
	memset(s, 0, sizeof(*s));
	if (ncpus < 1)
		return -EINVAL;
	s->ops = ops;
	s->t = t;
	s->ncpus = ncpus;
	s->arch = arch;
	s->xml_len = gdb_regs_xml(arch, NULL, 0);
	s->xml = malloc(s->xml_len + 1);
	s->inq = malloc(GDB_INQ_MAX);
	s->scratch = malloc(GDB_PKT_MAX);
	s->actions = malloc((size_t)ncpus);
	if (s->xml == NULL || s->inq == NULL || s->scratch == NULL ||
	    s->actions == NULL) {
		gdb_server_fini(s);
		return -ENOMEM;
	}
	gdb_regs_xml(arch, s->xml, s->xml_len + 1);
	gdb_tx_init(&s->out, GDB_OUT_MAX);
	gdb_server_connect(s);
	return 0;
}

void gdb_server_fini(struct gdb_server *s)
{
	free(s->xml);
	free(s->inq);
	free(s->scratch);
	free(s->actions);
	free(s->last);
	gdb_tx_free(&s->out);
	memset(s, 0, sizeof(s->ops));
	s->xml = NULL;
	s->inq = s->scratch = s->actions = s->last = NULL;
}
