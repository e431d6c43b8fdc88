// SPDX-License-Identifier: MIT
/*
 * fixedwork - a fixed amount of single-threaded CPU work, for overhead benchmarks.
 *
 * Usage: fixedwork [UNITS]   (default 320; one unit is 2^16 leaf calls, about 10 ms)
 *
 * It runs a deterministic integer compute loop, three call levels deep with two different
 * leaves, so that a profiler sees a few distinct frame-pointer stacks. The amount of work
 * depends only on UNITS, never on time, so the elapsed time measures the slowdown a profiler
 * causes. At exit it prints one line on stdout:
 *
 *   fixedwork: units=U wall_ns=W cpu_ns=C user_us=X sys_us=Y checksum=K
 *
 * wall_ns is CLOCK_MONOTONIC from just before the work to just after it (it excludes the
 * process start-up and a profiler's own start-up and shutdown); cpu_ns is this process's
 * CPU time over the same span (CLOCK_PROCESS_CPUTIME_ID); user_us and sys_us are the whole
 * process's getrusage(RUSAGE_SELF) at exit, for subtracting from a parent's rusage.
 *
 * Build: cc -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -o fixedwork fixedwork.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))
#define LEAF_ROUNDS 48

static volatile uint64_t sink;

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64-style mixing: cheap, data dependent, cannot be folded away. */
NOINLINE static uint64_t leaf_mix(uint64_t x)
{
	for (int i = 0; i < LEAF_ROUNDS; i++) {
		x += 0x9e3779b97f4a7c15ull;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
	}
	return x;
}

/* xorshift with a rotate: a second leaf so that stacks differ. */
NOINLINE static uint64_t leaf_shift(uint64_t x)
{
	for (int i = 0; i < LEAF_ROUNDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x = (x << 11) | (x >> 53);
		x += (uint64_t)i;
	}
	return x;
}

NOINLINE static uint64_t middle(uint64_t seed, unsigned n)
{
	uint64_t acc = seed;

	for (unsigned i = 0; i < n; i++)
		acc ^= (i & 3) ? leaf_mix(acc + i) : leaf_shift(acc + i);
	return acc;
}

NOINLINE static uint64_t outer(uint64_t seed, unsigned units)
{
	uint64_t acc = seed;

	for (unsigned u = 0; u < units; u++)
		for (unsigned j = 0; j < 64; j++)
			acc += middle(acc ^ j, 1024);
	return acc;
}

int main(int argc, char **argv)
{
	unsigned long units = 320;
	uint64_t w0, w1, c0, c1, sum;
	struct rusage ru;
	char *end;

	if (argc > 1) {
		units = strtoul(argv[1], &end, 10);
		if (*end || units == 0 || units > 1000000) {
			fprintf(stderr, "usage: %s [UNITS]  (1..1000000, default 320)\n", argv[0]);
			return 2;
		}
	}
	w0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	sum = outer(0x5eed, (unsigned)units);
	sink = sum;
	c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	w1 = now_ns(CLOCK_MONOTONIC);
	getrusage(RUSAGE_SELF, &ru);
	printf("fixedwork: units=%lu wall_ns=%llu cpu_ns=%llu user_us=%lld sys_us=%lld checksum=%016llx\n",
	       units, (unsigned long long)(w1 - w0), (unsigned long long)(c1 - c0),
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	       (unsigned long long)sum);
	return 0;
}
