// SPDX-License-Identifier: MIT
/*
 * sandbox_bench - lookups per second through the symbolizer in this process or in its sandboxed
 * child (src/sandbox.h), for scripts/bench/sandbox.sh.
 *
 *   sandbox_bench in-process|sandboxed FILE LO SIZE N [SEED]
 *
 * Resolves N random addresses in [LO, LO + SIZE) (ELF virtual addresses of FILE) and prints one line:
 * mode, seconds to open the file (for the sandbox: with starting the child), seconds of lookups,
 * lookups per second, CPU seconds of this process and of its reaped children, and frames found.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "safeopen.h"
#include "sandbox.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	struct sym_frame f[32];
	struct sandbox *sb;
	struct sandbox_elf *e;
	uint64_t lo, size, frames = 0;
	unsigned long n, i;
	double t0, t1, t2;
	int fd, enabled;

	if (argc < 6) {
		fprintf(stderr, "usage: sandbox_bench in-process|sandboxed FILE LO SIZE N [SEED]\n");
		return 2;
	}
	enabled = strcmp(argv[1], "sandboxed") == 0;
	lo = strtoull(argv[3], NULL, 0);
	size = strtoull(argv[4], NULL, 0);
	n = strtoul(argv[5], NULL, 0);
	srand(argc > 6 ? (unsigned)atoi(argv[6]) : 1);
	fd = safeopen__file(argv[2]);
	if (fd < 0 || !size) {
		fprintf(stderr, "sandbox_bench: cannot open '%s'\n", argv[2]);
		return 1;
	}
	sb = sandbox__new(NULL, enabled);
	t0 = now();
	e = sb ? sandbox__open_fd(sb, fd, argv[2], NULL) : NULL;
	if (!e) {
		fprintf(stderr, "sandbox_bench: '%s' is not usable\n", argv[2]);
		return 1;
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		uint64_t r = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % size;
		int k = sandbox__lookup(sb, e, lo + r, f, 32);

		frames += k > 0 ? (uint64_t)k : 0;
	}
	t2 = now();
	sandbox__free(sb);
	close(fd);
	printf("%s %.4f %.4f %.0f %.3f %.3f %llu\n", argv[1], t1 - t0, t2 - t1, (double)n / (t2 - t1),
	       cpu(RUSAGE_SELF), cpu(RUSAGE_CHILDREN), (unsigned long long)frames);
	return 0;
}
