/*
 * sandbox.c - seccomp filters per thread kind and a Landlock ruleset
 * (see sandbox.h for the contract, sandbox_lists.c for the policy).
 *
 * The filters are built once, on the main thread, by libseccomp; threads
 * load them (seccomp_load) under a lock, because libseccomp generates the
 * BPF from the shared context on every load.  Landlock domains are per
 * thread too, so each thread restricts itself with the one ruleset fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

#include "common.h"
#include "config.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_priv.h"

/* Newer than Debian 12's headers; the values are kernel ABI. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

static struct {
	enum sandbox_mode mode;
	scmp_filter_ctx ctx[SANDBOX_NKINDS];
	pthread_mutex_t load_lock;
	int ruleset_fd; /* Landlock; -1: none */
	uint64_t fs_handled;
} sb = { .mode = SANDBOX_OFF, .load_lock = PTHREAD_MUTEX_INITIALIZER,
	.ruleset_fd = -1 };

enum sandbox_mode sandbox_mode(void)
{
	return sb.mode;
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
	static const char *const names[] = { [SANDBOX_OFF] = "off",
		[SANDBOX_LOG] = "log", [SANDBOX_KILL] = "kill" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (s != NULL && strcmp(s, names[i]) == 0) {
			*out = (enum sandbox_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- seccomp ------------------------------------------------------------ */

static int add_rule(scmp_filter_ctx ctx, const struct sb_list *l,
    const struct sb_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	int rc = 0;

	if (nr == __NR_SCMP_ERROR)
		return -ENOENT;
	switch (r->check) {
	case SB_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case SB_NOEXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case SB_SELF:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	case SB_FAMILY: {
		static const int fams[] = { AF_UNIX, AF_INET, AF_INET6 };

		for (size_t i = 0; i < ARRAY_SIZE(fams) && rc == 0; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fams[i]));
		return rc;
	}
	case SB_IOCTL:
		/* The kernel takes the request as 32 bits. */
		for (size_t i = 0; i < l->nioctls && rc == 0; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
				l->ioctls[i].req & 0xffffffffu));
		return rc;
	}
	return -EINVAL;
}

static int add_list(scmp_filter_ctx ctx, const struct sb_list *l)
{
	for (size_t i = 0; i < l->nrules; i++) {
		int rc = add_rule(ctx, l, &l->rules[i]);

		if (rc != 0) {
			khyve_warnx("sandbox: %s: cannot allow %s: %s", l->name,
			    l->rules[i].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int build_filter(enum sandbox_kind kind, uint32_t deny)
{
	scmp_filter_ctx ctx = seccomp_init(deny);
	int rc;

	if (ctx == NULL)
		return -ENOMEM;
	/* Another ABI (i386, x32) through int 0x80 must not get around it. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = add_list(ctx, &sb_common);
	if (rc == 0)
		rc = add_list(ctx, &sb_lists[kind]);
#ifdef __SANITIZE_ADDRESS__
	if (rc == 0)
		rc = add_list(ctx, &sb_sanitizer);
#endif
	if (rc != 0) {
		seccomp_release(ctx);
		return rc;
	}
	sb.ctx[kind] = ctx;
	return 0;
}

/* ---- Landlock ----------------------------------------------------------- */

#define FS_FILE (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_SOCKDIR (LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE)

static void ll_allow(const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb;
	int fd;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return; /* names no file: nothing to allow */
	pb.parent_fd = fd;
	pb.allowed_access = access & sb.fs_handled;
	if (pb.allowed_access != 0 &&
	    syscall(SYS_landlock_add_rule, sb.ruleset_fd,
		LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
		khyve_dbg("landlock: %s: %s", path, strerror(errno));
	close(fd);
}

/* A socket's directory: it may be created (bound) and removed there. */
static void ll_allow_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		ll_allow(".", FS_SOCKDIR);
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	ll_allow(dir, FS_SOCKDIR);
}

static bool is_path_key(const char *key)
{
	static const char *const keys[] = { "path", "kernel", "initrd",
		"bootrom", "bootvars" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/*
 * Every leaf that names a file: keys called path/kernel/initrd/bootrom/
 * bootvars, and any value with a '/' that exists.  Boot files are only
 * read; sockets (existing or still to be bound) allow their directory.
 */
static void ll_walk(struct config_node *n, bool boot)
{
	for (struct config_node *c = config_node_first(n); c != NULL;
	     c = config_node_next(c)) {
		const char *name = config_node_name(c), *v;
		struct stat st;

		if (!config_node_is_leaf(c)) {
			ll_walk(c, boot || strcmp(name, "boot") == 0);
			continue;
		}
		v = config_get(n, name);
		if (v == NULL || v[0] == '\0' ||
		    (!is_path_key(name) && strchr(v, '/') == NULL))
			continue;
		if (stat(v, &st) != 0) {
			if (strchr(v, '/') != NULL && is_path_key(name))
				ll_allow_dir_of(v); /* a socket to be bound */
		} else if (S_ISSOCK(st.st_mode)) {
			ll_allow_dir_of(v);
		} else if (!S_ISDIR(st.st_mode)) {
			ll_allow(v, boot ? LANDLOCK_ACCESS_FS_READ_FILE : FS_FILE);
		}
	}
}

static void landlock_prepare(struct config_node *cfg)
{
	struct landlock_ruleset_attr attr = { 0 };
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		khyve_warnx("note: no Landlock in this kernel (%s); the file "
		    "system is not restricted", strerror(errno));
		return;
	}
	sb.fs_handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		sb.fs_handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		sb.fs_handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		sb.fs_handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	attr.handled_access_fs = sb.fs_handled;
	sb.ruleset_fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0);
	if (sb.ruleset_fd < 0) {
		khyve_warn("note: Landlock ruleset; the file system is not "
		    "restricted");
		return;
	}
	ll_walk(cfg, false);
	/* slirp's DNS proxy reads these when the guest asks. */
	ll_allow("/etc/resolv.conf", LANDLOCK_ACCESS_FS_READ_FILE);
	ll_allow("/etc/hosts", LANDLOCK_ACCESS_FS_READ_FILE);
#ifdef __SANITIZE_ADDRESS__
	/* ASan reads /proc/self/maps to report an error. */
	ll_allow("/proc", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR);
#endif
}

/* ---- the interface -------------------------------------------------------- */

int sandbox_init(struct config_node *cfg)
{
	const char *s = config_get(cfg, "sandbox");
	enum sandbox_mode mode;
	int rc;

	if (sandbox_parse_mode(s, &mode) != 0) {
		khyve_warnx("sandbox=%s: expected off, log or kill",
		    s != NULL ? s : "(unset)");
		return -EINVAL;
	}
	if (mode == SANDBOX_OFF)
		return 0;
	/* Level 3: the kernel has KILL_PROCESS and LOG. */
	if (seccomp_api_get() < 3) {
		khyve_warnx("sandbox: this kernel cannot filter system calls "
		    "(seccomp); run with -o sandbox=off");
		return -ENOSYS;
	}
	for (int k = 0; k < SANDBOX_NKINDS; k++) {
		rc = build_filter((enum sandbox_kind)k, mode == SANDBOX_KILL ?
		    SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG);
		if (rc != 0) {
			sandbox_fini();
			return rc;
		}
	}
	/* Required for unprivileged filters and Landlock; inherited. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		khyve_warn("sandbox: no_new_privs");
		sandbox_fini();
		return rc;
	}
	if (mode == SANDBOX_KILL)
		landlock_prepare(cfg);
	sb.mode = mode;
	return 0;
}

#ifdef KHYVE_TEST_HOOKS
/*
 * Test builds only (build/khyve-test): with KHYVE_TEST_SANDBOX_VIOLATE
 * set, a vCPU thread makes a call its list denies, as a compromised
 * vCPU thread opening a network socket would.
 */
static void test_violate(enum sandbox_kind kind)
{
	long fd;

	if (kind != SANDBOX_VCPU || getenv("KHYVE_TEST_SANDBOX_VIOLATE") == NULL)
		return;
	fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	khyve_warnx("sandbox test hook: socket() on a vCPU thread returned %ld",
	    fd);
	if (fd >= 0)
		close((int)fd);
}
#endif

void sandbox_enter(enum sandbox_kind kind)
{
	int rc;

	if (sb.mode == SANDBOX_OFF || (unsigned)kind >= SANDBOX_NKINDS)
		goto out;
	if (sb.ruleset_fd >= 0 &&
	    syscall(SYS_landlock_restrict_self, sb.ruleset_fd, 0) != 0) {
		khyve_warn("sandbox: %s thread: Landlock", sb_lists[kind].name);
		abort();
	}
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's check at exit runs on the main thread and clones a
	 * tracer that ptraces every thread: under a filter it hangs.  So a
	 * sanitizer build leaves the main thread unfiltered (Landlock still
	 * applies); every other kind is filtered as in a release build. */
	if (kind == SANDBOX_MAIN)
		goto out;
#endif
	pthread_mutex_lock(&sb.load_lock);
	rc = seccomp_load(sb.ctx[kind]);
	pthread_mutex_unlock(&sb.load_lock);
	if (rc != 0) {
		khyve_warnx("sandbox: %s thread: cannot load the filter: %s",
		    sb_lists[kind].name, strerror(-rc));
		abort();
	}
out:
#ifdef KHYVE_TEST_HOOKS
	test_violate(kind);
#endif
	return;
}

void sandbox_fini(void)
{
	for (int k = 0; k < SANDBOX_NKINDS; k++) {
		if (sb.ctx[k] != NULL)
			seccomp_release(sb.ctx[k]);
		sb.ctx[k] = NULL;
	}
	if (sb.ruleset_fd >= 0)
		close(sb.ruleset_fd);
	sb.ruleset_fd = -1;
	sb.mode = SANDBOX_OFF;
}
