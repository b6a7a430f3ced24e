/* test_options.c - the command line (src/options.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "test.h"

/*
 * options_parse() on a NULL-terminated argv, with stdout and stderr
 * captured.  Returns its return value; *code the exit code; out/err (may
 * be NULL) receive what was printed (static buffers, overwritten by the
 * next call).
 */
static char out_buf[8192], err_buf[8192];

static void slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int run(int *code, char *const *args)
{
	char *argv[64];
	int argc = 0, rc, s1, s2;
	FILE *o = tmpfile(), *e = tmpfile();

	while (args[argc] != NULL && argc < 63) {
		argv[argc] = args[argc];
		argc++;
	}
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	s1 = dup(1);
	s2 = dup(2);
	dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	*code = -1;
	rc = options_parse(argc, argv, code);
	fflush(stdout);
	fflush(stderr);
	dup2(s1, 1);
	dup2(s2, 2);
	close(s1);
	close(s2);
	slurp(o, out_buf, sizeof(out_buf));
	slurp(e, err_buf, sizeof(err_buf));
	return rc;
}

#define ARGV(...) ((char *const[]){ "khyve", __VA_ARGS__, NULL })

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Exit code of a full command line from a fresh configuration. */
static int exit_of(char *const *args)
{
	int code;

	config_init();
	return run(&code, args) == 0 ? -100 : code;
}

TEST(options_topology_valid)
{
	static const struct {
		const char *s;
		int cpus, sockets, cores, threads;
	} ok[] = {
		{ "", 1, 1, 1, 1 },
		{ "4", 4, 4, 1, 1 },
		{ "cpus=4", 4, 4, 1, 1 },
		{ "0x4", 4, 4, 1, 1 },
		{ "1", 1, 1, 1, 1 },
		{ "256", 256, 256, 1, 1 },
		{ "sockets=2", 2, 2, 1, 1 },
		{ "cores=4", 4, 1, 4, 1 },
		{ "sockets=2,cores=2", 4, 2, 2, 1 },
		{ "threads=2,cores=2,sockets=2", 8, 2, 2, 2 },
		{ "cpus=8,sockets=2,cores=2,threads=2", 8, 2, 2, 2 },
		{ "8,sockets=2,cores=4", 8, 2, 4, 1 },
		{ "2,4", 4, 4, 1, 1 }, /* the last setting wins */
		{ "sockets=16,cores=16", 256, 16, 16, 1 },
	};
	struct vm_topology t;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		memset(&t, 0, sizeof(t));
		CHECK_EQ(options_parse_topology(ok[i].s, &t), 0);
		CHECK(t.cpus == ok[i].cpus && t.sockets == ok[i].sockets &&
		    t.cores == ok[i].cores && t.threads == ok[i].threads);
		if (t.cpus != ok[i].cpus)
			printf("  for \"%s\"\n", ok[i].s);
	}
}

TEST(options_topology_hostile)
{
	/* Each of bhyve's five defects, overflow, 0, > max, mismatch. */
	static const char *const bad[] = {
		",", "4,", ",4", "4,,cores=1", "cpus=",        /* 1: empty */
		" 4", "4 ", "cpus= 4", "cores=\t2", "+4", "-1", /* 2: blanks */
		"4294967297", "99999999999999999999999",        /* 3: overflow */
		"cpus=18446744073709551617",
		"4x", "sockets=2x,cores=1", "cpus=4junk,threads=1", /* 4 */
		"257", "sockets=17,cores=16", "cores=300",      /* 5: bounds */
		"0", "cpus=0", "sockets=0", "threads=0,cpus=1",
		"4,cores=2",         /* sockets default to cpus: 8 != 4 */
		"cpus=4,sockets=3",  /* mismatch */
		"maxcpus=4", "foo=1", "cpus", "cpus=4=4", "4;2",
	};
	struct vm_topology t = { 9, 9, 9, 9 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_topology(bad[i], &t) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(t.cpus == 9); /* untouched */
	CHECK_EQ(options_parse_topology(NULL, &t), -EINVAL);
}

TEST(options_memsize)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
		{ "1", 1ULL << 20 },
		{ "256", 256ULL << 20 },
		{ "1048575", 1048575ULL << 20 },  /* below 1 MiB: MiB */
		{ "1048576", 1048576ULL },        /* from 1 MiB: bytes */
		{ "1073741824", 1ULL << 30 },
		{ "0x100", 256ULL << 20 },
		{ "256M", 256ULL << 20 },
		{ "256m", 256ULL << 20 },
		{ "1024K", 1ULL << 20 },
		{ "1024k", 1ULL << 20 },
		{ "1G", 1ULL << 30 },
		{ "2g", 2ULL << 30 },
		{ "3T", 3ULL << 40 },
		{ "1p", 1ULL << 50 },
		{ "15E", 15ULL << 60 },
		{ "1048576b", 1ULL << 20 },
		{ "17179869183G", 17179869183ULL << 30 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "0", "0M", "0x0", "512K", "1048575b", "16E",
		"17179869184G", "18446744073709551616", "1x", "1MB", "1.5G",
		" 1", "1 ", "-1", "+1", "M", "0x", "1GG",
	};
	uint64_t b;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		b = 0;
		CHECK_EQ(options_parse_memsize(ok[i].s, &b), 0);
		if (b != ok[i].bytes) {
			printf("  \"%s\" -> %llu\n", ok[i].s,
			    (unsigned long long)b);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		b = 7;
		if (options_parse_memsize(bad[i], &b) != -EINVAL || b != 7) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
}

TEST(options_small_parsers)
{
	static const char *const bad_pin[] = { "0", "0:", ":0", "a:b", "-1:0",
		"0:-1", "256:0", "0:1024", "0:1x", "0:1:2", " 0:1", "0x1:1" };
	static const char *const bad_uuid[] = { "",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c88",
		"6ba7b8109dad11d180b400c04fd430c8",
		"6ba7b810-9dad-11d1-80b4_00c04fd430c8",
		"6ba7b810-9dad-11d1-80b-400c04fd430c8",
		"{6ba7b810-9dad-11d1-80b4-00c04fd430}",
		"6ba7b810-9dad-11d1-80b4-00c04fd430cg" };
	static const char *const bad_gdb[] = { "", "w", "0", "65536", ":1234",
		"host:", "host:0", "ho st:1", "x:99999", "1234x", "[]:1",
		"a/b:1" };
	struct options_gdb g;
	uint8_t u[16];
	uint16_t port;
	int v, h;

	CHECK_EQ(options_parse_pincpu("0:0", &v, &h), 0);
	CHECK(v == 0 && h == 0);
	CHECK_EQ(options_parse_pincpu("255:1023", &v, &h), 0);
	CHECK(v == 255 && h == 1023);
	for (size_t i = 0; i < ARRAY_SIZE(bad_pin); i++)
		CHECK_EQ(options_parse_pincpu(bad_pin[i], &v, &h), -EINVAL);

	CHECK_EQ(options_parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", u),
	    0);
	CHECK(u[0] == 0x6b && u[4] == 0x9d && u[15] == 0xc8);
	CHECK_EQ(options_parse_uuid("6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
	    NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_uuid); i++)
		CHECK_EQ(options_parse_uuid(bad_uuid[i], u), -EINVAL);

	CHECK_EQ(options_parse_port("1", &port), 0);
	CHECK_EQ(port, 1);
	CHECK_EQ(options_parse_port("65535", &port), 0);
	CHECK_EQ(port, 65535);
	CHECK_EQ(options_parse_port("0", &port), -EINVAL);
	CHECK_EQ(options_parse_port("65536", &port), -EINVAL);
	CHECK_EQ(options_parse_port("", &port), -EINVAL);

	CHECK_EQ(options_parse_gdb("1234", &g), 0);
	CHECK(!g.wait && g.addr[0] == '\0' && g.port == 1234);
	CHECK_EQ(options_parse_gdb("w127.0.0.1:1234", &g), 0);
	CHECK(g.wait && strcmp(g.addr, "127.0.0.1") == 0 && g.port == 1234);
	CHECK_EQ(options_parse_gdb("[::1]:99", &g), 0);
	CHECK(strcmp(g.addr, "::1") == 0 && g.port == 99);
	CHECK_EQ(options_parse_gdb("::1:99", &g), 0); /* last ':' splits */
	CHECK(strcmp(g.addr, "::1") == 0 && g.port == 99);
	for (size_t i = 0; i < ARRAY_SIZE(bad_gdb); i++)
		CHECK_EQ(options_parse_gdb(bad_gdb[i], &g), -EINVAL);
}

TEST(options_pci_slot)
{
	static const char *const bad[] = {
		"32,foo", "0:8,foo", "256:0:0,foo", "1:2:3:4,foo", "0", "0,",
		",foo", "a,foo", "-1,foo", "0x1,foo", "1::2,foo", "1:,foo",
		"7,foo bar", "7,foo/x", "7,foo,", "7,foo,a=1,,b",
		"7,foo,/tmp/disk.img", "7,foo,disk.img", "7,foo,=1",
		"7,foo,a b=1",
	};

	config_init();
	CHECK_EQ(options_parse_pci_slot("0,hostbridge"), 0);
	CHECK_STR(config_get(NULL, "pci.0.0.0.device"), "hostbridge");
	CHECK_EQ(options_parse_pci_slot("3:2,virtio-rnd"), 0);
	CHECK_STR(config_get(NULL, "pci.0.3.2.device"), "virtio-rnd");
	CHECK_EQ(options_parse_pci_slot("1:31:7,foo"), 0);
	CHECK(config_find(NULL, "pci.1.31.7") != NULL);
	CHECK_EQ(options_parse_pci_slot("255:0:0,foo"), 0);
	CHECK_EQ(options_parse_pci_slot("007,foo"), 0);
	CHECK(config_find(NULL, "pci.0.7.0") != NULL);
	/* Options: key=value (dotted allowed), bare names are true. */
	CHECK_EQ(options_parse_pci_slot("4,foo,a=1,b,pcireg.vendor=0x8086,c="),
	    0);
	CHECK_STR(config_get(NULL, "pci.0.4.0.a"), "1");
	CHECK_STR(config_get(NULL, "pci.0.4.0.b"), "true");
	CHECK_STR(config_get(NULL, "pci.0.4.0.pcireg.vendor"), "0x8086");
	CHECK_STR(config_get(NULL, "pci.0.4.0.c"), "");
	/* Occupied slots, in every spelling. */
	CHECK_EQ(options_parse_pci_slot("4,bar"), -EINVAL);
	CHECK_EQ(options_parse_pci_slot("4:0,bar"), -EINVAL);
	CHECK_EQ(options_parse_pci_slot("0:4:0,bar"), -EINVAL);
	CHECK_STR(config_get(NULL, "pci.0.4.0.device"), "foo");
	/* Hostile forms fail and leave nothing behind. */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_pci_slot(bad[i]) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(config_find(NULL, "pci.0.7.0.device") != NULL); /* from 007 */
	config_unset(NULL, "pci.0.7");
	CHECK(options_parse_pci_slot("7,foo") == 0); /* the slot is free */
	CHECK(config_find(NULL, "pci.0.7.0.disk") == NULL);
	config_fini();
}

TEST(options_smbios)
{
	static const char *const bad[] = { "", "4,vendor=x", "x", "-1",
		"1,foo=1", "1,manufacturer", "1,manufacturer=", "1,=x",
		"0,product=x", "1,uuid=nope", "2,,manufacturer=x",
		"1,manufacturer=a\tb" };

	config_init();
	CHECK_EQ(options_parse_smbios("1,manufacturer=Acme,product=Box,"
	    "serial=42,family=F"), 0);
	CHECK_STR(config_get(NULL, "system.manufacturer"), "Acme");
	CHECK_STR(config_get(NULL, "system.product_name"), "Box");
	CHECK_STR(config_get(NULL, "system.serial_number"), "42");
	CHECK_STR(config_get(NULL, "system.family_name"), "F");
	CHECK_EQ(options_parse_smbios("0,vendor=V,release_date=01/02/2025"), 0);
	CHECK_STR(config_get(NULL, "bios.vendor"), "V");
	CHECK_EQ(options_parse_smbios("2,asset_tag=T"), 0);
	CHECK_STR(config_get(NULL, "board.asset_tag"), "T");
	CHECK_EQ(options_parse_smbios("3,sku=S"), 0);
	CHECK_STR(config_get(NULL, "chassis.sku"), "S");
	CHECK_EQ(options_parse_smbios("1"), 0);
	/* uuid only when -U has not set one. */
	CHECK_EQ(options_parse_smbios("1,uuid=6ba7b810-9dad-11d1-80b4-"
	    "00c04fd430c8"), 0);
	CHECK_STR(config_get(NULL, "uuid"),
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	CHECK_EQ(options_parse_smbios("1,uuid=00000000-0000-0000-0000-"
	    "000000000000"), 0);
	CHECK_STR(config_get(NULL, "uuid"),
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (options_parse_smbios(bad[i]) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	config_fini();
}

TEST(options_exit_codes)
{
	int code;

	/* 0: build the VM. */
	config_init();
	CHECK_EQ(run(&code, ARGV("vm")), 0);
	CHECK_EQ(code, 0);
	CHECK_STR(config_get(NULL, "name"), "vm");
	CHECK_STR(err_buf, "");
	/* Help: 0. */
	CHECK_EQ(exit_of(ARGV("-h")), 0);
	CHECK(strstr(out_buf, "Usage: khyve") != NULL);
	CHECK_EQ(exit_of(ARGV("-s", "help")), 0);
	CHECK(out_buf[0] != '\0');
	CHECK_EQ(exit_of(ARGV("-l", "help")), 0);
	/* Usage errors: 1, usage on stderr. */
	CHECK_EQ(exit_of(ARGV("-Z", "vm")), 1);
	CHECK(strstr(err_buf, "Usage: khyve") != NULL);
	CHECK_EQ(exit_of(ARGV("-c")), 1);
	CHECK_EQ(exit_of(ARGV("vm", "extra")), 1);
	CHECK_EQ(exit_of(ARGV("vm", "-m", "1G")), 1); /* no reordering */
	config_init();
	CHECK_EQ(run(&code, (char *const[]){ "khyve", NULL }), 1);
	CHECK_EQ(code, 1);
	CHECK(strstr(err_buf, "Usage: khyve") != NULL);
	/* Bad values: 64, exactly one line naming the option and value. */
	CHECK_EQ(exit_of(ARGV("-c", "0", "vm")), 64);
	CHECK(strncmp(err_buf, "khyve: -c 0: ", 13) == 0);
	CHECK_EQ(lines(err_buf), 1);
	CHECK_EQ(exit_of(ARGV("-c", "4,cores=2", "vm")), 64);
	CHECK(strstr(err_buf, "does not match") != NULL);
	CHECK_EQ(exit_of(ARGV("-m", "0", "vm")), 64);
	CHECK(strncmp(err_buf, "khyve: -m 0: ", 13) == 0);
	CHECK_EQ(lines(err_buf), 1);
	CHECK_EQ(exit_of(ARGV("-m", "16E", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-p", "0:99999", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-U", "not-a-uuid", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-G", "w", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-g", "0", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-o", "novalue", "vm")), 64);
	CHECK_EQ(lines(err_buf), 1);
	CHECK_EQ(exit_of(ARGV("-k", "/nonexistent/khyve.cfg", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-s", "40,foo", "vm")), 64);
	CHECK_EQ(lines(err_buf), 1);
	CHECK_EQ(exit_of(ARGV("-s", "3,a", "-s", "3:0,b", "vm")), 64);
	CHECK(strstr(err_buf, "already occupied") != NULL);
	CHECK_EQ(exit_of(ARGV("-B", "9,x=y", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-K", "../etc/passwd", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-l", "no-such-lpc-device", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-r", "/tmp/ckp", "vm")), 64);
	CHECK(strncmp(err_buf, "khyve: -r /tmp/ckp: ", 20) == 0);
	CHECK_EQ(exit_of(ARGV("-f", "name,string=x", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("bad/name")), 64);
	CHECK_EQ(exit_of(ARGV("a-name-that-is-longer-than-31-chars")), 64);
	CHECK_EQ(exit_of(ARGV("")), 64);
	CHECK_EQ(exit_of(ARGV("-o", "name.x=1", "vm")), 64);
	CHECK_EQ(exit_of(ARGV("-o", "x86.x2apic.a=1", "-x", "vm")), 64);
}

TEST(options_set_keys)
{
	int code;

	config_init();
	CHECK_EQ(run(&code, ARGV("-c", "sockets=2,cores=2", "-m", "128M",
	    "-a", "-A", "-C", "-e", "-H", "-P", "-S", "-u", "-w", "-W", "-Y",
	    "-I", "-x", "-p", "1:3", "-p", "1:5", "-p", "1:3", "-U",
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "-G",
	    "w127.0.0.1:1234", "-K", "us_unix", "-o", "config.dump=1",
	    "-o", "boot.kernel=/k", "-s", "0,hostbridge", "-B",
	    "1,manufacturer=M", "vm0")), 0);
	CHECK_EQ(code, 0);
	CHECK_STR(err_buf, "");
	CHECK_STR(config_get(NULL, "cpus"), "4");
	CHECK_STR(config_get(NULL, "sockets"), "2");
	CHECK_STR(config_get(NULL, "cores"), "2");
	CHECK_STR(config_get(NULL, "threads"), "1");
	CHECK_STR(config_get(NULL, "memory.size"), "134217728");
	CHECK_STR(config_get(NULL, "acpi_tables"), "true");
	CHECK_STR(config_get(NULL, "memory.guest_in_core"), "true");
	CHECK_STR(config_get(NULL, "x86.strictio"), "true");
	CHECK_STR(config_get(NULL, "x86.vmexit_on_hlt"), "true");
	CHECK_STR(config_get(NULL, "x86.vmexit_on_pause"), "true");
	CHECK_STR(config_get(NULL, "memory.wired"), "true");
	CHECK_STR(config_get(NULL, "rtc.use_localtime"), "false");
	CHECK_STR(config_get(NULL, "x86.strictmsr"), "false");
	CHECK_STR(config_get(NULL, "virtio_msix"), "false");
	CHECK_STR(config_get(NULL, "x86.mptable"), "false");
	CHECK_STR(config_get(NULL, "x86.x2apic"), "true"); /* -x after -a */
	CHECK_STR(config_get(NULL, "vcpu.1.cpuset"), "3,5");
	CHECK_STR(config_get(NULL, "uuid"),
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	CHECK_STR(config_get(NULL, "gdb.wait"), "true");
	CHECK_STR(config_get(NULL, "gdb.address"), "127.0.0.1");
	CHECK_STR(config_get(NULL, "gdb.port"), "1234");
	CHECK_STR(config_get(NULL, "keyboard.layout"), "us_unix");
	CHECK_STR(config_get(NULL, "config.dump"), "1");
	CHECK_STR(config_get(NULL, "boot.kernel"), "/k");
	CHECK_STR(config_get(NULL, "pci.0.0.0.device"), "hostbridge");
	CHECK_STR(config_get(NULL, "system.manufacturer"), "M");
	CHECK_STR(config_get(NULL, "name"), "vm0");

	/* -c "" is one vCPU; -o name works without the operand. */
	config_init();
	CHECK_EQ(run(&code, ARGV("-c", "", "-o", "name=fromopt")), 0);
	CHECK_STR(config_get(NULL, "cpus"), "1");
	CHECK_STR(config_get(NULL, "sockets"), "1");
	CHECK_STR(config_get(NULL, "name"), "fromopt");
	/* The operand overrides -o name. */
	config_init();
	CHECK_EQ(run(&code, ARGV("-o", "name=a", "b")), 0);
	CHECK_STR(config_get(NULL, "name"), "b");
	/* A -k file, later options override it. */
	{
		char path[] = "/tmp/khyve-test-opt-XXXXXX";
		const char *text = "name=fromfile\nmemory.size=64M\n";
		int fd = mkstemp(path);

		CHECK(fd >= 0 && write(fd, text, strlen(text)) ==
		    (ssize_t)strlen(text));
		close(fd);
		config_init();
		CHECK_EQ(run(&code, ARGV("-k", path, "-m", "32")), 0);
		CHECK_STR(config_get(NULL, "name"), "fromfile");
		CHECK_STR(config_get(NULL, "memory.size"), "33554432");
		unlink(path);
	}
}

TEST(options_kvm_meaningless_flags)
{
	int code;

	/* Accepted, stored as bhyve does, with exactly one line of why. */
	config_init();
	CHECK_EQ(run(&code, ARGV("-D", "vm")), 0);
	CHECK(strncmp(err_buf, "khyve: -D: ", 11) == 0);
	CHECK_EQ(lines(err_buf), 1);
	CHECK_STR(config_get(NULL, "destroy_on_poweroff"), "true");
	config_init();
	/* -b and -g are emulated (bvmcons, dbgport): stored, no note. */
	CHECK_EQ(run(&code, ARGV("-b", "vm")), 0);
	CHECK_EQ(lines(err_buf), 0);
	CHECK_STR(config_get(NULL, "bvmconsole"), "true");
	config_init();
	CHECK_EQ(run(&code, ARGV("-d", "vm")), 0);
	CHECK(strncmp(err_buf, "khyve: -d: ", 11) == 0);
	CHECK_EQ(lines(err_buf), 1);
	config_init();
	CHECK_EQ(run(&code, ARGV("-g", "1234", "vm")), 0);
	CHECK_EQ(lines(err_buf), 0);
	CHECK_STR(config_get(NULL, "bvmdebug.port"), "1234");
	config_fini();
}

/* vcpu.N.cpuset: what repeated -p options accumulate ("0,1"), and what a
 * user may write with -o or -k ("0-3,6"). */
TEST(options_cpuset)
{
	static const char *const bad[] = { "", ",", "0,", ",0", "0,,1", "a",
		"-1", "1-", "-", "3-1", "0 ,1", " 0", "1024", "0-1024",
		"99999999999999999999", "0x1", "1--2", "1-2-3", "+1" };
	cpu_set_t set;

	CHECK_EQ(options_parse_cpuset("0", &set), 0);
	CHECK_EQ(CPU_COUNT(&set), 1);
	CHECK(CPU_ISSET(0, &set));
	CHECK_EQ(options_parse_cpuset("0,1", &set), 0);
	CHECK(CPU_COUNT(&set) == 2 && CPU_ISSET(1, &set));
	CHECK_EQ(options_parse_cpuset("2-4,7,1023", &set), 0);
	CHECK_EQ(CPU_COUNT(&set), 5);
	CHECK(CPU_ISSET(2, &set) && CPU_ISSET(3, &set) && CPU_ISSET(4, &set));
	CHECK(CPU_ISSET(7, &set) && CPU_ISSET(1023, &set));
	CHECK(!CPU_ISSET(5, &set) && !CPU_ISSET(1, &set));
	CHECK_EQ(options_parse_cpuset("5-5", &set), 0);
	CHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(5, &set));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(options_parse_cpuset(bad[i], &set), -EINVAL);
	CHECK_EQ(options_parse_cpuset(NULL, &set), -EINVAL);
}
