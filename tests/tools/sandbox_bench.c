// SPDX-License-Identifier: MIT
/*
 * sandbox_bench - lookups per second through the symbolizer in this process or in its sandboxed
 * child (src/sandbox/sandbox.h), for scripts/bench/sandbox.sh.
 *
 *   sandbox_bench in-process|sandboxed FILE LO SIZE N [SEED]
 *   sandbox_bench profile FILE LO SIZE N OUT [SEED]
 *
 * Resolves N random addresses in [LO, LO + SIZE) (ELF virtual addresses of FILE) and prints one line:
 * mode, seconds to open the file (for the sandbox: with starting the child), seconds of lookups,
 * lookups per second, CPU seconds of this process and of its reaped children, and frames found.
 *
 * 'profile' writes instead, to OUT, a profile of N distinct random addresses of FILE without names,
 * one sample each, as a recording that found no symbols would: for timing 'report --resymbolize'.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pfile.h"
#include "profile.h"
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

static uint64_t random_offset(uint64_t size)
{
	return ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % size;
}

static int write_profile(const char *file, const char *build_id, uint64_t lo, uint64_t size, unsigned long n,
			 const char *out)
{
	struct profile p;
	struct pfile_writer *w;
	uint32_t m, thread, loc;
	unsigned long i;
	int fd, err = 0;

	profile__init(&p);
	profile__meta_set(&p, "event", "cpu-clock");
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, file), profile__intern_cstr(&p, build_id),
				    PROFILE_MAP_FILE);
	thread = profile__intern_thread(&p, 1, 1, profile__intern_cstr(&p, "bench"));
	for (i = 0; i < n && !err; i++) {
		uint64_t a = lo + random_offset(size);

		if (profile__find_location(&p, m, a) != PROFILE_NONE)
			continue;
		loc = profile__add_location(&p, m, a, 0, NULL, 0);
		if (loc == PROFILE_NONE || profile__add_count(&p, profile__intern_stack(&p, &loc, 1), thread, 1) == PROFILE_NONE)
			err = 1;
	}
	profile__counter_set(&p, "samples", p.total);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	w = fd >= 0 ? pfile__writer_new(fd, out) : NULL;
	if (err || !w || pfile__writer_finish(w, &p) || close(fd)) {
		fprintf(stderr, "sandbox_bench: cannot write '%s'\n", out);
		return 1;
	}
	pfile__writer_free(w);
	printf("%u locations\n", p.nr_locations);
	profile__release(&p);
	return 0;
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

	if (argc < 6 || (strcmp(argv[1], "profile") == 0 && argc < 7)) {
		fprintf(stderr, "usage: sandbox_bench in-process|sandboxed FILE LO SIZE N [SEED]\n"
				"       sandbox_bench profile FILE LO SIZE N OUT [SEED]\n");
		return 2;
	}
	enabled = strcmp(argv[1], "sandboxed") == 0;
	lo = strtoull(argv[3], NULL, 0);
	size = strtoull(argv[4], NULL, 0);
	n = strtoul(argv[5], NULL, 0);
	if (strcmp(argv[1], "profile") == 0) {
		char bid[256];

		srand(argc > 7 ? (unsigned)atoi(argv[7]) : 1);
		fd = safeopen__file(argv[2]);
		sb = sandbox__new(NULL, 0);
		e = fd >= 0 && sb && size ? sandbox__open_fd(sb, fd, argv[2], NULL) : NULL;
		if (!e) {
			fprintf(stderr, "sandbox_bench: '%s' is not usable\n", argv[2]);
			return 1;
		}
		snprintf(bid, sizeof(bid), "%s", sandbox__build_id(e));
		sandbox__free(sb);
		close(fd);
		return write_profile(argv[2], bid, lo, size, n, argv[6]);
	}
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
		uint64_t r = random_offset(size);
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
