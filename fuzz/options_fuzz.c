/*
 * options_fuzz.c - the command line and configuration parsers
 * (src/options.c, src/config.c, and the -s/-l/-B hooks they call):
 * options_parse() on an argv made from the input, with the -k files it
 * names read from a memfd whose contents are the input's tail; then the
 * resulting tree is dumped (config_dump) to exercise every stored value.
 *
 * Input: argument strings separated by NUL bytes; a lone "@" argument
 * ends argv, and the bytes after it are the configuration file every -k
 * reads.  argv[0] is always "khyve".  Parser output goes to stdout and
 * stderr (run with -close_fd_mask=3 to silence it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "options.h"

#define MAXARGS 64

static int kfd = -1;
static FILE *devnull;
static char kpath[64];

/*
 * -k's file is always the memfd, never a path from the input (which could
 * name a FIFO or /dev/zero).  Walk an option cluster as getopt does: for
 * "-Hk" the next argument is the file; for "-Hkfile" the cluster becomes
 * "-Hk<memfd>" in out.  Returns whether the next argument is -k's.
 */
static bool k_fix(const char *arg, char *out, size_t outlen)
{
	static const char witharg[] = "BcfgGkKlmoprsU";

	out[0] = '\0';
	if (arg[0] != '-' || arg[1] == '-')
		return false;
	for (size_t j = 1; arg[j] != '\0'; j++) {
		if (strchr(witharg, arg[j]) == NULL)
			continue;
		if (arg[j] != 'k')
			return false;
		if (arg[j + 1] == '\0')
			return true;
		if (j + 1 + strlen(kpath) < outlen)
			snprintf(out, outlen, "%.*s%s", (int)(j + 1), arg,
			    kpath);
		else
			snprintf(out, outlen, "-k%s", kpath);
		return false;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[65536 + 1];
	static char kbuf[MAXARGS + 1][MAXARGS + 96];
	bool next_is_k = false;
	char *argv[MAXARGS + 1];
	int argc = 0, code;
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1, i = 0;

	if (kfd < 0) {
		kfd = memfd_create("khyve-fuzz-k", MFD_CLOEXEC);
		devnull = fopen("/dev/null", "w");
		if (kfd < 0 || devnull == NULL)
			abort();
		snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
	}
	memcpy(buf, data, n);
	buf[n] = '\0';
	argv[argc++] = (char *)"khyve";
	if (ftruncate(kfd, 0) != 0)
		abort();
	while (i < n && argc < MAXARGS) {
		char *arg = buf + i;
		size_t len = strnlen(arg, n - i);

		i += len + 1;
		if (strcmp(arg, "@") == 0) {
			if (i < n &&
			    pwrite(kfd, buf + i, n - i, 0) != (ssize_t)(n - i))
				abort();
			break;
		}
		if (next_is_k)
			arg = kpath;
		next_is_k = k_fix(arg, kbuf[argc], sizeof(kbuf[argc]));
		if (kbuf[argc][0] != '\0')
			arg = kbuf[argc];
		argv[argc++] = arg;
	}
	argv[argc] = NULL;
	config_init();
	if (options_parse(argc, argv, &code) == 0)
		config_dump(devnull);
	else if (code != 0 && code != 1 && code != 64)
		abort();
	config_fini();
	return 0;
}
