/*
 * density - start K copies of one VMM back to back and measure how fast
 * they all come up and what each costs the host.
 *
 *   density [-k K] [-M MARK] [-G GUEST_MIB] [-I IDLE_MS] [-t TIMEOUT_S]
 *           [-e ERR] -- CMD [ARGS...]
 *
 * The clock starts just before the first fork; the K copies are forked
 * and exec'd one after the other without waiting.  Each copy's stdout
 * (the guest's serial console) comes through its own pipe; a copy is
 * ready when MARK has appeared there.  When all are ready (or TIMEOUT_S
 * has passed) and IDLE_MS more have passed, each process's memory is
 * read, then all are killed and reaped.  Printed on one line (times in
 * microseconds, memory in kB, memory averaged over the ready copies):
 *   k ready           copies started, copies that printed MARK;
 *   spawn_us          first fork to the last exec'd fork returning;
 *   first_ready_us last_ready_us
 *                     first fork to the first and to the last MARK;
 *   pss_kb rss_kb     /proc/PID/smaps_rollup: Pss (shared pages split
 *                     between their users: what a copy really adds) and
 *                     Rss of the whole process;
 *   guest_rss_kb guest_pss_kb
 *                     of the guest-memory mapping alone (the largest
 *                     mapping whose size is GUEST_MIB to GUEST_MIB + 16
 *                     MiB; -1 if there is none or -G was not given);
 *   memavail_kb       the drop of MemAvailable (/proc/meminfo) from
 *                     before the first fork to the reading, which also
 *                     counts the kernel's per-VM state (page tables, KVM
 *                     structures) that no process's Pss shows;
 *   died killed       copies that exited by themselves before the
 *                     reading; 1 when the copies were killed at the end.
 * Copies' stderr goes to ERR (all appended to one file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define K_MAX 64
#define SEEN 4096

struct copy {
	pid_t pid;
	int fd;			/* read end of its stdout pipe, -1 at EOF */
	double ready_us;	/* -1 until MARK was seen */
	bool exited;
	char seen[SEEN];
	size_t nseen;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Pss and Rss of the whole process (smaps_rollup). */
static int rollup(pid_t pid, long *pss, long *rss)
{
	char path[64], line[256];
	long kb;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*pss = *rss = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*rss = kb;
		else if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			*pss = kb;
	}
	fclose(f);
	return *pss < 0 || *rss < 0 ? -1 : 0;
}

/* Rss and Pss of the guest-memory mapping: the largest one whose size
 * is within [guest_kb, guest_kb + 16 MiB] (malloc arenas of exactly 64
 * MiB are split into a used and a PROT_NONE part, so smaller). */
static int guest_map(pid_t pid, long guest_kb, long *rss, long *pss)
{
	char path[64], line[512];
	long size = 0, best = -1, cur_rss = 0, kb;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*rss = *pss = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Size: %ld kB", &kb) == 1) {
			size = kb;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			cur_rss = kb;
		} else if (sscanf(line, "Pss: %ld kB", &kb) == 1) {
			if (size >= guest_kb && size <= guest_kb + 16384 &&
			    size > best) {
				best = size;
				*rss = cur_rss;
				*pss = kb;
			}
		}
	}
	fclose(f);
	return best < 0 ? -1 : 0;
}

static void scan(struct copy *c, const char *buf, size_t n, const char *mark,
    double t0)
{
	for (size_t i = 0; i < n; i++) {
		if (c->nseen == SEEN - 1) {
			memmove(c->seen, c->seen + SEEN / 2, SEEN / 2 - 1);
			c->nseen = SEEN / 2 - 1;
		}
		c->seen[c->nseen++] = buf[i];
	}
	c->seen[c->nseen] = 0;
	if (c->ready_us < 0 && strstr(c->seen, mark) != NULL)
		c->ready_us = now_us() - t0;
}

int main(int argc, char **argv)
{
	static struct copy cs[K_MAX];
	const char *mark = "bench idle", *err = "/dev/null";
	int k = 8, idle_ms = 500, timeout_s = 120, opt, efd, nfd;
	int ready = 0, died = 0, nmem = 0;
	long guest_kb = 0, avail0, avail1;
	double t0, spawn_us, first = -1, last = -1;
	double pss = 0, rss = 0, grss = 0, gpss = 0;
	int ngmem = 0;
	char buf[16384];

	while ((opt = getopt(argc, argv, "k:M:G:I:t:e:")) != -1) {
		switch (opt) {
		case 'k': k = atoi(optarg); break;
		case 'M': mark = optarg; break;
		case 'G': guest_kb = strtol(optarg, NULL, 0) * 1024; break;
		case 'I': idle_ms = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'e': err = optarg; break;
		default: return 2;
		}
	}
	if (optind >= argc || k < 1 || k > K_MAX || guest_kb < 0) {
		fprintf(stderr, "usage: density [-k K<=%d] [-M MARK] "
		    "[-G GUEST_MIB] [-I IDLE_MS] [-t S] [-e ERR] -- CMD...\n",
		    K_MAX);
		return 2;
	}
	efd = open(err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (efd < 0 || nfd < 0) {
		perror("density");
		return 125;
	}
	avail0 = meminfo_kb("MemAvailable");
	t0 = now_us();
	for (int i = 0; i < k; i++) {
		int pfd[2];

		cs[i].ready_us = -1;
		if (pipe2(pfd, O_CLOEXEC) < 0 || (cs[i].pid = fork()) < 0) {
			perror("density: start");
			k = i;
			break;
		}
		if (cs[i].pid == 0) {
			if (dup2(nfd, 0) < 0 || dup2(pfd[1], 1) < 0 ||
			    dup2(efd, 2) < 0)
				_exit(126);
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		close(pfd[1]);
		cs[i].fd = pfd[0];
	}
	spawn_us = now_us() - t0;

	while (ready < k) {
		struct pollfd p[K_MAX];
		int map[K_MAX], np = 0;
		int left = (int)((t0 + timeout_s * 1e6 - now_us()) / 1e3);

		for (int i = 0; i < k; i++)
			if (cs[i].fd >= 0) {
				p[np] = (struct pollfd){ cs[i].fd, POLLIN, 0 };
				map[np++] = i;
			}
		if (np == 0 || left <= 0)
			break;
		int n = poll(p, (nfds_t)np, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (int j = 0; j < np; j++) {
			struct copy *c = &cs[map[j]];
			ssize_t r;

			if (!p[j].revents)
				continue;
			r = read(c->fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			bool was = c->ready_us >= 0;
			scan(c, buf, (size_t)r, mark, t0);
			if (!was && c->ready_us >= 0) {
				ready++;
				if (first < 0)
					first = c->ready_us;
				last = c->ready_us;
			}
		}
	}

	/* Let the idle guests settle, then read what each costs. */
	usleep((useconds_t)idle_ms * 1000);
	for (int i = 0; i < k; i++) {
		long p, r, gr, gp;

		if (waitpid(cs[i].pid, NULL, WNOHANG) == cs[i].pid) {
			cs[i].exited = true;
			died++;
			continue;
		}
		if (cs[i].ready_us < 0 || rollup(cs[i].pid, &p, &r) != 0)
			continue;
		pss += (double)p;
		rss += (double)r;
		nmem++;
		if (guest_kb && guest_map(cs[i].pid, guest_kb, &gr, &gp) == 0) {
			grss += (double)gr;
			gpss += (double)gp;
			ngmem++;
		}
	}
	avail1 = meminfo_kb("MemAvailable");
	for (int i = 0; i < k; i++)
		if (!cs[i].exited)
			kill(cs[i].pid, SIGKILL);
	for (int i = 0; i < k; i++) {
		if (!cs[i].exited)
			while (waitpid(cs[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
		if (cs[i].fd >= 0)
			close(cs[i].fd);
		if (cs[i].ready_us < 0)
			fprintf(stderr, "density: copy %d not ready; its last "
			    "output: %.300s\n", i,
			    cs[i].nseen > 300 ? cs[i].seen + cs[i].nseen - 300
					      : cs[i].seen);
	}
	printf("k=%d ready=%d spawn_us=%.0f first_ready_us=%.0f "
	    "last_ready_us=%.0f pss_kb=%.0f rss_kb=%.0f guest_rss_kb=%.0f "
	    "guest_pss_kb=%.0f memavail_kb=%.0f died=%d killed=1\n",
	    k, ready, spawn_us, first, last,
	    nmem ? pss / nmem : -1, nmem ? rss / nmem : -1,
	    ngmem ? grss / ngmem : -1, ngmem ? gpss / ngmem : -1,
	    avail0 >= 0 && avail1 >= 0 && nmem ?
		(double)(avail0 - avail1) / nmem : -1,
	    died);
	return 0;
}
