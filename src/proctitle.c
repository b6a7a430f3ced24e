/*
 * proctitle.c - show the VM's name in ps/top (bhyve calls setproctitle()).
 *
 * Linux has no setproctitle(): /proc/PID/cmdline reads the original argv
 * area, so the title is written over it.  The environment usually follows
 * argv contiguously; it is copied elsewhere first so the whole area can be
 * reused.  The thread name (comm, 15 characters) is set too, for top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "proctitle.h"

extern char **environ;

void proctitle_set(int argc, char **argv, const char *title)
{
	char *start, *end;
	char comm[16];

	snprintf(comm, sizeof(comm), "khyve %s", title);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	if (argc < 1 || argv[0] == NULL)
		return;
	start = argv[0];
	end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	/* Take the environment strings too if they follow contiguously. */
	if (environ != NULL) {
		int n = 0;
		char **copy;

		while (environ[n] != NULL)
			n++;
		copy = calloc((size_t)n + 1, sizeof(*copy));
		if (copy != NULL) {
			for (int i = 0; i < n; i++) {
				if (environ[i] == end)
					end = environ[i] + strlen(environ[i]) + 1;
				copy[i] = strdup(environ[i]);
				if (copy[i] == NULL) {
					/* Leave the environment alone. */
					for (int j = 0; j < i; j++)
						free(copy[j]);
					free(copy);
					copy = NULL;
					end = argv[argc - 1] +
					    strlen(argv[argc - 1]) + 1;
					break;
				}
			}
			if (copy != NULL)
				environ = copy;
		}
	}
	/* argv strings beyond argv[0] are no longer needed by the caller:
	 * options were parsed into the configuration tree (copies). */
	memset(start, 0, (size_t)(end - start));
	snprintf(start, (size_t)(end - start), "khyve: %s", title);
}
