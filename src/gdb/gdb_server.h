/*
 * gdb_server.h - the GDB remote protocol's commands, over an abstract
 * target.
 *
 * The server turns the byte stream of one client into calls on a target
 * (struct gdb_target_ops: registers, memory, breakpoints, resume) and
 * builds the replies in `out`, which its owner writes to the socket.  It
 * knows nothing of KVM or sockets, so unit tests and the fuzz harness
 * drive it with a fake target.  The KVM target is gdb_stub.c.
 *
 * All-stop model: the target is either stopped (every vCPU) or running.
 * Commands that touch CPU state run only while it is stopped; a packet
 * that arrives while it runs waits in the input queue until the target
 * reports the next stop (gdb sends nothing but Ctrl-C then).  A resume
 * (c, s, vCont) gets no reply until the target calls gdb_server_stopped().
 *
 * Threads: a server is used by one thread at a time (the stub's event
 * loop); its callbacks into the target run on that thread.
 *
 * Thread ids on the wire are vCPU index + 1 (0 and -1 mean "any"/"all").
 */
#ifndef KHYVE_GDB_SERVER_H
#define KHYVE_GDB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gdb/gdb_packet.h"
#include "gdb/gdb_regs.h"

/* Per-vCPU resume actions (gdb_target_ops.resume). */
enum gdb_action { GDB_ACT_STOP, GDB_ACT_CONT, GDB_ACT_STEP };

enum gdb_stop_reason {
	GDB_STOP_ATTACH,    /* stopped for the debugger (attach, -G w) */
	GDB_STOP_INTERRUPT, /* Ctrl-C */
	GDB_STOP_STEP,      /* a single step finished */
	GDB_STOP_SWBREAK,   /* int3 of a Z0 breakpoint */
	GDB_STOP_HWBREAK,   /* Z1 */
	GDB_STOP_WATCH,     /* Z2 (addr) */
	GDB_STOP_AWATCH,    /* Z4 (addr) */
	GDB_STOP_EXITED,    /* the VM ended with `status` */
};

struct gdb_stop {
	enum gdb_stop_reason reason;
	int cpu;       /* vCPU that stopped, -1: none in particular */
	uint64_t addr; /* watchpoint address */
	int status;    /* GDB_STOP_EXITED */
};

/*
 * The target.  Every function but interrupt() and detach() is called only
 * while the target is stopped.  Errors are negative errno values, sent to
 * gdb as "Exx"; -EOPNOTSUPP becomes the empty reply ("not supported").
 */
struct gdb_target_ops {
	int (*get_regs)(void *t, int cpu, struct gdb_regs *r);
	int (*set_regs)(void *t, int cpu, const struct gdb_regs *r);
	/* Bytes read before the first unmapped byte; -EFAULT if none. */
	ssize_t (*read_mem)(void *t, int cpu, uint64_t gva, void *buf,
	    size_t len);
	/* All or an error. */
	int (*write_mem)(void *t, int cpu, uint64_t gva, const void *buf,
	    size_t len);
	/* Z/z: type 0 software, 1 hardware, 2 write, 3 read, 4 access. */
	int (*breakpoint)(void *t, int cpu, bool insert, int type,
	    uint64_t addr, uint64_t kind);
	/* actions[cpu] for each vCPU; the next stop is reported later. */
	int (*resume)(void *t, const uint8_t *actions);
	/* Stop every vCPU soon (Ctrl-C); then gdb_server_stopped(). */
	void (*interrupt)(void *t);
	/* Remove every breakpoint and let the guest run. */
	void (*detach)(void *t);
};

struct gdb_server {
	const struct gdb_target_ops *ops;
	void *t;
	int ncpus;
	enum gdb_arch arch;
	char *xml;
	size_t xml_len;

	struct gdb_rx rx;
	struct gdb_tx out;
	uint8_t *last; /* last reply packet, for '-' */
	size_t last_len;
	uint8_t *inq;  /* received bytes not yet decoded */
	size_t inq_len;
	uint8_t *scratch; /* GDB_PKT_MAX bytes: decoded data, registers */
	uint8_t *actions; /* ncpus */

	bool noack;       /* QStartNoAckMode accepted */
	bool stopped;     /* the target is stopped */
	bool want_stop;   /* a resume is outstanding: report the next stop */
	bool pkt_pending; /* rx.buf holds a packet waiting for a stop */
	bool closing;     /* drop the connection once `out` is flushed */
	bool in_input;    /* inside gdb_server_input() (re-entrancy) */
	bool swbreak, hwbreak; /* the client understands these stop reasons */
	int cpu_g, cpu_c; /* Hg / Hc: a vCPU index, or -1 for "any/all" */
	struct gdb_stop last_stop;
};

/* Room for input queued behind a packet that waits for a stop. */
#define GDB_INQ_MAX (GDB_PKT_RAW_MAX + 64)
/* Replies not yet read by the client beyond this drop the connection. */
#define GDB_OUT_MAX (4 * GDB_PKT_MAX + 4096)

int gdb_server_init(struct gdb_server *s, const struct gdb_target_ops *ops,
    void *t, int ncpus, enum gdb_arch arch);
void gdb_server_fini(struct gdb_server *s);

/* A new client: forget the last one's state.  The target is running. */
void gdb_server_connect(struct gdb_server *s);
/*
 * Bytes from the client.  Replies accumulate in s->out.  Afterwards
 * s->closing says to drop the connection (detach, kill, garbage).
 */
void gdb_server_input(struct gdb_server *s, const void *data, size_t len);
/* The target stopped (every vCPU); reports it if gdb waits for it. */
void gdb_server_stopped(struct gdb_server *s, const struct gdb_stop *st);
/* The target is running again without a resume from gdb (detach). */
void gdb_server_running(struct gdb_server *s);

#endif
