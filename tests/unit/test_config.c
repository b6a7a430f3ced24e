/* test_config.c - the configuration tree (src/config.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

/*
 * Run with fd 2 sent to a temporary file and return what was written
 * there (malloc'd, "" if nothing), so tests can check the "one line"
 * promise of error messages without noise in the test output.
 */
struct capture {
	int saved;
	FILE *tmp;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	c->saved = dup(2);
	if (c->tmp != NULL)
		dup2(fileno(c->tmp), 2);
}

static char *capture_end(struct capture *c)
{
	char *buf = calloc(1, 8192);
	size_t n = 0;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	if (c->tmp != NULL) {
		rewind(c->tmp);
		n = fread(buf, 1, 8191, c->tmp);
		fclose(c->tmp);
	}
	buf[n] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static char *write_temp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/khyve-test-cfg-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

TEST(config_defaults)
{
	uint64_t u = 0;
	int cpus = 0;

	config_init();
	CHECK_STR(config_get(NULL, "memory.size"), "256M");
	CHECK_EQ(config_get_u64(NULL, "memory.size", &u), 0);
	CHECK_EQ(u, 256ULL << 20);
	CHECK_EQ(config_get_int(NULL, "cpus", &cpus), 0);
	CHECK_EQ(cpus, 1);
	CHECK(config_find(NULL, "sockets") == NULL); /* derived by readers */
	CHECK(config_bool(NULL, "x86.strictmsr", false) == true);
	CHECK(config_bool(NULL, "x86.strictio", true) == false);
	CHECK(config_bool(NULL, "x86.x2apic", true) == false);
	CHECK(config_bool(NULL, "x86.mptable", false) == true);
	CHECK(config_bool(NULL, "acpi_tables", false) == true);
	CHECK(config_bool(NULL, "rtc.use_localtime", false) == true);
	CHECK(config_get(NULL, "name") == NULL);
	CHECK(config_find(NULL, "boot") == NULL);
	/* config_init() resets whatever was there. */
	CHECK_EQ(config_set(NULL, "name", "x"), 0);
	config_init();
	CHECK(config_get(NULL, "name") == NULL);
	config_fini();
	CHECK(config_get(NULL, "memory.size") == NULL);
}

TEST(config_set_get_tree)
{
	struct config_node *n, *c;
	int seen = 0;

	config_init();
	CHECK_EQ(config_set(NULL, "a.b.c", "1"), 0);
	CHECK_STR(config_get(NULL, "a.b.c"), "1");
	CHECK_EQ(config_set(NULL, "a.b.c", "2"), 0); /* overwrite */
	CHECK_STR(config_get(NULL, "a.b.c"), "2");
	n = config_find(NULL, "a.b");
	CHECK(n != NULL && !config_node_is_leaf(n));
	CHECK_STR(config_get(n, "c"), "2");        /* relative path */
	CHECK(config_get(NULL, "a.b") == NULL);    /* a node, no value */
	CHECK_EQ(config_set(n, "d", "x"), 0);
	CHECK_STR(config_get(NULL, "a.b.d"), "x");
	/* Leaf <-> node conflicts, both ways. */
	CHECK_EQ(config_set(NULL, "a.b.c.e", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a.b", "1"), -EINVAL);
	CHECK(config_create(NULL, "a.b.c") == NULL);
	CHECK(config_create(NULL, "a.b.c.x") == NULL);
	CHECK(config_find(config_find(NULL, "a.b.c"), "x") == NULL);
	CHECK_EQ(config_set(config_find(NULL, "a.b.c"), "x", "1"), -EINVAL);
	/* Hostile paths. */
	CHECK_EQ(config_set(NULL, "", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a..b", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, ".a", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a.", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a b", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a/b", "1"), -EINVAL);
	CHECK_EQ(config_set(NULL, "ok", NULL), -EINVAL);
	CHECK_EQ(config_set(NULL, NULL, "1"), -EINVAL);
	{
		char longp[300];

		memset(longp, 'k', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		CHECK_EQ(config_set(NULL, longp, "1"), -EINVAL);
		longp[64] = '\0'; /* a 64-byte component is the limit */
		CHECK_EQ(config_set(NULL, longp, "1"), 0);
		longp[64] = 'k';
		longp[65] = '\0';
		CHECK_EQ(config_set(NULL, longp, "1"), -EINVAL);
	}
	{
		char *big = malloc(65538);

		memset(big, 'v', 65537);
		big[65537] = '\0';
		CHECK_EQ(config_set(NULL, "big", big), -EINVAL);
		big[65536] = '\0';
		CHECK_EQ(config_set(NULL, "big", big), 0);
		free(big);
	}
	/* Walking children in insertion order. */
	n = config_create(NULL, "w");
	CHECK(n != NULL);
	CHECK(config_create(NULL, "w") == n);
	config_set(n, "x", "1");
	config_set(n, "y.z", "2");
	for (c = config_node_first(n); c != NULL; c = config_node_next(c)) {
		if (seen == 0)
			CHECK(strcmp(config_node_name(c), "x") == 0 &&
			    config_node_is_leaf(c));
		if (seen == 1)
			CHECK(strcmp(config_node_name(c), "y") == 0 &&
			    !config_node_is_leaf(c));
		seen++;
	}
	CHECK_EQ(seen, 2);
	/* Defaults and removal. */
	CHECK_EQ(config_set_default(NULL, "w.x", "9"), 0);
	CHECK_STR(config_get(NULL, "w.x"), "1");
	CHECK_EQ(config_set_default(NULL, "w.q", "9"), 0);
	CHECK_STR(config_get(NULL, "w.q"), "9");
	CHECK_EQ(config_set_default(NULL, "w.y", "9"), -EINVAL);
	config_unset(NULL, "w.y");
	CHECK(config_find(NULL, "w.y.z") == NULL);
	config_unset(NULL, "w");
	CHECK(config_find(NULL, "w") == NULL);
	config_unset(NULL, "no.such.key");
	config_unset(NULL, "");
	config_fini();
}

TEST(config_parse_bool)
{
	static const char *const t[] = { "true", "TRUE", "yes", "Yes", "on",
		"ON", "1" };
	static const char *const f[] = { "false", "False", "no", "NO", "off",
		"Off", "0" };
	static const char *const bad[] = { "", "2", "tru", " true", "true ",
		"y", "n", "01", "enable" };
	bool b;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		b = false;
		CHECK_EQ(config_parse_bool(t[i], &b), 0);
		CHECK(b == true);
	}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		b = true;
		CHECK_EQ(config_parse_bool(f[i], &b), 0);
		CHECK(b == false);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(config_parse_bool(bad[i], &b), -EINVAL);
	CHECK_EQ(config_parse_bool(NULL, &b), -EINVAL);
}

TEST(config_typed_getters)
{
	struct capture cap;
	uint64_t u = 7;
	int i = 7;
	bool b = true;
	char *err;

	config_init();
	CHECK_EQ(config_get_u64(NULL, "nope", &u), -ENOENT);
	CHECK_EQ(u, 7); /* untouched */
	CHECK_EQ(config_get_int(NULL, "nope", &i), -ENOENT);
	CHECK_EQ(config_get_bool(NULL, "nope", &b), -ENOENT);
	CHECK(config_bool(NULL, "nope", true) == true);

	config_set(NULL, "n", "0x10");
	CHECK_EQ(config_get_u64(NULL, "n", &u), 0);
	CHECK_EQ(u, 16);
	config_set(NULL, "n", "3k");
	CHECK_EQ(config_get_u64(NULL, "n", &u), 0);
	CHECK_EQ(u, 3072);
	config_set(NULL, "n", "15E");
	CHECK_EQ(config_get_u64(NULL, "n", &u), 0);
	CHECK_EQ(u, 15ULL << 60);
	config_set(NULL, "n", "18446744073709551615");
	CHECK_EQ(config_get_u64(NULL, "n", &u), 0);
	CHECK(u == UINT64_MAX);

	capture_start(&cap);
	config_set(NULL, "n", "16E");
	CHECK_EQ(config_get_u64(NULL, "n", &u), -EINVAL);
	config_set(NULL, "n", "18446744073709551616");
	CHECK_EQ(config_get_u64(NULL, "n", &u), -EINVAL);
	config_set(NULL, "n", "-1");
	CHECK_EQ(config_get_u64(NULL, "n", &u), -EINVAL);
	config_set(NULL, "n", " 1");
	CHECK_EQ(config_get_u64(NULL, "n", &u), -EINVAL);
	config_set(NULL, "n", "1MB");
	CHECK_EQ(config_get_u64(NULL, "n", &u), -EINVAL);
	config_set(NULL, "n", "2147483648");
	CHECK_EQ(config_get_int(NULL, "n", &i), -EINVAL);
	config_set(NULL, "n", "1x");
	CHECK_EQ(config_get_int(NULL, "n", &i), -EINVAL);
	config_set(NULL, "n", "maybe");
	CHECK_EQ(config_get_bool(NULL, "n", &b), -EINVAL);
	CHECK(config_bool(NULL, "n", true) == true);
	CHECK(config_bool(NULL, "n", false) == false);
	config_set(NULL, "grp.x", "1");
	CHECK_EQ(config_get_int(NULL, "grp", &i), -EINVAL);
	err = capture_end(&cap);
	CHECK(strstr(err, "khyve: n=16E: ") != NULL);
	CHECK(strstr(err, "khyve: n=maybe: not a boolean") != NULL);
	CHECK_EQ(count_lines(err), 11);
	free(err);
	CHECK_EQ(u, UINT64_MAX); /* failures leave the output alone */

	config_set(NULL, "n", "-2147483648");
	CHECK_EQ(config_get_int(NULL, "n", &i), 0);
	CHECK_EQ(i, -2147483648LL);
	config_set(NULL, "n", "2147483647");
	CHECK_EQ(config_get_int(NULL, "n", &i), 0);
	CHECK_EQ(i, 2147483647);
	config_set(NULL, "n", "YES");
	CHECK_EQ(config_get_bool(NULL, "n", &b), 0);
	CHECK(b);
	config_fini();
}

TEST(config_expansion)
{
	struct capture cap;
	const char *v;
	char *err, key[32], val[64];

	config_init();
	config_set(NULL, "name", "vm1");
	config_set(NULL, "disk", "/dev/zvol/bhyve/%(name)");
	CHECK_STR(config_get(NULL, "disk"), "/dev/zvol/bhyve/vm1");
	config_set(NULL, "a.b", "<%(disk)>");
	CHECK_STR(config_get(NULL, "a.b"), "</dev/zvol/bhyve/vm1>");
	CHECK_STR(config_get(config_find(NULL, "a"), "b"),
	    "</dev/zvol/bhyve/vm1>");
	/* Recomputed after the tree changes. */
	config_set(NULL, "name", "vm2");
	CHECK_STR(config_get(NULL, "disk"), "/dev/zvol/bhyve/vm2");
	/* Escapes and lone percent signs. */
	config_set(NULL, "e", "100%% of %%(name) \\%(name) 5% %x end%");
	CHECK_STR(config_get(NULL, "e"), "100% of %(name) %(name) 5% %x end%");
	config_set(NULL, "bs", "a\\\\b\\");
	CHECK_STR(config_get(NULL, "bs"), "a\\b\\");

	capture_start(&cap);
	config_set(NULL, "m", "[%(missing)]");
	CHECK_STR(config_get(NULL, "m"), "[]");
	config_set(NULL, "m2", "[%(a)]"); /* a node, not a value */
	CHECK_STR(config_get(NULL, "m2"), "[]");
	config_set(NULL, "m3", "[%()]");
	CHECK_STR(config_get(NULL, "m3"), "[]");
	config_set(NULL, "u", "x%(name");
	CHECK_STR(config_get(NULL, "u"), "x%(name");
	/* A loop ends at the depth bound with the reference kept. */
	config_set(NULL, "loop", "<%(loop)");
	v = config_get(NULL, "loop");
	CHECK(v != NULL && strncmp(v, "<<<<", 4) == 0 &&
	    strstr(v, "%(loop)") != NULL && strlen(v) < 64);
	/* A doubling chain is bounded in work and size. */
	config_set(NULL, "bomb.k0", "0123456789abcdef0123456789abcdef");
	for (int i = 1; i < 40; i++) {
		snprintf(key, sizeof(key), "bomb.k%d", i);
		snprintf(val, sizeof(val), "%%(bomb.k%d)%%(bomb.k%d)", i - 1,
		    i - 1);
		config_set(NULL, key, val);
	}
	v = config_get(NULL, "bomb.k39");
	CHECK(v != NULL && strlen(v) <= 65536);
	err = capture_end(&cap);
	CHECK(strstr(err, "no configuration value for missing") != NULL);
	CHECK(count_lines(err) >= 6);
	free(err);
	config_fini();
}

TEST(config_assignment)
{
	struct capture cap;
	char *err;

	config_init();
	CHECK_EQ(config_parse_assignment("boot.cmdline=console=ttyS0 quiet",
	    "-o"), 0);
	CHECK_STR(config_get(NULL, "boot.cmdline"), "console=ttyS0 quiet");
	CHECK_EQ(config_parse_assignment("x86.strictmsr=false", "-o"), 0);
	CHECK(config_bool(NULL, "x86.strictmsr", true) == false);

	capture_start(&cap);
	CHECK_EQ(config_parse_assignment("novalue", "-o"), -EINVAL);
	CHECK_EQ(config_parse_assignment("=1", "-o"), -EINVAL);
	CHECK_EQ(config_parse_assignment("k=", "-o"), -EINVAL);
	CHECK_EQ(config_parse_assignment("a..b=1", "-o"), -EINVAL);
	CHECK_EQ(config_parse_assignment("boot.cmdline.x=1", "-o"), -EINVAL);
	CHECK_EQ(config_parse_assignment(NULL, "-o"), -EINVAL);
	err = capture_end(&cap);
	CHECK_EQ(count_lines(err), 5);
	CHECK(strstr(err, "khyve: -o novalue: expected key=value") != NULL);
	CHECK(strstr(err, "khyve: -o k=: empty value") != NULL);
	free(err);
	config_fini();
}

TEST(config_load_file)
{
	struct capture cap;
	char *path, *err, want[128];

	config_init();
	path = write_temp("# a comment\n"
	    "\n"
	    "   \t\n"
	    "name=vm1\n"
	    "  memory.size = 1G  \r\n"
	    "  # indented comment\n"
	    "boot.cmdline=console=ttyS0 # not a comment\n"
	    "lpc.com1.path=stdio"); /* no final newline */
	CHECK(path != NULL);
	CHECK_EQ(config_load_file(path), 0);
	CHECK_STR(config_get(NULL, "name"), "vm1");
	CHECK_STR(config_get(NULL, "memory.size"), "1G");
	CHECK_STR(config_get(NULL, "boot.cmdline"),
	    "console=ttyS0 # not a comment");
	CHECK_STR(config_get(NULL, "lpc.com1.path"), "stdio");
	unlink(path);

	capture_start(&cap);
	path = write_temp("a=1\n\nthis line is wrong\nb=2\n");
	CHECK_EQ(config_load_file(path), -EINVAL);
	err = capture_end(&cap);
	snprintf(want, sizeof(want), "khyve: %s:3: this line is wrong: "
	    "expected key=value", path);
	CHECK(strstr(err, want) != NULL);
	CHECK_EQ(count_lines(err), 1);
	CHECK(config_get(NULL, "b") == NULL); /* stopped at the error */
	free(err);
	unlink(path);

	capture_start(&cap);
	path = write_temp("a=1\nbad key=1\n");
	CHECK_EQ(config_load_file(path), -EINVAL);
	unlink(path);
	path = write_temp("a=\n");
	CHECK_EQ(config_load_file(path), -EINVAL);
	unlink(path);
	path = write_temp("a=1\n");
	{
		/* A NUL byte inside a line. */
		FILE *f = fopen(path, "w");

		fwrite("a=1\0b\n", 1, 6, f);
		fclose(f);
	}
	CHECK_EQ(config_load_file(path), -EINVAL);
	unlink(path);
	CHECK_EQ(config_load_file("/nonexistent/khyve.cfg"), -ENOENT);
	err = capture_end(&cap);
	CHECK_EQ(count_lines(err), 4);
	CHECK(strstr(err, ":2: bad key: invalid key") != NULL);
	CHECK(strstr(err, "-k /nonexistent/khyve.cfg: No such file") != NULL);
	free(err);
	config_fini();
}

TEST(config_dump_sorted)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	config_fini();
	config_set(NULL, "z", "1");
	config_set(NULL, "a.b", "%(z)");
	config_set(NULL, "a-x", "2");
	config_set(NULL, "a.a", "3");
	config_create(NULL, "empty.node");
	f = open_memstream(&buf, &len);
	config_dump(f);
	fclose(f);
	/* Sorted by full path; raw (unexpanded) values, as bhyve prints. */
	CHECK_STR(buf, "a-x=2\na.a=3\na.b=%(z)\nz=1\n");
	free(buf);
	config_fini();
}
