/*
 * replay.c - run a libFuzzer target without libFuzzer: every argument is
 * a file or a directory of files, each fed once to
 * LLVMFuzzerTestOneInput().  Prints "replayed N inputs" and returns 0, or
 * 1 when an argument cannot be read.  Lets plain gcc builds (and the unit
 * tests) run a corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_path(const char *path, int *count);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return -1;
	do {
		if (cap - len < 4096) {
			uint8_t *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int fuzz_replay_path(const char *path, int *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) != 0)
			return -1;
		(*count)++;
		return 0;
	}
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (fuzz_replay_path(sub, count) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

#ifndef FUZZ_REPLAY_NO_MAIN
int main(int argc, char **argv)
{
	int count = 0, rc = 0;

	for (int i = 1; i < argc; i++)
		if (fuzz_replay_path(argv[i], &count) != 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			rc = 1;
		}
	printf("replayed %d inputs\n", count);
	return rc;
}
#endif
