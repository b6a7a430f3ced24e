/*
 * measure - run one VMM and time it from the outside.
 *
 *   measure [-o OUT] [-e ERR] [-M MARK] [-G GUEST_MIB] [-I IDLE_MS]
 *           [-t TIMEOUT_S] -- CMD [ARGS...]
 *   measure --tsc-hz
 *
 * The clock starts just before fork+exec.  CMD's stdout (the guest's
 * serial console) comes through a pipe, copied to OUT.  Printed on one
 * line, all times in microseconds:
 *   first_wall first_cpu  when the first output byte arrived, and the CPU
 *                         time (user+system, all threads, from
 *                         /proc/PID/task/ * /schedstat) CMD had used by then;
 *   mark_wall             when MARK first appeared in the output;
 *   vmm_rss_kb guest_kb total_rss_kb
 *                         with -G: IDLE_MS after MARK, the sum of Rss over
 *                         /proc/PID/smaps except the guest-memory mapping
 *                         (the one whose size is GUEST_MIB to GUEST_MIB +
 *                         16 MiB), then CMD is killed;
 *   end_wall end_cpu status
 *                         at exit (CPU time from wait4's rusage; status is
 *                         the exit status, or 128 + signal).
 * --tsc-hz prints the TSC rate measured against CLOCK_MONOTONIC (the
 * guests time themselves in TSC cycles).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of every live thread of pid, in microseconds (-1: unknown). */
static double cpu_us(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	double total = 0;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[400];
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1) {
			total += (double)ns / 1e3;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n ? total : -1;
}

/* Rss of pid: everything, and the guest-memory mapping's alone. */
static int smaps_rss(pid_t pid, uint64_t guest_kb, long *total, long *guest)
{
	char path[64], line[512];
	FILE *f;
	long size_kb = 0, kb;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*total = *guest = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Size: %ld kB", &kb) == 1) {
			size_kb = kb;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			*total += kb;
			if ((uint64_t)size_kb >= guest_kb &&
			    (uint64_t)size_kb <= guest_kb + 16384) {
				*guest += kb;
				found++;
			}
		}
	}
	fclose(f);
	return found == 1 ? 0 : -1;
}

static int tsc_hz(void)
{
	double t0 = now_us(), t1;
	uint64_t c0 = __rdtsc(), c1;

	usleep(200000);
	t1 = now_us();
	c1 = __rdtsc();
	printf("%.0f\n", (double)(c1 - c0) / (t1 - t0) * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null", *err = "/dev/null", *mark = NULL;
	uint64_t guest_mib = 0;
	int idle_ms = 500, timeout_s = 120, opt, pfd[2], ofd, st;
	double t0, first_wall = -1, first_cpu = -1, mark_wall = -1, end_wall;
	long vmm_kb = -1, guest_kb = -1, total_kb = -1;
	char buf[65536], seen[8192];
	size_t nseen = 0;
	struct rusage ru;
	pid_t pid;
	bool killed = false;

	if (argc == 2 && strcmp(argv[1], "--tsc-hz") == 0)
		return tsc_hz();
	while ((opt = getopt(argc, argv, "o:e:M:G:I:t:")) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'e': err = optarg; break;
		case 'M': mark = optarg; break;
		case 'G': guest_mib = strtoull(optarg, NULL, 0); break;
		case 'I': idle_ms = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: measure [-o OUT] [-e ERR] [-M MARK] "
		    "[-G GUEST_MIB] [-I IDLE_MS] [-t S] -- CMD...\n");
		return 2;
	}
	if ((ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    pipe2(pfd, O_CLOEXEC) < 0) {
		perror("measure");
		return 125;
	}
	t0 = now_us();
	if ((pid = fork()) < 0) {
		perror("fork");
		return 125;
	}
	if (pid == 0) {
		int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nfd = open("/dev/null", O_RDONLY);

		if (efd < 0 || nfd < 0 || dup2(nfd, 0) < 0 ||
		    dup2(pfd[1], 1) < 0 || dup2(efd, 2) < 0)
			_exit(126);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int left = (int)(t0 / 1e3 + timeout_s * 1e3 - now_us() / 1e3);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) == 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (first_wall < 0) {
			first_wall = now_us() - t0;
			first_cpu = cpu_us(pid);
		}
		if (write(ofd, buf, (size_t)n) != n)
			perror("measure: output");
		if (mark != NULL && mark_wall < 0) {
			/* Keep a window of the output to look for MARK in. */
			for (ssize_t i = 0; i < n; i++) {
				if (nseen == sizeof(seen) - 1) {
					memmove(seen, seen + sizeof(seen) / 2,
					    sizeof(seen) / 2 - 1);
					nseen = sizeof(seen) / 2 - 1;
				}
				seen[nseen++] = buf[i];
			}
			seen[nseen] = 0;
			if (strstr(seen, mark) != NULL) {
				mark_wall = now_us() - t0;
				if (guest_mib) {
					usleep((useconds_t)idle_ms * 1000);
					if (smaps_rss(pid, guest_mib << 10,
						&total_kb, &guest_kb) == 0)
						vmm_kb = total_kb - guest_kb;
					else
						fprintf(stderr, "measure: no "
						    "single guest mapping of "
						    "%llu MiB\n",
						    (unsigned long long)guest_mib);
					kill(pid, SIGKILL);
					killed = true;
					break;
				}
			}
		}
	}
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	end_wall = now_us() - t0;
	printf("first_wall=%.0f first_cpu=%.0f mark_wall=%.0f "
	    "vmm_rss_kb=%ld guest_kb=%ld total_rss_kb=%ld "
	    "end_wall=%.0f end_cpu=%.0f status=%d killed=%d\n",
	    first_wall, first_cpu, mark_wall, vmm_kb, guest_kb, total_kb,
	    end_wall,
	    (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
		(double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec,
	    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), killed);
	return 0;
}
