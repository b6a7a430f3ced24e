/*
 * options.h - bhyve's command line (bhyve(8)), turned into configuration.
 *
 * Every option only sets keys in the configuration tree (config.h); nothing
 * here creates a device or touches KVM.  config_init() must have run.
 *
 * Trust boundary: argv and -k files are user input.  Every value is fully
 * validated (no trailing junk, no overflow, ranges checked); a bad one is
 * reported as one line "khyve: -X VALUE: why" and exit status 64.
 */
#ifndef KHYVE_OPTIONS_H
#define KHYVE_OPTIONS_H

#include <stdbool.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

/*
 * Parse the whole command line (bhyve's getopt loop, then the vmname
 * operand, which sets "name").  Returns 0 when the VM should be built from
 * the configuration, or 1 when main() must exit now with *exit_code:
 *   0  -h, -s help, -l help (the text is printed);
 *   1  unknown option, missing option argument, extra operands, or no VM
 *      name at all: usage on stderr (bhyve's behaviour);
 *  64  a bad value anywhere (EX_USAGE), after one line on stderr.
 * "-o config.dump=1" is only stored; main() acts on it.  Safe to call more
 * than once in a process (getopt is reset), e.g. from unit tests.
 */
int options_parse(int argc, char **argv, int *exit_code);

/* bhyve's usage text. */
void options_usage(FILE *f, const char *progname);

/*
 * The value parsers behind the options, exposed for unit tests.  They
 * print nothing and return 0 or -EINVAL (options_parse prints why).
 */

/*
 * -c [[cpus=]n][,sockets=n][,cores=n][,threads=n]: bhyve's topology_parse()
 * and calc_topology() without the defects listed in bhyve's comment: empty
 * items, blanks, overflow and junk are rejected; "" still means 1 vCPU;
 * every count is 1..VM_MAX_VCPUS.  Missing counts are derived as bhyve
 * does: cores and threads default to 1, sockets to cpus (or 1), and cpus
 * to sockets*cores*threads; when cpus is given it must equal the product.
 * The last of repeated settings wins.
 */
int options_parse_topology(const char *s, struct vm_topology *out);

/*
 * -m: bhyve's vm_parse_memsize(): a plain number below 1048576 is MiB, a
 * larger one bytes; otherwise expand_number(3): a number and one unit of
 * B, K, M, G, T, P, E (any case, binary multiples).  strtoul syntax (0x
 * hex).  Overflow is rejected, and so is anything below 1 MiB (0, 512K).
 */
int options_parse_memsize(const char *s, uint64_t *bytes);

/* -p vcpu:hostcpu, vcpu < VM_MAX_VCPUS, hostcpu < CPU_SETSIZE (decimal). */
int options_parse_pincpu(const char *s, int *vcpu, int *hostcpu);

/* vcpu.N.cpuset (what repeated -p options build, or -o/-k set): a comma
 * list of host CPUs and ranges "0,2,4-7" (decimal, each < CPU_SETSIZE, no
 * empty items, a range's end not below its start).  Fills *set; 0 or
 * -EINVAL. */
int options_parse_cpuset(const char *s, cpu_set_t *set);

/* -U: the RFC 4122 text form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex,
 * any case).  uuid may be NULL (validate only). */
int options_parse_uuid(const char *s, uint8_t uuid[16]);

/* A TCP port 1..65535 in decimal (-g, and the port of -G). */
int options_parse_port(const char *s, uint16_t *port);

/* -G [w][bind_address:]port, bhyve's bhyve_parse_gdb_options(). */
#define OPTIONS_GDB_ADDR_MAX 256
struct options_gdb {
	bool wait;                       /* leading 'w' */
	char addr[OPTIONS_GDB_ADDR_MAX]; /* "" when not given ([v6] unwrapped) */
	uint16_t port;
};
int options_parse_gdb(const char *s, struct options_gdb *out);

/*
 * These parse and store: the keys are set only when 0 is returned, except
 * that a failed -B may leave the items before the bad one set.
 *
 * -s slot,emulation[,conf]: slot is "slot", "slot:func" or "bus:slot:func"
 * (bus < 256, slot < 32, func < 8); sets pci.B.S.F.device=emulation, then
 * conf through the emulation's pe_legacy_config or the generic parser
 * (key=value items stored below pci.B.S.F, a bare name as name=true).
 * An occupied slot is an error.
 */
int options_parse_pci_slot(const char *arg);

/* -B type,key=value,...: illumos bhyve's SMBIOS option.  type 0 sets
 * bios.*, 1 system.*, 2 board.*, 3 chassis.* (bhyve_config(5) names);
 * "uuid=" sets uuid unless -U did. */
int options_parse_smbios(const char *arg);

#endif
