/*
 * test_sandbox.c - the seccomp/Landlock sandbox (src/sandbox/).
 *
 * Filters are loaded in forked children only: a filter never leaves the
 * process that loaded it, so the test runner stays unconfined.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "config.h"
#include "sandbox/sandbox.h"
#include "test.h"

/*
 * The figures the README states.  A list that grows or shrinks must
 * change these, and the README (whose lines are checked below), together.
 */
static const size_t expected[SANDBOX_NKINDS] = {
	[SANDBOX_MAIN] = 39,
	[SANDBOX_VCPU] = 29,
	[SANDBOX_IO] = 36,
	[SANDBOX_BLOCK] = 27,
	[SANDBOX_NET] = 49,
};

TEST(sandbox_counts)
{
	for (int k = 0; k < SANDBOX_NKINDS; k++) {
		printf("  %s: %zu\n", sandbox_kind_name(k), sandbox_count(k));
		CHECK_EQ(sandbox_count(k), expected[k]);
	}
}

/* README.md carries "- `LINE`" for the common list and every kind. */
TEST(sandbox_readme_matches_lists)
{
	FILE *f = fopen("README.md", "r");
	static char readme[1 << 18];
	char line[4096], want[4200];
	size_t n;

	if (f == NULL)
		SKIP("no README.md in the current directory");
	n = fread(readme, 1, sizeof(readme) - 1, f);
	fclose(f);
	readme[n] = '\0';
	for (int k = 0; k <= SANDBOX_NKINDS; k++) {
		/* SANDBOX_NKINDS describes the common list. */
		CHECK(sandbox_describe(k, line, sizeof(line)) < sizeof(line));
		snprintf(want, sizeof(want), "- `%s`\n", line);
		if (strstr(readme, want) == NULL) {
			printf("  README.md lacks the line:\n%s", want);
			*failed = 1;
		}
	}
}

TEST(sandbox_parse_mode)
{
	enum sandbox_mode m = SANDBOX_OFF;

	CHECK_EQ(sandbox_parse_mode("kill", &m), 0);
	CHECK_EQ(m, SANDBOX_KILL);
	CHECK_EQ(sandbox_parse_mode("log", &m), 0);
	CHECK_EQ(m, SANDBOX_LOG);
	CHECK_EQ(sandbox_parse_mode("off", &m), 0);
	CHECK_EQ(m, SANDBOX_OFF);
	CHECK_EQ(sandbox_parse_mode("on", &m), -EINVAL);
	CHECK_EQ(sandbox_parse_mode(NULL, &m), -EINVAL);
}

/* The default is kill, in config.c's table. */
TEST(sandbox_default_is_kill)
{
	config_init();
	CHECK(config_get(NULL, "sandbox") != NULL &&
	    strcmp(config_get(NULL, "sandbox"), "kill") == 0);
	config_fini();
}

enum probe {
	P_NONE,       /* nothing denied */
	P_SOCKET,     /* socket() on a vCPU thread */
	P_BAD_IOCTL,  /* an ioctl request the vCPU list lacks */
	P_EXEC_MMAP,  /* executable memory */
	P_OPEN,       /* open open_target (read-only) */
};

/* For P_OPEN: what the child opens, and a file its configuration names. */
static const char *open_target = "/etc/passwd";
static const char *named_path;

/*
 * Fork; the child enters `kind` in `mode` and runs `probe`.  Returns the
 * wait status; the child exits 0 when the probe call returned, with the
 * errno of an open() in the low bits for P_OPEN.
 */
static int run_child(const char *mode, enum sandbox_kind kind,
    enum probe probe)
{
	int st = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		void *p;
		int fd;
		char *big;

		config_init();
		config_set(NULL, "sandbox", mode);
		if (named_path != NULL)
			config_set(NULL, "pci.0.3.0.path", named_path);
		if (sandbox_init(config_root()) != 0)
			_exit(100);
		sandbox_enter(kind);
		switch (probe) {
		case P_NONE:
			/* Allowed: KVM_RUN (on no vCPU) and malloc. */
			big = malloc(1 << 20);
			if ((kind == SANDBOX_VCPU && ioctl(-1, KVM_RUN, 0) == 0) ||
			    big == NULL)
				_exit(101);
			free(big);
			/* The main thread's exit: atexit handlers, stdio, and
			 * in sanitizer builds LeakSanitizer's check. */
			if (kind == SANDBOX_MAIN)
				exit(0);
			break;
		case P_SOCKET:
			fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
			(void)fd;
			break;
		case P_BAD_IOCTL:
			ioctl(-1, KVM_CREATE_VCPU, 0);
			break;
		case P_EXEC_MMAP:
			p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			(void)p;
			break;
		case P_OPEN:
			fd = open(open_target, O_RDONLY | O_CLOEXEC);
			_exit(fd >= 0 ? 0 : (errno & 0x7f));
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static bool killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

TEST(sandbox_kill_denied_calls)
{
	int st;

	st = run_child("kill", SANDBOX_VCPU, P_NONE);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
		SKIP("no seccomp here");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_child("kill", SANDBOX_MAIN, P_NONE);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(killed_by_sigsys(run_child("kill", SANDBOX_VCPU, P_SOCKET)));
	CHECK(killed_by_sigsys(run_child("kill", SANDBOX_VCPU, P_BAD_IOCTL)));
	CHECK(killed_by_sigsys(run_child("kill", SANDBOX_IO, P_EXEC_MMAP)));
	/* The net kind may make sockets; block workers may not. */
	st = run_child("kill", SANDBOX_NET, P_SOCKET);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(killed_by_sigsys(run_child("kill", SANDBOX_BLOCK, P_SOCKET)));
}

TEST(sandbox_log_and_off_survive)
{
	int st;

	st = run_child("log", SANDBOX_VCPU, P_SOCKET);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
		SKIP("no seccomp here");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_child("off", SANDBOX_VCPU, P_SOCKET);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The net kind may open (slirp's resolv.conf), but Landlock limits what. */
TEST(sandbox_landlock_limits_open)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL);
	int st;

	if (abi < 1)
		SKIP("no Landlock in this kernel");
	st = run_child("kill", SANDBOX_NET, P_OPEN);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == EACCES);
	st = run_child("log", SANDBOX_NET, P_OPEN);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A file the configuration names (a disk image, say) stays openable. */
TEST(sandbox_landlock_allows_named_files)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL);
	char path[] = "/tmp/khyve-sandbox-XXXXXX";
	int fd, st;

	if (abi < 1)
		SKIP("no Landlock in this kernel");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	named_path = path;
	open_target = path;
	st = run_child("kill", SANDBOX_NET, P_OPEN);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	open_target = "/etc/passwd";
	st = run_child("kill", SANDBOX_NET, P_OPEN);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == EACCES);
	named_path = NULL;
	unlink(path);
}
